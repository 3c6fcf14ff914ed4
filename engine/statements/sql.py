"""The SQL family (PostgreSQL, SQLite): what each statement is and how it must run, read from
the one parse :func:`.parsing.parse` keeps per text.

>>> describe("BEGIN READ ONLY").kind, describe("UPDATE t SET a = 1").destructive
('transaction', True)
>>> plan("SELECT * FROM orders WHERE id = $1").cacheable, plan("SET search_path TO app").sticky
(True, True)
>>> plan("COPY orders TO PROGRAM 'gzip > /tmp/o.gz'").read_only_escape
'COPY … TO PROGRAM runs a shell command on the server'
"""

from __future__ import annotations

import dataclasses
from functools import lru_cache

from sqlglot import exp
from sqlglot.tokens import TokenType

from aishell.engine.statements import read_only
from aishell.engine.statements.model import Plan, StatementInfo
from aishell.engine.statements.masked import masked_password
from aishell.engine.statements.parsing import STATEMENT_TYPES, TRANSACTION_HEADS, Parsed, is_transaction_statement, parse

_DDL = (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy) + _DDL
_MAINTENANCE_HEADS = frozenset({"VACUUM", "ANALYZE", "REINDEX", "CLUSTER", "GRANT", "REVOKE", "COMMENT", "REFRESH"})


@lru_cache(maxsize=4096)
def describe(sql: str, dialect: str = "postgres") -> StatementInfo:
    """Classify every statement in ``sql`` (a script is the union of its statements)."""
    statements = parse(sql, dialect)
    info = _describe(statements, sql, dialect)
    masked = masked_password(statements)
    return dataclasses.replace(info, masked_password=masked) if masked else info


def _describe(statements: tuple[Parsed, ...] | None, sql: str, dialect: str) -> StatementInfo:
    if statements is None:
        return StatementInfo("unknown", read_only_escape=read_only.NOT_UNDERSTOOD)
    escape = read_only.first_escape(statements, sql, dialect)
    if not statements:
        return StatementInfo("other")
    infos = []
    for statement in statements:
        if statement.tree is not None:
            infos.append(_describe_tree(statement.tree, statement.head))
        elif is_transaction_statement(statement):
            infos.append(StatementInfo("transaction"))
        else:
            return StatementInfo("unknown", read_only_escape=escape)
    if len(infos) == 1:
        info = infos[0]
        return dataclasses.replace(info, read_only_escape=escape) if escape else info
    kinds = {i.kind for i in infos}
    kind = "select" if kinds == {"select"} else next((i.kind for i in infos if i.kind != "select"), "other")
    destructive = next((i for i in infos if i.destructive), None)
    return StatementInfo(
        kind,
        frozenset().union(*(i.reads for i in infos)),
        frozenset().union(*(i.writes for i in infos)),
        destructive is not None,
        destructive.reason if destructive else "",
        escape,
    )


