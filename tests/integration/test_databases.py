"""`databases()`, what `\\l` lists, from the drivers: a real PostgreSQL cluster and real SQLite files."""

from __future__ import annotations

import sqlite3
import uuid
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from aishell.engine.session import Session
from aishell.engine import commands as backslash
from tests.support import bare_settings


async def test_postgres_lists_databases_with_owner_encoding_and_size(pg_url, pg_fresh_db):
    session = await Session.open(pg_url, settings=bare_settings())
    try:
        databases = {d.name: d for d in await session.databases()}
    finally:
        await session.close()
    current = urlsplit(pg_url).path.lstrip("/")
    fresh = urlsplit(pg_fresh_db).path.lstrip("/")
    assert {current, fresh, "postgres"} <= set(databases)
    assert not {"template0", "template1"} & set(databases)
    assert list(databases) == sorted(databases)
    info = databases[fresh]
    assert info.owner and info.encoding == "UTF8" and info.size > 1_000_000 and info.location == ""


async def test_postgres_size_is_none_where_the_role_may_not_connect(pg_url, pg_fresh_db):
    fresh = urlsplit(pg_fresh_db).path.lstrip("/")
    role = f"r_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'pw'")
        await admin.execute(f'REVOKE CONNECT ON DATABASE "{fresh}" FROM PUBLIC')
        parts = urlsplit(pg_url)
        as_role = urlunsplit(parts._replace(netloc=f"{role}:pw@{parts.hostname}:{parts.port}"))
        session = await Session.open(as_role, settings=bare_settings())
        try:
            databases = {d.name: d for d in await session.databases()}
        finally:
            await session.close()
        assert databases[fresh].size is None  # pg_database_size would have refused: no error
        assert databases[urlsplit(pg_url).path.lstrip("/")].size > 0
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


async def test_sqlite_lists_main_and_attached_files(tmp_path):
    main, other = tmp_path / "main.db", tmp_path / "other.db"
    for path in (main, other):
        db = sqlite3.connect(path)
        db.execute("CREATE TABLE t (x)")
        db.execute("INSERT INTO t VALUES (randomblob(20000))")
        db.commit()
        db.close()
    session = await Session.open(str(main), settings=bare_settings())
    try:
        await session.execute(f"ATTACH DATABASE '{other}' AS archive")
        databases = await session.databases()
        outcome = await backslash.run(backslash.Context(session), "\\l")
    finally:
        await session.close()
    assert [d.name for d in databases] == ["archive", "main"]
    by_name = {d.name: d for d in databases}
    assert by_name["main"].location == str(main) and by_name["archive"].location == str(other)
    assert by_name["main"].size == main.stat().st_size and not by_name["main"].owner
    assert [c[0] for c in outcome.columns] == ["Name", "Size", "File"]  # no empty owner/encoding columns
    assert outcome.rows[1] == ("main", backslash.size_pretty(main.stat().st_size), str(main))


@pytest.mark.parametrize(
    "size, text",
    [(0, "0 bytes"), (10239, "10239 bytes"), (10240, "10 kB"), (7_631_663, "7453 kB"), (123_456_789, "118 MB"),
     (3 * 2**40, "3072 GB"), (2**50, "1024 TB")],
)
async def test_size_pretty_matches_the_server(pg_url, size, text):
    conn = await asyncpg.connect(pg_url)
    try:
        assert await conn.fetchval("SELECT pg_size_pretty($1::bigint)", size) == text == backslash.size_pretty(size)
    finally:
        await conn.close()


async def test_backslash_lists_indexes_of_every_indexed_relation_kind(pg_fresh_db):
    session = await Session.open(pg_fresh_db, settings=bare_settings())
    try:
        await session.execute(
            """CREATE TABLE items (id int PRIMARY KEY, sku text UNIQUE);
               CREATE MATERIALIZED VIEW item_skus AS SELECT sku FROM items;
               CREATE INDEX item_skus_sku ON item_skus (sku);
               CREATE SCHEMA archive;
               CREATE TABLE archive.items (id int PRIMARY KEY);"""
        )
        everything = await backslash.run(backslash.Context(session), "\\di")
        archived = await backslash.run(backslash.Context(session), "\\di archive.*")
    finally:
        await session.close()
    # As psql: without a schema only the search path's indexes (archive is not on it).
    assert {(r[0], r[1], r[4]) for r in everything.rows} == {
        ("public", "items_pkey", "items"), ("public", "items_sku_key", "items"), ("public", "item_skus_sku", "item_skus"),
    }
    assert [(r[0], r[1], r[4]) for r in archived.rows] == [("archive", "items_pkey", "items")]
