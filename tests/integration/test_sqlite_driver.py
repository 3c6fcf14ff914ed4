"""The SQLite driver on real files: every call, errors, cancel, streaming, read-only, the demo DB."""

from __future__ import annotations

import asyncio
import sqlite3
import time

import pytest

from aishell.engine.demo import ensure_demo_database
from aishell.engine.errors import ConnectionFailed, DatabaseNotFound, QueryCancelled, QueryError, ReadOnlyViolation
from aishell.engine.session import Session
from tests.support import bare_settings


@pytest.fixture
async def db(tmp_path):
    path = tmp_path / "shop.db"
    s = await Session.open(str(path), settings=bare_settings(), create=True)
    await s.execute(
        """CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT NOT NULL UNIQUE, name TEXT);
           CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), total REAL);
           CREATE INDEX orders_customer ON orders (customer_id);
           CREATE INDEX orders_big ON orders (total) WHERE total > 100;
           CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;"""
    )
    yield s, path
    await s.close()


async def test_execute_with_parameters_and_status(db):
    s, _ = db
    write = await s.execute("INSERT INTO customers (email, name) VALUES (?, ?), (?, ?)", ["a@x", "Ann", "b@x", None])
    assert write.rowcount == 2 and write.status == "INSERT 2"
    result = await s.execute("SELECT id, email, name FROM customers ORDER BY id")
    assert [c.name for c in result.columns] == ["id", "email", "name"]
    assert result.columns[0].type_name == "INTEGER" and result.rows == [(1, "a@x", "Ann"), (2, "b@x", None)]
    assert result.status == "SELECT 2"
    assert (await s.execute("DELETE FROM customers WHERE id = ?", [2])).status == "DELETE 1"


async def test_autocommit_and_explicit_transactions(db):
    s, path = db
    await s.execute("INSERT INTO customers (email) VALUES ('auto')")
    other = sqlite3.connect(path)
    assert other.execute("SELECT count(*) FROM customers").fetchone() == (1,)  # committed at once
    await s.execute("BEGIN")
    await s.execute("INSERT INTO customers (email) VALUES ('tx')")
    assert other.execute("SELECT count(*) FROM customers").fetchone() == (1,)
    await s.execute("ROLLBACK")
    assert (await s.execute("SELECT count(*) FROM customers")).rows == [(1,)]
    other.close()


async def test_stream_pages(db):
    s, _ = db
    await s.execute("INSERT INTO orders (customer_id, total) SELECT value % 7, value * 1.5 FROM generate_series(1, 5000)") if False else None
    await s.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) "
        "INSERT INTO orders (customer_id, total) SELECT i % 7, i * 1.5 FROM n"
    )
    async with s.stream("SELECT id, total FROM orders", page_size=700) as rows:
        assert [c.name for c in rows.columns] == ["id", "total"]
        sizes = [len(p) async for p in rows]
    assert sizes[0] == 700 and sum(sizes) == 5000 and rows.rowcount == 5000 and rows.status == "SELECT 5000"
    async with s.stream("UPDATE orders SET total = total + 1 WHERE id <= 10") as rows:
        assert [p async for p in rows] == [] and rows.status == "UPDATE 10"


async def test_syntax_error_and_usable_after(db):
    s, _ = db
    with pytest.raises(QueryError, match="syntax error"):
        await s.execute("SELEC * FROM customers")
    with pytest.raises(QueryError, match="no such table"):
        await s.execute("SELECT * FROM nope")
    assert (await s.execute("SELECT 1")).rows == [(1,)]


async def test_cancel_interrupts_a_long_query(db):
    s, _ = db
    slow = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n) SELECT count(*) FROM n"
    task = asyncio.create_task(s.execute(slow))
    await asyncio.sleep(0.3)
    started = time.monotonic()
    assert await s.cancel()
    with pytest.raises(QueryCancelled):
        await asyncio.wait_for(task, 5)
    assert time.monotonic() - started < 5
    assert (await s.execute("SELECT 2")).rows == [(2,)]


async def test_catalog(db):
    s, _ = db
    assert await s.schemas() == ["main"]
    tables = {t.name: t for t in await s.tables()}
    assert set(tables) == {"customers", "orders", "big_orders"} and tables["big_orders"].kind == "view"
    cols = await s.columns("customers")
    assert [(c.name, c.type_name, c.nullable) for c in cols] == [("id", "INTEGER", False), ("email", "TEXT", False), ("name", "TEXT", True)]
    idx = {i.name: i for i in await s.indexes("orders")}
    assert idx["orders_customer"].columns == ("customer_id",) and idx["orders_big"].partial
    assert idx["orders_rowid"].primary and idx["orders_rowid"].columns == ("id",)
    info = await s.schema()
    assert info.find("orders").leading_index_columns() == {"id", "customer_id", "total"}
    assert (await s.server_version()) == sqlite3.sqlite_version


async def test_missing_file_is_never_created(tmp_path):
    path = tmp_path / "typo.db"
    with pytest.raises(DatabaseNotFound, match="does not exist"):
        await Session.open(str(path), settings=bare_settings())
    with pytest.raises(DatabaseNotFound):
        await Session.open(f"sqlite:///{path}", settings=bare_settings())
    assert not path.exists()


async def test_not_a_database_file(tmp_path):
    path = tmp_path / "notes.db"
    path.write_text("this is not a database, just some text that is long enough to have a header" * 20)
    with pytest.raises(ConnectionFailed, match="not a database"):
        await Session.open(str(path), settings=bare_settings())
    assert path.read_text().startswith("this is not")


async def test_read_only_enforced_by_sqlite(db):
    _, path = db
    ro = await Session.open(f"sqlite:///{path}", settings=bare_settings(), read_only=True)
    try:
        with pytest.raises(ReadOnlyViolation):
            await ro.execute("INSERT INTO customers (email) VALUES ('no')")
        assert (await ro.execute("SELECT count(*) FROM customers")).rows == [(0,)]
    finally:
        await ro.close()


async def test_demo_database_is_deterministic_and_large(tmp_path):
    started = time.perf_counter()
    first = ensure_demo_database(tmp_path / "a" / "demo.db")
    elapsed = time.perf_counter() - started
    second = ensure_demo_database(tmp_path / "b" / "demo.db")
    s = await Session.open(str(first), settings=bare_settings())
    try:
        names = {t.name for t in await s.tables()}
        assert {"customers", "products", "orders", "order_items", "payments", "reviews", "categories"} <= names
        total = 0
        for table in await s.tables():
            if table.kind == "table":
                total += (await s.execute(f'SELECT count(*) FROM "{table.name}"')).rows[0][0]
        assert total >= 100_000
        digest = "SELECT sum(id * customer_id) || ':' || sum(total) FROM orders"
        a = (await s.execute(digest)).rows
    finally:
        await s.close()
    b = sqlite3.connect(second).execute(digest).fetchall()
    assert a == b
    assert not list((tmp_path / "a").glob("*.tmp"))
    assert elapsed < 30  # generous: the target (< 3 s) is measured by hand and in bench, not here
