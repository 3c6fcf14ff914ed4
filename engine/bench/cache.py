"""Cache hit latency: our cache against ``cachetools.TTLCache`` of the same size, same run.

Both hold the same 1,000 results (20 rows each) and serve the same lookups by SQL text and
parameters. Ours checks the entry's TTL, moves it to the LRU end, counts the hit and hands
back a fresh QueryResult (a caller cannot mutate what is cached); TTLCache returns the stored
object. Also measured: a hit through ``Session.execute`` (what the TUI and CLI call) against
the same statement run uncached on the demo SQLite database.
"""

from __future__ import annotations

import os
import statistics

from aishell.engine.bench import BenchContext, BenchResult, median_time, median_time_async

NAME = "cache"
NEEDS_PG = False
ENTRIES = 1000


def _results():
    from aishell.engine.types import Column, QueryResult

    columns = (Column("id", "int4"), Column("name", "text"), Column("total", "numeric"))
    return [
        QueryResult(columns, [(i * 100 + j, f"name {j}", j * 1.5) for j in range(20)], 20, "SELECT 20", 0.004)
        for i in range(ENTRIES)
    ]


async def run(ctx: BenchContext) -> list[BenchResult]:
    import cachetools

    from aishell.engine.cache import QueryCache
    from aishell.engine.config import CacheSettings

    settings = CacheSettings(max_entries=ENTRIES, default_ttl=600, max_ttl=600)
    ours = QueryCache(settings, dialect="postgres")
    theirs = cachetools.TTLCache(maxsize=ENTRIES, ttl=600)
    sql = "SELECT id, name, total FROM orders WHERE customer_id = $1"
    plan = ours.plan(sql)
    for i, result in enumerate(_results()):
        assert ours.put(sql, (i,), result, plan, ours.token(plan))
        theirs[(sql, (i,))] = result
    keys = [(i * 7919) % ENTRIES for i in range(ENTRIES)]  # every entry, scattered order
    get, lookup = ours.get, theirs.__getitem__
    repeat, rounds = (15, 5) if ctx.quick else (41, 9)

    def ours_pass() -> None:
        for k in keys:
            get(sql, (k,))

    def theirs_pass() -> None:
        for k in keys:
            lookup((sql, (k,)))

    ours_s, theirs_s = [], []
    for _ in range(rounds):  # alternate: the machine's load drifts
        ours_s.append(median_time(ours_pass, repeat=repeat) / len(keys))
        theirs_s.append(median_time(theirs_pass, repeat=repeat) / len(keys))
    assert ours.get(sql, (1,)).cached
    ours_us, theirs_us = statistics.median(ours_s) * 1e6, statistics.median(theirs_s) * 1e6

    session_us, uncached_us = await _session_hit(ctx, repeat)
    return [
        BenchResult("cache.hit", f"median hit latency, get by SQL text + params, {ENTRIES} entries of 20 rows",
                    round(ours_us, 3), "us", "cachetools.TTLCache (same size, same keys)", round(theirs_us, 3),
                    target="<= 10 us"),
        BenchResult("cache.session_hit", "median Session.execute on a cache hit (demo SQLite, 20-row query)",
                    round(session_us, 2), "us", "the same Session.execute uncached", round(uncached_us, 2)),
    ]


async def _session_hit(ctx: BenchContext, repeat: int) -> tuple[float, float]:
    from aishell.engine.config import Settings
    from aishell.engine.demo import ensure_demo_database
    from aishell.engine.session import Session

    path = ensure_demo_database(os.path.join(ctx.workdir, "cache-bench-demo.db"))
    settings = Settings.load(read_file=False)
    settings.memory.enabled = False
    settings.cache.schema_poll_interval = 0
    cached = await Session.open(str(path), settings=settings)
    settings_off = Settings.load(read_file=False)
    settings_off.memory.enabled = False
    settings_off.cache.enabled = False
    uncached = await Session.open(str(path), settings=settings_off)
    sql = "SELECT id, first_name, last_name, email FROM customers ORDER BY id LIMIT 20"
    try:
        await cached.execute(sql)
        assert (await cached.execute(sql)).cached
        hit = await median_time_async(lambda: cached.execute(sql), repeat=repeat, number=200)
        miss = await median_time_async(lambda: uncached.execute(sql), repeat=max(5, repeat // 4), number=20)
    finally:
        await cached.close()
        await uncached.close()
    return hit * 1e6, miss * 1e6


__all__ = ["NAME", "run"]
