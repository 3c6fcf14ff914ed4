"""TLS to PostgreSQL: a throwaway cluster with ``ssl = on`` and a certificate signed by a
throwaway CA for ``localhost``. ``sslmode``/``sslrootcert`` pass through from the URL (and a saved
connection's options); ``verify-full`` accepts the right host name and refuses another with a
one-line reason; ``\\conninfo`` shows the TLS settings."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from aishell.engine.bench.pgtemp import PgCluster
from aishell.engine.commands import Context, run as run_command
from aishell.engine.errors import ConnectionFailed
from aishell.engine.profiles import parse_profiles
from aishell.engine.session import Session
from tests.support import bare_settings

pytestmark = [pytest.mark.pg, pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make the certificates")]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _authority(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    _openssl("req", "-new", "-x509", "-days", "2", "-nodes", "-subj", f"/CN={name}", "-keyout", str(key), "-out", str(cert))
    return key, cert


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """A cluster of its own with ssl = on (the shared one stays plain), its CA and another CA."""
    base = tmp_path_factory.mktemp("tls")
    ca_key, ca = _authority(base, "aishell-test-ca")
    _, other_ca = _authority(base, "someone-else-ca")
    key, csr, cert, ext = base / "server.key", base / "server.csr", base / "server.crt", base / "san.ext"
    _openssl("req", "-new", "-nodes", "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(csr))
    ext.write_text("subjectAltName=DNS:localhost\n")
    _openssl("x509", "-req", "-in", str(csr), "-CA", str(ca), "-CAkey", str(ca_key), "-CAcreateserial", "-days", "2", "-out", str(cert), "-extfile", str(ext))
    cluster = PgCluster()
    try:
        cluster.init()
        for source in (key, cert):
            shutil.copy(source, cluster.datadir / source.name)
            if cluster.as_root:
                shutil.chown(cluster.datadir / source.name, "postgres", "postgres")
            (cluster.datadir / source.name).chmod(0o600)
        with (cluster.datadir / "postgresql.conf").open("a") as conf:
            conf.write("ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n")
        cluster.start()
        cluster.psql(f"CREATE DATABASE {cluster.database}", database="postgres")
        yield {"cluster": cluster, "ca": ca, "other_ca": other_ca}
    finally:
        cluster.destroy()


def url(tls_cluster, host: str, query: str) -> str:
    c = tls_cluster["cluster"]
    return f"postgresql://{c.user}:{c.password}@{host}:{c.port}/{c.database}?{query}"


async def tls_in_use(session: Session) -> bool:
    result = await session.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
    return bool(result.rows[0][0])


@pytest.mark.parametrize(
    "host, query, outcome",
    [
        ("localhost", "sslmode=verify-full&sslrootcert={ca}", "tls"),
        ("localhost", "sslmode=verify-ca&sslrootcert={ca}", "tls"),
        ("127.0.0.1", "sslmode=verify-ca&sslrootcert={ca}", "tls"),  # verify-ca does not check the name
        ("127.0.0.1", "sslmode=require", "tls"),
        ("127.0.0.1", "sslmode=disable", "plain"),
        ("127.0.0.1", "sslmode=verify-full&sslrootcert={ca}", "refused: TLS: IP address mismatch, certificate is not valid for '127.0.0.1'"),
        ("localhost", "sslmode=verify-full&sslrootcert={other_ca}", "refused: TLS: unable to get local issuer certificate"),
    ],
)
async def test_sslmode_passes_through_and_verify_full_checks_the_host_name(tls_cluster, host, query, outcome):
    target = url(tls_cluster, host, query.format(ca=tls_cluster["ca"], other_ca=tls_cluster["other_ca"]))
    if outcome.startswith("refused"):
        with pytest.raises(ConnectionFailed) as caught:
            await Session.open(target, settings=bare_settings())
        message = str(caught.value)
        assert outcome.removeprefix("refused: ") in message and "\n" not in message
        assert tls_cluster["cluster"].password not in message
        return
    session = await Session.open(target, settings=bare_settings())
    try:
        assert await tls_in_use(session) is (outcome == "tls")
    finally:
        await session.close()


async def test_a_profile_carries_tls_options_and_conninfo_shows_them(tls_cluster):
    c = tls_cluster["cluster"]
    settings = bare_settings()
    settings.connections = parse_profiles(
        {"secure": {"host": "localhost", "port": c.port, "user": c.user, "database": c.database, "options": {"sslmode": "verify-full", "sslrootcert": str(tls_cluster["ca"])}}},
        "test",
    )
    session = await Session.open("secure", settings=settings, password=c.password)
    try:
        assert await tls_in_use(session)
        outcome = await run_command(Context(session, {}), "\\conninfo")
        rows = dict(outcome.rows)
        assert rows["sslmode"] == "verify-full" and rows["sslrootcert"] == str(tls_cluster["ca"]) and rows["saved as"] == "secure"
        assert c.password not in str(outcome.rows)
    finally:
        await session.close()
