"""pgcli-style backslash commands against a real SQLite session."""

from __future__ import annotations

import doctest
import sqlite3

import pytest

from aishell.engine.session import Session
from aishell.engine import commands as backslash


@pytest.fixture
async def session(tmp_path):
    path = tmp_path / "b.db"
    db = sqlite3.connect(path)
    db.executescript(
        "CREATE TABLE orders(id INTEGER PRIMARY KEY, customer_id INTEGER NOT NULL, note TEXT DEFAULT 'x');"
        "CREATE INDEX orders_customer ON orders(customer_id);"
        "CREATE TABLE order_lines(id INTEGER PRIMARY KEY, order_id INTEGER);"
        "CREATE VIEW big_orders AS SELECT * FROM orders WHERE id > 10;"
    )
    db.close()
    s = await Session.open(str(path))
    yield s
    await s.close()


def test_parse_and_aliases():
    assert backslash.parse("\\dt+ ord*") == ("\\dt+", "ord*")
    assert backslash.lookup("\\dt+").name == "\\dt"
    assert backslash.parse("  \\connect postgresql://x/db ;") == ("\\connect", "postgresql://x/db")
    assert backslash.lookup("\\connect").name == "\\c"
    with pytest.raises(backslash.CommandError):
        backslash.parse("select 1")


async def test_list_and_describe(session):
    out = await backslash.run(backslash.Context(session), "\\dt")
    assert {r[1] for r in out.rows} == {"orders", "order_lines", "big_orders"}
    out = await backslash.run(backslash.Context(session), "\\dt order*")
    assert {r[1] for r in out.rows} == {"orders", "order_lines"}
    out = await backslash.run(backslash.Context(session), "\\d orders")
    assert [r[0] for r in out.rows[:3]] == ["id", "customer_id", "note"]
    assert out.rows[1][2] == "not null"
    assert any(r[0] == "▸ orders_customer" and r[2] == "customer_id" for r in out.rows)
    out = await backslash.run(backslash.Context(session), "\\di")
    assert "orders_customer" in [r[1] for r in out.rows]
    assert (await backslash.run(backslash.Context(session), "\\di orders_c*")).rows[0][2] == "orders"
    out = await backslash.run(backslash.Context(session), "\\dn")
    assert out.rows == [("main",)]
    out = await backslash.run(backslash.Context(session), "\\l")
    assert out.rows and out.rows[0][0] == "main" and out.columns[0] == ("name", "text")


async def test_actions_and_errors(session):
    assert (await backslash.run(backslash.Context(session), "\\x")).action == "expanded"
    out = await backslash.run(backslash.Context(session), "\\timing off")
    assert out.action == "timing" and out.value is False
    out = await backslash.run(backslash.Context(session), "\\c sqlite:///other.db")
    assert out.action == "connect" and out.argument == "sqlite:///other.db"
    assert any(r[0].startswith("\\d ") for r in (await backslash.run(backslash.Context(session), "\\?")).rows)
    for bad in ("\\c", "\\zz", "\\x maybe", "\\d nosuch"):
        with pytest.raises(backslash.CommandError):
            await backslash.run(backslash.Context(session), bad)


def test_docstring_examples():
    from aishell.engine.commands import registry

    for module in (backslash, registry):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
