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
        "CREATE TABLE order_lines(id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders(id));"
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
    """psql's meanings on SQLite: \\dt tables, \\dv views, \\d both; \\d NAME sectioned."""
    ctx = backslash.Context(session)
    out = await backslash.run(ctx, "\\dt")
    assert [r[1] for r in out.rows] == ["order_lines", "orders"]
    assert [c[0] for c in out.columns] == ["Schema", "Name", "Type"]
    assert [r[1] for r in (await backslash.run(ctx, "\\dv")).rows] == ["big_orders"]
    assert {r[1] for r in (await backslash.run(ctx, "\\d")).rows} == {"orders", "order_lines", "big_orders"}
    out = await backslash.run(ctx, "\\dt order*")
    assert {r[1] for r in out.rows} == {"orders", "order_lines"}
    assert [r[1] for r in (await backslash.run(ctx, "\\dt ORDERS")).rows] == ["orders"]  # unquoted folds
    assert (await backslash.run(ctx, '\\dt "ORDERS"')).rows == []  # quoted keeps case
    out = await backslash.run(ctx, "\\d orders")
    assert [r[0] for r in out.rows[:3]] == ["id", "customer_id", "note"]
    assert out.rows[1][2] == "not null"
    first = [r[0] for r in out.rows]
    assert first[first.index("▸ Indexes") + 1:][:2] == ["orders_rowid", "orders_customer"]
    assert "▸ Referenced by" in first and "order_lines" in first
    out = await backslash.run(ctx, "\\di")
    assert "orders_customer" in [r[1] for r in out.rows]
    assert (await backslash.run(ctx, "\\di orders_c*")).rows[0][3] == "orders"
    out = await backslash.run(ctx, "\\dn")
    assert out.rows == [("main",)]
    out = await backslash.run(ctx, "\\l")
    assert out.rows and out.rows[0][0] == "main" and out.columns[0] == ("Name", "text")


@pytest.mark.parametrize("line", ["\\df", "\\dT", "\\dD+", "\\du", "\\dx", "\\db", "\\dp", "\\dm", "\\ds"])
async def test_what_sqlite_has_not_says_so_in_one_line(session, line):
    with pytest.raises(backslash.CommandError) as caught:
        await backslash.run(backslash.Context(session), line)
    assert str(caught.value) == f"{line.rstrip('+')} is not available on SQLite"


async def test_command_names_keep_their_case(session):
    assert backslash.lookup("\\dT").name == "\\dT" and backslash.lookup("\\dt").name == "\\dt"
    assert backslash.lookup("\\dD+").name == "\\dD" and backslash.lookup("\\dtS+").name == "\\dt"


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

    from aishell.engine.commands import describe, named, variables
    from aishell.engine.drivers import listing

    for module in (backslash, registry, describe, listing, named, variables):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0
