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
        ("SELECT * INTO copy_of_t FROM t", "postgres", "only a query that reads"),  # it creates copy_of_t
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


RICH = (
    "SELECT * FROM (VALUES "
    "(1, 'Apple', 10.5, DATE '2024-01-05', true), (2, 'apricot', NULL, DATE '2024-03-01', false), "
    "(3, 'Banana', 9, NULL, NULL), (4, NULL, 100, DATE '2023-12-31', true), (5, 'a_b%c', -3, DATE '2024-01-01', false)"
    ") AS v(id, name, price, day, paid)"
)
RICH_COLUMNS = ["id", "name", "price", "day", "paid"]


@pytest.mark.pg
@pytest.mark.parametrize(
    "condition",
    [
        "name like 'A%'",
        "name ilike 'a%'",
        "name like 'a\\_b%'",
        "price between 9 and 11",
        "price not between 9 and 11",
        "price in (9, 100, null)",
        "price not in (9, null)",
        "not paid",
        "paid is not true",
        "price * 2 > 20 or day < '2024-01-02'",
        "coalesce(price, 0) < 1",
        "lower(name) = 'apple'",
        "length(name) > 5",
        "-price > 0",
        "day >= '2024-01-01' and paid",
        "name = apple",  # the simple form: a bare word is text (no row: case matters)
        "name <> 'Apple'",
        "id % 2 = 1",
    ],
)
def test_filter_on_loaded_rows_agrees_with_postgres(pg_url, condition):
    """The grid's own evaluation of a condition keeps exactly the rows PostgreSQL keeps."""
    where = Condition.parse(condition, RICH_COLUMNS)

    async def both() -> tuple[list[tuple], list[int]]:
        connection = await asyncpg.connect(pg_url)
        try:
            every = [tuple(r) for r in await connection.fetch(RICH + " ORDER BY id")]
            kept = await connection.fetch(wrap_view(RICH, "postgres", where=where.tree, order=("id", False)))
            return every, [r[0] for r in kept]
        finally:
            await connection.close()

    every, server_ids = asyncio.run(both())
    assert [every[index][0] for index in where.filter(every)] == server_ids


@pytest.mark.pg
@pytest.mark.parametrize("descending", [False, True])
@pytest.mark.parametrize(
    "values",
    [
        "(1, 2.5::float8), (2, 'NaN'), (3, NULL), (4, '-Infinity'), (5, 10), (6, -1), (7, NULL)",
        "(1, 'b'::text), (2, 'B'), (3, NULL), (4, 'a'), (5, 'ab'), (6, '')",
        "(1, 10::numeric), (2, 9.99), (3, NULL), (4, 100), (5, -0.5)",
    ],
)
def test_sort_on_loaded_rows_agrees_with_postgres(pg_url, values, descending):
    """NULLs, NaN, infinities, numbers as numbers: the grid orders loaded rows as the server would
    (text in the C collation, the one the test database uses)."""
    from aishell.tui.widgets.rowview import sort_order

    source = f'SELECT * FROM (VALUES {values}) AS v(id, value)'

    async def both() -> tuple[list[tuple], list[int]]:
        connection = await asyncpg.connect(pg_url)
        try:
            every = [tuple(r) for r in await connection.fetch(source + " ORDER BY id")]
            ordered = await connection.fetch(
                f'SELECT id FROM ({source}) s ORDER BY value COLLATE "C" {"DESC" if descending else "ASC"}, id'
                if "text" in values
                else f'SELECT id FROM ({source}) s ORDER BY value {"DESC" if descending else "ASC"}, id'
            )
            return every, [r[0] for r in ordered]
        finally:
            await connection.close()

    every, server_ids = asyncio.run(both())
    local = [every[index][0] for index in sort_order(every, 1, descending=descending)]
    # Ties (two NULLs) keep the loaded order, as the server's "ORDER BY value, id" does.
    assert local == server_ids
