"""The server pane's cost to the server it watches: server time of one activity refresh with
100 idle connections open, against pg_activity's activity query in the same run.

Server time is what ``pg_stat_statements`` records for each statement (its mean execution
time over the runs), so the client's round trip and Python do not count; without the extension
the figures fall back to the round trip. Our refresh does more than the baseline (every
session, idle ones too, the blocking pids of lock waiters, and the server's transaction and
block counters for the rates) in its one query; pg_activity runs further queries each refresh
(blocking and waiting sessions, server info) that are not counted here.
"""

from __future__ import annotations

import asyncio
import statistics
import time

import asyncpg

from aishell.engine.bench import BenchContext, BenchResult
from aishell.engine.drivers.server_postgres import ACTIVITY_SQL, HEALTH_SQL, CHECKPOINTS_BEFORE_17, CHECKPOINTS_SINCE_17

NAME = "server"
IDLE = 100
PG_ACTIVITY = """
SELECT a.pid AS pid, a.application_name AS application_name, a.datname AS database,
      CASE WHEN a.client_addr IS NULL THEN 'local' ELSE a.client_addr::TEXT END AS client,
      EXTRACT(epoch FROM (NOW() - a.query_start)) AS duration, a.wait_event AS wait, a.usename AS user,
      a.state AS state, replace(a.query, '\\', '\\\\')::bytea AS query, coalesce(a.leader_pid, a.pid) AS query_leader_pid,
      a.backend_type = 'parallel worker' AS is_parallel_worker,
      coalesce(pg_catalog.pg_encoding_to_char(b.encoding), 'UTF8') AS encoding
 FROM pg_stat_activity a LEFT OUTER JOIN pg_database b ON a.datid = b.oid
 WHERE a.state <> 'idle' AND a.pid <> pg_catalog.pg_backend_pid()
ORDER BY EXTRACT(epoch FROM (NOW() - a.query_start)) DESC
"""
"""pg_activity's activity query for PostgreSQL 13+ (pgactivity/queries/get_pg_activity_post_130000.sql,
dalibo/pg_activity), with no duration or database filter."""


async def run(ctx: BenchContext) -> list[BenchResult]:
    if not ctx.pg_url:
        raise RuntimeError("the server benchmark needs PostgreSQL (--db URL)")
    runs = 20 if ctx.quick else 100
    idle = await asyncio.gather(*(asyncpg.connect(ctx.pg_url) for _ in range(IDLE)))
    conn = await asyncpg.connect(ctx.pg_url)
    try:
        version = await conn.fetchval("SHOW server_version_num")
        health = HEALTH_SQL.format(checkpoints=CHECKPOINTS_SINCE_17 if int(version) >= 170000 else CHECKPOINTS_BEFORE_17)
        tagged = {name: f"/* aishell-bench-{name} */ {sql}" for name, sql in
                  (("ours", ACTIVITY_SQL), ("pg_activity", PG_ACTIVITY), ("plain", "SELECT * FROM pg_stat_activity"), ("health", health))}
        statements = await _has_statements(conn)
        if statements:
            await conn.execute("SELECT pg_stat_statements_reset()")
        trips: dict[str, list[float]] = {name: [] for name in tagged}
        for _ in range(runs):  # interleaved: a busy machine slows every query alike
            for name, sql in tagged.items():
                start = time.perf_counter()
                await conn.fetch(sql)
                trips[name].append((time.perf_counter() - start) * 1000)
        server = await _server_ms(conn, tagged) if statements else {}
    finally:
        await conn.close()
        await asyncio.gather(*(c.close() for c in idle))

    def ms(name: str) -> float:
        return server.get(name) or statistics.median(trips[name])

    how = "server time" if server else "round trip"
    return [
        BenchResult("server.refresh", f"activity refresh ({how}) at {IDLE} idle connections", ms("ours"), "ms",
                    "pg_activity's activity query", ms("pg_activity"), target="≤ 5 ms"),
        BenchResult("server.refresh_plain", f"activity refresh ({how}) at {IDLE} idle connections", ms("ours"), "ms",
                    "SELECT * FROM pg_stat_activity", ms("plain")),
        BenchResult("server.health", f"health refresh ({how}) at {IDLE} idle connections", ms("health"), "ms",
                    "activity refresh", ms("ours")),
        BenchResult("server.round_trip", f"activity refresh round trip at {IDLE} idle connections", statistics.median(trips["ours"]), "ms",
                    "pg_activity's activity query", statistics.median(trips["pg_activity"])),
    ]


async def _has_statements(conn: asyncpg.Connection) -> bool:
    try:
        await conn.fetchval("SELECT count(*) FROM pg_stat_statements")
    except asyncpg.PostgresError:
        return False
    return True


async def _server_ms(conn: asyncpg.Connection, tagged: dict[str, str]) -> dict[str, float]:
    """Mean execution time of each tagged query, as pg_stat_statements recorded it."""
    found = {}
    for name in tagged:
        value = await conn.fetchval(
            "SELECT sum(total_exec_time) / nullif(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE $1",
            f"/* aishell-bench-{name} */%",
        )
        if value is not None:
            found[name] = float(value)
    return found
