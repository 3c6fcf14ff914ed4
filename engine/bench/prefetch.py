"""Prefetch: a recorded session replayed with prefetch on, against the same replay without it.

An analyst's routine on PostgreSQL: three report queries in a row, ad-hoc lookups of a
customer's orders (a different customer each time) each followed by that customer's record, a
costlier report over a join, and now and then an order updated (which invalidates what was read
of it). First a *recorded* session: the routine
run a few times into a fresh memory. Then the same routine, with other customers, is replayed
twice on copies of that memory, with the user's think time between statements, as the
workbench runs them (streamed): once with ``cache.prefetch`` on, once off (the baseline of the
same run). Reported: the time the user waited in each, the share of statements prefetch served,
the time those hits saved against the time prefetch spent, and the extra statements it sent
(prefetched statements and their EXPLAINs) for each statement the user ran.
"""

from __future__ import annotations

import asyncio
import random
import shutil
import time
from pathlib import Path

from aishell.engine.bench import BenchContext, BenchResult

NAME = "prefetch"
NEEDS_PG = True
PREFIX = "aishell_bench_pf"
THINK = 0.15
"""Seconds the user reads a result before the next statement."""

REPORTS = (
    f"SELECT status, count(*) AS orders, sum(total) AS revenue FROM {PREFIX}_orders GROUP BY status ORDER BY status",
    f"SELECT region, count(*) AS customers FROM {PREFIX}_customers GROUP BY region ORDER BY region",
    f"SELECT placed, count(*) AS orders, sum(total) AS revenue FROM {PREFIX}_orders WHERE placed >= DATE '2024-06-01' "
    "GROUP BY placed ORDER BY placed",
)
BY_REGION = (
    f"SELECT c.region, sum(o.total) AS revenue FROM {PREFIX}_orders o JOIN {PREFIX}_customers c ON c.id = o.customer_id "
    "GROUP BY c.region ORDER BY revenue DESC"
)
LOOKUP = f"SELECT id, status, total, placed FROM {PREFIX}_orders WHERE customer_id = {{}} ORDER BY placed DESC LIMIT 20"
CUSTOMER = f"SELECT id, name, region FROM {PREFIX}_customers WHERE id = {{}}"
UPDATE = f"UPDATE {PREFIX}_orders SET status = 'shipped' WHERE id = {{}}"

SCHEMA = f"""
DROP TABLE IF EXISTS {PREFIX}_orders, {PREFIX}_customers;
CREATE TABLE {PREFIX}_customers (id int PRIMARY KEY, name text NOT NULL, region text NOT NULL);
INSERT INTO {PREFIX}_customers SELECT g, 'customer ' || g, (ARRAY['north','south','east','west','centre'])[1 + g % 5]
FROM generate_series(1, {{customers}}) g;
CREATE TABLE {PREFIX}_orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, total numeric(10,2) NOT NULL, placed date NOT NULL);
INSERT INTO {PREFIX}_orders SELECT g, 1 + (g * 7919) % {{customers}}, (ARRAY['new','paid','shipped','returned'])[1 + g % 4],
  (g % 997) * 1.25, DATE '2024-01-01' + (g % 365) FROM generate_series(1, {{orders}}) g;
CREATE INDEX ON {PREFIX}_orders (customer_id);
"""


def routine(rounds: int, rng: random.Random, customers: int) -> list[str]:
    """The analyst's statements, ``rounds`` times: the reports, lookups (each followed by the
    customer looked at), the join report, a write every third round."""
    script: list[str] = []
    for number in range(rounds):
        first, second = rng.randrange(1, customers), rng.randrange(1, customers)
        script += [*REPORTS, LOOKUP.format(first), CUSTOMER.format(first), BY_REGION, LOOKUP.format(second), CUSTOMER.format(second)]
        if number % 3 == 2:
            script.append(UPDATE.format(rng.randrange(1, customers)))
    return script


