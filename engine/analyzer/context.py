"""What every rule gets besides the tree: the text, dialect, schema, settings, an index of the
tree's nodes by type (built from one walk, shared by all rules) and scope helpers that resolve
columns to the tables of their SELECT.

Rules never mutate the tree; helpers here only read it. Asking every node for its SELECT or
its predicate owner stays linear in the statement's size: long climbs are remembered.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterator

from sqlglot import exp

from aishell.engine.config import AnalyzerSettings
from aishell.engine.analyzer.findings import Finding, IndexCandidate, Rule
from aishell.engine.types import SchemaInfo, TableInfo


@dataclass(slots=True)
class Source:
    """Something a SELECT reads rows from: a table (``info`` set when the schema knows it), a
    derived table, a function, VALUES. ``key`` is the lower-cased alias or name."""

    key: str
    node: exp.Expression
    name: str | None = None
    """The table's name when the source is a table."""
    db: str | None = None
    info: TableInfo | None = None

    @property
    def is_table(self) -> bool:
        return self.name is not None

    def catalog_name(self) -> tuple[str | None, str | None]:
        """(schema, table) as the catalog spells them, for statements we print: the schema's
        entry when it knows the table, else the written names folded as PostgreSQL folds them
        (``Orders`` is ``orders``, ``"Foo"`` stays ``Foo``). The schema is None unless written."""
        if self.name is None:
            return None, None
        table = self.node.this if isinstance(self.node, exp.Table) else None
        quoted = bool(getattr(table, "quoted", False))
        name = self.info.name if self.info is not None else (self.name if quoted else self.name.lower())
        if not self.db:
            return None, name
        db_node = self.node.args.get("db") if isinstance(self.node, exp.Table) else None
        if self.info is not None:
            return self.info.schema, name
        return (self.db if getattr(db_node, "quoted", False) else self.db.lower()), name


class LineIndex:
    """Offsets to 1-based (line, column) over one text, by binary search of line starts."""

    __slots__ = ("starts",)

    def __init__(self, text: str) -> None:
        starts = [0]
        find = text.find
        pos = find("\n")
        while pos != -1:
            starts.append(pos + 1)
            pos = find("\n", pos + 1)
        self.starts = starts

    def locate(self, offset: int) -> tuple[int, int]:
        line = bisect_right(self.starts, offset)
        return line, offset - self.starts[line - 1] + 1


