"""``\\copy`` of a table to a CSV file and back against ``psql``'s own ``\\copy``, same table, same
files, same run.

One unlogged table of 1M rows (50k with ``--quick``); each side copies it to a CSV file with a
header, then loads that file into an empty table. psql is started once per copy (a few ms of its
run), our side runs through an open Session, as in the workbench or ``aishell run -f``. Best of
six rounds, each side going first in turn (a busy machine slows both alike). Without ``psql`` on
the PATH the figures have no baseline.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import asyncpg

from aishell.engine.bench import BenchContext, BenchResult

NAME = "copy"
TABLE = "aishell_bench_copy"


async def run(ctx: BenchContext) -> list[BenchResult]:
    if not ctx.pg_url:
        raise RuntimeError("the copy benchmark needs PostgreSQL (--db URL)")
    from aishell.engine import commands
    from aishell.engine.config import Settings
    from aishell.engine.session import Session

    rows = 50_000 if ctx.quick else 1_000_000
    repeat = 1 if ctx.quick else 6
    ours_file = os.path.join(ctx.workdir, "copy-ours.csv")
    psql_file = os.path.join(ctx.workdir, "copy-psql.csv")
    psql = shutil.which("psql")
    conn = await asyncpg.connect(ctx.pg_url)
    settings = Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}})
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_in")
        await conn.execute(
            f"""CREATE UNLOGGED TABLE {TABLE} AS
                SELECT g AS id, md5(g::text) AS label, (g % 1000) * 1.5 AS amount, now() AS created_at,
                       CASE WHEN g % 7 = 0 THEN NULL ELSE 'note "' || g || '", ok' END AS note
                FROM generate_series(1, {rows}) g"""
        )
        await conn.execute(f"CREATE UNLOGGED TABLE {TABLE}_in (LIKE {TABLE})")
        await conn.execute(f"VACUUM ANALYZE {TABLE}")
        session = await Session.open(ctx.pg_url, settings=settings)
        context = commands.Context(session)

        async def ours(line: str) -> float:
            await conn.execute(f"TRUNCATE {TABLE}_in")
            start = time.perf_counter()
            outcome = await commands.run(context, line)
            elapsed = time.perf_counter() - start
            assert outcome.status == f"COPY {rows}", outcome.status
            return elapsed

        async def theirs(line: str) -> float:
            await conn.execute(f"TRUNCATE {TABLE}_in")
            start = time.perf_counter()
            subprocess.run([psql, ctx.pg_url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", line], check=True,
                           stdout=subprocess.DEVNULL)
            return time.perf_counter() - start

        try:
            out_line = f"\\copy {TABLE} TO '{{}}' WITH (FORMAT csv, HEADER)"
            in_line = f"\\copy {TABLE}_in FROM '{{}}' WITH (FORMAT csv, HEADER)"
            await ours(out_line.format(ours_file))  # warm the server's buffers
            times = {"out": [], "in": [], "psql out": [], "psql in": []}
            for round_ in range(repeat):
                sides = [("", ours, ours_file)] + ([("psql ", theirs, psql_file)] if psql else [])
                for side, copy, path in sides if round_ % 2 == 0 else sides[::-1]:  # who goes first alternates
                    times[side + "out"].append(await copy(out_line.format(path)))
                    times[side + "in"].append(await copy(in_line.format(path)))
        finally:
            await session.close()
    finally:
        await conn.execute(f"DROP TABLE IF EXISTS {TABLE}, {TABLE}_in")
        await conn.close()
        for path in (ours_file, psql_file):
            if os.path.exists(path):
                os.unlink(path)

    def rate(key: str) -> float | None:
        return rows / min(times[key]) if times[key] else None

    return [
        BenchResult("copy.to_csv", f"\\copy of {rows:,} rows to a CSV file", rate("out") or 0.0, "rows/s",
                    "psql \\copy", rate("psql out"), higher_is_better=True, target="≥ 0.8× psql"),
        BenchResult("copy.from_csv", f"\\copy of {rows:,} rows from a CSV file", rate("in") or 0.0, "rows/s",
                    "psql \\copy", rate("psql in"), higher_is_better=True, target="≥ 0.8× psql"),
    ]
