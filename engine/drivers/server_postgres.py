"""PostgreSQL's side of the server pane: ``pg_stat_activity`` with ``pg_blocking_pids`` and
``pg_locks``, ``pg_stat_statements``, and the health figures of the statistics views.

Each view is one statement returning one row (lists folded with ``json_agg``), so a refresh is
one round trip and one snapshot of the statistics. ``pg_blocking_pids`` takes the lock
manager's locks for a moment: it is called only for backends that wait for a lock.
"""

from __future__ import annotations

import json
from typing import Any

from aishell.engine.drivers.server import (
    Activity, Backend, Health, ServerViewUnavailable, Statements, StatementStat, refusal,
)
from aishell.engine.errors import QueryError

ACTIVITY_SQL = """
SELECT pg_backend_pid(),
  (SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database),
  (SELECT sum(blks_hit) FROM pg_stat_database),
  (SELECT sum(blks_read) FROM pg_stat_database),
  (SELECT json_agg(json_build_array(
      a.pid, a.datname, a.usename, a.application_name, host(a.client_addr), a.state,
      a.wait_event_type || ':' || a.wait_event,
      extract(epoch FROM clock_timestamp() - a.query_start), extract(epoch FROM clock_timestamp() - a.xact_start),
      a.query, a.backend_type,
      CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) END,
      CASE WHEN a.wait_event_type = 'Lock' THEN (
        SELECT l.mode || ' on ' || coalesce(l.relation::regclass::text, l.locktype)
        FROM pg_locks l WHERE l.pid = a.pid AND NOT l.granted LIMIT 1) END))
   FROM pg_stat_activity a
   WHERE a.pid <> pg_backend_pid() AND a.backend_type IN ('client backend', 'autovacuum worker', 'parallel worker'))
"""
"""One row: own pid, transactions, blocks hit and read, then every other session as JSON."""

STATEMENTS_SQL = """
SELECT (SELECT extract(epoch FROM stats_reset) FROM pg_stat_statements_info),
  (SELECT json_agg(json_build_array(s.queryid, s.dbid, s.userid, s.query, d.datname, s.calls,
      s.total_exec_time, s.rows, s.shared_blks_hit, s.shared_blks_read))
   FROM (SELECT * FROM pg_stat_statements ORDER BY total_exec_time DESC LIMIT $1) s
   LEFT JOIN pg_database d ON d.oid = s.dbid)
"""

HEALTH_SQL = """
SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'),
  current_setting('max_connections')::int,
  (SELECT sum(temp_files) FROM pg_stat_database),
  (SELECT sum(temp_bytes) FROM pg_stat_database),
  (SELECT sum(deadlocks) FROM pg_stat_database),
  {checkpoints},
  (SELECT json_agg(json_build_array(datname,
      CASE WHEN has_database_privilege(oid, 'CONNECT') THEN pg_database_size(oid) END) ORDER BY datname)
   FROM pg_database WHERE datallowconn AND NOT datistemplate),
  (SELECT json_agg(json_build_array(application_name, host(client_addr), state,
      CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) END,
      extract(epoch FROM replay_lag)))
   FROM pg_stat_replication),
  (SELECT json_agg(json_build_array(a.pid, coalesce(p.relid::regclass::text, a.query), coalesce(p.phase, a.state)))
   FROM pg_stat_activity a LEFT JOIN pg_stat_progress_vacuum p ON p.pid = a.pid
   WHERE a.backend_type = 'autovacuum worker'),
  (SELECT json_agg(t) FROM (
     SELECT json_build_array(format('%I.%I', schemaname, relname), n_dead_tup, n_live_tup,
       extract(epoch FROM now() - greatest(last_autovacuum, last_vacuum))) AS t
     FROM pg_stat_user_tables WHERE n_dead_tup > 0 ORDER BY n_dead_tup DESC LIMIT 5) x),
  (SELECT json_agg(t) FROM (
     SELECT json_build_array(format('%I.%I', s.schemaname, s.indexrelname), format('%I.%I', s.schemaname, s.relname),
       pg_relation_size(s.indexrelid), format('DROP INDEX %I.%I', s.schemaname, s.indexrelname)) AS t
     FROM pg_stat_user_indexes s JOIN pg_index i ON i.indexrelid = s.indexrelid
     WHERE s.idx_scan = 0 AND NOT i.indisunique AND NOT i.indisprimary
       AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = s.indexrelid)
     ORDER BY pg_relation_size(s.indexrelid) DESC LIMIT 10) x),
  (SELECT json_agg(t) FROM (
     SELECT json_build_array(b.indexrelid::regclass::text, a.indexrelid::regclass::text, a.indrelid::regclass::text,
       pg_relation_size(b.indexrelid), format('DROP INDEX %s', b.indexrelid::regclass)) AS t
     FROM pg_index a JOIN pg_index b ON b.indrelid = a.indrelid AND b.indexrelid > a.indexrelid
       AND b.indkey::text = a.indkey::text AND b.indclass::text = a.indclass::text
       AND coalesce(pg_get_expr(b.indexprs, b.indrelid), '') = coalesce(pg_get_expr(a.indexprs, a.indrelid), '')
       AND coalesce(pg_get_expr(b.indpred, b.indrelid), '') = coalesce(pg_get_expr(a.indpred, a.indrelid), '')
     JOIN pg_class c ON c.oid = a.indrelid
     WHERE c.relnamespace NOT IN ('pg_catalog'::regnamespace, 'information_schema'::regnamespace)
       AND NOT b.indisprimary AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = b.indexrelid)
     LIMIT 10) x)
"""
"""One row of the whole server's figures; ``{checkpoints}`` differs before and after 17."""