def _describe_tree(tree: exp.Expression, head: str) -> StatementInfo:
    written: set[str] = set()
    for node in tree.walk():
        if isinstance(node, _WRITES):
            for target in _targets(node):
                written.add(target)
        elif isinstance(node, exp.Into) and isinstance(node.this, exp.Table) and node.this.name:
            written.add(node.this.name.lower())  # SELECT … INTO t creates t, as CREATE TABLE AS does
    all_tables = {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    reads = frozenset(all_tables - written - ctes)
    writes = frozenset(written - ctes)
    kind, destructive, reason = _kind(tree, head)
    if kind == "select" and isinstance(tree, exp.Select) and tree.args.get("into") is not None:
        kind = "ddl"
    elif kind == "select" and writes:
        kind = "insert"  # data-modifying CTE
    return StatementInfo(kind, reads, writes, destructive, reason)


def _targets(node: exp.Expression) -> list[str]:
    target = node.this if not isinstance(node, (exp.TruncateTable, exp.Drop)) else None
    names: list[str] = []
    if isinstance(node, exp.TruncateTable):
        names = [t.name.lower() for t in node.expressions if isinstance(t, exp.Table)]
    elif isinstance(node, exp.Drop):
        tables = node.args.get("tables") or ([node.this] if node.this is not None else [])
        names = [t.name.lower() for t in tables if isinstance(t, exp.Table) and t.name]
    elif isinstance(target, exp.Schema):
        target = target.this
    elif isinstance(target, exp.Index):
        target = target.args.get("table")
    if isinstance(target, exp.Table) and target.name:
        names.append(target.name.lower())
    return names


def _kind(tree: exp.Expression, head: str) -> tuple[str, bool, str]:
    if isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values, exp.Subquery)):
        return "select", False, ""
    if isinstance(tree, exp.Insert):
        return "insert", False, ""
    if isinstance(tree, exp.Update):
        if tree.args.get("where") is None:
            return "update", True, "UPDATE without WHERE changes every row"
        return "update", False, ""
    if isinstance(tree, exp.Delete):
        if tree.args.get("where") is None:
            return "delete", True, "DELETE without WHERE removes every row"
        return "delete", False, ""
    if isinstance(tree, exp.Merge):
        return "merge", False, ""
    if isinstance(tree, exp.Copy):
        return "copy", False, ""
    if isinstance(tree, exp.Drop):
        return "ddl", True, f"DROP {tree.args.get('kind') or ''} removes it and its data".replace("  ", " ")
    if isinstance(tree, exp.TruncateTable):
        return "ddl", True, "TRUNCATE removes every row"
    if isinstance(tree, _DDL):
        return "ddl", False, ""
    if isinstance(tree, (exp.Transaction, exp.Commit, exp.Rollback)):
        return "transaction", False, ""
    if isinstance(tree, exp.Command) or not isinstance(tree, STATEMENT_TYPES):
        if isinstance(tree, exp.Command):
            head = (tree.this or "").upper()
        if head in TRANSACTION_HEADS:
            return "transaction", False, ""
        if head in _MAINTENANCE_HEADS:
            return "ddl", False, ""
    return "other", False, ""


# -- how it must run ----------------------------------------------------------------------------

_VOLATILE = tuple(
    getattr(exp, name)
    for name in (
        "CurrentTimestamp", "CurrentTimestampLTZ", "CurrentDate", "CurrentDatetime", "CurrentTime",
        "Localtime", "Localtimestamp", "Rand", "Randn", "Randstr", "Uuid", "CurrentTransaction",
        "CurrentStatement", "CurrentSession", "TableSample",
    )
    if hasattr(exp, name)
)
# Functions sqlglot does not model but that are deterministic (their 'now' arguments are caught
# as time-dependent literals). Anything else unknown may be volatile or write: not cached.
_DETERMINISTIC = frozenset({
    "datetime", "julianday", "unixepoch", "printf", "instr", "hex", "unhex", "typeof", "quote", "ifnull", "iif",
    "format", "concat_ws", "split_part", "regexp_replace", "md5", "array_length", "jsonb_build_object",
    "json_build_object", "jsonb_agg", "json_agg", "string_agg", "array_agg", "to_char", "date_part", "btrim",
    "ltrim", "rtrim", "lpad", "rpad", "initcap", "translate", "char_length", "octet_length", "width_bucket",
})
_SYSTEM_SCHEMAS = frozenset({"pg_catalog", "information_schema", "sqlite_master", "sqlite_temp_master"})
_TEMP_SCHEMAS = ("pg_temp", "temp")


@lru_cache(maxsize=4096)
def plan(sql: str, dialect: str = "postgres") -> Plan:
    """Whether ``sql`` may be cached, what it invalidates, the connection it needs, the state it
    leaves and whether a read-only session may send it."""
    info = describe(sql, dialect)
    p = _cache_plan(sql, dialect, info)
    writer = p.kind != "select" or bool(p.writes)
    sticky = changes_session_state(sql, dialect)
    stateless = not sticky and p.kind not in ("other", "unknown")
    if writer and not sticky and stateless and info.read_only_escape is None and info.masked_password is None:
        return p
    return dataclasses.replace(
        p,
        writer=writer,
        sticky=sticky,
        stateless=stateless,
        read_only_escape=info.read_only_escape,
        masked_password=info.masked_password,
    )


