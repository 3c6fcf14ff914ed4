"""What the planner expects a statement to cost, without running it, on one scale for both SQL
databases: PostgreSQL's total plan cost, and for SQLite (whose plan has no costs) the rows its
plan reads priced as PostgreSQL prices a scanned row. Prefetch judges "cheap" with it.
"""

from __future__ import annotations

import math
from typing import Any

from sqlglot import exp

from aishell.engine.statements.parsing import parse

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


__all__ = ["ROW_COST", "estimated_cost", "sqlite_cost"]
