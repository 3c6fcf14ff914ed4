"""A statement that carries AIShell's password mask is never sent: memory and saved buffers keep
``PASSWORD '***'`` in place of a password, and running the recalled text as it stands would set
the password to those three characters."""

from __future__ import annotations

import uuid

import asyncpg
import pytest

from aishell.engine.config import Settings
from aishell.engine.errors import QueryError
from aishell.engine.memory.text import redact_statement
from aishell.engine.session import Session

REFUSED = [
    "ALTER ROLE {role} PASSWORD '***'",
    "ALTER ROLE {role} WITH LOGIN PASSWORD '***' VALID UNTIL 'infinity'",
    "CREATE ROLE {role}_2 LOGIN PASSWORD '***'",
    "ALTER USER {role} IDENTIFIED BY '***'",
    "SELECT 1; ALTER ROLE {role} PASSWORD '***'",
    "SELECT 'host=db password=*** dbname=shop' AS conninfo",
    "SELECT 'postgresql://bob:***@db/shop' AS url",
]
ALLOWED = [
    "SELECT '***' AS stars",
    "SELECT 'a***b', 'postgresql://bob@db/shop'",
    "SELECT 'host=db dbname=shop' AS conninfo",
]


def settings() -> Settings:
    return Settings.load(overrides={"memory": {"enabled": False}})


@pytest.fixture
async def pg(pg_fresh_db):
    role = f"r_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(pg_fresh_db)
    await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'the-real-one'")
    try:
        yield pg_fresh_db, role, admin
    finally:
        await admin.execute(f"DROP ROLE IF EXISTS {role}_2")
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


@pytest.mark.parametrize("statement", REFUSED)
async def test_a_masked_password_is_never_sent(pg, statement):
    url, role, admin = pg
    before = await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role)
    sql = statement.format(role=role)
    async with await Session.open(url, settings=settings()) as session:
        with pytest.raises(QueryError, match=r"\*\*\*.*type the password in"):
            await session.execute(sql)
        async with session.stream("SELECT 1") as rows:  # the session still works
            assert [r async for page in rows for r in page] == [(1,)]
    assert await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role) == before
    assert not await admin.fetchval("SELECT count(*) FROM pg_roles WHERE rolname = $1", f"{role}_2")


@pytest.mark.parametrize("statement", ALLOWED)
async def test_stars_that_are_not_a_password_run(pg, statement):
    url, _, _ = pg
    async with await Session.open(url, settings=settings()) as session:
        assert (await session.execute(statement)).rows


async def test_what_memory_stores_is_what_gets_refused(pg):
    """The round trip the guard exists for: the statement as memory keeps it cannot run."""
    url, role, admin = pg
    stored = redact_statement(f"ALTER ROLE {role} PASSWORD 'new-secret'")
    assert "new-secret" not in stored
    async with await Session.open(url, settings=settings()) as session:
        with pytest.raises(QueryError, match="type the password in"):
            await session.execute(stored)
        await session.execute(f"ALTER ROLE {role} PASSWORD 'typed-in-again'")  # the real one runs
    assert await admin.fetchval("SELECT rolpassword FROM pg_authid WHERE rolname = $1", role) is not None
