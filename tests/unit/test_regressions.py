"""Regression alerts: the rule on fixed durations, then the check against a real memory file
(runs recorded through :class:`Memory`, other shapes and other databases beside them)."""

from __future__ import annotations

import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.memory.regressions import check_run, regression
from aishell.engine.memory.service import Memory
from aishell.engine.memory.store import Entry


@pytest.mark.parametrize(
    ("duration", "earlier", "expected"),
    [
        (400.0, [40.0, 50.0, 60.0], (50.0, 8.0)),  # 8x and 350 ms slower
        (150.0, [50.0, 50.0, 50.0], (50.0, 3.0)),  # exactly 3x and 100 ms: alert
        (149.0, [50.0, 50.0, 50.0], None),  # just under 3x
        (12.0, [2.0, 3.0, 2.5], None),  # 4.8x but only 9.5 ms: noise
        (60.0, [5.0, 5.0, 5.0], (5.0, 12.0)),  # 55 ms slower, over the 50 ms gap
        (400.0, [50.0, 50.0], None),  # two earlier runs: not enough to know what is usual
        (400.0, [], None),
        (400.0, [50.0, 60.0, 5000.0, 40.0, 55.0], (55.0, 7.3)),  # one old slow run does not move the median
        (900.0, [1000.0, 900.0, 1100.0], None),  # always slow: not a regression
        (80.0, [0.0, 0.0, 0.0], (0.0, float("inf"))),
    ],
)
def test_rule(duration, earlier, expected):
    found = regression(duration, earlier)
    if expected is None:
        assert found is None
    else:
        assert found is not None and (found.median_ms, found.factor) == expected
        assert found.runs == len(earlier) and found.duration_ms == duration


def test_rule_settings():
    assert regression(120.0, [50.0] * 3, factor=2.0) is not None
    assert regression(120.0, [50.0] * 3) is None
    assert regression(60.0, [10.0] * 3, min_gap_ms=60.0) is None
    assert regression(400.0, [50.0], min_runs=1) is not None
    assert regression(400.0, [50.0] * 4, min_runs=5) is None


async def test_check_against_memory(tmp_path):
    path = tmp_path / "memory.db"
    db, other = "sqlite:///shop.db", "sqlite:///other.db"
    memory = await Memory.open(MemorySettings(prune_interval=0), path=path)
    try:
        start = 1_000_000.0
        for i, ms in enumerate([40.0, 50.0, 60.0, 45.0]):  # literals differ: one shape
            await memory.record(Entry(f"SELECT * FROM orders WHERE id = {i}", db, started_at=start + i, duration_ms=ms), dialect="sqlite")
        await memory.record(Entry("SELECT * FROM orders WHERE id = 9", db, started_at=start + 5, duration_ms=9000.0, success=False), dialect="sqlite")
        for i in range(4):  # the same shape, slow, on another database
            await memory.record(Entry(f"SELECT * FROM orders WHERE id = {i}", other, started_at=start + i, duration_ms=5000.0), dialect="sqlite")
        await memory.record(Entry("SELECT * FROM customers", db, started_at=start, duration_ms=1.0), dialect="sqlite")
        # this run itself, already recorded: ignored, it started after ``before``
        await memory.record(Entry("SELECT * FROM orders WHERE id = 77", db, started_at=start + 10, duration_ms=500.0), dialect="sqlite")
    finally:
        await memory.close()

    found = await check_run(path, db, "SELECT * FROM orders WHERE id = 77", "sqlite", 500.0, start + 9.5)
    assert found is not None
    assert (found.median_ms, found.runs, found.factor) == (47.5, 4, 10.5)  # the failed run is not counted
    assert found.last_fast_at == start + 3  # 45 ms, the latest at or under the median
    assert "500.0 ms" in found.message() and "47.5 ms" in found.message() and "10.5×" in found.message()

    assert await check_run(path, db, "SELECT * FROM orders WHERE id = 1", "sqlite", 100.0, start + 9.5) is None
    assert await check_run(path, other, "SELECT * FROM orders WHERE id = 1", "sqlite", 500.0, start + 9.5) is None
    assert await check_run(path, db, "SELECT * FROM customers", "sqlite", 500.0, start + 9.5) is None  # one run only
    assert await check_run(tmp_path / "missing.db", db, "SELECT 1", "sqlite", 500.0, start) is None
    (tmp_path / "garbage.db").write_bytes(b"not a database" * 100)
    assert await check_run(tmp_path / "garbage.db", db, "SELECT 1", "sqlite", 500.0, start) is None
