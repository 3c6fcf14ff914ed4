"""`aishell run` streaming throughput against plain asyncpg cursor iteration, same table, same run.

The table is made once per run (``generate_series`` into an unlogged table). Two figures:
the Session's page stream and the whole ``aishell run --format csv`` command writing to
/dev/null (process start included), both against ``async for record in conn.cursor(sql)`` —
what a hand-written asyncpg script would do. The command is the one the front end running the
benchmarks gives (:attr:`BenchContext.cli`); without it only the stream is measured.
"""

from __future__ import annotations

import os
import subprocess
import time
from typing import Sequence

import asyncpg

from aishell.engine.bench import BenchContext, BenchResult

NAME = "run"
TABLE = "aishell_bench_stream"


async def run(ctx: BenchContext) -> list[BenchResult]:
    if not ctx.pg_url:
        raise RuntimeError("the run benchmark needs PostgreSQL (--db URL)")
    from aishell.engine.config import Settings
    from aishell.engine.session import Session

    rows = 50_000 if ctx.quick else 1_000_000
    sql = f"SELECT * FROM {TABLE}"
    conn = await asyncpg.connect(ctx.pg_url)
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await conn.execute(
            f"""CREATE UNLOGGED TABLE {TABLE} AS
                SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.5 AS amount, now() AS created_at
                FROM generate_series(1, {rows}) g"""
        )
        await conn.execute(f"VACUUM ANALYZE {TABLE}")

        async def baseline() -> float:
            start = time.perf_counter()
            count = 0
            async with conn.transaction():
                async for _ in conn.cursor(sql):
                    count += 1
            assert count == rows
            return rows / (time.perf_counter() - start)

        settings = Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}})
        session = await Session.open(ctx.pg_url, settings=settings)
        try:

            async def ours() -> float:
                start = time.perf_counter()
                count = 0
                async with session.stream(sql, page_size=2000) as stream:
                    async for page in stream:
                        count += len(page)
                assert count == rows
                return rows / (time.perf_counter() - start)

            repeat = 1 if ctx.quick else 3
            await baseline()  # warm the server's buffers
            base = max([await baseline() for _ in range(repeat)])
            mine = max([await ours() for _ in range(repeat)])
        finally:
            await session.close()

        cli = _cli_rate(ctx.cli, ctx.pg_url, sql, rows) if ctx.cli else None
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
        await conn.close()
    results = [
        BenchResult("run.stream", f"Session.stream of {rows:,} rows", mine, "rows/s",
                    "asyncpg cursor iteration", base, higher_is_better=True),
    ]
    if cli is not None:
        results.append(
            BenchResult("run.cli_csv", f"aishell run --format csv of {rows:,} rows to /dev/null (incl. start-up)", cli, "rows/s",
                        "asyncpg cursor iteration", base, higher_is_better=True)
        )
    return results


def _cli_rate(command: Sequence[str], url: str, sql: str, rows: int) -> float:
    env = dict(os.environ, AISHELL_MEMORY__ENABLED="false", AISHELL_CACHE__ENABLED="false")
    start = time.perf_counter()
    with open(os.devnull, "w") as sink:
        subprocess.run([*command, "run", url, "-c", sql, "--format", "csv"], stdout=sink, check=True, env=env)
    return rows / (time.perf_counter() - start)
