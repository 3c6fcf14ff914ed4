"""The suite of completion cases we keep: (text before the cursor, items that must be offered,
items that must not), against real catalogs: a PostgreSQL database with foreign keys, views, a
materialized view, a function, an enum type and a mixed-case table, and a SQLite file.

A ``|`` in the text marks the cursor (else it is at the end). An expected item is its text,
or ``text:kind`` to check the kind too. ``NOTHING`` as the absent list: no item at all.
"""

from __future__ import annotations

import asyncio
import sqlite3
import uuid

import pytest

from aishell.engine.session import Session
from aishell.tui.completion import Catalog, complete
from aishell.tui.controllers.catalog import build_catalog

NOTHING = None

PG_SCHEMA = """
CREATE SCHEMA sales;
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE customers (id serial PRIMARY KEY, email text, country text, mood mood);
CREATE TABLE orders (id serial PRIMARY KEY, customer_id int REFERENCES customers(id), status text, total numeric);
CREATE TABLE order_items (id serial PRIMARY KEY, order_id int REFERENCES orders(id), product_id int, quantity int);
CREATE TABLE users (id int, email text);
CREATE TABLE "Users" ("Id" int, "Name" text);
CREATE TABLE sales.invoices (id int, amount numeric, customer_id int REFERENCES customers(id));
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
CREATE MATERIALIZED VIEW order_totals AS SELECT customer_id, sum(total) AS spent FROM orders GROUP BY customer_id;
CREATE FUNCTION order_count(c int) RETURNS bigint LANGUAGE sql AS $$ SELECT count(*) FROM orders WHERE customer_id = c $$;
"""

SQLITE_SCHEMA = """
CREATE TABLE customers (id INTEGER PRIMARY KEY, email TEXT, country TEXT);
CREATE TABLE orders (id INTEGER PRIMARY KEY, customer_id INTEGER REFERENCES customers(id), status TEXT, total NUMERIC);
CREATE TABLE order_items (id INTEGER PRIMARY KEY, order_id INTEGER REFERENCES orders, product_id INTEGER, quantity INTEGER);
CREATE TABLE users (id INTEGER, email TEXT);
CREATE VIEW big_orders AS SELECT id, total FROM orders WHERE total > 100;
"""

