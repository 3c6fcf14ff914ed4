"""What a statement is and how it must run: the one home of statement classification.

:func:`describe` answers what a statement is (kind, tables read and written, destructive or
not, and whether it would escape a read-only session); :func:`plan` how it must run (cacheable,
what it invalidates, the connection it needs, the session state it leaves, the read-only
verdict). One implementation per dialect family: :mod:`.sql` (sqlglot; each text parsed once,
see :mod:`.parsing`, read-only rules in :mod:`.read_only`) and :mod:`.mongo` (mongosh, from
:mod:`engine.mongo.shell`'s parser). The cache, the pool, the Session, memory and the TUI only
consume these answers. Unparseable text is ``unknown``: callers treat it as a possible write,
and a read-only session refuses it.

>>> describe("DELETE FROM orders").destructive
True
>>> sorted(describe("UPDATE t SET a = 1 WHERE id IN (SELECT id FROM s)").writes)
['t']
>>> plan("SELECT now()").reason
'volatile function CurrentTimestamp'
>>> plan("BEGIN READ WRITE; INSERT INTO t VALUES (1); COMMIT").read_only_escape
'BEGIN READ WRITE makes the transaction writable'
>>> describe("db.orders.find({a: 1})", "mongo").kind
'select'
"""

from __future__ import annotations

from aishell.engine.statements import sql as _sql
from aishell.engine.statements.model import Plan, StatementInfo


def describe(sql: str, dialect: str = "postgres") -> StatementInfo:
    """Classify every statement in ``sql`` (a script is the union of its statements).

    ``dialect="mongo"``: mongosh statements, classified from :mod:`engine.mongo`'s parser.
    """
    if dialect == "mongo":
        from aishell.engine.statements import mongo

        return mongo.describe(sql)
    return _sql.describe(sql, dialect)


def plan(sql: str, dialect: str = "postgres") -> Plan:
    """How ``sql`` must run: cache, invalidation, connection, session state, read-only verdict."""
    if dialect == "mongo":
        from aishell.engine.statements import mongo

        return mongo.plan(sql)
    return _sql.plan(sql, dialect)


def planner(dialect: str):
    """The ``plan(sql)`` function of one dialect, to call per statement without dispatching."""
    if dialect == "mongo":
        from aishell.engine.statements import mongo

        return mongo.plan
    sql_plan = _sql.plan
    return lambda sql: sql_plan(sql, dialect)


def changes_session_state(sql: str, dialect: str = "postgres") -> bool:
    """:func:`.sql.changes_session_state` (Mongo statements leave no session state)."""
    return False if dialect == "mongo" else _sql.changes_session_state(sql, dialect)


__all__ = ["StatementInfo", "Plan", "describe", "plan", "planner", "changes_session_state"]
