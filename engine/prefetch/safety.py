"""Whether a statement may run without the user asking: read from its sqlglot tree and its plan.

:func:`refusal` reads the one parse :mod:`engine.statements` keeps: a statement may be
prefetched when the cache could keep its result (one read-only statement; no volatile or
unknown function such as ``now()``, ``random()``, ``nextval()`` or a user's function; no
locking clause; no temporary or system table), when nothing in it waits for a value (``$1``,
``?``, ``:name``), when it creates nothing (``SELECT … INTO``), reads no view (a view may call
what the statement does not show) and a read-only session could send it.
:func:`estimated_cost` asks the planner what running it would cost, without running it.

>>> refusal("SELECT * FROM orders WHERE id = 7", "postgres")
''
>>> refusal("SELECT * FROM orders WHERE id = $1", "postgres")
'has parameters ($1, ?) with no values'
>>> refusal("SELECT nextval('orders_id_seq')", "postgres")
'function nextval() may be volatile'
>>> refusal("UPDATE orders SET total = 0 WHERE id = 7", "postgres")
'writes'
"""

from __future__ import annotations

import math
from typing import Any

from sqlglot import exp

from aishell.engine.statements import plan
from aishell.engine.statements.parsing import parse


def refusal(sql: str, dialect: str, *, views: frozenset[str] = frozenset()) -> str:
    """Why ``sql`` may not be prefetched; "" when it may."""
    p = plan(sql, dialect)
    if p.masked_password is not None:
        return "carries a masked password"
    if p.read_only_escape is not None:
        return p.read_only_escape
    if p.kind != "select" or p.writes or p.writer:
        return "writes"
    if not p.cacheable:
        return p.reason or "not cacheable"
    if p.sticky or not p.stateless:
        return "leaves session state"
    if views and not views.isdisjoint(p.reads):
        return "reads a view"
    for statement in parse(sql, dialect) or ():
        for node in statement.tree.walk() if statement.tree is not None else ():
            if isinstance(node, (exp.Placeholder, exp.Parameter)):
                return "has parameters ($1, ?) with no values"
            if isinstance(node, exp.Into):
                return "creates a table (SELECT … INTO)"
    return ""


ROW_COST = 0.025
"""What PostgreSQL's planner charges a row of a sequential scan, about (``cpu_tuple_cost`` plus
its share of a page read): SQLite's rows read become cost units, so one budget fits both."""


async def estimated_cost(conn: Any, sql: str, dialect: str) -> float | None:
    """What the planner expects ``sql`` to cost on ``conn`` (nothing runs), in PostgreSQL's cost
    units: its total plan cost; on SQLite the rows its plan reads (each loop's rows multiplied:
    a full scan reads the table, an index search about log2 of it) times :data:`ROW_COST`. None
    when the plan does not say (a scan of a subquery or CTE whose size SQLite does not know).
    Raises QueryError."""
    from aishell.engine.analyzer.plan import explain

    report = await explain(conn, sql, dialect=dialect)
    if report.total_cost is not None:
        return float(report.total_cost)
    if dialect != "sqlite":
        return None
    sizes = {table.name: table.row_estimate for table in await conn.tables()}
    for statement in parse(sql, dialect) or ():  # the plan names a table by its alias
        for table in statement.tree.find_all(exp.Table) if statement.tree is not None else ():
            if table.alias and table.name in sizes:
                sizes.setdefault(table.alias, sizes[table.name])
    rows = sqlite_cost(report.nodes, sizes)
    return None if rows is None else rows * ROW_COST


def sqlite_cost(nodes: list, sizes: dict[str, int]) -> float | None:
    """Rows read by a SQLite plan (``EXPLAIN QUERY PLAN`` nodes of
    :func:`engine.analyzer.plan.read_sqlite_plan`), or None when a scanned relation's size is
    unknown.

    >>> from aishell.engine.analyzer.plan import PlanNode
    >>> sqlite_cost([PlanNode(0, "SCAN", "a", detail="SCAN a"), PlanNode(0, "SEARCH", "b", index="ix",
    ...     detail="SEARCH b USING INDEX ix (a_id=?)")], {"a": 1000, "b": 1024})
    11000.0
    >>> sqlite_cost([PlanNode(0, "SCAN", "c", detail="SCAN c")], {}) is None
    True
    """
    cost = 1.0
    for node in nodes:
        if node.node_type not in ("SCAN", "SEARCH") or node.detail.startswith("SCAN CONSTANT ROW"):
            continue
        rows = sizes.get(node.relation or "", -1)
        if rows < 0:
            return None
        if node.node_type == "SCAN":
            cost *= max(rows, 1)
        else:
            cost *= math.log2(rows) + 1 if rows > 1 else 1
    return cost


__all__ = ["refusal", "estimated_cost", "sqlite_cost"]
