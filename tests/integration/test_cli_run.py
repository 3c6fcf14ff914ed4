"""`aishell run` and `aishell --version` as a user runs them: real processes, real databases."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import asyncpg
import pytest

from aishell.engine.demo import ensure_demo_database

AISHELL = [sys.executable, "-m", "aishell.tui.cli"]


def aishell(*args: str, timeout: float = 60, **kw) -> subprocess.CompletedProcess:
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false")
    return subprocess.run([*AISHELL, *args], capture_output=True, text=True, timeout=timeout, env=env, **kw)


def test_version():
    out = aishell("--version")
    assert out.returncode == 0 and out.stdout.startswith("aishell ")


def test_run_formats_on_sqlite(tmp_path):
    db = str(ensure_demo_database(tmp_path / "demo.db"))
    sql = "SELECT id, email, is_active FROM customers WHERE id <= 3 ORDER BY id"
    table = aishell("run", db, "-c", sql)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split("|")[0].strip() == "id" and lines[1].startswith("---") and lines[-1] == "(3 rows)"
    as_json = json.loads(aishell("run", db, "-c", sql, "--format", "json").stdout)
    assert as_json["columns"] == ["id", "email", "is_active"] and as_json["rowcount"] == 3
    assert [r[0] for r in as_json["rows"]] == [1, 2, 3] and isinstance(as_json["elapsed_ms"], (int, float))
    rows = list(csv.reader(io.StringIO(aishell("run", db, "-c", sql, "--format", "csv").stdout)))
    assert rows[0] == ["id", "email", "is_active"] and len(rows) == 4
    jsonl = [json.loads(line) for line in aishell("run", db, "-c", sql, "--format", "jsonl").stdout.splitlines()]
    assert [r["id"] for r in jsonl] == [1, 2, 3] and set(jsonl[0]) == {"id", "email", "is_active"}
    write = aishell("run", db, "-c", "UPDATE customers SET is_active = 1 WHERE id = 1")
    assert write.returncode == 0 and write.stdout.strip() == "UPDATE 1"


def test_run_json_on_postgres_keeps_exact_values(pg_url):
    out = aishell("run", pg_url, "-c", "SELECT 1.10::numeric AS n, 'a\"b' AS s, NULL AS z, true AS b, '\\x0102'::bytea AS raw, "
                  "'2024-01-02 03:04:05+00'::timestamptz AS ts", "--format", "json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["rows"] == [[1.10, 'a"b', None, True, "\\x0102", "2024-01-02T03:04:05+00:00"]]
    assert '1.10' in out.stdout  # the decimal's own digits, not a float's


def test_run_streams_first_rows_before_the_last_is_fetched(pg_url):
    # Row 8000 makes the server sleep: the first pages must be printed long before it.
    sql = "SELECT g, CASE WHEN g = 8000 THEN pg_sleep(2) END AS pause FROM generate_series(1, 10000) g"
    proc = subprocess.Popen([*AISHELL, "run", pg_url, "-c", sql, "--format", "csv", "--page-size", "1000"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, AISHELL_MEMORY__ENABLED="false"))
    try:
        started = time.monotonic()
        assert proc.stdout.readline().strip() == "g,pause"
        assert proc.stdout.readline().strip() == "1,"
        first_row_after = time.monotonic() - started
        assert proc.poll() is None, "the command finished before its first row was read"
        rest = proc.stdout.read()
        assert proc.wait(30) == 0
        total = time.monotonic() - started
    finally:
        proc.kill()
    assert rest.strip().splitlines()[-1] == "10000,"
    assert total - first_row_after > 1.5  # the first row came out before the 2 s pause


def test_ctrl_c_cancels_the_statement_on_the_server(pg_url):
    marker = "aishell_ctrl_c_probe"
    proc = subprocess.Popen([*AISHELL, "run", pg_url, "-c", f"SELECT pg_sleep(60) AS {marker}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, AISHELL_MEMORY__ENABLED="false"))
    import asyncio

    async def active() -> int:
        conn = await asyncpg.connect(pg_url)
        try:
            return await conn.fetchval(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE $1", f"%{marker}%"
            )  # the probe's own text holds the marker only as a parameter
        finally:
            await conn.close()

    try:
        deadline = time.monotonic() + 20
        while asyncio.run(active()) < 1:
            assert time.monotonic() < deadline, "the statement never started"
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
    finally:
        proc.kill()
    assert proc.returncode == 130
    assert "cancelled" in proc.stderr.read()
    assert asyncio.run(active()) == 0


@pytest.mark.parametrize(
    "target, expected",
    [
        ("foo://bar/baz", "unsupported URL scheme"),
        ("postgresql://someone:hunter2@127.0.0.1:1/db", "could not connect"),
        ("/nonexistent/dir/shop.db", "does not exist"),
        ("notes.txt", "not a database URL"),
    ],
)
def test_bad_targets_give_one_line_and_exit_2(target, expected):
    out = aishell("run", target, "-c", "SELECT 1")
    assert out.returncode == 2
    assert expected in out.stderr and len(out.stderr.strip().splitlines()) == 1
    assert "Traceback" not in out.stderr and "hunter2" not in out.stderr + out.stdout


def test_wrong_password_and_syntax_error(pg_url, tmp_path):
    parts = urlsplit(pg_url)
    wrong = pg_url.replace(f":{parts.password}@", ":Sup3rS3cret@")
    out = aishell("run", wrong, "-c", "SELECT 1")
    assert out.returncode == 2 and "authentication failed" in out.stderr and "Sup3rS3cret" not in out.stderr
    out = aishell("run", pg_url, "-c", "SELECT 1,\n  2 FROM FROM")
    assert out.returncode == 2 and 'syntax error at or near "FROM"' in out.stderr
    assert "line 2, column 10" in out.stderr and "Traceback" not in out.stderr
    missing = tmp_path / "new.db"
    assert aishell("run", str(missing), "-c", "SELECT 1").returncode == 2 and not missing.exists()
    created = aishell("run", str(missing), "--create", "-c", "CREATE TABLE t (a)")
    assert created.returncode == 0 and missing.exists()


def test_no_argument_opens_the_demo_database(aishell_home):
    # Without a terminal the workbench cannot start; with one (tests/tui) it does.
    ensure_demo_database(aishell_home / "data" / "demo.db")
    assert (aishell_home / "data" / "demo.db").exists()
