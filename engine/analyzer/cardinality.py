"""Which row sources provably yield at most one row: pairing every row with such a source
multiplies nothing, so a join to it without a condition is not a cartesian product worth a
warning (TPC-DS cross-joins a dozen ``(SELECT count(*) … ) t`` blocks that way).

At most one row, as far as the text and the catalog can prove:

- an aggregate without GROUP BY (``SELECT max(x) FROM a, b WHERE …``), whatever it joins inside;
- ``LIMIT 1`` / ``LIMIT 0`` / ``FETCH FIRST 1 ROW``; a SELECT without FROM; a one-row VALUES;
- a table (or a query over one table) whose unique or primary key is fully bound to constants
  by the WHERE or ON conditions (needs the schema);
- a CTE or derived table whose query is one of these.

Set-returning functions in the select list (``unnest``, ``generate_series``) defeat all of it.

>>> import sqlglot
>>> from aishell.engine.analyzer.cardinality import query_yields_one_row
>>> query_yields_one_row(sqlglot.parse_one("SELECT count(*) FROM a, b WHERE a.id = b.a_id"))
True
>>> query_yields_one_row(sqlglot.parse_one("SELECT kind, count(*) FROM a GROUP BY kind"))
False
"""

from __future__ import annotations

from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts, is_constant
from aishell.engine.analyzer.rules._common import plain_column

_SET_RETURNING = (exp.Unnest, exp.Explode, exp.GenerateSeries)
_SET_RETURNING_NAMES = frozenset(
    {"generate_series", "unnest", "json_array_elements", "jsonb_array_elements", "json_each", "jsonb_each",
     "regexp_matches", "string_to_table", "json_array_elements_text", "jsonb_array_elements_text", "jsonb_object_keys"}
)
_MAX_DEPTH = 8
"""CTEs referring to CTEs: followed this deep (a recursive CTE is never one row)."""


def source_yields_one_row(item: exp.Expression | None, ctx=None, conditions: list[exp.Expression] | None = None) -> bool:
    """True when the FROM or JOIN entry ``item`` yields at most one row. ``conditions`` are the
    enclosing query's WHERE and ON conjuncts, which may bind a table's unique key; ``ctx`` (an
    analyzer Context) brings the schema and column resolution."""
    return _source(item, ctx, conditions or [], 0)


def query_yields_one_row(query: exp.Expression | None, ctx=None) -> bool:
    """True when ``query`` (a SELECT, VALUES or subquery) yields at most one row."""
    return _query(query, ctx, 0)


def _source(item, ctx, conditions, depth: int) -> bool:
    if item is None or depth > _MAX_DEPTH:
        return False
    if isinstance(item, exp.Subquery):
        return _query(item.this, ctx, depth + 1)
    if isinstance(item, exp.Values):
        return len(item.expressions) <= 1
    if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
        cte = None if item.db else _cte(item, item.name)
        if cte is not None:
            return _query(cte.this, ctx, depth + 1)
        return _key_bound(item, ctx, conditions)
    return False


def _query(query, ctx, depth: int) -> bool:
    while isinstance(query, exp.Subquery):
        query = query.this
    if query is None or depth > _MAX_DEPTH:
        return False
    if isinstance(query, exp.Values):
        return len(query.expressions) <= 1
    if not isinstance(query, exp.Select) or _returns_sets(query):
        return False
    if _limit_at_most_one(query):
        return True
    from_ = query.args.get("from_")
    if not query.args.get("group") and any(_aggregates(e) for e in query.expressions):
        return True
    if from_ is None or from_.this is None:
        return True  # SELECT of constants
    if query.args.get("joins"):
        return False
    return _source(from_.this, ctx, conjuncts(query.args.get("where")), depth + 1)


def _limit_at_most_one(select: exp.Select) -> bool:
    limit = select.args.get("limit")
    count = None
    if isinstance(limit, exp.Limit):
        count = limit.expression
    elif isinstance(limit, exp.Fetch):
        count = limit.args.get("count")
        if count is None:
            return True  # FETCH FIRST ROW ONLY
    return isinstance(count, exp.Literal) and not count.is_string and count.this in ("0", "1")


def _aggregates(projection: exp.Expression) -> bool:
    """An aggregate of the query itself (not inside a window, nor a subquery)."""
    for node in projection.walk(prune=lambda n: isinstance(n, (exp.Window, exp.Subquery, exp.Select)) and n is not projection):
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Window):
            return True
    return False


def _returns_sets(select: exp.Select) -> bool:
    for projection in select.expressions:
        for node in projection.walk(prune=lambda n: isinstance(n, (exp.Subquery, exp.Select))):
            if isinstance(node, _SET_RETURNING):
                return True
            if isinstance(node, exp.Anonymous) and str(node.this).lower() in _SET_RETURNING_NAMES:
                return True
    return False


def _cte(node: exp.Expression, name: str) -> exp.CTE | None:
    """The CTE called ``name`` visible from ``node`` (the nearest WITH above it); None for a
    recursive WITH, whose CTEs are never one row."""
    wanted = name.lower()
    current = node.parent
    while current is not None:
        with_ = current.args.get("with_") if isinstance(current, exp.Expression) else None
        if isinstance(with_, exp.With):
            for cte in with_.expressions:
                if cte.alias_or_name.lower() == wanted:
                    return None if with_.args.get("recursive") else cte
        current = current.parent
    return None


def _key_bound(table: exp.Table, ctx, conditions: list[exp.Expression]) -> bool:
    """True when every column of one of the table's unique keys is compared with ``=`` to a
    constant in ``conditions``."""
    if ctx is None or ctx.schema is None or not conditions:
        return False
    info = ctx.schema.find(table.name, table.db or None)
    if info is None:
        return False
    keys = [ix.columns for ix in info.indexes if (ix.unique or ix.primary) and not ix.partial and ix.columns]
    if not keys:
        return False
    alias = (table.alias_or_name or "").lower()
    bound: set[str] = set()
    for condition in conditions:
        if not isinstance(condition, exp.EQ):
            continue
        for side, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
            column = plain_column(side)
            if column is None or not is_constant(other):
                continue
            if column.table and column.table.lower() != alias:
                continue
            if not column.table and not _only_source(column, table, info, ctx):
                continue
            bound.add(column.name.lower())
    return any(all(key.lower() in bound for key in columns) for columns in keys)


def _only_source(column: exp.Column, table: exp.Table, info, ctx) -> bool:
    """An unqualified column belongs to ``table`` when its query reads only that table, or the
    schema puts the column in no other source of that query."""
    if info.column(column.name) is None:
        return False
    select = ctx.select_of(column)
    if select is None:
        return True  # UPDATE/DELETE of one table
    sources = ctx.sources(select)
    if len(sources) == 1:
        return True
    owners = [s for s in sources.values() if s.info is not None and s.info.column(column.name) is not None]
    return len(owners) == 1 and owners[0].node is table
