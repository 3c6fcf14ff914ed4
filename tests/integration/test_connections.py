"""Saved connections as a DBA keeps them: ``[connections.NAME]`` in config.toml, pg_service.conf
services, passwords from the passfile only, and ``aishell connections list|add|remove|test``.
Real processes of the CLI against the real PostgreSQL test cluster."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aishell.engine.config import Settings
from aishell.engine.connections import add_profile, recent, remember, remove_profile, resolve
from aishell.engine.errors import ConfigurationError, UnsupportedURL
from aishell.engine.profiles import parse_profiles

AISHELL = [sys.executable, "-m", "aishell.tui.cli"]


def aishell(*args: str, env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    full = {**os.environ, "AISHELL_MEMORY__ENABLED": "false", "PGPASSFILE": "/nonexistent", **(env or {})}
    return subprocess.run([*AISHELL, *args], capture_output=True, text=True, timeout=timeout, env=full, stdin=subprocess.DEVNULL)


@pytest.fixture
def server(pg_url):
    """The test server's parts, and a passfile holding its password (0600, as libpq wants)."""
    parts = urlsplit(pg_url)
    return parts


@pytest.fixture
def passfile(server, tmp_path) -> dict:
    path = tmp_path / "pgpass"
    path.write_text(f"{server.hostname}:{server.port}:*:{server.username}:{server.password}\n")
    path.chmod(0o600)
    return {"PGPASSFILE": str(path)}


def write_config(home: Path, text: str) -> Path:
    path = home / "config" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


# -- what a profile may hold: passwords never --------------------------------------------------

@pytest.mark.parametrize(
    "table, problem",
    [
        ({"url": "postgresql://bob:s3cret@db/shop"}, "passwords never go in config.toml"),
        ({"url": "postgresql://bob@db/shop?password=s3cret"}, "passwords never go in config.toml"),
        ({"host": "db", "password": "s3cret"}, "passwords never go in config.toml"),
        ({"host": "db", "options": {"sslpassword": "s3cret"}}, "passwords never go in config.toml"),
        ({"host": "db", "colour": "pink"}, "not one of none, red"),
        ({"host": "db", "port": 70000}, "not a port number"),
        ({"host": "db", "read_only": "yes"}, "not a boolean"),
        ({"host": "db", "hots": "x"}, "unknown setting connections.p.hots"),
        ({"url": "postgresql://db/x", "host": "db"}, "give url or its parts"),
        ({"user": "bob"}, "needs host"),
        ({"service": "shop", "host": "db"}, "a service names its own server"),
    ],
)
def test_a_profile_that_cannot_be_used_is_refused_in_one_line_without_its_secret(table, problem):
    with pytest.raises(ConfigurationError) as caught:
        parse_profiles({"p": table}, "config.toml")
    message = str(caught.value)
    assert problem in message and "\n" not in message and "s3cret" not in message


def test_a_config_file_with_a_password_stops_every_command(aishell_home):
    write_config(aishell_home, '[connections.shop]\nurl = "postgresql://bob:s3cret@db/shop"\n')
    out = aishell("connections", "list")
    assert out.returncode == 2 and "passwords never go in config.toml" in out.stderr
    assert "s3cret" not in out.stderr + out.stdout


def test_parts_and_options_make_one_url():
    profile = parse_profiles(
        {"shop": {"host": "db", "port": 6543, "user": "bob smith", "database": "shop", "options": {"statement_timeout": "5s", "application_name": "nightly"}}},
        "t",
    )["shop"]
    assert profile.url == "postgresql://bob%20smith@db:6543/shop?statement_timeout=5s&application_name=nightly"


# -- the CLI: add, list, remove -------------------------------------------------------------------

def test_add_list_remove_keep_the_file_private_and_the_rest_of_it(aishell_home):
    config = write_config(aishell_home, "# mine\n[ui]\ntheme = \"aishell-light\"\n")
    added = aishell("connections", "add", "shop", "--host", "db.internal", "--user", "bob", "--database", "shop",
                    "--production", "--ssh", "bastion", "--option", "search_path=app,public")
    assert added.returncode == 0, added.stderr
    assert "saved shop: postgresql://bob@db.internal/shop?search_path=app%2Cpublic via ssh bastion" in added.stdout
    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    listed = json.loads(aishell("connections", "list", "--format", "json").stdout)["connections"]
    assert listed == [{"name": "shop", "url": "postgresql://bob@db.internal/shop?search_path=app%2Cpublic", "ssh": "bastion",
                       "read_only": False, "production": True, "label": "", "colour": "red"}]
    again = aishell("connections", "add", "shop", "--url", "postgresql://db/other")
    assert again.returncode == 2 and "exists" in again.stderr
    removed = aishell("connections", "remove", "shop")
    assert removed.returncode == 0, removed.stderr
    assert config.read_text().startswith("# mine\n[ui]\ntheme = \"aishell-light\"\n") and "connections" not in config.read_text()
    assert aishell("connections", "remove", "shop").returncode == 2


def test_add_refuses_a_url_with_a_password_and_writes_nothing(aishell_home):
    out = aishell("connections", "add", "shop", "--url", "postgresql://bob:s3cret@db/shop")
    assert out.returncode == 2 and "passwords never go in config.toml" in out.stderr and "s3cret" not in out.stderr
    assert not (aishell_home / "config" / "config.toml").exists()


