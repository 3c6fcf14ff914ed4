"""The PostgreSQL driver against the throwaway cluster: every call, errors, cancel, streaming."""

from __future__ import annotations

import asyncio
import decimal
import os
import tracemalloc
from urllib.parse import urlsplit

import pytest

from aishell.engine.drivers import driver_for
from aishell.engine.errors import AuthenticationFailed, ConnectionFailed, DatabaseNotFound, QueryCancelled, QueryError, ReadOnlyViolation
from aishell.engine.session import Session
from tests.support import bare_settings


@pytest.fixture
async def session(pg_fresh_db):
    s = await Session.open(pg_fresh_db, settings=bare_settings())
    await s.execute(
        """CREATE TABLE customers (id serial PRIMARY KEY, email text NOT NULL UNIQUE, name text, born date);
           CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int REFERENCES customers(id),
                                total numeric(10,2), placed timestamptz DEFAULT now());
           CREATE INDEX orders_customer ON orders (customer_id);
           CREATE INDEX orders_lower ON orders ((lower(total::text))) WHERE total > 0;
           CREATE SCHEMA sales; CREATE TABLE sales.leads (id int, score real);
           CREATE VIEW big_orders AS SELECT * FROM orders WHERE total > 100;"""
    )
    yield s
    await s.close()


async def test_execute_with_parameters_returns_rows_types_and_status(session):
    await session.execute("INSERT INTO customers (email, name) VALUES ($1, $2), ($3, $4)", ["a@x", "Ann", "b@x", "Bob"])
    result = await session.execute("SELECT id, email, 1.50::numeric AS n FROM customers WHERE email = $1", ["b@x"])
    assert [c.name for c in result.columns] == ["id", "email", "n"]
    assert [c.type_name for c in result.columns] == ["int4", "text", "numeric"]
    assert result.rows == [(2, "b@x", decimal.Decimal("1.50"))]
    assert result.rowcount == 1 and result.status == "SELECT 1"
    write = await session.execute("UPDATE customers SET name = upper(name)")
    assert write.rowcount == 2 and write.status == "UPDATE 2" and not write.columns


async def test_script_without_parameters_runs_every_statement(session):
    result = await session.execute("INSERT INTO customers (email) VALUES ('s1'); INSERT INTO customers (email) VALUES ('s2')")
    assert result.status.startswith("INSERT")
    assert (await session.execute("SELECT count(*) FROM customers")).rows == [(2,)]


async def test_stream_pages_bounded_and_complete(session):
    async with session.stream("SELECT g, md5(g::text) FROM generate_series(1, 25000) g", page_size=1000) as rows:
        assert [c.name for c in rows.columns] == ["g", "md5"]
        sizes = [len(page) async for page in rows]
    assert sizes[0] == 1000 and max(sizes) == 1000 and sum(sizes) == 25000
    assert rows.rowcount == 25000 and rows.status == "SELECT 25000"


async def test_stream_memory_does_not_grow_with_row_count(session):
    async def peak(n: int) -> int:
        tracemalloc.start()
        try:
            async with session.stream(f"SELECT g, repeat('x', 50) FROM generate_series(1, {n}) g", page_size=1000) as rows:
                async for _ in rows:
                    pass
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, large = await peak(20_000), await peak(200_000)
    assert large < small * 2 + 2_000_000, (small, large)


async def test_stream_of_write_with_returning_and_ddl(session):
    async with session.stream("INSERT INTO customers (email) VALUES ('r@x') RETURNING id, email") as rows:
        pages = [p async for p in rows]
    assert pages == [[(1, "r@x")]] and rows.rowcount == 1
    async with session.stream("CREATE TABLE t_stream (a int)") as rows:
        assert [p async for p in rows] == [] and rows.columns == ()
        assert rows.status == "CREATE TABLE"


async def test_stream_inside_user_transaction_keeps_it_open(session):
    await session.execute("BEGIN")
    await session.execute("INSERT INTO customers (email) VALUES ('tx@x')")
    async with session.stream("SELECT email FROM customers") as rows:
        assert [p async for p in rows] == [[("tx@x",)]]
    await session.execute("ROLLBACK")
    assert (await session.execute("SELECT count(*) FROM customers")).rows == [(0,)]


async def test_syntax_error_has_server_message_and_position(session):
    with pytest.raises(QueryError) as info:
        await session.execute("SELECT id,\n  emial FROM customers")
    err = info.value
    assert "emial" in err.message and err.sqlstate == "42703"
    assert err.position is not None and err.line_column == (2, 3)
    assert "line 2, column 3" in err.one_line()
    with pytest.raises(QueryError) as info:
        await session.execute("SELEC 1")
    assert info.value.line_column == (1, 1)
    assert (await session.execute("SELECT 1")).rows == [(1,)]  # the connection is still usable


async def test_cancel_stops_the_statement_on_the_server(session, pg_url):
    task = asyncio.create_task(session.execute("SELECT pg_sleep(30)"))
    for _ in range(100):
        await asyncio.sleep(0.05)
        if session.busy:
            break
    await asyncio.sleep(0.2)
    assert await session.cancel() is True
    with pytest.raises(QueryCancelled):
        await asyncio.wait_for(task, 5)
    watcher = await Session.open(pg_url, settings=bare_settings())
    try:
        active = await watcher.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(30)' AND state = 'active'"
        )
        assert active.rows == [(0,)]
    finally:
        await watcher.close()
    assert await session.cancel() is False  # nothing running now
    assert (await session.execute("SELECT 2")).rows == [(2,)]


