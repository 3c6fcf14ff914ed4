"""A throwaway PostgreSQL 15 cluster: for the test session, and for `aishell bench` without --db.

Started in a temp dir on a free port with ``pg_stat_statements`` preloaded and ``hypopg``
created in the test database; as root its binaries run as the ``postgres`` OS user (PostgreSQL
refuses to run as root). Stopped and removed at the end even when tests fail.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin", "/usr/lib/postgresql/17/bin")


def pg_bin() -> Path:
    for candidate in PG_BIN_CANDIDATES:
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql-15")


def free_port() -> int:
    with contextlib.closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PgCluster:
    """initdb + pg_ctl start/stop; ``url`` connects as the superuser ``aishell``."""

    user = "aishell"
    password = "aishell-test-pw"
    database = "aishell_test"

    def __init__(self) -> None:
        self.bin = pg_bin()
        self.as_root = os.geteuid() == 0
        self.base = Path(tempfile.mkdtemp(prefix="aishell-pg-"))
        self.datadir = self.base / "data"
        self.sockdir = self.base / "sock"
        self.logfile = self.base / "server.log"
        self.port = free_port()
        if self.as_root:
            shutil.chown(self.base, "postgres", "postgres")
            os.chmod(self.base, 0o755)

    @property
    def url(self) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def url_for(self, database: str) -> str:
        return f"postgresql://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"

    def run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [str(a) for a in args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=timeout)

    def init(self) -> None:
        pwfile = self.base / "pw"
        pwfile.write_text(self.password + "\n")
        if self.as_root:
            shutil.chown(pwfile, "postgres", "postgres")
        self.sockdir.mkdir()
        if self.as_root:
            shutil.chown(self.sockdir, "postgres", "postgres")
        self.run(
            self.bin / "initdb", "-D", self.datadir, "-U", self.user, "--pwfile", pwfile,
            "-A", "scram-sha-256", "--auth-local=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )
        conf = self.datadir / "postgresql.conf"
        with conf.open("a") as f:
            f.write(
                "\n# aishell test cluster\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.sockdir}'\n"
                "shared_preload_libraries = 'pg_stat_statements'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "max_connections = 200\nshared_buffers = 128MB\n"
                "log_min_messages = warning\n"
            )

    def start(self) -> None:
        self.run(self.bin / "pg_ctl", "-D", self.datadir, "-l", self.logfile, "-w", "-t", "60", "start")

    def stop(self, mode: str = "fast") -> None:
        self.run(self.bin / "pg_ctl", "-D", self.datadir, "-m", mode, "-w", "-t", "60", "stop", check=False)

    def psql(self, sql: str, database: str | None = None) -> str:
        out = self.run(
            self.bin / "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1",
            "-h", self.sockdir, "-p", str(self.port), "-U", self.user, "-d", database or self.database, "-c", sql,
        )
        return out.stdout

    def setup_database(self) -> None:
        self.psql(f"CREATE DATABASE {self.database}", database="postgres")
        self.psql("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        try:
            self.psql("CREATE EXTENSION IF NOT EXISTS hypopg")
            self.has_hypopg = True
        except subprocess.CalledProcessError:
            self.has_hypopg = False

    def pgbench_init(self, database: str, scale: int = 1) -> None:
        self.run(
            self.bin / "pgbench", "-i", "-q", "-s", str(scale), "-h", self.sockdir, "-p", str(self.port),
            "-U", self.user, database,
        )

    def create_database(self, name: str) -> str:
        self.psql(f'CREATE DATABASE "{name}"', database="postgres")
        return self.url_for(name)

    def destroy(self) -> None:
        """Stop the server and remove its files. The removal is left to a process of its own:
        deleting the gigabytes a test session wrote took a busy disk up to 50 s, and every test
        worker waited for it at the end of the run."""
        self.stop("immediate")
        remove_detached(self.base)


def remove_detached(path: Path) -> None:
    """Delete ``path`` in the background, without waiting: it is renamed first, so the name is
    free at once, then ``rm -rf`` runs orphaned (``sh`` returns as soon as it is started)."""
    doomed = path.with_name(f"{path.name}.removing")
    try:
        path.rename(doomed)
    except OSError:
        doomed = path
    try:
        subprocess.run(["sh", "-c", 'rm -rf -- "$1" </dev/null >/dev/null 2>&1 &', "sh", str(doomed)], check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        shutil.rmtree(doomed, ignore_errors=True)


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise TimeoutError(f"nothing listening on port {port}")