def test_add_and_remove_in_process_leave_other_tables(aishell_home):
    settings = Settings.load()
    add_profile(settings, "a", {"host": "h1", "options": {"search_path": "x"}})
    add_profile(settings, "b", {"path": "/tmp/b.db", "read_only": True})
    remove_profile(settings, "a")
    loaded = Settings.load()
    assert list(loaded.connections) == ["b"] and loaded.connections["b"].url == "sqlite:////tmp/b.db"


# -- connecting through a profile ------------------------------------------------------------------

def test_a_profile_connects_with_its_options_and_the_passfile(aishell_home, server, passfile):
    write_config(aishell_home, f"""
[connections.test]
host = "{server.hostname}"
port = {server.port}
user = "{server.username}"
database = "{server.path.lstrip('/')}"
label = "Test cluster"

[connections.test.options]
search_path = "pg_catalog,public"
application_name = "nightly-report"
statement_timeout = "4s"
""")
    sql = "SELECT current_setting('search_path'), current_setting('application_name'), current_setting('statement_timeout')"
    out = aishell("run", "test", "-c", sql, "--format", "json", env=passfile)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["rows"] == [["pg_catalog,public", "nightly-report", "4s"]]
    tested = aishell("connections", "test", "test", env=passfile)
    assert tested.returncode == 0 and tested.stdout.startswith("ok: postgresql://") and "ms" in tested.stdout


def test_without_a_password_anywhere_the_test_fails_with_the_reason(aishell_home, server):
    write_config(aishell_home, f'[connections.test]\nurl = "postgresql://{server.username}@{server.hostname}:{server.port}/postgres"\n')
    out = aishell("connections", "test", "test")
    assert out.returncode == 2 and "authentication failed" in out.stderr and out.stderr.count("\n") == 1


def test_a_read_only_profile_is_read_only_whatever_the_command_line(aishell_home, server, passfile):
    write_config(aishell_home, f'[connections.ro]\nurl = "postgresql://{server.username}@{server.hostname}:{server.port}{server.path}"\nread_only = true\n')
    out = aishell("run", "ro", "-c", "CREATE TABLE must_not_exist (id int)", env=passfile)
    assert out.returncode == 2 and "read-only" in out.stderr.lower()


def test_an_unknown_name_is_a_usage_error_naming_the_close_one(aishell_home):
    write_config(aishell_home, '[connections.shop]\nhost = "db"\n')
    for argv in (["run", "shpo", "-c", "SELECT 1"], ["shpo"]):
        out = aishell(*argv)
        assert out.returncode == 2 and "no saved connection named 'shpo'" in out.stderr and "did you mean shop" in out.stderr


# -- pg_service.conf -----------------------------------------------------------------------------

def test_a_service_connects_as_libpq_would_and_an_unknown_one_is_named(tmp_path, server, passfile):
    services = tmp_path / "pg_service.conf"
    services.write_text(f"[reports]\nhost={server.hostname}\nport={server.port}\nuser={server.username}\ndbname=postgres\napplication_name=from-service\n")
    env = {**passfile, "PGSERVICEFILE": str(services)}
    sql = "SELECT current_database(), current_setting('application_name')"
    for target in ("service=reports", "postgresql:///?service=reports"):
        out = aishell("run", target, "-c", sql, "--format", "json", env=env)
        assert out.returncode == 0, out.stderr
        assert json.loads(out.stdout)["rows"] == [["postgres", "from-service"]]
    missing = aishell("run", "service=nope", "-c", "SELECT 1", env=env)
    assert missing.returncode == 2 and "definition of service 'nope' not found" in missing.stderr


# -- recent targets ----------------------------------------------------------------------------------

def test_recent_targets_are_kept_newest_first_without_passwords(aishell_home):
    settings = Settings.load()
    remember(settings, "postgresql://bob:s3cret@db/shop")
    remember(settings, "shop")
    remember(settings, "postgresql://bob@db/shop")
    assert recent(settings) == ["postgresql://bob@db/shop", "shop"]
    file = settings.data_dir / "recent.json"
    assert "s3cret" not in file.read_text() and stat.S_IMODE(file.stat().st_mode) == 0o600


def test_resolve_a_prompted_password_goes_into_the_url_only():
    settings = Settings.load(read_file=False)
    settings.connections = parse_profiles({"shop": {"host": "db", "user": "bob"}}, "t")
    assert resolve("shop", settings, password="p w").url == "postgresql://bob:p%20w@db"
    assert settings.connections["shop"].url == "postgresql://bob@db"
    with pytest.raises(UnsupportedURL):
        resolve("nope", settings)


@pytest.mark.parametrize(
    "hop, problem",
    [
        ("bob:s3cret@bastion", "--ssh takes no password"),
        ("bastion:99999", "is not a port number"),
        ("bob@", "write [user@]host[:port]"),
        ("", "write [user@]host[:port]"),
    ],
)
def test_an_ssh_hop_that_cannot_be_used_is_refused_before_connecting(hop, problem):
    from aishell.engine.tunnel import split_hop

    with pytest.raises(UnsupportedURL) as caught:
        split_hop(hop)
    assert problem in str(caught.value) and "s3cret" not in str(caught.value)


def test_a_sqlite_file_cannot_go_through_a_tunnel(aishell_home, tmp_path):
    out = aishell("run", str(tmp_path / "x.db"), "--create", "--ssh", "bastion", "-c", "SELECT 1")
    assert out.returncode == 2 and "a SQLite file is opened where aishell runs" in out.stderr
