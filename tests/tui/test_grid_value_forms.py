"""The results grid shows PostgreSQL values as psql prints them, and the CSV export writes what
``psql --csv`` writes: the expected text comes from psql itself on the same query against the test
cluster, so nothing here is hard-coded. SQLite keeps its natural forms.

Booleans show ``t``/``f`` in the grid, as psql, COPY and the exports write them: one text form
per value, so a copied cell, an exported file and psql side by side agree.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import sqlite3
import subprocess
import sys

import pytest

from aishell.tui.widgets.results import set_null_text
from tests.tui.appkit import connected, grid, make_app, run, type_sql, until

pytestmark = [pytest.mark.pg, pytest.mark.skipif(shutil.which("psql") is None, reason="needs psql")]

SIZE = (120, 36)

VALUES = [  # (column name, SQL expression)
    ("interval", "interval '3 days 11:12:01'"),
    ("interval_negative", "interval '-1 day -02:00'"),
    ("interval_months", "interval '1 mon 2 days'"),
    ("interval_years", "interval '1 year 2 mons 3 days 04:05:06.5'"),
    ("interval_hours", "interval '25 hours'"),
    ("interval_mixed", "interval '-1 day +02:00'"),
    ("interval_zero", "interval '0'"),
    ("interval_fraction", "interval '0.000001 s'"),
    ("timestamptz", "timestamptz '2026-12-03 19:45:01.123+00'"),
    ("timestamptz_offset", "timestamptz '2026-12-03 19:45:01+05:30'"),
    ("timestamp", "timestamp '2026-12-03 19:45:01.5'"),
    ("timestamp_infinity", "timestamp 'infinity'"),
    ("timestamptz_minus_infinity", "timestamptz '-infinity'"),
    ("date", "date '2026-12-03'"),
    ("date_infinity", "date 'infinity'"),
    ("date_minus_infinity", "date '-infinity'"),
    ("date_last_day", "date '9999-12-31'"),  # asyncpg alone reads it as infinity
    ("date_first_day", "date '0001-01-01'"),
    ("time", "time '01:02:03.250'"),
    ("timetz", "timetz '19:45:01.5+05:30'"),
    ("numeric_trailing_zeros", "1.10::numeric"),
    ("numeric_large", "1e5::numeric"),
    ("numeric_small", "0.00000001::numeric"),
    ("numeric_zero_scale", "0.000::numeric"),
    ("numeric_nan", "'NaN'::numeric"),
    ("float_whole", "1.0::float8"),
    ("float_e15", "1e15::float8"),
    ("float_big", "12345678901234567::float8"),
    ("float_small", "1e-5::float8"),
    ("float_negative_zero", "'-0'::float8"),
    ("float_infinity", "'Infinity'::float8"),
    ("bytea", "'\\x01ff'::bytea"),
    ("boolean_true", "true"),
    ("boolean_false", "false"),
    ("int_array", "ARRAY[1,2,3]"),
    ("text_array", "ARRAY['a b', NULL, 'x\"y', '']"),
    ("bool_array", "ARRAY[true, false]"),
    ("timestamp_array", "ARRAY[timestamptz '2026-12-03 19:45:01+00']"),
    ("json", "'{\"a\":  [1, 2.50]}'::json"),
    ("jsonb", "'{\"b\": 1, \"a\": [1, 2.50]}'::jsonb"),
    ("uuid", "'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid"),
    ("int8", "9007199254740993::int8"),
    ("text", "'plain text'"),
]

SELECT = "SELECT " + ", ".join(f"{expression} AS {name}" for name, expression in VALUES)

NULL_TEXT = "(null)"


def _psql(url: str, *options: str, sql: str = SELECT) -> str:
    """psql's own output of ``sql`` (asyncpg reads timestamptz in UTC, so psql shows UTC too)."""
    env = dict(os.environ, PGTZ="UTC", PGCLIENTENCODING="UTF8")
    out = subprocess.run(["psql", "-X", "-q", *options, "-c", sql, url], capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0, out.stderr
    return out.stdout


@pytest.fixture(scope="module")
def psql_cells(pg_url) -> dict[str, str]:
    line = _psql(pg_url, "-At", "-F", "\x1f").rstrip("\n")
    return dict(zip([name for name, _ in VALUES], line.split("\x1f"), strict=True))


@pytest.fixture(scope="module")
def grid_cells(pg_url) -> dict[str, str]:
    """Each column's cell text in the workbench's grid after running SELECT (one app for all)."""
    import asyncio

    async def collect() -> dict[str, str]:
        app = make_app(pg_url)
        async with app.run_test(size=SIZE) as pilot:
            await connected(pilot)
            await run(pilot, SELECT)
            g = grid(pilot)
            cells = {name: g.cell_text(value) for (name, _), value in zip(VALUES, g.rows[0], strict=True)}
            try:
                type_sql(pilot, f"\\pset null {NULL_TEXT}")
                await pilot.press("f5")
                await until(pilot, lambda: g.cell_text(None) == NULL_TEXT, what="\\pset null")
                await run(pilot, "SELECT NULL::int AS nothing")
                cells["null"] = g.cell_text(g.rows[0][0])
            finally:
                set_null_text("NULL")  # the setting is the process's: leave it as other tests expect
            return cells

    return asyncio.run(collect())


@pytest.mark.parametrize("name", [name for name, _ in VALUES])
def test_grid_cell_is_what_psql_prints(name, psql_cells, grid_cells):
    assert grid_cells[name] == psql_cells[name]


def test_null_shows_the_pset_null_text(pg_url, grid_cells):
    expected = _psql(pg_url, "-At", "-P", f"null={NULL_TEXT}", sql="SELECT NULL::int").rstrip("\n")
    assert grid_cells["null"] == expected == NULL_TEXT


def test_csv_export_is_what_psql_csv_writes(pg_url):
    """``aishell run --format csv`` writes the forms the grid shows: the rows equal psql's --csv."""
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    ours = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "run", pg_url, "-c", SELECT, "--format", "csv"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert ours.returncode == 0, ours.stderr
    theirs = list(csv.reader(io.StringIO(_psql(pg_url, "--csv"))))
    mine = list(csv.reader(io.StringIO(ours.stdout)))
    assert mine[0] == theirs[0]
    assert dict(zip(mine[0], mine[1])) == dict(zip(theirs[0], theirs[1]))


async def test_sqlite_values_keep_their_natural_forms(tmp_path):
    """SQLite has no psql: a real is ``1.0`` (not PostgreSQL's ``1``), a blob ``\\x`` hex."""
    path = tmp_path / "forms.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE t (x)")
    app = make_app(path)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        await run(pilot, "SELECT 1.0 AS r, x'01ff' AS b, 'a' AS t, NULL AS n")
        g = grid(pilot)
        assert g.value_text is None
        assert [g.cell_text(v) for v in g.rows[0]] == ["1.0", "\\x01ff", "a", "NULL"]
