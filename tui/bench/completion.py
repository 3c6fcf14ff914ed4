"""Completion on a big catalog: the time one keystroke's completion takes.

A schema of 5,000 tables (12 columns each, a foreign key between neighbours) and a statement
typed a key at a time, with the two worst cases added (every table matches after ``FROM``).
Each keystroke is timed three times and its best run kept (other processes share the CPU); the
figures are the median and the 95th percentile over the keystrokes, against the 5 ms a
keystroke may take (the issue's target: a typist never waits for the menu).
"""

from __future__ import annotations

import statistics
import time

from aishell.engine.bench import BenchContext, BenchResult

NAME = "completion"
NEEDS_PG = False
TARGET = 0.005


def keystroke_times(tables: int = 5000) -> list[float]:
    """Seconds each keystroke's completion took (best of three), sorted."""
    from aishell.tui.completion import Catalog, complete

    names = {f"table_{n:04d}": [f"col_{k}" for k in range(12)] for n in range(tables)}
    keys = tuple((f"table_{n:04d}", ("col_1",), f"table_{n + 1:04d}", ("col_0",)) for n in range(tables - 1))
    catalog = Catalog(names, ["public"], foreign_keys=keys)
    sql = "select t.col_1, u.col_2 from table_0042 t join table_0043 u on t.col_1 = u.col_0 where t.col_3 > 1"
    complete("select * from ", 14, catalog)  # builds the catalog's items once
    texts = [(sql[:end], end) for end in range(1, len(sql) + 1)]
    texts += [("select * from ", 14), ("select * from t", 15)]
    times = []
    for text, end in texts:
        runs = []
        for _ in range(3):
            started = time.perf_counter()
            complete(text, end, catalog, limit=40)
            runs.append(time.perf_counter() - started)
        times.append(min(runs))
    return sorted(times)


async def run(ctx: BenchContext) -> list[BenchResult]:
    times = keystroke_times(1000 if ctx.quick else 5000)
    p95 = times[int(len(times) * 0.95)]
    return [
        BenchResult(name="completion.keystroke_p50", metric="one keystroke's completion, 5,000 tables (median)",
                    value=statistics.median(times) * 1000, unit="ms", baseline="the target: 5 ms", baseline_value=TARGET * 1000, target="<= 5 ms"),
        BenchResult(name="completion.keystroke_p95", metric="one keystroke's completion, 5,000 tables (95th percentile)",
                    value=p95 * 1000, unit="ms", baseline="the target: 5 ms", baseline_value=TARGET * 1000, target="<= 5 ms"),
    ]
