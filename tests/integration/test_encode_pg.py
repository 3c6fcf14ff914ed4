"""`aishell run --format csv|json` on every common PostgreSQL type: the output parses with the csv
and json modules, holds the documented forms, and the CSV loads back with COPY to equal values."""

from __future__ import annotations

import asyncio
import csv
import decimal
import io
import json
import os
import subprocess
import sys

import asyncpg

SELECT = """SELECT NULL::text AS nothing, true AS yes, 42::int8 AS big, 1.5::float8 AS f,
    'NaN'::float8 AS nan, '-Infinity'::float8 AS neg_inf, 1.10::numeric AS amount,
    'say "hi", ok'::text AS words, '\\x00ff'::bytea AS raw, '2024-01-02'::date AS day,
    '2024-01-02 03:04:05'::timestamp AS ts, '2024-01-02 03:04:05+02'::timestamptz AS tstz,
    '03:04:05'::time AS clock, '1 day 02:03:04.5'::interval AS span,
    'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid AS id, ARRAY[1, NULL, 3] AS ints,
    ARRAY['a b', 'x"y', ''] AS texts, '{"k": [1, "x"], "d": 2.50}'::jsonb AS doc,
    int4range(1, 5) AS span_ints"""

EXPECTED = {  # column: (CSV field, JSON value read with parse_float=Decimal)
    "nothing": ("", None),
    "yes": ("t", True),
    "big": ("42", 42),
    "f": ("1.5", decimal.Decimal("1.5")),
    "nan": ("NaN", "NaN"),
    "neg_inf": ("-Infinity", "-Infinity"),
    "amount": ("1.10", decimal.Decimal("1.10")),
    "words": ('say "hi", ok', 'say "hi", ok'),
    "raw": ("\\x00ff", "\\x00ff"),
    "day": ("2024-01-02", "2024-01-02"),
    "ts": ("2024-01-02 03:04:05", "2024-01-02T03:04:05"),
    "tstz": ("2024-01-02 01:04:05+00", "2024-01-02T01:04:05+00:00"),
    "clock": ("03:04:05", "03:04:05"),
    "span": ("1 day 02:03:04.5", "P1DT2H3M4.5S"),
    "id": ("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "ints": ("{1,NULL,3}", [1, None, 3]),
    "texts": ('{"a b","x\\"y",""}', ["a b", 'x"y', ""]),
    "doc": ('{"d": 2.50, "k": [1, "x"]}', {"d": decimal.Decimal("2.50"), "k": [1, "x"]}),
    "span_ints": ("[1,5)", "[1,5)"),
}


def _run(url: str, fmt: str) -> str:
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    out = subprocess.run([sys.executable, "-m", "aishell.tui.cli", "run", url, "-c", SELECT, "--format", fmt],
                         capture_output=True, text=True, timeout=60, env=env)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_run_csv_and_json_of_every_type(pg_url):
    header, row = csv.reader(io.StringIO(_run(pg_url, "csv")))
    assert header == list(EXPECTED)
    assert dict(zip(header, row)) == {name: forms[0] for name, forms in EXPECTED.items()}

    data = json.loads(_run(pg_url, "json"), parse_float=decimal.Decimal)
    assert data["columns"] == list(EXPECTED)
    assert dict(zip(data["columns"], data["rows"][0])) == {name: forms[1] for name, forms in EXPECTED.items()}

    async def copy_back() -> bool:
        conn = await asyncpg.connect(pg_url)
        try:
            await conn.execute(f"CREATE TEMP TABLE copied AS {SELECT} WITH NO DATA")
            await conn.copy_to_table("copied", source=io.BytesIO(_run(pg_url, "csv").encode()), format="csv", header=True)
            return await conn.fetchval(f"SELECT (SELECT c FROM copied c)::text = (SELECT o FROM ({SELECT}) o)::text")
        finally:
            await conn.close()

    assert asyncio.run(copy_back()), "the CSV did not load back to the same values"
