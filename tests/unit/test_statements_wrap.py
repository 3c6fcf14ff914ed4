"""wrap_view: a result's statement wrapped to sort and filter on the server, checked on the real
PostgreSQL server and SQLite against the order and rows the databases give themselves."""

from __future__ import annotations

import asyncio
import sqlite3

import asyncpg
import pytest
from sqlglot import exp

from aishell.engine.statements.wrap import NotWrappable, wrap_view
from aishell.tui.widgets.rowview import Condition

COLUMNS = ["id", "Total", "select", 'we"ird', "note"]


@pytest.mark.parametrize(
    ("sql", "dialect", "why"),
    [
        ("db.orders.find({})", "mongo", "MongoDB"),
        ("INSERT INTO t VALUES (1) RETURNING *", "postgres", "not an insert"),
        ("WITH gone AS (DELETE FROM t RETURNING *) SELECT * FROM gone", "postgres", "only a query that reads"),
        ("SELECT * INTO copy_of_t FROM t", "postgres", "SELECT INTO"),
        ("SELECT * FROM t FOR UPDATE", "postgres", "FOR UPDATE"),
        ("SELECT 1; SELECT 2", "postgres", "single statement"),
        ("SELEC oops", "postgres", "only a query that reads"),
        ("UPDATE t SET a = 1 WHERE id = 2 RETURNING *", "sqlite", "not an update"),
    ],
)
def test_statements_that_must_not_run_again_are_not_wrapped(sql, dialect, why):
    with pytest.raises(NotWrappable, match=why):
        wrap_view(sql, dialect, order=("id", False))


def _source(values: str) -> str:
    return (
        'SELECT * FROM (VALUES ' + values + ') AS v(id, "Total", "select", "we""ird", note)'
    )


ROWS = "(1, 10.5, 'b', 'x', NULL), (2, NULL, 'a', 'y', 'n'), (3, 9, 'c', NULL, 'n'), (4, 100, NULL, 'z', NULL)"


@pytest.mark.pg
@pytest.mark.parametrize(
    ("condition", "order", "expected_ids"),
    [
        ("Total > 9.5", ("Total", False), [1, 4]),
        ("", ("Total", False), [3, 1, 4, 2]),  # NULLs last ascending
        ("", ("Total", True), [2, 4, 1, 3]),  # and first descending
        ('"select" = a or "we""ird" is null', ("id", True), [3, 2]),
        ("note = n and total < 50", ("select", False), [3]),  # simple form, any case
        ("id in (1, 4)", None, [1, 4]),
    ],
)
def test_wrapped_query_on_postgres_matches_the_loaded_rows_view(pg_url, condition, order, expected_ids):
    """The server's answer and the grid's own filter and sort on the same rows agree."""
    where = Condition.parse(condition, COLUMNS) if condition else None
    sql = wrap_view(_source(ROWS), "postgres", where=where.tree if where else None, order=order)

    async def fetch() -> list[tuple]:
        connection = await asyncpg.connect(pg_url)
        try:
            return [tuple(record) for record in await connection.fetch(sql)]
        finally:
            await connection.close()

    rows = asyncio.run(fetch())
    assert [row[0] for row in rows] == expected_ids

    from aishell.tui.widgets.rowview import IndexedRows, sort_order

    every = asyncio.run(_all_rows(pg_url))
    positions = where.filter(every) if where else range(len(every))
    view = IndexedRows(every, positions)
    if order:
        ordered = sort_order(view, COLUMNS.index(order[0]), descending=order[1])
        view = IndexedRows(view, ordered)
    assert [row[0] for row in view] == expected_ids


async def _all_rows(pg_url: str) -> list[tuple]:
    connection = await asyncpg.connect(pg_url)
    try:
        return [tuple(record) for record in await connection.fetch(_source(ROWS) + " ORDER BY id")]
    finally:
        await connection.close()


def test_wrapped_query_on_sqlite_puts_nulls_last_ascending(tmp_path):
    database = sqlite3.connect(tmp_path / "t.db")
    database.execute('CREATE TABLE t (id INTEGER, "Total" REAL)')
    database.executemany("INSERT INTO t VALUES (?, ?)", [(1, 5.0), (2, None), (3, 1.5)])
    where = Condition.parse("total is null or total > 1", ["id", "Total"]).tree
    sql = wrap_view("SELECT * FROM t", "sqlite", where=where, order=("Total", False))
    assert [row[0] for row in database.execute(sql)] == [3, 1, 2]
    sql = wrap_view("SELECT * FROM t", "sqlite", order=("Total", True))
    assert [row[0] for row in database.execute(sql)] == [2, 1, 3]


def test_condition_text_cannot_break_out_of_the_wrapped_query():
    """The condition is a parsed expression: text that tries to end the statement is refused or
    stays inside the WHERE clause."""
    for text in ["1=1) s; DROP TABLE t; --", "id = 1; DROP TABLE t"]:
        with pytest.raises(ValueError):
            Condition.parse(text, ["id"])
    where = Condition.parse("id = '1''); DROP TABLE t; --'", ["id"]).tree
    sql = wrap_view("SELECT * FROM t", "postgres", where=where)
    assert sql == "SELECT * FROM (SELECT * FROM t) AS s WHERE \"id\" = '1''); DROP TABLE t; --'"
    assert isinstance(exp.condition('"id" = 1'), exp.EQ)