class Context:
    """Per-statement state shared by the rules of the pipeline."""

    __slots__ = (
        "sql", "dialect", "schema", "settings", "statement", "lines", "tree", "start", "generator_dialect", "tokens",
        "brief", "_index", "_sources", "_source_of", "_selects", "_owners",
    )

    def __init__(
        self,
        sql: str,
        tree: exp.Expression,
        *,
        dialect: str,
        schema: SchemaInfo | None,
        settings: AnalyzerSettings,
        statement: int,
        lines: LineIndex,
        start: int = 0,
        generator_dialect: object | None = None,
        tokens: list | None = None,
    ) -> None:
        self.tokens = tokens or []
        self.sql = sql
        self.start = start
        self.generator_dialect = generator_dialect if generator_dialect is not None else dialect
        self.tree = tree
        self.dialect = dialect
        self.schema = schema
        self.settings = settings
        self.statement = statement
        self.lines = lines
        index: dict[type, list[exp.Expression]] = {}
        for node in tree.walk():
            kind = type(node)
            bucket = index.get(kind)
            if bucket is None:
                index[kind] = [node]
            else:
                bucket.append(node)
        self._index = index
        self._sources: dict[int, dict[str, Source]] = {}
        self._source_of: dict[int, Source] = {}
        self._selects: dict[int, exp.Expression | None] = {}
        self._owners: dict[int, exp.Expression | None] = {}
        self.brief = False
        """True once the running rule's findings are over the cap: they are only counted, so
        :meth:`finding` skips locating them and :meth:`sql_of` generates nothing."""

    # -- traversal ------------------------------------------------------------------------------

    def find_all(self, *types: type) -> Iterator[exp.Expression]:
        """Every node of the statement that is an instance of one of ``types`` (from the shared
        index: no new walk)."""
        index = self._index
        for kind in types:
            for concrete in _subclasses(kind):
                nodes = index.get(concrete)
                if nodes:
                    yield from nodes

    def has(self, kind: type) -> bool:
        return next(self.find_all(kind), None) is not None

    def select_of(self, node: exp.Expression) -> exp.Select | None:
        """The nearest SELECT above ``node`` (sqlglot's ``parent_select``; a long climb, such as
        up an AND chain of thousands of terms, is remembered for the nodes it passed)."""
        known = self._selects
        passed = []
        current = node
        while True:
            parent = current.parent
            if parent is None or isinstance(parent, exp.Select):
                found = parent
                break
            passed.append(current)
            found = known.get(id(parent), _UNDECIDED)
            if found is not _UNDECIDED:
                break
            current = parent
        if len(passed) > _SHORT_CLIMB:
            for seen in passed:
                known[id(seen)] = found
        return found

    def predicate_owner(self, node: exp.Expression) -> exp.Expression | None:
        """The WHERE, HAVING or JOIN (for its ON) that ``node`` is part of, stopping at the
        enclosing query; None when the node is elsewhere (select list, ORDER BY…). Long climbs
        are remembered, as in :meth:`select_of`."""
        known = self._owners
        passed = []
        current = node
        while True:
            found = known.get(id(current), _UNDECIDED)
            if found is not _UNDECIDED:
                break
            parent = current.parent
            if parent is None:
                found = None
                break
            passed.append(current)
            found = _owner_step(current, parent)
            if found is not _UNDECIDED:
                break
            current = parent
        if len(passed) > _SHORT_CLIMB:
            for seen in passed:
                known[id(seen)] = found
        return found

    # -- findings -------------------------------------------------------------------------------

    def span(self, node: exp.Expression) -> tuple[int, int] | None:
        """Offsets of the first and last character of ``node`` in the text, from the token
        positions sqlglot keeps on identifiers, literals, functions and stars."""
        lo, hi = (self.tokens[0].start, self.tokens[-1].end) if self.tokens else (0, len(self.sql))
        probe: exp.Expression | None = node
        while probe is not None:
            start = end = None
            for sub in probe.walk():
                meta = sub._meta
                if meta and "start" in meta:
                    s, e = meta["start"], meta["end"]
                    if s < lo or e > hi:
                        continue  # a node sqlglot made up (a ``*`` it adds) carries a made-up position
                    if start is None or s < start:
                        start = s
                    if end is None or e > end:
                        end = e
            if start is not None:
                if self.tokens and probe is node:
                    start = self._leading_keywords(node, start)
                return start, end
            probe = probe.parent
        return None

    def _token_at(self, offset: int) -> int:
        """Index of the first token starting at or after ``offset``."""
        tokens = self.tokens
        lo, hi = 0, len(tokens)
        while lo < hi:
            mid = (lo + hi) // 2
            if tokens[mid].start < offset:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def _leading_keywords(self, node: exp.Expression, start: int) -> int:
        """Move ``start`` back over the keywords that open ``node`` but carry no position in
        the tree: a function's name and ``(`` (``CAST(``), ``(SELECT`` of a subquery,
        ``ORDER BY``, a leading ``NULL``/``TRUE``/``FALSE`` operand."""
        tokens = self.tokens
        i = self._token_at(start)
        kind = lambda j: tokens[j].token_type.name if 0 <= j < len(tokens) else ""  # noqa: E731
        if isinstance(node, (exp.Func, exp.Cast)) and kind(i - 1) == "L_PAREN" and i >= 2:
            return tokens[i - 2].start
        if isinstance(node, exp.Subquery):
            j = i - 1
            while kind(j) in ("SELECT", "DISTINCT", "ALL"):
                j -= 1
            if kind(j) == "L_PAREN":
                return tokens[j].start
            return tokens[j + 1].start if j + 1 < i else start
        if isinstance(node, exp.Order) and kind(i - 1) == "ORDER_BY":
            return tokens[i - 1].start
        if isinstance(node, exp.Binary) and isinstance(node.this, (exp.Null, exp.Boolean)) and kind(i - 2) in ("NULL", "TRUE", "FALSE"):
            return tokens[i - 2].start
        return start

    def finding(
        self,
        rule: Rule,
        node: exp.Expression | None,
        message: str,
        *,
        suggestion: str | None = None,
        severity: str | None = None,
        candidate: IndexCandidate | None = None,
        anchor: exp.Expression | None = None,
        at_start: bool = False,
    ) -> Finding:
        """A finding of ``rule`` located at ``anchor`` (or ``node``); ``at_start`` puts it at
        the statement's first keyword (for findings about the whole statement). While
        :attr:`brief`, the finding is only counted: it is not located."""
        if self.brief:
            return Finding(rule.code, rule.name, severity or rule.severity, message, 1, 1, None, self.statement)
        where = None
        if at_start:
            end = self.span(self.tree)
            where = (self.start, end[1] if end else self.start)
        elif node is not None or anchor is not None:
            where = self.span(anchor if anchor is not None else node)
        if where is None:
            where = self.span(self.tree) or (self.start, self.start)
        line, column = self.lines.locate(where[0])
        end_line, end_column = self.lines.locate(where[1])
        return Finding(
            rule.code,
            rule.name,
            severity or rule.severity,
            message,
            line,
            column,
            suggestion,
            self.statement,
            end_line,
            end_column,
            candidate,
        )

    def sql_of(self, node: exp.Expression) -> str:
        """``node`` as SQL of the statement's dialect (for messages and suggestions).

        Expressions without a query inside are generated in place (sqlglot's generator only
        rewrites query nodes); anything holding a query is generated from a copy. While
        :attr:`brief`, nothing is generated (the finding will not be listed)."""
        if self.brief:
            return "…"
        for sub in node.walk():
            if isinstance(sub, exp.Query):
                return node.sql(dialect=self.generator_dialect)
        return node.sql(dialect=self.generator_dialect, copy=False)

    # -- scopes ---------------------------------------------------------------------------------

    def sources(self, select: exp.Expression) -> dict[str, Source]:
        """The row sources of a SELECT (FROM and JOINs) by lower-cased alias or name."""
        key = id(select)
        found = self._sources.get(key)
        if found is not None:
            return found
        found = {}
        from_ = select.args.get("from_")
        items: list[exp.Expression] = []
        if from_ is not None and from_.this is not None:
            items.append(from_.this)
        for join in select.args.get("joins") or ():
            if join.this is not None:
                items.append(join.this)
        for item in items:
            source = self.source_of(item)
            found.setdefault(source.key, source)
        self._sources[key] = found
        return found

    def source_of(self, item: exp.Expression) -> Source:
        """What ``item`` (a FROM or JOIN entry) reads, remembered for the statement."""
        known = self._source_of.get(id(item))
        if known is None or known.node is not item:  # an id can be reused once a copy is freed
            known = self._source_of[id(item)] = self._read_source(item)
        return known

    def _read_source(self, item: exp.Expression) -> Source:
        alias = item.alias
        if isinstance(item, exp.Table) and isinstance(item.this, exp.Identifier):
            name = item.name
            db = item.db or None
            info = self.schema.find(name, db) if self.schema is not None else None
            return Source((alias or name).lower(), item, name, db, info)
        return Source((alias or item.alias_or_name or f"#{id(item)}").lower(), item)

    def resolve(self, column: exp.Column, select: exp.Expression | None = None) -> Source | None:
        """The source of ``select`` (default: the column's own SELECT) that ``column`` reads,
        or None when it cannot be told (unqualified with several sources and no schema)."""
        select = select if select is not None else self.select_of(column)
        if select is None:
            return None
        sources = self.sources(select)
        qualifier = column.table
        if qualifier:
            return sources.get(qualifier.lower())
        if len(sources) == 1:
            return next(iter(sources.values()))
        if self.schema is None:
            return None
        name = column.name
        owners = [s for s in sources.values() if s.info is not None and s.info.column(name) is not None]
        return owners[0] if len(owners) == 1 else None

    def column_info(self, column: exp.Column, select: exp.Expression | None = None):
        """(Source, ColumnInfo) of a column when the schema knows it, else None."""
        source = self.resolve(column, select)
        if source is None or source.info is None:
            return None
        info = source.info.column(column.name)
        return (source, info) if info is not None else None

    def is_large(self, source: Source) -> bool | None:
        """True when the schema's row estimate reaches ``settings.large_table_rows``; None when
        the size is unknown."""
        if source.info is None or source.info.row_estimate < 0:
            return None
        return source.info.row_estimate >= self.settings.large_table_rows