# Cases both databases answer the same way.
COMMON = [
    # join conditions after ON: foreign keys either way, same-named columns, aliases in scope
    ("select o.id from orders o join customers c on ", ["o.customer_id = c.id:join", "o:alias", "c:alias"], []),
    ("select * from customers c join orders o on ", ["o.customer_id = c.id"], []),
    ("select * from orders o join order_items i on ", ["i.order_id = o.id", "o.id = i.id"], []),
    ("select * from orders join customers on ", ["orders.customer_id = customers.id"], []),
    ("select * from orders o join customers c on o.", ["customer_id", "status"], ["email"]),
    ("select * from orders o join customers c on o.customer_id = c.id and ", ["status", "email"], ["quantity"]),
    # USING: the columns both sides share
    ("select * from orders join order_items using (", ["id"], ["status", "quantity", "order_id"]),
    ("select * from customers join users using (", ["id", "email"], ["country"]),
    # subqueries
    ("select * from (", ["SELECT"], ["orders", "status"]),
    ("select * from orders where exists (", ["SELECT"], ["status", "orders"]),
    ("select * from orders o where exists (select 1 from order_items i where ", ["quantity", "order_id"], ["status", "customer_id"]),
    ("select * from orders o where exists (select 1 from order_items i where i.order_id = o.", ["customer_id", "status"], ["quantity"]),
    ("select s.| from (select email as mail from customers) s", ["mail"], ["email"]),
    ("select | from orders where id in (select order_id from order_items)", ["status", "total"], ["quantity"]),
    ("with big as (select id, total from orders) select | from big", ["id", "total"], ["status"]),
    # INSERT column lists, and they never leak into a following SELECT
    ("insert into orders (", ["customer_id", "status", "total"], ["email", "quantity"]),
    ("insert into orders (status, ", ["total"], ["email"]),
    ("insert into order_items (order_id, quantity) select | from customers", ["email", "country"], ["quantity", "product_id"]),
    ("insert into orders (status) values ('x') returning ", ["status", "total"], ["email"]),
    # statements: COPY, TRUNCATE, DROP, ALTER, CREATE INDEX
    ("copy ", ["orders"], ["SELECT"]),
    ("copy orders (", ["status"], ["email"]),
    ("truncate ", ["orders", "customers"], ["SELECT"]),
    ("truncate table ", ["customers"], []),
    ("drop table ", ["orders"], []),
    ("drop table if exists ", ["orders"], []),
    ("alter table ", ["orders"], []),
    ("alter table orders drop column ", ["status", "total"], ["email"]),
    ("alter table orders alter column ", ["status"], ["email"]),
    ("alter table orders rename column ", ["total"], ["email"]),
    ("create index ix on ", ["orders"], ["SELECT"]),
    ("create index ix on orders (", ["status", "customer_id"], ["email"]),
    ("create unique index on customers (", ["email"], ["status"]),
    # nothing inside strings, comments, $$ bodies, or right after AS
    ("select 'ord", [], NOTHING),
    ("select 1 -- from ord", [], NOTHING),
    ("select /* ord", [], NOTHING),
    ("select count(*) as ", [], NOTHING),
    ("select * from orders as ", [], NOTHING),
    ("select * from orders o where o.status = 'ship", [], NOTHING),
    # views labelled as views
    ("select * from big_", ["big_orders:view"], []),
    ("drop view ", ["big_orders"], ["orders"]),
    # * expanded to the columns in scope
    ("select *| from orders", ["id, customer_id, status, total"], []),
    ("select o.*| from orders o join customers c on true", ["o.id, o.customer_id, o.status, o.total"], []),
    ("select count(*| from orders", [], ["id, customer_id, status, total"]),
    # what was there before stays
    ("select * from ord", ["orders", "order_items"], []),
    ("select c.em| from customers c", ["email"], ["status"]),
    ("sel", ["SELECT"], []),
]

POSTGRES = [
    ("select * from sales.", ["invoices"], ["orders"]),
    ("select * from sales.invoices i join customers c on ", ["i.customer_id = c.id"], []),
    ("set search_path to ", ["public", "sales"], ["orders"]),
    ("set search_path to public, ", ["sales"], []),
    ("create function f() returns int as $$ select ord", [], NOTHING),
    ("create function f() returns int as $body$ select ord", [], NOTHING),
    # case folding: Users is users, "Users" is the mixed-case table, inserted quoted
    ("select u.| from Users u", ["email"], ['"Name"']),
    ('select u.| from "Users" u', ['"Name"', '"Id"'], ["email"]),
    ("select * from Use", ['"Users"', "users"], []),
    ('select * from "Us', ['"Users"', '"users"'], ["users"]),
    ('select "Na| from "Users"', ['"Name"'], []),
    # user functions, materialized views, types
    ("select order_c", ["order_count:function"], []),
    ("select * from order_t", ["order_totals:matview"], []),
    ("refresh materialized view ", ["order_totals"], ["orders"]),
    ("drop materialized view ", ["order_totals"], ["big_orders"]),
    ("drop function ", ["order_count"], ["count"]),
    ("drop type ", ["mood"], ["integer"]),
    ("select 1::", ["integer:type", "mood:type"], ["orders"]),
    ("select cast(total as ", ["numeric", "mood"], ["status"]),
    ("create table t (id ", ["integer", "mood"], ["orders"]),
    ("create table t (id integer, name ", ["text"], []),
    ("create table t (", [], NOTHING),
    ("alter table orders add column note ", ["text", "mood"], []),
    ("alter table orders alter column status type ", ["text"], []),
    ("select *| from orders o join customers c on true", ["o.id, o.customer_id, o.status, o.total, c.id, c.email, c.country, c.mood"], []),
]

SQLITE = [
    ("select o.| from ORDERS o", ["status"], []),
    ("select 1 from orders where cast(total as ", ["INTEGER", "REAL"], []),
    ("create table t (id ", ["INTEGER", "TEXT"], []),
    ("select *| from orders o join customers c on true", ["o.id, o.customer_id, o.status, o.total, c.id, c.email, c.country"], []),
]


