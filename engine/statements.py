"""What a statement is, from sqlglot's AST: kind, tables read and written, destructive or not.

Shared by the Session (cache invalidation, confirmation), memory (tables touched) and the TUI
(confirm before DROP/TRUNCATE/DELETE or UPDATE without WHERE). Unparseable text is ``unknown``:
callers then treat it as a possible write.

>>> describe("DELETE FROM orders").destructive
True
>>> sorted(describe("UPDATE t SET a = 1 WHERE id IN (SELECT id FROM s)").writes)
['t']
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

_DDL = (exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)
_WRITES = (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy) + _DDL


@dataclass(frozen=True, slots=True)
class StatementInfo:
    kind: str
    """``select``, ``insert``, ``update``, ``delete``, ``merge``, ``copy``, ``ddl``,
    ``transaction``, ``other`` or ``unknown`` (did not parse)."""
    reads: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased table names read (unqualified)."""
    writes: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased table names written or altered."""
    destructive: bool = False
    """DROP, TRUNCATE, DELETE/UPDATE without WHERE: confirm before running."""
    reason: str = ""
    """Why it is destructive, for the confirmation prompt."""

    @property
    def is_read_only(self) -> bool:
        return self.kind == "select" and not self.writes

    @property
    def is_write(self) -> bool:
        return self.kind not in ("select", "transaction", "other") or bool(self.writes)


@lru_cache(maxsize=4096)
def describe(sql: str, dialect: str = "postgres") -> StatementInfo:
    """Classify every statement in ``sql`` (a script is the union of its statements).

    ``dialect="mongo"``: mongosh statements, classified from :mod:`engine.mongo`'s parser.
    """
    if dialect == "mongo":
        from aishell.engine.mongo.fingerprint import describe as describe_mongo

        return describe_mongo(sql)
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect) if t is not None]
    except (SqlglotError, RecursionError, ValueError):
        return StatementInfo("unknown")
    if not trees:
        return StatementInfo("other")
    infos = [_describe_tree(t) for t in trees]
    if len(infos) == 1:
        return infos[0]
    kinds = {i.kind for i in infos}
    kind = "select" if kinds == {"select"} else next((i.kind for i in infos if i.kind != "select"), "other")
    destructive = next((i for i in infos if i.destructive), None)
    return StatementInfo(
        kind,
        frozenset().union(*(i.reads for i in infos)),
        frozenset().union(*(i.writes for i in infos)),
        destructive is not None,
        destructive.reason if destructive else "",
    )


def _describe_tree(tree: exp.Expression) -> StatementInfo:
    written: set[str] = set()
    for node in tree.walk():
        if isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge, exp.Copy, exp.Create, exp.Drop, exp.Alter, exp.TruncateTable)):
            for target in _targets(node):
                written.add(target)
    all_tables = {t.name.lower() for t in tree.find_all(exp.Table) if t.name}
    ctes = {c.alias_or_name.lower() for c in tree.find_all(exp.CTE)}
    reads = frozenset(all_tables - written - ctes)
    writes = frozenset(written - ctes)
    kind, destructive, reason = _kind(tree)
    if kind == "select" and writes:
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


def _kind(tree: exp.Expression) -> tuple[str, bool, str]:
    if isinstance(tree, (exp.Select, exp.Union, exp.Intersect, exp.Except, exp.Values)) or (
        isinstance(tree, exp.Subquery)
    ):
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
    if isinstance(tree, exp.Transaction) or isinstance(tree, (exp.Commit, exp.Rollback)):
        return "transaction", False, ""
    if isinstance(tree, exp.Command):
        head = (tree.this or "").upper()
        if head in ("BEGIN", "START", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"):
            return "transaction", False, ""
        if head in ("VACUUM", "ANALYZE", "REINDEX", "CLUSTER", "GRANT", "REVOKE", "COMMENT", "REFRESH"):
            return "ddl", False, ""
        return "other", False, ""
    if isinstance(tree, (exp.Set, exp.Show, exp.Pragma, exp.Describe)):
        return "other", False, ""
    return "other", False, ""