_SHORT_CLIMB = 8
"""Climbs up to this many ancestors are not remembered (cheaper to repeat than to store)."""
_UNDECIDED = object()
_QUERY_BOUNDARIES = (exp.Select, exp.SetOperation, exp.Subquery, exp.Update, exp.Delete)


def _owner_step(child: exp.Expression, parent: exp.Expression):
    """What ``parent`` says about the predicate owner of ``child``: the owner, None (a query
    boundary), or _UNDECIDED (ask the parent's own owner)."""
    if isinstance(parent, (exp.Where, exp.Having)):
        return parent
    if isinstance(parent, exp.Join) and child.arg_key == "on":
        return parent
    if isinstance(parent, _QUERY_BOUNDARIES):
        return None
    return _UNDECIDED


_SUBCLASSES: dict[type, tuple[type, ...]] = {}


def _subclasses(kind: type) -> tuple[type, ...]:
    """``kind`` and every subclass of it, computed once per kind (expression classes are all
    defined when sqlglot and its dialects are imported)."""
    found = _SUBCLASSES.get(kind)
    if found is None:
        seen: list[type] = []
        stack = [kind]
        while stack:
            current = stack.pop()
            if current not in seen:
                seen.append(current)
                stack.extend(current.__subclasses__())
        found = _SUBCLASSES[kind] = tuple(seen)
    return found


def conjuncts(condition: exp.Expression | None) -> list[exp.Expression]:
    """The AND-ed parts of a condition (or of a WHERE/HAVING clause), parentheses removed."""
    if isinstance(condition, (exp.Where, exp.Having)):
        condition = condition.this
    if condition is None:
        return []
    return operands(condition, exp.And)


def operands(node: exp.Expression, connector: type[exp.Connector]) -> list[exp.Expression]:
    """The parts of a chain of ``connector`` (``exp.And`` or ``exp.Or``), in order, parentheses
    removed; iterative, so deep chains do not recurse."""
    out: list[exp.Expression] = []
    stack = [node]
    while stack:
        item = stack.pop()
        while isinstance(item, exp.Paren):
            item = item.this
        if isinstance(item, connector):
            stack.append(item.expression)
            stack.append(item.this)
        else:
            out.append(item)
    return out


def is_constant(node: exp.Expression) -> bool:
    """True for literals, parameters, NULL, intervals and functions of those (no column, no
    subquery): the side of a predicate an index lookup can use as a key."""
    for sub in node.walk():
        if isinstance(sub, (exp.Column, exp.Subquery, exp.Select, exp.Star)):
            return False
    return True