CHECKPOINTS_BEFORE_17 = "(SELECT checkpoints_timed FROM pg_stat_bgwriter), (SELECT checkpoints_req FROM pg_stat_bgwriter)"
CHECKPOINTS_SINCE_17 = "(SELECT num_timed FROM pg_stat_checkpointer), (SELECT num_requested FROM pg_stat_checkpointer)"

HOW_TO_ENABLE = (
    "pg_stat_statements is off: add shared_preload_libraries = 'pg_stat_statements' to postgresql.conf, "
    "restart the server, then CREATE EXTENSION pg_stat_statements"
)


class PostgresProbe:
    """The server pane's queries for PostgreSQL 13 and later."""

    ACTIVITY = True
    STATEMENTS = True
    SIGNALS = True

    def __init__(self) -> None:
        self._health_sql: str | None = None

    async def activity(self, conn: Any) -> Activity:
        (own, xacts, hit, read, found), = (await conn.execute(ACTIVITY_SQL)).rows
        backends = tuple(_backend(item) for item in _json(found))
        return Activity(backends, _int(xacts), _int(hit), _int(read), own)

    async def statements(self, conn: Any, *, limit: int = 200) -> Statements:
        try:
            (reset, found), = (await conn.execute(STATEMENTS_SQL, (limit,))).rows
        except QueryError as exc:
            if exc.sqlstate in ("42P01", "55000", "42883"):  # no view here; not preloaded
                raise ServerViewUnavailable(HOW_TO_ENABLE) from None
            raise
        stats = tuple(
            StatementStat((qid, dbid, userid), query or "", database, int(calls), float(total), int(rows), int(hit), int(read))
            for qid, dbid, userid, query, database, calls, total, rows, hit, read in _json(found)
        )
        return Statements(stats, float(reset) if reset is not None else None)

    async def health(self, conn: Any) -> Health:
        if self._health_sql is None:
            version = await conn.server_version_num()
            self._health_sql = HEALTH_SQL.format(checkpoints=CHECKPOINTS_SINCE_17 if version >= 170000 else CHECKPOINTS_BEFORE_17)
        row, = (await conn.execute(self._health_sql)).rows
        (connections, max_conn, temp_files, temp_bytes, deadlocks, timed, requested,
         sizes, replicas, vacuums, dead, unused, duplicate) = row
        return Health(
            connections=_int(connections),
            max_connections=_int(max_conn),
            temp_files=_int(temp_files),
            temp_bytes=_int(temp_bytes),
            deadlocks=_int(deadlocks),
            checkpoints_timed=_int(timed),
            checkpoints_requested=_int(requested),
            sizes=tuple((name, _int(size)) for name, size in _json(sizes)),
            replicas=tuple((name or "", client, state, _int(lag), lag_s) for name, client, state, lag, lag_s in _json(replicas)),
            vacuums=tuple((pid, what or "", phase or "") for pid, what, phase in _json(vacuums)),
            dead_tuples=tuple((name, int(d), int(live), age) for name, d, live, age in _json(dead)),
            unused_indexes=tuple((name, table, int(size), drop) for name, table, size, drop in _json(unused)),
            duplicate_indexes=tuple((name, of, table, int(size), drop) for name, of, table, size, drop in _json(duplicate)),
        )

    async def signal(self, conn: Any, pid: int, *, terminate: bool) -> bool:
        function = "pg_terminate_backend" if terminate else "pg_cancel_backend"
        try:
            result = await conn.execute(f"SELECT {function}($1)", (pid,))
        except QueryError as exc:
            raise refusal(exc, pid, "terminate" if terminate else "cancel") from None
        return bool(result.rows[0][0])

    async def check(self, conn: Any, *, full: bool) -> str:
        raise ServerViewUnavailable("PostgreSQL checks pages as it reads them: see amcheck for a full check")


def _backend(item: list[Any]) -> Backend:
    pid, db, user, app, client, state, wait, query_s, xact_s, query, kind, blocked, waiting = item
    return Backend(
        pid=int(pid), database=db, user=user, application=app or "", client=client, state=state or "",
        wait=wait, query_s=_age(query_s), xact_s=_age(xact_s), query=query or "", blocked_by=tuple(blocked or ()),
        kind=kind or "", waiting_for=waiting,
    )


def _age(seconds: float | None) -> float | None:
    """An age never below zero (the clocks of two backends' samples may cross by microseconds)."""
    return None if seconds is None else max(0.0, float(seconds))


def _json(value: Any) -> list[Any]:
    if value is None:
        return []
    return json.loads(value) if isinstance(value, str) else list(value)


def _int(value: Any) -> int | None:
    return None if value is None else int(value)
