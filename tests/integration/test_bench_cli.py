"""`aishell bench`: the real `run` benchmark end to end, discovery, failures, the throwaway cluster, the table."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import aishell.engine.bench
from aishell.engine.bench import UNITS, BenchResult
from aishell.engine.bench.report import JSON_KEYS, render_table
from aishell.tui.cli import main as cli

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.pg
@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / "engine" / "bench" / "run.py").exists(), reason="engine/bench/run.py not written yet")
def test_bench_run_json_end_to_end(pg_url):
    proc = subprocess.run(
        [sys.executable, "-m", "aishell.tui.cli", "bench", "run", "--format", "json", "--quick", "--db", pg_url],
        capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    doc = json.loads(proc.stdout)
    assert list(doc) == ["results"] and doc["results"]
    for result in doc["results"]:
        assert tuple(result) == JSON_KEYS
        assert result["name"].startswith("run")
        assert result["unit"] in UNITS
        assert result["value"] > 0 and result["baseline_value"] > 0 and result["ratio"] > 0
    assert "bench run:" in proc.stderr
    assert "aishell-test-pw" not in proc.stdout + proc.stderr


def test_unknown_benchmark_is_a_usage_error(capsys):
    assert cli(["bench", "no_such_bench"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("aishell: unknown benchmark 'no_such_bench'") and err.count("\n") == 1


@pytest.fixture
def extra_benchmarks(tmp_path, monkeypatch):
    """Two small benchmark modules on the aishell.engine.bench path: one measures, one fails."""
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "zzsort.py").write_text(textwrap.dedent('''
        import random
        from aishell.engine.bench import BenchResult, median_time
        NAME = "zzsort"
        NEEDS_PG = False

        def insertion(items):
            out = []
            for x in items:
                i = len(out)
                while i and out[i - 1] > x:
                    i -= 1
                out.insert(i, x)
            return out

        async def run(ctx):
            data = [random.random() for _ in range(300 if ctx.quick else 3000)]
            ours = median_time(lambda: sorted(data), repeat=5)
            base = median_time(lambda: insertion(data), repeat=5)
            return [BenchResult("zzsort.sorted", "sort floats", ours * 1e6, "us", "insertion sort", base * 1e6)]
    '''))
    (folder / "zzbroken.py").write_text(textwrap.dedent('''
        NAME = "zzbroken"
        NEEDS_PG = False
        async def run(ctx):
            raise RuntimeError("fixture server went away")
    '''))
    (folder / "zzpg.py").write_text(textwrap.dedent('''
        import asyncpg
        from aishell.engine.bench import BenchResult
        NAME = "zzpg"
        SEEN = []
        async def run(ctx):
            SEEN.append(ctx.pg_url)
            conn = await asyncpg.connect(ctx.pg_url)
            try:
                value = await conn.fetchval("SELECT 42")
            finally:
                await conn.close()
            return [BenchResult("zzpg.answer", "select 42", float(value), "ops/s", "none", 42.0)]
    '''))
    monkeypatch.setattr(aishell.engine.bench, "__path__", [*aishell.engine.bench.__path__, str(folder)])
    for name in ("zzsort", "zzbroken", "zzpg"):
        monkeypatch.delitem(sys.modules, f"aishell.engine.bench.{name}", raising=False)
    yield folder
    for name in ("zzsort", "zzbroken", "zzpg"):
        sys.modules.pop(f"aishell.engine.bench.{name}", None)


def test_failing_benchmark_is_reported_and_the_others_run(extra_benchmarks, capsys):
    assert {"zzsort", "zzbroken"} <= set(aishell.engine.bench.available())
    assert cli(["bench", "zzbroken", "zzsort", "--format", "json", "--quick"]) == 1
    out, err = capsys.readouterr()
    results = json.loads(out)["results"]
    assert [r["name"] for r in results] == ["zzsort.sorted"]
    assert results[0]["ratio"] > 1, "sorted() beats an insertion sort"
    assert "aishell: bench zzbroken failed: RuntimeError: fixture server went away" in err
    assert "throwaway" not in err, "no cluster started for benchmarks that do not need PostgreSQL"

    assert cli(["bench", "zzsort", "--quick"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "metric", "value", "baseline", "baseline", "value", "ratio", "target"]
    assert table[1].startswith("zzsort.sorted") and "insertion sort" in table[1] and "×" in table[1]


@pytest.mark.pg
def test_throwaway_cluster_started_and_removed_without_db(extra_benchmarks, monkeypatch, capsys):
    monkeypatch.delenv("AISHELL_TEST_PG_URL", raising=False)
    assert cli(["bench", "zzpg", "--format", "json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["results"][0]["value"] == 42.0
    assert "starting a throwaway PostgreSQL cluster" in err
    url = sys.modules["aishell.engine.bench.zzpg"].SEEN[0]
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), 1):
        pass  # the cluster is gone


def test_render_table_aligns_columns_and_formats_values():
    results = [
        BenchResult("pool.throughput", "100 tasks × 100 SELECT 1", 41234.5, "ops/s", "asyncpg pool", 40000.0,
                    higher_is_better=True, target="≥ 0.95×"),
        BenchResult("cache.hit", "get", 0.00213, "ms", "dict + lock", None),
    ]
    lines = render_table(results).splitlines()
    assert len(lines) == 3
    assert "41,234 ops/s" in lines[1] and "40,000 ops/s" in lines[1] and "1.03×" in lines[1] and lines[1].endswith("≥ 0.95×")
    assert "0.00213 ms" in lines[2] and "–" in lines[2]
    ratio_col = lines[0].index("ratio")
    assert lines[1][ratio_col:ratio_col + 5].strip() == "1.03×"
    assert render_table([]) == "no results"
