"""`aishell bench advise`: workload advice against the per-statement advisor on TPC-H tables of a
database of its own (dropped after), end to end through the command line; and the workload it
generates: the asked number of distinct fingerprints, reads and writes, the same every run."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

import pytest

from aishell.engine.bench import UNITS
from aishell.engine.bench.advise import workload
from aishell.engine.bench.analyzer import load_queries
from aishell.engine.bench.report import JSON_KEYS
from aishell.engine.drivers import driver_for

ROOT = Path(__file__).resolve().parents[2]


def test_workload_has_distinct_shapes_of_every_kind_and_is_repeatable():
    queries = [text for _, text in load_queries()]
    shapes = workload(queries)
    assert len(shapes) == 200 and len({s.fingerprint for s in shapes}) == 200
    assert {s.kind for s in shapes} >= {"select", "update"}
    assert sum(1 for s in shapes if "lineitem" in s.text and "l_returnflag" in s.text) >= 2  # TPC-H's own among them
    assert [s.text for s in workload(queries)] == [s.text for s in shapes]
    assert len(workload(queries, 60)) == 60


@pytest.mark.pg
def test_bench_advise_json_end_to_end(pg_url):
    proc = subprocess.run(
        [sys.executable, "-m", "aishell.tui.cli", "bench", "advise", "--format", "json", "--quick", "--db", pg_url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    results = {r["name"]: r for r in json.loads(proc.stdout)["results"]}
    assert set(results) == {"advise.workload_60", "advise.agreement"}
    for result in results.values():
        assert tuple(result) == JSON_KEYS and result["unit"] in UNITS
    timed = results["advise.workload_60"]
    assert 0 < timed["value"] <= 30 and timed["baseline_value"] > 0 and timed["ratio"] > 0
    assert "indexes" in timed["metric"] and 0 < results["advise.agreement"]["value"] <= 1
    assert "aishell-test-pw" not in proc.stdout + proc.stderr
    assert asyncio.run(_bench_databases(pg_url)) == []  # its database is dropped after


async def _bench_databases(url: str) -> list:
    conn = await driver_for(url).connect()
    try:
        return (await conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'aishell_bench_advise_%'")).rows
    finally:
        await conn.close()
