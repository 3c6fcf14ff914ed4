"""AS004 function-on-column: a function, cast or arithmetic wrapped around a column in a
WHERE or JOIN condition (``lower(email) = …``, ``date(created_at) = …``, ``col + 1 = 5``), so a
plain index on the column cannot be used.

With the schema known it is a warning when an index leads with that column (and silent when
an expression index already matches); without schema it is a hint. The suggestion is a
sargable rewrite where one exists, else an expression index.

>>> from aishell.engine.analyzer import analyze
>>> f = analyze("SELECT id FROM users WHERE lower(email) = 'a@b.c'").findings[0]
>>> f.code, f.suggestion
('AS004', 'CREATE INDEX ON users (LOWER(email));  -- or compare against a citext column')
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.findings import Finding, IndexCandidate, Rule
from aishell.engine.analyzer.rules._common import COMPARISONS, unparen, unqualified
from aishell.engine.analyzer.context import is_constant

RULE = Rule("AS004", "function-on-column", "warning", "Function or cast on a column in a predicate")

_PREDICATES = COMPARISONS + (exp.Like, exp.ILike, exp.In, exp.Between)
_WRAPPERS = (exp.Func, exp.Cast, exp.Add, exp.Sub, exp.Mul, exp.Div, exp.DPipe)


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    seen: set[int] = set()
    for node in ctx.find_all(*_PREDICATES):
        for side, other in _sides(node):
            wrapped = unparen(side)
            if not isinstance(wrapped, _WRAPPERS) or isinstance(wrapped, exp.AggFunc) or id(wrapped) in seen:
                continue
            owner = ctx.predicate_owner(node)
            if owner is None or isinstance(owner, exp.Having):
                break
            if not all(isinstance(o, exp.Expression) and is_constant(o) for o in other):
                continue
            columns = [c for c in wrapped.find_all(exp.Column) if not isinstance(c.this, exp.Star)]
            if len(columns) != 1 or wrapped.find(exp.Subquery, exp.Select) is not None:
                continue
            seen.add(id(wrapped))
            finding = _finding(node, wrapped, columns[0], other, ctx)
            if finding is not None:
                yield finding


def _sides(node: exp.Expression):
    if isinstance(node, exp.In):
        values = list(node.expressions) or ([node.args["query"]] if node.args.get("query") is not None else [])
        return [(node.this, values)] if values else []
    if isinstance(node, exp.Between):
        return [(node.this, [node.args.get("low"), node.args.get("high")])]
    return [(node.this, [node.expression]), (node.expression, [node.this])]


def _finding(predicate, wrapped, column: exp.Column, other, ctx) -> Finding | None:
    select = ctx.select_of(column)
    source = ctx.resolve(column, select) if select is not None else None
    as_written = ctx.sql_of(wrapped)
    qualified = column.table or column.args.get("db")
    expression = unqualified(wrapped).sql(dialect=ctx.generator_dialect, copy=False) if qualified else as_written
    severity = "info"
    note = "a plain index on the column cannot be used for it"
    if source is not None and source.info is not None:
        table = source.info
        wanted = _norm(expression)
        for index in table.indexes:
            if index.columns and _norm(index.columns[0]) == wanted:
                return None  # an expression index already matches
        if column.name.lower() in table.leading_index_columns():
            severity = "warning"
            names = ", ".join(ix.name for ix in table.indexes if ix.columns and ix.columns[0].lower() == column.name.lower())
            note = f"the index {names} on {column.name} cannot be used for it"
        elif ctx.is_large(source) is not True:
            return None  # no index to defeat, and the table is small: nothing to gain
    if ctx.brief:
        return ctx.finding(RULE, wrapped, "", severity=severity)  # counted, not listed
    table_name = source.name if source is not None and source.name else None
    schema_name, table_name = source.catalog_name() if table_name else (None, None)
    candidate = IndexCandidate(table_name, (expression,), schema_name) if table_name else None
    suggestion = _rewrite(predicate, wrapped, column, other, ctx)
    if suggestion is None and candidate is not None:
        suggestion = candidate.create_statement(dialect=ctx.dialect)
    elif suggestion is None:
        suggestion = f"CREATE INDEX ON <table> (({expression}));"
    return ctx.finding(
        RULE,
        wrapped,
        f"{as_written} wraps column {column.name} in the condition: {note}",
        suggestion=suggestion,
        severity=severity,
        candidate=candidate,
    )


def _norm(text: str) -> str:
    return "".join(text.lower().replace('"', "").split()).strip("()")


def _rewrite(predicate, wrapped, column: exp.Column, other, ctx) -> str | None:
    col = column.name if not column.table and not column.this.quoted else ctx.sql_of(column)
    value = other[0] if other else None
    value_sql = ctx.sql_of(value) if isinstance(value, exp.Expression) else "?"
    is_eq = isinstance(predicate, exp.EQ)
    to_date = isinstance(wrapped, exp.Date) or (isinstance(wrapped, (exp.Cast, exp.TryCast)) and wrapped.to.this == exp.DataType.Type.DATE)
    if to_date and isinstance(predicate, COMPARISONS) and not isinstance(predicate, exp.NEQ):
        next_day = f"date({value_sql}, '+1 day')" if ctx.dialect == "sqlite" else f"CAST({value_sql} AS DATE) + 1"
        op = _op(predicate)
        if unparen(predicate.this) is not wrapped:
            op = _flip(op)
        if op == "=":
            return f"{col} >= {value_sql} AND {col} < {next_day}"
        return {">=": f"{col} >= {value_sql}", "<": f"{col} < {value_sql}", "<=": f"{col} < {next_day}", ">": f"{col} >= {next_day}"}[op]
    if is_eq and isinstance(wrapped, exp.Extract) and isinstance(value, exp.Literal) and not value.is_string:
        unit = wrapped.this.name.lower() if isinstance(wrapped.this, exp.Expression) else ""
        if unit == "year" and value.this.isdigit():
            year = int(value.this)
            return f"{col} >= '{year}-01-01' AND {col} < '{year + 1}-01-01'"
    if is_eq and isinstance(wrapped, (exp.Lower, exp.Upper)):
        table = column.table or "<table>"
        source = ctx.resolve(column)
        if source is not None and source.name:
            table = source.name
        if ctx.dialect == "postgres":
            return f"CREATE INDEX ON {table} ({ctx.sql_of(unqualified(wrapped))});  -- or compare against a citext column"
        return None
    if is_eq and isinstance(wrapped, (exp.Substring, exp.Left)) and isinstance(value, exp.Literal) and value.is_string:
        start = wrapped.args.get("start")
        if isinstance(wrapped, exp.Left) or (isinstance(start, exp.Literal) and start.this == "1"):
            pattern = value.this.replace("%", "\\%").replace("_", "\\_")
            return f"{col} LIKE '{pattern}%'"
    if isinstance(wrapped, (exp.Add, exp.Sub)) and isinstance(predicate, COMPARISONS):
        left, right = unparen(wrapped.this), unparen(wrapped.expression)
        if isinstance(left, exp.Column) and is_constant(right):
            inverse = "-" if isinstance(wrapped, exp.Add) else "+"
            op = _op(predicate)
            if predicate.this is not wrapped and unparen(predicate.this) is not wrapped:
                op = _flip(op)
            return f"{col} {op} {value_sql} {inverse} {ctx.sql_of(right)}"
    return None


def _op(predicate) -> str:
    return {exp.EQ: "=", exp.NEQ: "<>", exp.GT: ">", exp.GTE: ">=", exp.LT: "<", exp.LTE: "<="}[type(predicate)]


def _flip(op: str) -> str:
    return {">": "<", ">=": "<=", "<": ">", "<=": ">="}.get(op, op)
