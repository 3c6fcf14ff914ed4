"""AS003 cartesian-join: a table in FROM (comma list) or JOIN that no condition connects to
the others, so every row pairs with every row.

Columns are tied to tables by qualifier, or by the schema when it is known; an unqualified
comparison that cannot be resolved is assumed to connect (no false alarms). Explicit
``CROSS JOIN``, ``NATURAL``/``USING`` joins, LATERAL, table functions and VALUES are not
reported, nor a source that yields at most one row (:mod:`..cardinality`: an aggregate without
GROUP BY, LIMIT 1, a CTE of those, a table whose unique key the conditions bind), which neither
needs a condition nor ties the others together.

>>> from aishell.engine.analyzer import analyze
>>> [f.code for f in analyze("SELECT a.x, b.y FROM a, b WHERE a.x = 1").findings]
['AS003']
>>> analyze("SELECT a.x, b.y FROM a, b WHERE a.id = b.a_id").findings
[]
"""

from __future__ import annotations

from typing import Iterator

from sqlglot import exp

from aishell.engine.analyzer.cardinality import source_yields_one_row
from aishell.engine.analyzer.context import conjuncts
from aishell.engine.analyzer.findings import Finding, Rule
from aishell.engine.analyzer.rules._common import first_of

RULE = Rule("AS003", "cartesian-join", "warning", "Join without a join condition")
_PAIRED = 50
"""Connected tables a suggestion looks through for a matching key column."""


def check(tree: exp.Expression, ctx) -> Iterator[Finding]:
    for select in ctx.find_all(exp.Select):
        joins = select.args.get("joins")
        if not joins:
            continue
        sources = ctx.sources(select)
        if len(sources) < 2:
            continue
        yield from _check_select(select, joins, sources, ctx)


def _check_select(select: exp.Select, joins: list[exp.Join], sources: dict, ctx) -> Iterator[Finding]:
    def find(key: str) -> str:
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    def union(keys) -> None:
        keys = [k for k in keys if k in parent]
        for other in keys[1:]:
            parent[find(other)] = find(keys[0])

    conditions: list[exp.Expression] = conjuncts(select.args.get("where"))
    for join in joins:
        conditions.extend(conjuncts(join.args.get("on")))
    single = {key for key, source in sources.items() if source_yields_one_row(source.node, ctx, conditions)}
    everything = [key for key in sources if key not in single]
    if len(everything) < 2:
        return  # the others yield at most one row each: pairing with them multiplies nothing
    parent = {key: key for key in everything}
    seen: list[str] = []
    from_ = select.args.get("from_")
    if from_ is not None and from_.this is not None:
        seen.append(ctx.source_of(from_.this).key)
    for join in joins:
        item = join.this
        key = ctx.source_of(item).key
        if (
            join.args.get("using")
            or join.args.get("method")
            or ((join.args.get("kind") or "").upper() == "CROSS" and not _after_comma(item, ctx))
            or _exempt(item)
        ):
            union(seen + [key])
        seen.append(key)
    if _exempt(from_.this if from_ is not None else None):
        union(everything)
    for condition in conditions:
        keys: set[str] = set()
        unknown = 0
        for column in condition.find_all(exp.Column):
            if isinstance(column.this, exp.Star):
                continue
            qualifier = column.table.lower() if column.table else ""
            if qualifier:
                if qualifier in sources:
                    keys.add(qualifier)
                continue
            if ctx.select_of(column) is not select:
                continue
            source = ctx.resolve(column, select)
            if source is None:
                unknown += 1
            else:
                keys.add(source.key)
        if unknown and len(keys) + unknown >= 2:
            union(everything)  # cannot tell which tables an unqualified comparison ties
            break
        union(sorted(keys))
    groups: dict[str, list[str]] = {}
    for key in everything:
        groups.setdefault(find(key), []).append(key)
    if len(groups) < 2:
        return
    main = groups[find(everything[0])]
    joined_to = first_of([_label(k) for k in main[:5]] + main[5:])
    for root, members in groups.items():
        if root == find(everything[0]):
            continue
        for key in members:
            source = sources[key]
            yield ctx.finding(
                RULE,
                source.node,
                f"{_label(key)} is joined to {joined_to} without a condition: "
                "every row pairs with every row (a cartesian product)",
                suggestion=None if ctx.brief else _suggest(source, [sources[k] for k in main[:_PAIRED]], ctx),
            )


def _label(key: str) -> str:
    """A source's name for messages: derived tables without an alias have only an internal key."""
    return "a subquery without alias" if key.startswith("#") else key


def _after_comma(item: exp.Expression, ctx) -> bool:
    """True when the table follows a comma in the text: some dialects (SQLite) parse
    ``FROM a, b`` as a CROSS JOIN, but only a written CROSS JOIN says the product is meant."""
    span = ctx.span(item)
    if span is None or not ctx.tokens:
        return False
    i = ctx._token_at(span[0])
    return i > 0 and ctx.tokens[i - 1].token_type.name == "COMMA"


def _exempt(item: exp.Expression | None) -> bool:
    if item is None:
        return False
    if isinstance(item, (exp.Lateral, exp.Unnest, exp.Values)):
        return True
    if isinstance(item, exp.Table) and not isinstance(item.this, exp.Identifier):
        return True  # table function such as generate_series(…)
    return isinstance(item, exp.Subquery) and bool(item.args.get("lateral"))


def _suggest(source, main: list, ctx) -> str:
    target = source.key
    if source.info is not None:
        for other in main:
            if other.info is None:
                continue
            pair = _matching_columns(source, other)
            if pair:
                return f"JOIN {ctx.sql_of(source.node)} ON {target}.{pair[0]} = {other.key}.{pair[1]}"
    anchor = main[0].key if main else "<table>"
    return (
        f"JOIN {ctx.sql_of(source.node)} ON {target}.<column> = {anchor}.<column>"
        "  -- or write CROSS JOIN if the product is intended"
    )


def _matching_columns(a, b) -> tuple[str, str] | None:
    a_cols = {c.name.lower(): c.name for c in a.info.columns}
    b_cols = {c.name.lower(): c.name for c in b.info.columns}
    for name_a, table_b in ((a.info.name.lower(), b), (b.info.name.lower(), a)):
        singular = name_a[:-1] if name_a.endswith("s") else name_a
        other_cols = b_cols if table_b is b else a_cols
        for candidate in (f"{singular}_id", f"{name_a}_id"):
            if candidate in other_cols:
                if table_b is b and "id" in a_cols:
                    return a_cols["id"], other_cols[candidate]
                if table_b is a and "id" in b_cols:
                    return other_cols[candidate], b_cols["id"]
    shared = [n for n in a_cols if n in b_cols and n not in ("id", "name", "created_at", "updated_at")]
    if shared:
        return a_cols[shared[0]], b_cols[shared[0]]
    return None
