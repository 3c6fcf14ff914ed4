"""Whether a statement may run without the user asking: read from its sqlglot tree and its plan.

:func:`refusal` reads the one parse :mod:`engine.statements` keeps: a statement may be
prefetched when the cache could keep its result (one read-only statement; no volatile or
unknown function such as ``now()``, ``random()``, ``nextval()`` or a user's function; no
locking clause; no temporary or system table), when nothing in it waits for a value (``$1``,
``?``, ``:name``), when it creates nothing (``SELECT … INTO`` is a write), reads no view (a view may call
what the statement does not show) and a read-only session could send it.
:func:`engine.analyzer.plan_cost.estimated_cost` asks the planner what running it would cost.

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
    return ""


__all__ = ["refusal"]