async def test_cancel_a_stream(session):
    async def consume():
        async with session.stream("SELECT g, pg_sleep(0.01) FROM generate_series(1, 100000) g", page_size=10) as rows:
            async for _ in rows:
                pass

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.5)
    assert await session.cancel()
    with pytest.raises(QueryCancelled):
        await asyncio.wait_for(task, 5)
    assert (await session.execute("SELECT 3")).rows == [(3,)]


async def test_catalog_introspection(session):
    await session.execute("INSERT INTO customers (email) SELECT 'c' || g FROM generate_series(1, 500) g; ANALYZE customers")
    assert {"public", "sales"} <= set(await session.schemas())
    tables = {t.qualified_name: t for t in await session.tables()}
    assert {"public.customers", "public.orders", "public.big_orders", "sales.leads"} <= set(tables)
    assert tables["public.big_orders"].kind == "view"
    assert tables["public.customers"].row_estimate == 500
    assert [t.name for t in await session.tables("sales")] == ["leads"]
    cols = await session.columns("customers")
    assert [(c.name, c.type_name, c.nullable) for c in cols] == [
        ("id", "integer", False), ("email", "text", False), ("name", "text", True), ("born", "date", True)
    ]
    assert "nextval" in (cols[0].default or "")
    assert [c.name for c in await session.columns("leads", "sales")] == ["id", "score"]
    indexes = {ix.name: ix for ix in await session.indexes("orders")}
    assert indexes["orders_pkey"].primary and indexes["orders_pkey"].columns == ("id",)
    assert indexes["orders_customer"].columns == ("customer_id",) and not indexes["orders_customer"].unique
    assert indexes["orders_lower"].partial and "lower" in indexes["orders_lower"].columns[0]
    info = await session.schema()
    customers = info.find("customers")
    assert customers is not None and customers.leading_index_columns() == {"id", "email"}
    assert info.find("leads") is not None and info.find("leads", "sales").schema == "sales"
    assert info.find("nope") is None
    assert (await session.server_version()).startswith("15")


async def test_read_only_session_is_enforced_by_the_server(pg_fresh_db):
    ro = await Session.open(pg_fresh_db, settings=bare_settings(), read_only=True)
    try:
        assert ro.read_only
        with pytest.raises(ReadOnlyViolation):
            await ro.execute("CREATE TABLE nope (a int)")
        # even disguised as a function call, the server refuses
        with pytest.raises(ReadOnlyViolation):
            await ro.execute("SELECT * FROM (VALUES (1)) v, LATERAL (SELECT set_config('x.y', '1', false)) s; CREATE TABLE z (a int)")
        assert (await ro.execute("SELECT 1")).rows == [(1,)]
    finally:
        await ro.close()


async def test_connection_errors_are_clear_and_password_free(pg_url):
    parts = urlsplit(pg_url)
    wrong = pg_url.replace(f":{parts.password}@", ":not-the-password@")
    with pytest.raises(AuthenticationFailed) as info:
        await Session.open(wrong, settings=bare_settings())
    assert "not-the-password" not in str(info.value) and "***" in str(info.value)
    with pytest.raises(DatabaseNotFound):
        await Session.open(pg_url.rsplit("/", 1)[0] + "/no_such_db", settings=bare_settings())
    with pytest.raises(ConnectionFailed) as info:
        await Session.open(f"postgresql://u:secretpw@127.0.0.1:1/x", settings=bare_settings())
    assert "secretpw" not in str(info.value)


async def test_pg_environment_variables_and_passfile(pg_url, tmp_path, monkeypatch):
    parts = urlsplit(pg_url)
    bare = f"postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"
    monkeypatch.setenv("PGPASSWORD", parts.password)
    s = await Session.open(bare, settings=bare_settings())
    assert (await s.execute("SELECT current_user")).rows == [(parts.username,)]
    await s.close()
    monkeypatch.delenv("PGPASSWORD")
    passfile = tmp_path / "pgpass"
    passfile.write_text(f"{parts.hostname}:{parts.port}:*:{parts.username}:{parts.password}\n")
    passfile.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(passfile))
    monkeypatch.setenv("PGDATABASE", parts.path.lstrip("/"))
    s = await Session.open(f"postgresql://{parts.username}@{parts.hostname}:{parts.port}", settings=bare_settings())
    assert (await s.execute("SELECT current_database()")).rows == [(parts.path.lstrip("/"),)]
    await s.close()


def test_driver_flags_and_redaction():
    driver = driver_for("postgres://bob:hunter2@db.example:5433/shop")
    assert driver.name == "postgres" and driver.dialect == "postgres" and driver.language == "sql"
    assert driver.POOLED and driver.HYPOTHETICAL_INDEXES
    assert driver.display_url == "postgres://bob:***@db.example:5433/shop"
    assert "hunter2" not in repr(driver.display_url)
    assert os.environ.get("AISHELL_HOME")


async def test_script_inside_a_user_transaction(session):
    await session.execute("BEGIN")
    await session.execute("INSERT INTO customers (email) VALUES ('a;b'); INSERT INTO customers (email) VALUES ('c')")
    assert (await session.execute("SELECT count(*) FROM customers WHERE email = 'a;b'")).rows == [(1,)]
    await session.execute("COMMIT")
    assert (await session.execute("SELECT count(*) FROM customers")).rows == [(2,)]
