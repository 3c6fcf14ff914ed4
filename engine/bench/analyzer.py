"""`aishell bench analyzer`: the 22 TPC-H queries analyzed cold (parse + every rule) against
``sqlfluff lint`` of the same queries in the same run, plus the cached paths.

Each query is timed several times and its best run kept (timeit's convention: the fastest run
is the one least disturbed by other processes, and this machine is shared); the figure is the
median of those over the 22 queries. Both sides are measured the same way.

Figures:
- ``analyzer.cold``: median over the queries of each query's best cold analysis (caches
  cleared before every call), against sqlfluff's best per-query lint time (Python API,
  ``sqlfluff.lint(sql, dialect="ansi")``, after one warm-up lint). Targets: ≤ 2 ms, ≥ 50×.
- ``analyzer.cold_p50``: the same with each query's median run instead of its best (includes
  the noise of a busy machine).
- ``analyzer.cold_worst``: the slowest query's cold median.
- ``analyzer.repeat``: the same text again (exact-text cache), against the cold time. ≤ 20 µs.
- ``analyzer.shape``: the same statement shape in other text (other spacing and comments),
  re-located from the fingerprint cache without parsing, against the cold time.
"""

from __future__ import annotations

import os
import statistics
import time
from pathlib import Path

from aishell.engine.bench import BenchContext, BenchResult

NAME = "analyzer"
NEEDS_PG = False


def tpch_dir() -> Path:
    """``$AISHELL_TPCH_DIR``, else ``../shared/data/tpch`` beside the checkout."""
    override = os.environ.get("AISHELL_TPCH_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tpch"


def load_queries() -> list[tuple[str, str]]:
    folder = tpch_dir()
    files = sorted(folder.glob("q*.sql"))
    if len(files) < 22:
        raise RuntimeError(f"the TPC-H queries are missing from {folder} (found {len(files)} of 22)")
    return [(p.name, p.read_text()) for p in files]


def _samples(fn, repeat: int) -> list[float]:
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


async def run(ctx: BenchContext) -> list[BenchResult]:
    import sqlfluff

    from aishell.engine.analyzer import analyze, clear_cache

    queries = load_queries()
    cold_repeat = 9 if ctx.quick else 31
    fluff_repeat = 1 if ctx.quick else 3
    hot_number = 2000 if ctx.quick else 20000

    for _, sql in queries:  # warm imports, dialect objects and code paths
        clear_cache()
        analyze(sql)

    def cold(sql: str):
        def once() -> None:
            clear_cache()
            analyze(sql)

        return once

    cold_samples = {name: _samples(cold(sql), cold_repeat) for name, sql in queries}
    cold_times = {name: min(s) for name, s in cold_samples.items()}
    cold_p50 = statistics.median(statistics.median(s) for s in cold_samples.values()) * 1000

    sqlfluff.lint(queries[0][1], dialect="ansi")  # warm-up: sqlfluff loads its dialect and rules lazily
    fluff_samples = {name: _samples(lambda sql=sql: sqlfluff.lint(sql, dialect="ansi"), fluff_repeat) for name, sql in queries}
    fluff_times = {name: min(s) for name, s in fluff_samples.items()}
    fluff_p50 = statistics.median(statistics.median(s) for s in fluff_samples.values()) * 1000

    repeat_times = {}
    shape_times = {}
    for name, sql in queries:
        clear_cache()
        analyze(sql)
        start = time.perf_counter()
        for _ in range(hot_number):
            analyze(sql)
        repeat_times[name] = (time.perf_counter() - start) / hot_number
        variants = [f"-- variant {i}\n" + sql.replace("\n", "\n ") for i in range(50)]
        clear_cache()
        analyze(sql)  # the shape is known; every variant is a new text
        start = time.perf_counter()
        for variant in variants:
            analyze(variant)
        shape_times[name] = (time.perf_counter() - start) / len(variants)

    cold_ms = statistics.median(cold_times.values()) * 1000
    fluff_ms = statistics.median(fluff_times.values()) * 1000
    worst_name = max(cold_times, key=cold_times.get)
    repeat_us = statistics.median(repeat_times.values()) * 1e6
    shape_us = statistics.median(shape_times.values()) * 1e6
    per_query_ratio = statistics.median(fluff_times[n] / cold_times[n] for n, _ in queries)
    return [
        BenchResult(
            "analyzer.cold", f"analyze one TPC-H query cold (median of 22; per-query ratio median {per_query_ratio:.0f}x)",
            round(cold_ms, 3), "ms", "sqlfluff lint (ansi), same queries, same run", round(fluff_ms, 1),
            target="<= 2 ms, >= 50x",
        ),
        BenchResult(
            "analyzer.cold_p50", "analyze one TPC-H query cold, median run instead of best (median of 22)",
            round(cold_p50, 3), "ms", "sqlfluff lint (ansi), median run", round(fluff_p50, 1),
        ),
        BenchResult(
            "analyzer.cold_worst", f"slowest TPC-H query cold, best run ({worst_name})", round(cold_times[worst_name] * 1000, 3), "ms",
            f"sqlfluff lint of {worst_name}", round(fluff_times[worst_name] * 1000, 1),
        ),
        BenchResult(
            "analyzer.repeat", "analyze a query seen before (median of 22)", round(repeat_us, 2), "us",
            "cold analysis of the same query", round(cold_ms * 1000, 1), target="<= 20 us",
        ),
        BenchResult(
            "analyzer.shape", "same statement shape, new text (fingerprint cache, no parse)", round(shape_us, 1), "us",
            "cold analysis of the same query", round(cold_ms * 1000, 1),
        ),
    ]