async def run(ctx: BenchContext) -> list[BenchResult]:
    import asyncpg

    if not ctx.pg_url:
        raise RuntimeError("the prefetch benchmark needs PostgreSQL (--db URL)")
    customers, orders = (5_000, 50_000) if ctx.quick else (20_000, 200_000)
    recorded_rounds, replayed_rounds = (3, 3) if ctx.quick else (6, 6)
    conn = await asyncpg.connect(ctx.pg_url)
    try:
        await conn.execute(SCHEMA.format(customers=customers, orders=orders))
        await conn.execute(f"VACUUM ANALYZE {PREFIX}_customers")
        await conn.execute(f"VACUUM ANALYZE {PREFIX}_orders")
        rng = random.Random(20261203)
        recorded = Path(ctx.workdir) / "recorded"
        await _record(ctx.pg_url, recorded, routine(recorded_rounds, rng, customers))
        replay = routine(replayed_rounds, rng, customers)
        off = await _replay(ctx.pg_url, recorded, Path(ctx.workdir) / "off", replay, prefetch=False)
        on = await _replay(ctx.pg_url, recorded, Path(ctx.workdir) / "on", replay, prefetch=True)
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {PREFIX}_orders, {PREFIX}_customers")
        await conn.close()
    n = len(replay)
    sent = on["runs"] + on["plans"]
    return [
        BenchResult(f"{NAME}.wait", f"time the user waited over a replayed session of {n} statements (streamed, {THINK:.2f} s think time)",
                    round(on["waited"] * 1000, 1), "ms", "the same replay without prefetch", round(off["waited"] * 1000, 1)),
        BenchResult(f"{NAME}.hit_rate", f"share of the user's statements served by prefetch ({on['hits']} of {n})",
                    round(on["hits"] / n, 3), "ratio", "without prefetch", 0.0, higher_is_better=True),
        BenchResult(f"{NAME}.saved", "time the hits saved the user, against the time prefetch spent (statements and EXPLAINs)",
                    round(on["saved_ms"], 1), "ms", "time the prefetch connection spent", round(on["spent_ms"], 1), higher_is_better=True),
        BenchResult(f"{NAME}.extra_statements", f"statements prefetch sent per statement the user ran ({on['runs']} run ahead + {on['plans']} EXPLAIN)",
                    round(sent / n, 3), "ratio", "without prefetch", 0.0),
    ]


def _settings(home: Path, *, prefetch: bool):
    from aishell.engine.config import Settings

    settings = Settings.load(read_file=False, home=None)
    settings.data_dir = home
    settings.config_dir = home
    settings.cache.prefetch = prefetch
    settings.cache.schema_poll_interval = 0
    return settings


async def _record(url: str, home: Path, script: list[str]) -> None:
    """Run ``script`` into a fresh memory at ``home``: the recorded session."""
    from aishell.engine.session import Session

    home.mkdir(parents=True, exist_ok=True)
    session = await Session.open(url, settings=_settings(home, prefetch=False))
    try:
        for sql in script:
            await _read(session, sql)
    finally:
        await session.close()


async def _replay(url: str, recorded: Path, home: Path, script: list[str], *, prefetch: bool) -> dict[str, float]:
    """``script`` on a copy of the recorded memory, as the user would run it; what it cost."""
    from aishell.engine.session import Session

    shutil.copytree(recorded, home)
    session = await Session.open(url, settings=_settings(home, prefetch=prefetch))
    try:
        if session.prefetcher is not None:
            await session.prefetcher.idle()  # learned from memory, cache warmed at connect
        waited = 0.0
        for sql in script:
            waited += await _read(session, sql)
            await asyncio.sleep(THINK)
        cache = session.metrics()["cache"]
        figures = {"waited": waited, "hits": 0, "saved_ms": 0.0, "spent_ms": 0.0, "runs": 0, "plans": 0}
        if session.prefetcher is not None and cache is not None:
            await session.prefetcher.idle()
            figures.update(hits=cache.prefetch_hits or 0, saved_ms=cache.prefetch_saved_ms or 0.0, spent_ms=cache.prefetch_ms or 0.0,
                           runs=session.prefetcher.runs, plans=session.prefetcher.plans)
        return figures
    finally:
        await session.close()


async def _read(session, sql: str) -> float:
    """Seconds to run ``sql`` and read all its rows, as the workbench does."""
    started = time.perf_counter()
    async with session.stream(sql) as rows:
        async for _ in rows:
            pass
    return time.perf_counter() - started


__all__ = ["NAME", "run", "routine"]