def check(catalog: Catalog, text: str, present: list[str], absent: list[str] | None, complete=complete) -> str | None:
    """None when the case holds, else what went wrong."""
    offset = text.index("|") if "|" in text else len(text)
    sql = text.replace("|", "", 1) if "|" in text else text
    got = complete(sql, offset, catalog, limit=400).candidates
    texts = {c.text for c in got}
    with_kind = {f"{c.text}:{c.kind}" for c in got}
    missing = [p for p in present if p not in (with_kind if ":" in p and p.rsplit(":", 1)[1].isalpha() and p not in texts else texts)]
    if absent is NOTHING:
        unwanted = [c.text for c in got][:5]
    else:
        unwanted = [a for a in absent if a in texts]
    if missing or unwanted:
        return f"{text!r}: missing {missing}, unwanted {unwanted}, got {[c.text for c in got][:8]}"
    return None


async def _catalog(url: str) -> Catalog:
    session = await Session.open(url)
    try:
        return build_catalog(await session.schema(), await session.catalog_objects(), session.dialect)
    finally:
        await session.close()


@pytest.fixture(scope="module")
def pg_catalog(pg_cluster, pg_url) -> Catalog:
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    url = pg_cluster.create_database(f"c_{uuid.uuid4().hex[:12]}")

    async def load() -> Catalog:
        session = await Session.open(url)
        try:
            await session.execute(PG_SCHEMA)
        finally:
            await session.close()
        return await _catalog(url)

    return asyncio.run(load())


@pytest.fixture(scope="module")
def sqlite_catalog(tmp_path_factory) -> Catalog:
    path = tmp_path_factory.mktemp("completion") / "shop.db"
    with sqlite3.connect(path) as conn:
        conn.executescript(SQLITE_SCHEMA)
    return asyncio.run(_catalog(str(path)))


@pytest.mark.parametrize("text,present,absent", COMMON + POSTGRES, ids=lambda v: v if isinstance(v, str) else None)
def test_postgres_cases(pg_catalog, text, present, absent):
    assert check(pg_catalog, text, present, absent) is None, check(pg_catalog, text, present, absent)


@pytest.mark.parametrize("text,present,absent", COMMON + SQLITE, ids=lambda v: v if isinstance(v, str) else None)
def test_sqlite_cases(sqlite_catalog, text, present, absent):
    assert check(sqlite_catalog, text, present, absent) is None, check(sqlite_catalog, text, present, absent)


def test_catalog_objects_reach_the_catalog(pg_catalog, sqlite_catalog):
    assert ("orders", ("customer_id",), "customers", ("id",)) in pg_catalog.foreign_keys
    assert ("order_items", ("order_id",), "orders", ("id",)) in sqlite_catalog.foreign_keys  # parent's primary key
    assert pg_catalog.kind("big_orders") == "view" and pg_catalog.kind("order_totals") == "matview"
    assert "order_count" in pg_catalog.user_functions and "mood" in pg_catalog.user_types
    assert "Users" in pg_catalog.tables and "users" in pg_catalog.tables


def test_a_big_catalog_still_offers_the_right_names():
    """5,000 tables: the join condition from the foreign key and the matching tables are offered
    (how fast is ``aishell bench completion``'s to hold: timing here would be flaky)."""
    tables = {f"table_{n:04d}": [f"col_{k}" for k in range(12)] for n in range(5000)}
    keys = tuple((f"table_{n:04d}", ("col_1",), f"table_{n + 1:04d}", ("col_0",)) for n in range(4999))
    catalog = Catalog(tables, ["public"], foreign_keys=keys)
    sql = "select * from table_0042 t join table_0043 u on "
    offered = [c.text for c in complete(sql, len(sql), catalog, limit=40).candidates]
    assert offered[0] == "t.col_1 = u.col_0", offered[:5]
    found = [c.text for c in complete("select * from table_012", 23, catalog, limit=40).candidates]
    assert "table_0120" in found and all(name.startswith("table_012") for name in found)
