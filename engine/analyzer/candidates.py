"""The indexes worth trying for one statement, read from its tree the way Dexter reads queries:
every column a SELECT, UPDATE or DELETE filters, joins or sorts a top-N on, alone and in the
few combinations a B-tree can use together. The advisor verifies them with HypoPG; nothing
here decides whether an index helps.

For each table of each query block:

- each equality column, and each of the first two range columns, alone;
- the equality columns together, then followed by the first range column;
- with ``ORDER BY … LIMIT`` (by column, ordinal or output alias): the sort columns, and the
  equality columns followed by them (an index that filters and returns rows in order);
- each join key alone; each expression compared to a constant (``lower(email) = …``).

Names come from the catalog when the schema knows the table, else as PostgreSQL folds what was
written (``Orders`` is ``orders``, ``"Foo"`` stays ``Foo``); ``IndexCandidate.create_statement``
quotes them back. Candidates an existing index already starts with are left out.

>>> from aishell.engine.analyzer.schema import schema_from_ddl
>>> schema = schema_from_ddl("CREATE TABLE events (id int PRIMARY KEY, a int, b int, ts timestamptz)")
>>> [c.columns for c in index_candidates("SELECT id FROM events WHERE a = 1 AND b < 10", schema)]
[('a',), ('b',), ('a', 'b')]
>>> [c.columns for c in index_candidates("SELECT id, ts AS t FROM events WHERE a = $1 ORDER BY t DESC LIMIT 5", schema)]
[('a',), ('ts',), ('a', 'ts')]
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlglot
from sqlglot import exp

from aishell.engine.analyzer.context import conjuncts, is_constant
from aishell.engine.analyzer.findings import IndexCandidate
from aishell.engine.analyzer.identifiers import folded
from aishell.engine.analyzer.rules._common import COMPARISONS, plain_column, sargable, unparen
from aishell.engine.types import SchemaInfo, TableInfo

MAX_CANDIDATES = 16
"""At most this many candidates a statement: each one costs a plan."""
INDEXABLE = ("table", "partitioned table", "materialized view")


@dataclass(slots=True)
class _Target:
    """A table a query block reads, with what the block asks of it."""

    schema: str | None
    name: str
    info: TableInfo | None
    equal: list[str] = field(default_factory=list)
    ranges: list[str] = field(default_factory=list)
    joins: list[str] = field(default_factory=list)
    order: list[str] = field(default_factory=list)
    expressions: list[str] = field(default_factory=list)

    def column(self, node: exp.Column) -> str | None:
        """The catalog name of ``node`` in this table; None when the schema says it has none."""
        if self.info is not None and self.info.columns:
            known = self.info.column(node.name)
            return known.name if known is not None else None
        return folded(node.name, quoted=bool(node.this.quoted))


def index_candidates(sql: str, schema: SchemaInfo | None = None, *, dialect: str = "postgres") -> list[IndexCandidate]:
    """The candidates of one statement, most specific shapes last; [] when it does not parse."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except sqlglot.errors.SqlglotError:
        return []
    if tree is None:
        return []
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    out: list[IndexCandidate] = []
    for block in tree.find_all(exp.Select, exp.Update, exp.Delete):
        targets = _targets(block, schema, ctes)
        if not any(t is not None for t in targets.values()):
            continue
        _read_block(block, targets, schema)
        for target in {id(t): t for t in targets.values() if t is not None}.values():
            for columns in _shapes(target):
                candidate = IndexCandidate(target.name, columns, target.schema)
                if candidate not in out and not _covered(target.info, columns):
                    out.append(candidate)
    return out[:MAX_CANDIDATES]


def _targets(block: exp.Expression, schema: SchemaInfo | None, ctes: set[str]) -> dict[str, _Target | None]:
    """The block's row sources by lower-cased alias or name; None for what is not a table
    (a subquery, a CTE, a function), so unqualified columns are not pinned on the wrong one."""
    items: list[exp.Expression] = []
    if isinstance(block, (exp.Update, exp.Delete)) and block.this is not None:
        items.append(block.this)
    from_ = block.args.get("from_")
    if from_ is not None and from_.this is not None:
        items.append(from_.this)
    for join in block.args.get("joins") or ():
        if join.this is not None:
            items.append(join.this)
    items.extend(block.args.get("using") or ())
    out: dict[str, _Target | None] = {}
    for item in items:
        key = (item.alias_or_name or "").lower()
        if not isinstance(item, exp.Table) or not isinstance(item.this, exp.Identifier) or (not item.db and item.name.lower() in ctes):
            out[key or f"#{id(item)}"] = None
            continue
        quoted = bool(item.this.quoted)
        db = item.args.get("db")
        info = schema.find(item.name, item.db or None) if schema is not None else None
        if info is not None and info.kind not in INDEXABLE:
            out[key] = None
            continue
        name = info.name if info is not None else folded(item.name, quoted=quoted)
        schema_name = None
        if item.db:
            schema_name = info.schema if info is not None else folded(item.db, quoted=bool(getattr(db, "quoted", False)))
        out[key] = _Target(schema_name, name, info)
    return out


