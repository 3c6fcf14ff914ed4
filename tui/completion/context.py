"""What may come at the cursor: the kind of suggestion, read from the tokens before it.

The answer is a :class:`Want`: ``kind`` is one of

- ``table`` (after FROM, JOIN, UPDATE, INTO, TRUNCATE, COPY, ALTER/DROP TABLE, CREATE INDEX … ON),
  ``view``, ``matview``, ``function``, ``type_name`` (DROP/REFRESH of those), ``schema``
  (``SET search_path TO``, DROP SCHEMA);
- ``after_table`` (keywords that may follow a table: JOIN, WHERE…);
- ``column`` (expressions), ``join`` (right after ON in a join: conditions and aliases first),
  ``using`` (``USING (``: the columns both sides share), ``columns_of`` (the columns of one
  relation: ``INSERT INTO t (``, ``ALTER TABLE t DROP COLUMN``, ``CREATE INDEX … ON t (``);
- ``select`` (``FROM (``, ``EXISTS (``: a subquery starts), ``type`` (after ``::``,
  ``CAST(… AS`` and a column name in a column definition);
- ``keyword``, or ``nothing`` (an alias being typed, a new name being defined).

>>> from aishell.tui.sqltext import tokenize
>>> from aishell.tui.completion.scope import Walk
>>> def want(sql): return expect(Walk(tokenize(sql)), len(tokenize(sql))).kind
>>> want("SELECT * FROM orders o JOIN customers c ON "), want("SELECT 1::"), want("SELECT 1 AS ")
('join', 'type', 'nothing')
"""

from __future__ import annotations

from dataclasses import dataclass

from aishell.tui.completion.catalog import RESERVED
from aishell.tui.completion.scope import Walk
from aishell.tui.sqltext import Token

_TABLE_WORDS = {"FROM", "JOIN", "UPDATE", "INTO", "TABLE", "TRUNCATE", "COPY", "DESCRIBE", "LOCK"}
_COLUMN_WORDS = {"SELECT", "WHERE", "BY", "HAVING", "SET", "AND", "OR", "NOT", "RETURNING", "WHEN",
                 "THEN", "ELSE", "CASE", "DISTINCT", "VALUES", "IN", "BETWEEN", "ON", "IS", "LIKE",
                 "ILIKE", "LIMIT", "OFFSET", "OVER", "PARTITION", "FILTER"}
_SUBQUERY_OPENERS = {"FROM", "JOIN", "EXISTS", "LATERAL", "AS", "IN", "ANY", "ALL", "SOME"}


@dataclass(frozen=True, slots=True)
class Want:
    kind: str
    table: list[tuple[str, bool]] | None = None
    """For ``columns_of``: the relation's name as typed (parts, quoted)."""


def expect(walk: Walk, pos: int) -> Want:
    """What may be typed before token index ``pos`` (the first token not before the cursor)."""
    toks = walk.tokens
    g = walk.enclosing(pos)
    seq = walk.direct(g, 0, pos)
    prev = toks[seq[-1]] if seq else None
    words = [t.upper for t in toks[:6] if t.kind == "word"]
    first = words[0] if words else ""

    # Right after "(" or "," inside a parenthesised list that names columns.
    if g != -1 and (prev is None or prev.text == ","):
        inside = _list_of(walk, g)
        if inside is not None:
            return inside
    if prev is None:
        if g == -1:
            return Want("keyword")
        return Want("column")
    if prev.text == "::":
        return Want("type")
    up = prev.upper if prev.kind == "word" else prev.text
    if up == "AS":
        if g != -1 and g > 0 and toks[g - 1].upper == "CAST":
            return Want("type")
        if first == "CREATE" and g == -1:
            return Want("select")
        return Want("nothing")
    definition = _column_definition(walk, g, seq, first)
    if definition is not None:
        return definition
    special = _statement_forms(toks, seq, prev, up, first, words)
    if special is not None:
        return special

    # The nearest clause keyword decides.
    for n in range(len(seq) - 1, -1, -1):
        tok = toks[seq[n]]
        if tok.kind != "word":
            continue
        word = tok.upper
        if word == "TABLE" and n > 0 and toks[seq[n - 1]].upper == "CREATE":
            return Want("nothing") if tok is prev else Want("keyword")
        if word in _TABLE_WORDS:
            if tok is prev or (prev.text == "," and word == "FROM") or prev.upper in ("ONLY", "EXISTS"):
                return Want("table")
            return Want("after_table")
        if word == "ON" and _in_join(toks, seq[:n]):
            if tok is prev:
                return Want("join")
            return Want("column") if _expression_continues(prev) else Want("after_column")
        if word in _COLUMN_WORDS:
            if word in ("LIMIT", "OFFSET"):
                return Want("nothing") if tok is prev else Want("keyword")
            if tok is prev or word == "BY" or _expression_continues(prev):
                return Want("column")
            return Want("after_column")
    return Want("keyword")


def _expression_continues(prev: Token) -> bool:
    """After ``prev`` an operand is expected (an operator, a comma, a keyword like AND)."""
    return prev.kind in ("op", "punct") or prev.upper in RESERVED and prev.kind == "word"


def _in_join(toks: list[Token], before: list[int]) -> bool:
    """An ON whose clause opened with JOIN (not CREATE INDEX … ON, not ON CONFLICT)."""
    for i in reversed(before):
        up = toks[i].upper
        if up == "JOIN":
            return True
        if up in ("FROM", "INDEX", "WHERE", "SELECT", "CONFLICT", "GRANT", "REVOKE"):
            return False
    return False