def _cache_plan(sql: str, dialect: str, info: StatementInfo) -> Plan:
    kind = info.kind
    if kind == "unknown":
        return Plan(False, kind, clears_all=True, reason="statement not understood")
    if kind == "transaction":
        return Plan(False, kind, reason="transaction control")
    trees = [s.tree for s in parse(sql, dialect) or () if s.tree is not None]
    if kind == "other":
        harmless = all(isinstance(t, exp.Command) and (t.this or "").upper() == "SHOW" for t in trees)
        return Plan(False, kind, clears_all=not harmless, reason="not a query")
    temp = frozenset(
        name
        for t in trees
        if isinstance(t, exp.Create) and t.find(exp.TemporaryProperty) is not None
        for name in info.writes
    )
    if info.writes or kind != "select":
        return Plan(False, kind, info.reads, info.writes, ddl=kind == "ddl", temp_tables=temp, reason="writes")
    if len(trees) != 1:
        return Plan(False, kind, info.reads, reason="more than one statement")
    reason = _uncacheable_reason(trees[0])
    return Plan(not reason, kind, info.reads, reason=reason)


def _uncacheable_reason(tree: exp.Expression) -> str:
    for node in tree.walk():
        if isinstance(node, _VOLATILE):
            return f"volatile function {type(node).__name__}"
        if isinstance(node, exp.Anonymous) and node.name.lower() not in _DETERMINISTIC:
            return f"function {node.name}() may be volatile"
        if isinstance(node, exp.Anonymous) and isinstance(node.parent, exp.Dot) and node.parent.this.name.lower() != "pg_catalog":
            # public.md5(x) is the user's own function, whatever the built-in of that name does
            return f"function {node.parent.this.name}.{node.name}() may be volatile"
        if isinstance(node, exp.Lock):
            return "locking clause"
        if isinstance(node, (exp.Select,)) and node.args.get("locks"):
            return "locking clause"
        if isinstance(node, exp.Literal) and node.is_string and node.this.strip().lower() in ("now", "today", "tomorrow", "yesterday"):
            return f"time-dependent literal {node.this!r}"
        if isinstance(node, exp.Table):
            schema = (node.db or "").lower()
            name = node.name.lower()
            if schema.startswith(_TEMP_SCHEMAS):
                return "temporary table"
            if schema in _SYSTEM_SCHEMAS or name.startswith(("pg_", "sqlite_")) or name in _SYSTEM_SCHEMAS:
                return "system catalog"
            if isinstance(node.this, exp.Anonymous) or isinstance(node.this, exp.Func):
                return "table function"
    return ""


# -- session state ------------------------------------------------------------------------------

_STATE_HEADS = frozenset({"PREPARE", "LISTEN", "DECLARE", "LOAD", "ATTACH", "DETACH"})
_STATE_FUNCTIONS = frozenset({"SET_CONFIG", "PG_ADVISORY_LOCK", "PG_ADVISORY_LOCK_SHARED", "PG_TRY_ADVISORY_LOCK", "PG_TRY_ADVISORY_LOCK_SHARED"})


@lru_cache(maxsize=4096)
def changes_session_state(sql: str, dialect: str = "postgres") -> bool:
    """True when ``sql`` leaves state on its connection that later statements expect.

    ``SET`` (not ``SET LOCAL``/``SET TRANSACTION``), temporary tables, ``PREPARE``, ``LISTEN``,
    cursors, ``set_config``, session advisory locks; for SQLite also ``PRAGMA x = y`` and
    ``ATTACH``. A pooled Session keeps the connection for itself after such a statement.

    >>> changes_session_state("SET search_path TO app"), changes_session_state("SET LOCAL work_mem = '8MB'")
    (True, False)
    >>> changes_session_state("CREATE TEMP TABLE t (a int)"), changes_session_state("SELECT 1")
    (True, False)
    """
    for statement in parse(sql, dialect) or ():
        tokens = statement.tokens
        words = [t.text.upper() for t in tokens[:5]]
        head = words[0]
        if head == "SET" and not (len(words) > 1 and words[1] in ("LOCAL", "TRANSACTION")):
            return True
        if head in _STATE_HEADS:
            return True
        if head == "CREATE" and ("TEMP" in words[1:] or "TEMPORARY" in words[1:]):
            return True
        if head == "PRAGMA" and any(t.token_type == TokenType.EQ for t in tokens):
            return True
        if any(t.text.upper() in _STATE_FUNCTIONS for t in tokens):
            return True
    return False


__all__ = ["describe", "plan", "changes_session_state"]
