"""SSH tunnels against real OpenSSH servers on loopback ports (throwaway host and user keys),
forwarding to the test PostgreSQL: key auth through ~/.ssh/config, ``--ssh user@host:port`` on
the command line, a wrong key, a changed host key, an unknown one (refused by the CLI, asked
about otherwise), a jump host (a second sshd, ProxyJump) and a dropped tunnel that comes back
with the session. The servers start once for the module."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aishell.engine.bench.pgtemp import free_port, wait_for_port
from aishell.engine.errors import ConnectionFailed
from aishell.engine.session import Session
from aishell.engine.tunnel import HostKeyError
from tests.support import bare_settings

SSHD = shutil.which("sshd") or "/usr/sbin/sshd"
pytestmark = [pytest.mark.pg, pytest.mark.skipif(not Path(SSHD).exists(), reason="needs Debian's openssh-server (sshd)")]
AISHELL = [sys.executable, "-m", "aishell.tui.cli"]


class Sshd:
    """One sshd on a loopback port, logging to a file, accepting ``user`` with ``authorized``."""

    def __init__(self, base: Path, name: str, authorized: Path) -> None:
        self.port = free_port()
        self.log = base / f"{name}.log"
        self.host_key = base / f"{name}_host_key"
        _keygen(self.host_key)
        config = base / f"{name}_config"
        config.write_text(
            f"Port {self.port}\nListenAddress 127.0.0.1\nHostKey {self.host_key}\nPidFile {base / name}.pid\n"
            f"AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n"
            "PermitRootLogin prohibit-password\nStrictModes no\nUsePAM no\nAllowTcpForwarding yes\nLogLevel DEBUG1\n"
        )
        self.process = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=self.log.open("w"), stdout=subprocess.DEVNULL)
        wait_for_port(self.port, 10)

    def public_host_key(self) -> str:
        return Path(f"{self.host_key}.pub").read_text().split()[0:2]

    def known_line(self) -> str:
        kind, key = self.public_host_key()
        return f"[127.0.0.1]:{self.port} {kind} {key}\n"

    def drop_sessions(self) -> None:
        """Kill the per-connection sshd processes: every tunnel through this server dies."""
        children = subprocess.run(["pgrep", "-P", str(self.process.pid)], capture_output=True, text=True).stdout.split()
        for pid in children:
            os.kill(int(pid), signal.SIGKILL)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(5)


def _keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


@pytest.fixture(scope="module")
def ssh_world(tmp_path_factory):
    """Two sshd (a bastion and a host behind it), the user's key and a wrong one, and a home
    whose ~/.ssh has the config (aliases, IdentityFile, ProxyJump) and known_hosts."""
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # sshd's privilege separation directory
    base = tmp_path_factory.mktemp("ssh")
    user = os.environ.get("USER") or subprocess.run(["id", "-un"], capture_output=True, text=True).stdout.strip()
    key, wrong = base / "id_user", base / "id_wrong"
    _keygen(key)
    _keygen(wrong)
    authorized = base / "authorized_keys"
    authorized.write_text(Path(f"{key}.pub").read_text())
    bastion = Sshd(base, "bastion", authorized)
    behind = Sshd(base, "behind", authorized)
    home = base / "home"
    (home / ".ssh").mkdir(parents=True, mode=0o700)
    shutil.copy(key, home / ".ssh" / "id_ed25519")
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    (home / ".ssh" / "config").write_text(
        f"Host bastion\n  HostName 127.0.0.1\n  Port {bastion.port}\n  User {user}\n  IdentityFile {key}\n  IdentitiesOnly yes\n\n"
        f"Host wrong-key\n  HostName 127.0.0.1\n  Port {bastion.port}\n  User {user}\n  IdentityFile {wrong}\n  IdentitiesOnly yes\n\n"
        f"Host behind\n  HostName 127.0.0.1\n  Port {behind.port}\n  User {user}\n  IdentityFile {key}\n  IdentitiesOnly yes\n  ProxyJump bastion\n"
    )
    known = home / ".ssh" / "known_hosts"
    known.write_text(bastion.known_line() + behind.known_line())
    try:
        yield {"bastion": bastion, "behind": behind, "home": home, "known": known, "user": user, "base": base}
    finally:
        bastion.stop()
        behind.stop()


@pytest.fixture
def ssh_home(ssh_world, monkeypatch):
    """HOME is the test's: ~/.ssh/config and known_hosts are the world's; no agent."""
    monkeypatch.setenv("HOME", str(ssh_world["home"]))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    ssh_world["known"].write_text(ssh_world["bastion"].known_line() + ssh_world["behind"].known_line())
    return ssh_world


def forwards_to(sshd: Sshd, port: int) -> bool:
    """Whether ``sshd`` logged a direct-tcpip channel to ``port`` (the tunnel really went there)."""
    return any(line.endswith(f"target 127.0.0.1 port {port}") for line in sshd.log.read_text().splitlines() if "server_request_direct_tcpip" in line)


async def test_key_auth_through_an_alias_reaches_postgres_and_shows_the_real_server(ssh_home, pg_url):
    pg_port = urlsplit(pg_url).port
    session = await Session.open(pg_url, settings=bare_settings(), ssh="bastion")
    try:
        result = await session.execute("SELECT 41 + 1")
        assert result.rows == [(42,)] or [tuple(r) for r in result.rows] == [(42,)]
        assert session.tunnel_hop == "bastion" and session.tunnel.state == "up"
        assert f":{pg_port}/" in session.display_url and "aishell-test-pw" not in session.display_url
        assert urlsplit(session.driver.url).port == session.tunnel.local_port != pg_port
        assert forwards_to(ssh_home["bastion"], pg_port)
    finally:
        await session.close()
    assert session.tunnel.state == "down"


def test_the_cli_takes_user_at_host_port_and_checks_known_hosts(ssh_home, pg_url):
    env = {**os.environ, "HOME": str(ssh_home["home"]), "AISHELL_MEMORY__ENABLED": "false"}
    env.pop("SSH_AUTH_SOCK", None)
    hop = f"{ssh_home['user']}@127.0.0.1:{ssh_home['bastion'].port}"
    out = subprocess.run([*AISHELL, "run", pg_url, "--ssh", hop, "-c", "SELECT 7", "--format", "csv"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["?column?", "7"]
    ssh_home["known"].write_text("")  # never seen: the CLI cannot ask, so it refuses
    out = subprocess.run([*AISHELL, "run", pg_url, "--ssh", hop, "-c", "SELECT 7"], capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 2 and "is not a known host (SHA256:" in out.stderr and out.stderr.count("\n") == 1


async def test_a_wrong_key_is_refused_with_the_reason(ssh_home, pg_url):
    with pytest.raises(ConnectionFailed, match="permission denied"):
        await Session.open(pg_url, settings=bare_settings(), ssh="wrong-key")


async def test_a_changed_host_key_is_refused_and_says_what_to_do(ssh_home, pg_url, tmp_path):
    other = tmp_path / "other"
    _keygen(other)
    kind, key = Path(f"{other}.pub").read_text().split()[:2]
    ssh_home["known"].write_text(f"[127.0.0.1]:{ssh_home['bastion'].port} {kind} {key}\n")
    with pytest.raises(HostKeyError) as caught:
        await Session.open(pg_url, settings=bare_settings(), ssh="bastion", ask_host_key=_answer(True))
    message = str(caught.value)
    assert "has CHANGED" in message and f"ssh-keygen -R [127.0.0.1]:{ssh_home['bastion'].port}" in message
    assert ssh_home["known"].read_text().count("\n") == 1  # nothing added: asking is not offered


async def test_an_unknown_host_key_is_asked_about_and_remembered_when_accepted(ssh_home, pg_url):
    ssh_home["known"].write_text("")
    asked: list[tuple[str, str]] = []
    with pytest.raises(HostKeyError, match="is not a known host"):
        await Session.open(pg_url, settings=bare_settings(), ssh="bastion", ask_host_key=_answer(False, asked))
    assert asked and asked[0][1].startswith("SHA256:") and ssh_home["known"].read_text() == ""
    session = await Session.open(pg_url, settings=bare_settings(), ssh="bastion", ask_host_key=_answer(True, asked))
    await session.close()
    assert ssh_home["known"].read_text().startswith(f"[127.0.0.1]:{ssh_home['bastion'].port} ssh-ed25519 ")
    asked.clear()
    session = await Session.open(pg_url, settings=bare_settings(), ssh="bastion", ask_host_key=_answer(True, asked))
    await session.close()
    assert not asked  # known now


async def test_a_jump_host_forwards_through_the_bastion(ssh_home, pg_url):
    behind = ssh_home["behind"]
    session = await Session.open(pg_url, settings=bare_settings(), ssh="behind")
    try:
        assert [tuple(r) for r in (await session.execute("SELECT 'via jump'")).rows] == [("via jump",)]
        assert forwards_to(ssh_home["bastion"], behind.port)  # the bastion carried the hop to the host behind it
        assert forwards_to(behind, urlsplit(pg_url).port)
    finally:
        await session.close()


async def test_a_dropped_tunnel_reconnects_with_the_session(ssh_home, pg_url):
    session = await Session.open(pg_url, settings=bare_settings(), ssh="bastion")
    states: list[str] = []
    session.tunnel.listen(states.append)
    try:
        await session.execute("SELECT 1")
        ssh_home["bastion"].drop_sessions()
        deadline = time.monotonic() + 10
        while "reconnecting" not in states and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert "reconnecting" in states
        result = None
        while result is None and time.monotonic() < deadline:
            try:
                result = await session.execute("SELECT 'back'")
            except ConnectionFailed:
                await asyncio.sleep(0.2)
        assert result is not None and [tuple(r) for r in result.rows] == [("back",)]
        assert states[-1] == "up" and session.tunnel.state == "up"
    finally:
        await session.close()


def _answer(yes: bool, asked: list | None = None):
    async def ask(host: str, fingerprint: str) -> bool:
        if asked is not None:
            asked.append((host, fingerprint))
        return yes

    return ask
