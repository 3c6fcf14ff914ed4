"""Pool throughput: 100 tasks × 100 ``SELECT 1`` over 10 connections, against raw asyncpg.

The baseline is ``asyncpg.create_pool(min_size=10, max_size=10)`` with ``async with
pool.acquire() as con: await con.fetchval("SELECT 1")`` — what a hand-written asyncpg program
does. Ours is the whole Session path (``await session.execute("SELECT 1")``: statement
classification, pool acquire with timeout, metrics, breaker, the driver's QueryResult) with the
result cache and memory off, so every statement really goes to the server. Both run in the
same process against the same server, in alternating rounds; the medians are compared.

Where the Session wins: asyncpg resets every connection on release (``RESET ALL``, ``UNLISTEN
*``, ``CLOSE ALL``, advisory unlock: one more round trip per statement). The Session knows from
each statement's AST whether it can leave session state behind (``SET``, temporary tables,
``LISTEN``, cursors, advisory locks, or anything it cannot classify such as ``DO``/``CALL``);
such statements keep their connection or get the full reset, all others skip it.

Also reported: the bare pool path (``pool.acquire`` + ``conn.execute``, full reset on every
release like asyncpg's default: the wrapper's own overhead), the client CPU per statement
(steadier than throughput on a shared machine) and the cost of recording one acquisition.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from aishell.engine.bench import BenchContext, BenchResult

NAME = "pool"
CONNECTIONS = 10


async def _throughput(step, tasks: int, per_task: int) -> float:
    """Statements a second (wall clock); the process CPU per statement goes to ``_CPU``."""

    async def worker() -> None:
        for _ in range(per_task):
            await step()

    start, cpu = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(tasks)))
    _CPU[step] = (time.process_time() - cpu) / (tasks * per_task)
    return tasks * per_task / (time.perf_counter() - start)


_CPU: dict = {}


def _recording_cost_ns() -> float:
    """Nanoseconds to record one acquisition (what the hot path adds for metrics)."""
    from aishell.engine.config import PoolSettings
    from aishell.engine.pool import PostgresPool

    class _Driver:
        display_url = "bench"

    pool = PostgresPool(_Driver(), PoolSettings())
    window = pool._window
    n = 200_000
    best = float("inf")
    for _ in range(5):
        start = time.perf_counter()
        for i in range(n):
            window.record(1e-5)
            pool._acquisitions += 1
            k = pool._in_use = pool._in_use + 1
            if k > pool._peak:
                pool._peak = k
            pool._in_use -= 1
            pool._releases += 1
        best = min(best, (time.perf_counter() - start) / n)
    return best * 1e9


async def run(ctx: BenchContext) -> list[BenchResult]:
    cluster = None
    url = ctx.pg_url
    if not url:
        from aishell.engine.bench.pgtemp import PgCluster

        cluster = PgCluster()
        await asyncio.to_thread(cluster.init)
        await asyncio.to_thread(cluster.start)
        await asyncio.to_thread(cluster.setup_database)
        url = cluster.url
    try:
        return await _run(url, ctx.quick)
    finally:
        if cluster is not None:
            await asyncio.to_thread(cluster.destroy)


async def _run(url: str, quick: bool) -> list[BenchResult]:
    import asyncpg

    from aishell.engine.config import Settings
    from aishell.engine.drivers.postgres import PostgresDriver
    from aishell.engine.session import Session

    tasks, per_task, rounds = (100, 20, 3) if quick else (100, 100, 7)
    settings = Settings.load(read_file=False)
    settings.memory.enabled = False
    settings.cache.enabled = False
    settings.pool.min_size = settings.pool.max_size = CONNECTIONS
    settings.pool.health_check_interval = 0
    session = await Session.open(url, settings=settings)
    raw = await asyncpg.create_pool(min_size=CONNECTIONS, max_size=CONNECTIONS, **PostgresDriver(url).connect_kwargs())
    pool = session._source
    try:

        async def baseline_step() -> None:
            async with raw.acquire() as con:
                await con.fetchval("SELECT 1")

        async def session_step() -> None:
            await session.execute("SELECT 1")

        async def pool_step() -> None:
            async with pool.acquire() as conn:
                await conn.execute("SELECT 1")

        for step in (baseline_step, session_step, pool_step):  # warm up: statements prepared, caches hot
            await _throughput(step, tasks, 5)
        base, ours, bare, ratios, bare_ratios = [], [], [], [], []
        base_cpu, ours_cpu = [], []
        for i in range(rounds):
            # Alternate the order each round and compare within the round: the machine's load
            # drifts; a ratio of neighbours cancels most of it.
            order = (baseline_step, session_step, pool_step) if i % 2 == 0 else (pool_step, session_step, baseline_step)
            got = {step: await _throughput(step, tasks, per_task) for step in order}
            base.append(got[baseline_step])
            ours.append(got[session_step])
            bare.append(got[pool_step])
            ratios.append(got[session_step] / got[baseline_step])
            base_cpu.append(_CPU[baseline_step])
            ours_cpu.append(_CPU[session_step])
            bare_ratios.append(got[pool_step] / got[baseline_step])
        snapshot = pool.metrics()
    finally:
        await raw.close()
        await session.close()
    b, o, p = statistics.median(base), statistics.median(ours), statistics.median(bare)
    label = f"{tasks} tasks x {per_task} SELECT 1 on {CONNECTIONS} connections"
    return [
        BenchResult("pool.session", f"throughput, Session.execute, {label}", round(o, 1), "ops/s",
                    "raw asyncpg pool (acquire + fetchval)", round(b, 1), higher_is_better=True, target=">= 0.95x",
                    ratio=statistics.median(ratios)),
        BenchResult("pool.acquire", f"throughput, pool.acquire + conn.execute (full reset on release), {label}", round(p, 1), "ops/s",
                    "raw asyncpg pool (acquire + fetchval)", round(b, 1), higher_is_better=True, target=">= 0.95x",
                    ratio=statistics.median(bare_ratios)),
        BenchResult("pool.session_cpu", f"client CPU per statement, Session.execute, {label} (steadier than "
                    "wall-clock throughput on a loaded machine)", round(statistics.median(ours_cpu) * 1e6, 2), "us",
                    "raw asyncpg pool (acquire + fetchval)", round(statistics.median(base_cpu) * 1e6, 2)),
        BenchResult("pool.acquire_p50", "acquire latency p50 under that load (sliding window)",
                    round(snapshot.acquire_p50 * 1e6, 2), "us", "", None),
        BenchResult("pool.record", "cost of recording one acquisition in the metrics",
                    round(_recording_cost_ns(), 1), "ns", "", None, target="< 5000 ns"),
    ]
