"""Clause-aware SQL completion, as pgcli does it: what may come at the cursor, ranked.

Pure logic over the forgiving lexer in :mod:`tui.sqltext` (the statement is always half typed),
with a plain :class:`Catalog` the app builds from the session's schema. One concept a module:
:mod:`.catalog` (names, case folding, quoting), :mod:`.scope` (which relations are in scope at
the cursor), :mod:`.context` (what kind of thing may be typed there), :mod:`.suggest` (the
items: columns, join conditions, ``*`` expanded…) and :mod:`.ranking` (prefix, kind, use).

Nothing is offered inside a string, a comment or a ``$$`` body, nor right after ``AS`` (an alias
is being typed); inside an open ``"`` the names are offered quoted.

>>> cat = Catalog({"orders": ["id", "customer_id", "total"], "customers": ["id", "email"]},
...               foreign_keys=(("orders", ("customer_id",), "customers", ("id",)),))
>>> [c.text for c in complete("SELECT * FROM ord", 17, cat).candidates][:1]
['orders']
>>> [c.text for c in complete("SELECT o.to FROM orders o", 11, cat).candidates][:1]
['total']
>>> [c.text for c in complete("SELECT  FROM orders o", 7, cat).candidates][:4]
['id', 'customer_id', 'total', 'o']
>>> sql = "SELECT * FROM orders o JOIN customers c ON "
>>> [c.text for c in complete(sql, len(sql), cat).candidates][:1]
['o.customer_id = c.id']
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Iterable, Mapping

from aishell.tui.completion.catalog import FUNCTIONS, KEYWORDS, Catalog, quote_always
from aishell.tui.completion.context import Want, expect
from aishell.tui.completion.ranking import Candidate, Item, frequency_hook, rank
from aishell.tui.completion.scope import Scope, Walk
from aishell.tui.completion import suggest
from aishell.tui.sqltext import Token, split_statements, tokenize


@dataclass(frozen=True, slots=True)
class Completion:
    """Candidates replacing ``text[start:offset]`` (the typed ``prefix``); ``context`` names what
    was recognised (table, column, join, using, columns_of, qualified, star, type, schema,
    select, keyword, after_table, after_column, nothing)."""

    start: int
    prefix: str
    context: str
    candidates: list[Candidate]


_IDENTIFIER_KINDS = {"table", "view", "matview", "cte", "schema", "column", "alias"}
_CLOSED_STRING = re.compile(r"'(?:[^']|'')*'", re.DOTALL)
_CLOSED_QUOTED = re.compile(r'"(?:[^"]|"")*"', re.DOTALL)


def complete(
    text: str,
    offset: int,
    catalog: Catalog,
    *,
    frequency: Callable[[str], float] | Mapping[str, float] | None = None,
    limit: int = 60,
) -> Completion:
    """Candidates for the cursor at ``offset`` in ``text`` (any buffer, several statements)."""
    offset = max(0, min(offset, len(text)))
    stmt_start, stmt_end = _statement_bounds(text, offset)
    statement = text[stmt_start:stmt_end]
    local = offset - stmt_start
    tokens = tokenize(statement)
    if any(t.start < local < t.end and t.kind == "quoted" for t in tokens):
        # The cursor inside "…": the quote typed so far ends at the cursor (else an open quote
        # would swallow the rest of the statement, FROM and all).
        tokens = tokenize(statement[:local]) + [
            Token(t.kind, t.text, t.start + local, t.end + local) for t in tokenize(statement[local:])
        ]
    freq = frequency_hook(frequency)

    def done(start: int, prefix: str, context: str, items: Iterable[Item] = ()) -> Completion:
        return Completion(stmt_start + start, prefix, context, rank(items, prefix, context, freq, limit))

    # Where the cursor is: inside or at the end of which token.
    pos = 0
    prefix, prefix_start, quoted = "", local, False
    for n, tok in enumerate(tokens):
        if tok.end < local or (tok.end == local and not _open(tok) and tok.kind not in ("word", "quoted") and tok.text != "*"):
            pos = n + 1
            continue
        if tok.start >= local:
            break
        # the cursor is inside tok, or right at its end
        if tok.kind in ("string", "comment") and (tok.end > local or _open(tok)):
            return done(local, "", "nothing")
        if tok.kind in ("word", "quoted") or tok.text == "*":
            prefix, prefix_start = statement[tok.start : local], tok.start
            quoted = tok.kind == "quoted"
            pos = n
        else:
            pos = n + 1
        break

    # A qualifier before the prefix: ``alias.``, ``schema.table.``.
    parts: list[tuple[str, bool]] = []
    ctx_pos = pos
    while ctx_pos >= 2 and tokens[ctx_pos - 1].text == "." and tokens[ctx_pos - 1].end == (
        prefix_start if ctx_pos == pos else tokens[ctx_pos].start
    ) and tokens[ctx_pos - 2].kind in ("word", "quoted"):
        name_tok = tokens[ctx_pos - 2]
        parts.insert(0, (name_tok.name, name_tok.kind == "quoted"))
        ctx_pos -= 2

    walk = Walk(tokens)
    if quoted:
        inner = prefix[1:]
        if inner.endswith('"') and _CLOSED_QUOTED.fullmatch(prefix):
            inner = inner[:-1].replace('""', '"')
    want = expect(walk, ctx_pos)
    scope = walk.scope_at(statement, ctx_pos)

    if prefix == "*":
        if want.kind not in ("column", "after_column") or not walk.is_query(walk.enclosing(ctx_pos)):
            return done(prefix_start, prefix, "nothing")
        qualifier = catalog.fold(*parts[-1]) if parts else None
        start = tokens[ctx_pos].start if parts else prefix_start
        items = suggest.star_expansion(scope.relations, qualifier, catalog, scope.ctes)
        return Completion(stmt_start + start, statement[start:local], "star", rank(items, "", "star", freq, limit))

    if parts:
        items = suggest.qualified(parts, scope, catalog)
        context = "qualified"
    else:
        context = want.kind
        if context == "nothing":
            return done(prefix_start, prefix, context)
        items = _items(want, scope, catalog, ctx_pos, prefix, freq)
    if quoted:
        items = [Item(i.name, quote_always(i.name), i.kind, i.detail) for i in items if i.kind in _IDENTIFIER_KINDS]
        result = rank(items, inner, context, freq, limit)
        return Completion(stmt_start + prefix_start, prefix, context, result)
    return done(prefix_start, prefix, context, items)


def _items(want: Want, scope: Scope, catalog: Catalog, pos: int, prefix: str, freq: Callable[[str], float]) -> list[Item]:
    kind = want.kind
    if kind == "table":
        return list(suggest.relations(catalog, scope.ctes, prefix, freq))
    if kind in ("view", "matview"):
        return suggest.catalog_items(catalog, kind)
    if kind == "schema":
        return [Item(s, catalog.quote(s), "schema") for s in catalog.schemas]
    if kind == "function":
        return [Item(f, catalog.quote(f), "function") for f in catalog.user_functions]
    if kind == "type_name":
        return [Item(t, catalog.quote(t), "type") for t in catalog.user_types]
    if kind == "type":
        return list(suggest.types(catalog))
    if kind == "columns_of":
        key = catalog.resolve(want.table or [])
        return [Item(c, catalog.quote(c), "column", key or "") for c in catalog.columns(key)]
    if kind == "using":
        return suggest.using_columns(scope.relations, pos, catalog, scope.ctes)
    if kind == "select":
        return list(suggest.keywords(catalog, ("SELECT", "WITH", "VALUES")))
    if kind == "join":
        return [
            *suggest.join_conditions(scope.relations, pos, catalog, scope.ctes),
            *suggest.join_aliases(scope, catalog),
            *suggest.scope_columns(scope, catalog),
            *suggest.functions(catalog),
            *suggest.keywords(catalog),
        ]
    if kind == "column":
        return [*suggest.scope_columns(scope, catalog), *suggest.functions(catalog), *suggest.keywords(catalog)]
    return [*suggest.keywords(catalog), *suggest.functions(catalog)]


def _open(tok: Token) -> bool:
    """A string, comment or quoted name the text ends inside of (the cursor at its end is in it)."""
    text = tok.text
    if tok.kind == "comment":
        return text.startswith("--") or not (len(text) >= 4 and text.endswith("*/"))
    if tok.kind == "string":
        if text.startswith("'"):
            return not _CLOSED_STRING.fullmatch(text)
        tag = text[: text.index("$", 1) + 1] if text.count("$") >= 2 else text
        return not (len(text) >= 2 * len(tag) and text.endswith(tag))
    if tok.kind == "quoted":
        return text.startswith('"') and not _CLOSED_QUOTED.fullmatch(text)
    return False


def _statement_bounds(text: str, offset: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for stmt in split_statements(text):
        if stmt.end < offset and text[stmt.end:offset].lstrip().startswith(";"):
            start = text.index(";", stmt.end) + 1
        elif stmt.start > offset:
            end = stmt.start
            break
    return start, end


def frequencies_from_statements(statements: list[str]) -> dict[str, float]:
    """How often each identifier appears in past statements: the ranking hook's data."""
    counts: dict[str, float] = {}
    for sql in statements:
        for tok in tokenize(sql):
            if tok.kind in ("word", "quoted"):
                key = tok.name.lower()
                counts[key] = counts.get(key, 0.0) + 1.0
    return counts


__all__ = ["Catalog", "Candidate", "Completion", "complete", "frequencies_from_statements", "KEYWORDS", "FUNCTIONS"]