def _name_before(toks: list[Token], end: int) -> tuple[list[tuple[str, bool]], int] | None:
    """The dotted name ending at token ``end`` (inclusive) and the index before it."""
    if end < 0 or toks[end].kind not in ("word", "quoted"):
        return None
    parts = [(toks[end].name, toks[end].kind == "quoted")]
    i = end - 1
    while i >= 1 and toks[i].text == "." and toks[i - 1].kind in ("word", "quoted"):
        parts.insert(0, (toks[i - 1].name, toks[i - 1].kind == "quoted"))
        i -= 2
    return parts, i


def _list_of(walk: Walk, g: int) -> Want | None:
    """Inside ``(`` at ``g``: what its items are, when they are names."""
    toks = walk.tokens
    opener = g - 1
    if opener < 0:
        return None
    before = toks[opener]
    up = before.upper if before.kind == "word" else before.text
    if up == "USING":
        return Want("using")
    if up in _SUBQUERY_OPENERS:
        return Want("select")
    found = _name_before(toks, opener)
    if found is None:
        return None
    parts, i = found
    lead = toks[i].upper if i >= 0 else ""
    if lead == "USING" and i >= 1:  # CREATE INDEX … ON t USING btree (
        inner = _name_before(toks, i - 1)
        if inner is not None and inner[1] >= 0 and toks[inner[1]].upper == "ON":
            return Want("columns_of", inner[0])
    if lead in ("INTO", "REFERENCES", "COPY") or (lead == "ON" and _index_statement(toks)):
        return Want("columns_of", parts)
    if lead == "TABLE" and i >= 1 and toks[i - 1].upper in ("CREATE", "TEMP", "TEMPORARY", "UNLOGGED", "EXISTS"):
        return Want("nothing")  # a new table's first column name
    return None


def _index_statement(toks: list[Token]) -> bool:
    words = [t.upper for t in toks[:4] if t.kind == "word"]
    return len(words) >= 2 and words[0] == "CREATE" and "INDEX" in words[1:3]


def _column_definition(walk: Walk, g: int, seq: list[int], first: str) -> Want | None:
    """In ``CREATE TABLE t (`` after a column's name, or after ``ADD [COLUMN] name`` and
    ``ALTER COLUMN name [SET DATA] TYPE``: a type."""
    toks = walk.tokens
    if g != -1 and first == "CREATE" and g >= 2:
        found = _name_before(toks, g - 1)
        if found is not None and found[1] >= 0 and toks[found[1]].upper in ("TABLE", "EXISTS"):
            cut = max((n for n, i in enumerate(seq) if toks[i].text == ","), default=-1)
            item = seq[cut + 1 :]
            if len(item) == 1 and toks[item[0]].kind in ("word", "quoted") and toks[item[0]].upper not in ("PRIMARY", "CONSTRAINT", "UNIQUE", "CHECK", "FOREIGN"):
                return Want("type")
            return Want("nothing") if not item else None
    if first == "ALTER" and seq:
        last = toks[seq[-1]]
        if last.upper == "TYPE":
            return Want("type")
        if len(seq) >= 2 and last.kind in ("word", "quoted"):
            before = toks[seq[-2]].upper
            if before == "ADD" or (before == "COLUMN" and len(seq) >= 3 and toks[seq[-3]].upper == "ADD"):
                if last.upper != "COLUMN":
                    return Want("type")
    return None


def _statement_forms(toks: list[Token], seq: list[int], prev: Token, up: str, first: str, words: list[str]) -> Want | None:
    """Statements whose shape decides: SET search_path, ALTER TABLE … COLUMN, DROP/REFRESH of a
    kind of object, CREATE INDEX … ON."""
    if first == "SET" and len(words) >= 2 and words[1] == "SEARCH_PATH" and up in ("TO", "=", ","):
        return Want("schema")
    if first == "DROP" and len(words) >= 2:
        what = words[1]
        if up in ("IF", "NOT"):
            return Want("keyword")
        if up == what or up in ("EXISTS", ",") or (what == "MATERIALIZED" and up == "VIEW"):
            if what == "VIEW":
                return Want("view")
            if what == "MATERIALIZED":
                return Want("matview") if up != "MATERIALIZED" else Want("keyword", None)
            if what == "FUNCTION":
                return Want("function")
            if what == "TYPE":
                return Want("type_name")
            if what == "SCHEMA":
                return Want("schema")
    if first == "REFRESH" and up == "VIEW":
        return Want("matview")
    if first == "CREATE" and up == "ON" and _index_statement(toks):
        return Want("table")
    if first == "ALTER" and len(words) >= 2 and words[1] == "TABLE":
        # ALTER TABLE [IF EXISTS] [ONLY] name …
        i = 2
        names = [t for t in toks if t.kind in ("word", "quoted")]
        while i < len(names) and names[i].upper in ("IF", "EXISTS", "ONLY"):
            i += 1
        if up in ("TABLE", "EXISTS", "ONLY"):
            return Want("table")
        target_at = toks.index(names[i]) if i < len(names) else None
        if target_at is not None:
            found = _name_at(toks, target_at)
            if up == "COLUMN" or (up in ("ALTER", "DROP", "RENAME") and toks.index(prev) > found[1]):
                before = toks[toks.index(prev) - 1].upper if toks.index(prev) else ""
                if up != "COLUMN" or before in ("ALTER", "DROP", "RENAME"):
                    return Want("columns_of", found[0])
    return None


def _name_at(toks: list[Token], i: int) -> tuple[list[tuple[str, bool]], int]:
    """The dotted name starting at token ``i`` and the index of its last token."""
    parts = [(toks[i].name, toks[i].kind == "quoted")]
    while i + 2 < len(toks) and toks[i + 1].text == "." and toks[i + 2].kind in ("word", "quoted"):
        parts.append((toks[i + 2].name, toks[i + 2].kind == "quoted"))
        i += 2
    return parts, i


__all__ = ["Want", "expect"]
