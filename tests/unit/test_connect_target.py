"""``\\c``'s forms resolved against the current target, as psql reads them (no server needed)."""

from __future__ import annotations

import doctest
import importlib

import pytest

from aishell.engine import commands
from aishell.engine.errors import UnsupportedURL
from aishell.engine.drivers.connect_target import connect_target

PG = "postgresql://bob:s3cret@db.example:5432/shop?sslmode=require"

CASES = [
    # (current, argument, target)
    (PG, "sales", "postgresql://bob:s3cret@db.example:5432/sales?sslmode=require"),
    (PG, "sales bob", "postgresql://bob:s3cret@db.example:5432/sales?sslmode=require"),
    (PG, "sales alice", "postgresql://alice@db.example:5432/sales?sslmode=require"),  # another user: no password
    (PG, "- alice", "postgresql://alice@db.example:5432/shop?sslmode=require"),
    (PG, "sales - other.example", "postgresql://bob@other.example:5432/sales?sslmode=require"),
    (PG, "sales - - 6543", "postgresql://bob@db.example:6543/sales?sslmode=require"),
    (PG, "- - db.example 5432", "postgresql://bob:s3cret@db.example:5432/shop?sslmode=require"),
    (PG, '"order history"', "postgresql://bob:s3cret@db.example:5432/order%20history?sslmode=require"),
    (PG, "postgresql://carol@elsewhere/x", "postgresql://carol@elsewhere/x"),
    ("postgresql://bob@db/shop?password=pw&user=bob", "sales carol", "postgresql://bob@db/sales?user=carol"),
    ("postgresql:///shop?host=/run/postgresql", "sales", "postgresql:///sales?host=/run/postgresql"),
    ("postgresql://db/shop?dbname=shop", "sales", "postgresql://db/sales"),
    ("mongodb://u:p@h1,h2/shop?authSource=admin", "sales", "mongodb://u:p@h1,h2/sales?authSource=admin"),
    ("sqlite:////data/shop.db", "/data/other.sqlite", "sqlite:////data/other.sqlite"),
    ("/data/shop.db", "/data/notes", "sqlite:////data/notes"),  # any file name on SQLite
    ("/data/shop.db", "mongodb://h/db", "mongodb://h/db"),
    ("", "sales", "sales"),  # not connected: as typed
]


@pytest.mark.parametrize("current,argument,target", CASES)
def test_forms(current, argument, target):
    assert connect_target(current, argument) == target


@pytest.mark.parametrize(
    "current,argument",
    [(PG, "a b c 54x"), (PG, "a b c 1 extra"), (PG, '"unclosed'), ("/data/shop.db", "a.db b.db"), ("mongodb://h/db", "sales bob")],
)
def test_bad_forms_say_what_to_type(current, argument):
    with pytest.raises(UnsupportedURL) as caught:
        connect_target(current, argument)
    assert "\n" not in str(caught.value)


async def test_the_command_resolves_against_the_session(tmp_path, monkeypatch):
    from aishell.engine.session import Session

    monkeypatch.chdir(tmp_path)
    async with await Session.open(str(tmp_path / "shop.db"), create=True) as session:
        context = commands.Context(session)
        assert (await commands.run(context, "\\c other.db")).argument == f"sqlite:///{tmp_path}/other.db"
        for line in ("\\c", "\\c a.db b.db"):
            with pytest.raises(commands.CommandError) as caught:
                await commands.run(context, line)
            assert "\\c" in str(caught.value) and "\n" not in str(caught.value)


def test_sqlite_path_is_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert connect_target("sqlite:////data/shop.db", "other.db") == f"sqlite:///{tmp_path}/other.db"


@pytest.mark.parametrize("name", ["aishell.engine.drivers.connect_target", "aishell.engine.commands.edit", "aishell.tui.keys", "aishell.tui.buffers", "aishell.tui.screens.buffer_actions"])
def test_docstring_examples(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted > 0 and result.failed == 0
