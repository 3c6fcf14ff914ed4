"""The backup manifest's one parser, and the PostgreSQL URL split the tools get, without a database."""

from __future__ import annotations

import doctest
import json

import pytest

from aishell.engine.backup import BackupCorrupt, FileEntry, Manifest, TableEntry, parse_manifest
from aishell.engine.drivers.url import postgres_url
from aishell.engine.errors import UnsupportedURL


def _manifest(**changes) -> Manifest:
    fields = dict(
        engine="postgres", format="directory", compression="gzip",
        database={"url": "postgresql://bob:***@db/shop", "host": "db", "port": 5432, "user": "bob", "database": "shop"},
        server_version="15.4", tables=[TableEntry("public", "orders", "table", 10, 8192)],
        files=[FileEntry("3358.dat.gz", 25, "ab" * 32), FileEntry("toc.dat", 2048, "cd" * 32)],
        created_at="2026-01-01T00:00:00+00:00", elapsed_s=1.5, parallel_restore=True,
    )
    fields.update(changes)
    return Manifest(**fields)


def test_what_backup_writes_parses_back_the_same():
    for manifest in (
        _manifest(),
        _manifest(format="custom", compression="zstd", files=[FileEntry("database.dump.zst", 1, "00" * 32)], elapsed_s=0),
        _manifest(engine="sqlite", format="sqlite", compression="none", files=[FileEntry("database.sqlite", 4096, "ef" * 32)]),
    ):
        assert parse_manifest(manifest.to_json().encode()) == manifest


@pytest.mark.parametrize(("change", "message"), [
    ({"format": "custom"}, "a postgres custom backup is database.dump.gz"),
    ({"files": [FileEntry("3358.dat.gz", 25, "ab" * 32)]}, "lacks toc.dat"),
    ({"engine": "sqlite"}, "format is \"directory\"; a sqlite backup is sqlite"),
    ({"elapsed_s": -1}, "elapsed_s is -1"),
])
def test_values_that_do_not_fit_together_are_refused(change, message):
    with pytest.raises(BackupCorrupt, match=message):
        parse_manifest(_manifest(**change).to_json().encode())


def test_refusals_are_one_line_and_clip_long_values():
    data = json.loads(_manifest().to_json())
    data["files"][0]["sha256"] = "x" * 10_000 + "\n"
    with pytest.raises(BackupCorrupt) as info:
        parse_manifest(json.dumps(data).encode())
    assert "\n" not in str(info.value) and len(str(info.value)) < 200


def test_postgres_url_keeps_the_password_off_the_tools_command_line():
    u = postgres_url("postgresql://bob:p%40ss@127.0.0.1:6543/shop?sslmode=require")
    assert (u.without_password, u.password) == ("postgresql://bob@127.0.0.1:6543/shop?sslmode=require", "p@ss")
    assert (u.host, u.port, u.user, u.database) == ("127.0.0.1", 6543, "bob", "shop")
    socket = postgres_url("postgresql:///shop?host=/run/postgresql&port=5433&user=al")
    assert (socket.host, socket.port, socket.user, socket.database, socket.password) == ("/run/postgresql", 5433, "al", "shop", None)
    with pytest.raises(UnsupportedURL, match="not a postgresql"):
        postgres_url("sqlite:///x.db")
    with pytest.raises(UnsupportedURL, match="not a valid URL"):
        postgres_url("postgresql://bob:pw@db:port/shop")


@pytest.mark.parametrize("module", ["aishell.engine.backup", "aishell.engine.drivers.url"])
def test_docstring_examples(module):
    import importlib

    assert doctest.testmod(importlib.import_module(module)).failed == 0
