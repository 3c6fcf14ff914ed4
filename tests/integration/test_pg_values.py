"""Intervals keep their months, days and time through a connection of ours, both ways: asyncpg
alone folds ``1 mon`` into 30 days and ``25:00:00`` into a day and an hour. Dates keep
``9999-12-31`` apart from ``infinity``, which asyncpg alone reads and writes as one."""

from __future__ import annotations

import datetime as dt

import pytest

from aishell.engine.drivers.postgres import PostgresDriver
from aishell.engine.encode import pg_text
from aishell.engine.types import INFINITY, InfiniteDate, Interval

pytestmark = pytest.mark.pg


@pytest.mark.parametrize("literal", ["1 mon 2 days", "1 year 2 mons 3 days 04:05:06.5", "25:00:00", "-1 days +02:00:00", "00:00:00", "-00:00:00.000001"])
async def test_interval_read_as_stored_and_sent_back(pg_url, literal):
    conn = await PostgresDriver(pg_url).connect()
    try:
        value = await conn.raw.fetchval(f"SELECT interval '{literal}'")
        assert isinstance(value, Interval) and pg_text(value) == literal
        assert await conn.raw.fetchval("SELECT $1::interval = interval '" + literal + "'", value)
        assert await conn.raw.fetchval("SELECT $1::interval::text", value) == literal
    finally:
        await conn.close()


async def test_plain_timedelta_parameter_still_works(pg_url):
    conn = await PostgresDriver(pg_url).connect()
    try:
        assert await conn.raw.fetchval("SELECT $1::interval::text", dt.timedelta(days=1, hours=2)) == "1 day 02:00:00"
    finally:
        await conn.close()


@pytest.mark.parametrize(("literal", "infinite"), [
    ("infinity", True), ("-infinity", True), ("9999-12-31", False), ("0001-01-01", False), ("2026-12-03", False),
])
async def test_date_read_as_stored_and_sent_back(pg_url, literal, infinite):
    conn = await PostgresDriver(pg_url).connect()
    try:
        value = await conn.raw.fetchval(f"SELECT date '{literal}'")
        assert isinstance(value, InfiniteDate) is infinite
        assert await conn.raw.fetchval("SELECT $1::date = date '" + literal + "'", value)
        assert pg_text(value) == literal
    finally:
        await conn.close()


async def test_a_python_date_parameter_is_stored_as_that_date(pg_url):
    """asyncpg alone stores ``date.max`` as ``infinity``."""
    conn = await PostgresDriver(pg_url).connect()
    try:
        assert await conn.raw.fetchval("SELECT $1::date::text", dt.date.max) == "9999-12-31"
        assert await conn.raw.fetchval("SELECT $1::date::text", INFINITY) == "infinity"
    finally:
        await conn.close()