def _resolve(column: exp.Column, targets: dict[str, _Target | None]) -> _Target | None:
    if column.table:
        return targets.get(column.table.lower())
    if len(targets) == 1:
        return next(iter(targets.values()))
    owners = [t for t in targets.values() if t is not None and t.info is not None and t.info.column(column.name) is not None]
    return owners[0] if len(owners) == 1 else None


def _add(names: list[str], name: str | None) -> None:
    if name is not None and name not in names:
        names.append(name)


def _read_block(block: exp.Expression, targets: dict[str, _Target | None], schema) -> None:
    conditions = list(conjuncts(block.args.get("where")))
    for join in block.args.get("joins") or ():
        conditions.extend(conjuncts(join.args.get("on")))
    for condition in conditions:
        left, right = (plain_column(condition.this), plain_column(condition.expression)) if isinstance(condition, exp.EQ) else (None, None)
        if left is not None and right is not None:  # a join key, in ON or in WHERE (FROM a, b)
            for side in (left, right):
                target = _resolve(side, targets)
                if target is not None:
                    _add(target.joins, target.column(side))
            continue
        hit = sargable(condition)
        if hit is not None:
            column, equality = hit
            target = _resolve(column, targets)
            if target is not None:
                _add(target.equal if equality else target.ranges, target.column(column))
            continue
        _expression(condition, targets)
    if isinstance(block, exp.Select) and block.args.get("limit") is not None:
        _order(block, targets)


def _expression(condition: exp.Expression, targets) -> None:
    """``f(column) <op> constant``: a candidate on the expression, as PostgreSQL writes it."""
    condition = unparen(condition)
    if not isinstance(condition, COMPARISONS) or isinstance(condition, exp.NEQ):
        return
    for side, other in ((condition.this, condition.expression), (condition.expression, condition.this)):
        side = unparen(side)
        if isinstance(side, exp.Column) or not is_constant(other) or side.find(exp.Subquery, exp.Select):
            continue
        columns = list(side.find_all(exp.Column))
        if len(columns) != 1 or isinstance(side, exp.Literal) or not isinstance(side, (exp.Func, exp.Cast)):
            continue
        target = _resolve(columns[0], targets)
        if target is None or target.column(columns[0]) is None:
            continue
        copy = side.copy()
        for column in copy.find_all(exp.Column):
            column.set("table", None)
            column.set("db", None)
        _add(target.expressions, copy.sql(dialect="postgres", normalize_functions="lower"))
        return


def _order(select: exp.Select, targets) -> None:
    """The leading ORDER BY columns of one table, in one direction, read through ordinals
    (``ORDER BY 2``) and output aliases (``ORDER BY c``)."""
    order = select.args.get("order")
    if order is None:
        return
    outputs = select.expressions
    aliases = {e.alias.lower(): e.this for e in outputs if isinstance(e, exp.Alias) and e.alias}
    owner: _Target | None = None
    direction = None
    names: list[str] = []
    for ordered in order.expressions:
        key = unparen(ordered.this)
        if isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
            position = int(key.this)
            key = outputs[position - 1] if 0 < position <= len(outputs) else None
            key = key.this if isinstance(key, exp.Alias) else key
        elif isinstance(key, exp.Column) and not key.table and key.name.lower() in aliases:
            key = aliases[key.name.lower()]
        column = plain_column(key)
        if column is None:
            break
        target = _resolve(column, targets)
        descending = bool(ordered.args.get("desc"))
        if target is None or (owner is not None and target is not owner) or (direction is not None and descending != direction):
            break
        name = target.column(column)
        if name is None:
            break
        owner, direction = target, descending
        _add(names, name)
    if owner is not None:
        owner.order = names


def _shapes(target: _Target) -> list[tuple[str, ...]]:
    """The key lists to try on one table (see the module docstring)."""
    shapes: list[tuple[str, ...]] = []

    def add(columns) -> None:
        columns = tuple(dict.fromkeys(columns))[:3]
        if columns and columns not in shapes:
            shapes.append(columns)

    equal, ranges = target.equal, target.ranges
    for name in equal:
        add((name,))
    for name in ranges[:2]:
        add((name,))
    if len(equal) > 1:
        add(equal)
    if equal and ranges:
        add(equal[:2] + ranges[:1])
    if target.order:
        add(target.order[:1])
        add(target.order)
        if equal:
            add(equal[:2] + target.order)
    for name in target.joins:
        add((name,))
    for expression in target.expressions:
        add((expression,))
    return shapes


def _covered(info: TableInfo | None, columns: tuple[str, ...]) -> bool:
    """True when an existing index starts with exactly these keys (it can do what they would)."""
    if info is None:
        return False
    wanted = [c.lower().replace(" ", "") for c in columns]
    for index in info.indexes:
        keys = [k.lower().replace(" ", "").replace('"', "") for k in index.columns[: len(wanted)]]
        if not index.partial and keys == [w.replace('"', "") for w in wanted]:
            return True
    return False
