"""Every sub-command that connects takes a saved connection's name and ``--ssh user@host:port``
the same way: each one here runs as a real subprocess against the test PostgreSQL through a real
OpenSSH server (the fixtures of test_ssh_tunnel), and the server's log shows the tunnel was used.
``aishell top`` is a full-screen app: its test drives TopApp under Pilot with ``ssh=``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.integration.test_ssh_tunnel import SSHD, ssh_home, ssh_world  # noqa: F401 - fixtures

pytestmark = [pytest.mark.pg, pytest.mark.skipif(not Path(SSHD).exists(), reason="needs Debian's openssh-server (sshd)")]
AISHELL = [sys.executable, "-m", "aishell.tui.cli"]
PROFILE = "warehouse"


def _without_password(url: str) -> str:
    """Saved connections never hold a password (PGPASSWORD gives it to the subprocesses)."""
    parts = urlsplit(url)
    return parts._replace(netloc=f"{parts.username}@{parts.hostname}:{parts.port}").geturl()


def _tunnels(sshd, port: int) -> int:
    """How many direct-tcpip channels ``sshd`` opened to ``port`` so far."""
    return sum(1 for line in sshd.log.read_text().splitlines()
               if "server_request_direct_tcpip" in line and line.endswith(f"target 127.0.0.1 port {port}"))


@pytest.fixture
def world(ssh_home, pg_url, aishell_home, tmp_path):
    """A saved connection to the test database (no ssh of its own), the hop on the command line,
    an environment for the subprocesses, an SQL file and a fresh directory."""
    config = aishell_home / "config"
    config.mkdir(exist_ok=True)
    (config / "config.toml").write_text(f'[connections.{PROFILE}]\nurl = "{_without_password(pg_url)}"\n')
    env = {**os.environ, "HOME": str(ssh_home["home"]), "AISHELL_MEMORY__ENABLED": "false", "PGPASSWORD": urlsplit(pg_url).password}
    env.pop("SSH_AUTH_SOCK", None)
    sql = tmp_path / "q.sql"
    sql.write_text("SELECT count(*) FROM pg_class WHERE relname = 'pg_type';\n")
    return {
        "hop": f"{ssh_home['user']}@127.0.0.1:{ssh_home['bastion'].port}",
        "sshd": ssh_home["bastion"],
        "port": urlsplit(pg_url).port,
        "env": env,
        "sql": str(sql),
        "tmp": tmp_path,
    }


COMMANDS = {  # sub-command: (arguments, exit status, what stdout or stderr holds) ({name} the saved
    # connection, {sql} a file, {tmp} a directory)
    "run": (["run", "{name}", "-c", "SELECT 7", "--format", "csv"], 0, "7"),
    "connections test": (["connections", "test", "{name}"], 0, "aishell_test"),
    "analyze": (["analyze", "{sql}", "--db", "{name}", "--format", "json"], 0, '"statements": 1'),
    # a catalog query is nothing to advise on: connected, it says so (exit 2)
    "advise": (["advise", "--db", "{name}", "--from", "{sql}", "--format", "json"], 2, "no statements to advise on"),
    "migrate": (["migrate", "status", "--db", "{name}", "--dir", "{tmp}/migrations"], 0, ""),
    "backup": (["backup", "{name}", "--out", "{tmp}/dump", "--format", "custom", "-q"], 0, "backed up"),
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_subcommand_takes_a_profile_name_and_ssh(command, world):
    arguments, status, shown = COMMANDS[command]
    args = [a.format(name=PROFILE, sql=world["sql"], tmp=world["tmp"]) for a in arguments]
    (world["tmp"] / "migrations").mkdir()
    before = _tunnels(world["sshd"], world["port"])
    out = subprocess.run([*AISHELL, *args, "--ssh", world["hop"]], capture_output=True, text=True, env=world["env"], timeout=90)
    assert out.returncode == status, out.stderr
    assert shown in out.stdout + out.stderr
    assert _tunnels(world["sshd"], world["port"]) > before, f"{command} did not go through the tunnel"


def test_restore_takes_a_profile_name_and_ssh(world, pg_url, pg_fresh_db, aishell_home):
    """A backup made through the tunnel restores through it into another saved connection."""
    (aishell_home / "config" / "config.toml").write_text(
        f'[connections.{PROFILE}]\nurl = "{_without_password(pg_url)}"\n[connections.empty]\nurl = "{_without_password(pg_fresh_db)}"\n'
    )
    dump = world["tmp"] / "dump"
    made = subprocess.run([*AISHELL, "backup", PROFILE, "--out", str(dump), "--format", "custom", "-q", "--ssh", world["hop"]],
                          capture_output=True, text=True, env=world["env"], timeout=90)
    assert made.returncode == 0, made.stderr
    before = _tunnels(world["sshd"], world["port"])
    out = subprocess.run([*AISHELL, "restore", str(dump), "empty", "-q", "--ssh", world["hop"]],
                         capture_output=True, text=True, env=world["env"], timeout=90)
    assert out.returncode == 0, out.stderr
    assert _tunnels(world["sshd"], world["port"]) > before
    assert "127.0.0.1:" in out.stdout and f":{world['port']}/" in out.stdout  # the real server, not the loopback port


async def test_top_takes_a_profile_name_and_ssh(world, monkeypatch):
    from aishell.engine.config import Settings
    from aishell.tui.screens.top import TopApp
    from tests.tui.appkit import until

    monkeypatch.setenv("PGPASSWORD", world["env"]["PGPASSWORD"])
    settings = Settings.load()
    settings.memory.enabled = False
    before = _tunnels(world["sshd"], world["port"])
    app = TopApp(PROFILE, settings=settings, ssh=world["hop"])
    async with app.run_test(size=(80, 24)) as pilot:
        await until(pilot, lambda: app.session is not None, what="top connected")
        assert app.session.tunnel_hop == world["hop"]
        assert f":{world['port']}/" in app.sub_title
    assert _tunnels(world["sshd"], world["port"]) > before
