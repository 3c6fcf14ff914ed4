"""Which relations are in scope at the cursor: a tolerant walk over the statement's tokens.

The statement is half typed, so nothing here needs it to parse. Parentheses make groups; a group
that starts with SELECT (or WITH, VALUES) is a query level with its own FROM. The cursor's level
is its innermost enclosing query; its relations are the FROM/JOIN items of the part of that level
the cursor is in (``INSERT INTO t … SELECT … FROM s``: the SELECT sees ``s``, never ``t``), text
after the cursor included. Outer levels stay reachable through their aliases (correlated
subqueries). A CTE's or subquery's columns come from sqlglot when its body parses, else from a
token reading of its select list.

>>> from aishell.tui.sqltext import tokenize
>>> sql = "SELECT  FROM orders o JOIN customers AS c ON true"
>>> walk = Walk(tokenize(sql)); [(r.name, r.alias) for r in walk.scope(sql, 7).relations]
[('orders', 'o'), ('customers', 'c')]
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

from aishell.tui.completion.catalog import RESERVED
from aishell.tui.sqltext import Token

_QUERY_START = {"SELECT", "WITH", "VALUES"}
_SEGMENT_START = {"SELECT", "INSERT", "UPDATE", "DELETE", "UNION", "INTERSECT", "EXCEPT", "MERGE"}
_CLAUSES = {"FROM", "JOIN", "WHERE", "GROUP", "ORDER", "HAVING", "LIMIT", "OFFSET", "ON", "USING",
            "SET", "RETURNING", "WINDOW", "SELECT", "UNION", "INTERSECT", "EXCEPT", "VALUES"}
_NOT_ALIAS = RESERVED | {"ONLY", "TABLESAMPLE", "WINDOW", "NATURAL"}


@dataclass(slots=True)
class Relation:
    """A relation in scope: ``parts`` as typed (name, quoted), its alias (folded) and, for a CTE
    or subquery, its output columns."""

    parts: list[tuple[str, bool]]
    at: int = 0
    """Index of its first token (whether it comes before the cursor)."""
    alias: str | None = None
    columns: list[str] | None = None
    """Known here (CTE, subquery, function); None: look the relation up in the catalog."""

    @property
    def name(self) -> str:
        return ".".join(p for p, _ in self.parts)


@dataclass(slots=True)
class Scope:
    relations: list[Relation] = field(default_factory=list)
    """The cursor's level, in FROM order."""
    outer: list[Relation] = field(default_factory=list)
    """Enclosing levels, innermost first (reached only through a qualifier)."""
    ctes: dict[str, list[str]] = field(default_factory=dict)
    """CTE name as typed (lower case unless quoted) -> its output columns."""


class Walk:
    """The statement's tokens with their paren structure: ``group[i]`` is the index of the ``(``
    directly enclosing token ``i`` (-1 at the top; a paren belongs to the group around it) and
    ``close[j]`` the index of the ``)`` matching ``(`` at ``j`` (len(tokens) while open)."""

    __slots__ = ("tokens", "group", "close")

    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.group: list[int] = []
        self.close: dict[int, int] = {}
        stack: list[int] = []
        for i, tok in enumerate(tokens):
            if tok.text == ")" and stack:
                self.close[stack.pop()] = i
            self.group.append(stack[-1] if stack else -1)
            if tok.text == "(":
                stack.append(i)
        for j in stack:
            self.close[j] = len(tokens)

    def enclosing(self, pos: int) -> int:
        """The innermost ``(`` still open before token index ``pos`` (-1: top level)."""
        if pos == 0:
            return -1
        last = pos - 1
        return last if self.tokens[last].text == "(" else self.group[last]

    def ancestors(self, g: int) -> list[int]:
        """``g`` and the groups around it, innermost first, ending with -1."""
        out = [g]
        while g != -1:
            g = self.group[g]
            out.append(g)
        return out

    def is_query(self, g: int) -> bool:
        return g == -1 or (g + 1 < len(self.tokens) and self.tokens[g + 1].upper in _QUERY_START)

    def level_of(self, g: int) -> int:
        """The innermost query level at or around group ``g``."""
        for a in self.ancestors(g):
            if self.is_query(a):
                return a
        return -1

    def direct(self, g: int, start: int = 0, end: int | None = None) -> list[int]:
        """Indexes of the tokens directly in group ``g`` between ``start`` and ``end``."""
        stop = len(self.tokens) if end is None else end
        lo = max(start, g + 1)
        hi = min(stop, self.close.get(g, len(self.tokens))) if g != -1 else stop
        return [i for i in range(lo, hi) if self.group[i] == g]

    def scope(self, text: str, offset: int) -> Scope:
        """What is in scope for the cursor at character ``offset`` of ``text`` (the statement)."""
        pos = sum(1 for t in self.tokens if t.end <= offset)
        return self.scope_at(text, pos)

    def scope_at(self, text: str, pos: int) -> Scope:
        scope = Scope()
        levels = [g for g in self.ancestors(self.enclosing(pos)) if self.is_query(g)]
        for g in reversed(levels):
            self._ctes(text, g, scope.ctes)
        for n, g in enumerate(levels):
            found = self._relations(text, g, pos)
            if n == 0:
                scope.relations = found
            else:
                scope.outer.extend(found)
        return scope

    def _segment(self, g: int, pos: int) -> tuple[int, int]:
        """Token range of the part of level ``g`` that holds token index ``pos``."""
        start, end = g + 1, self.close.get(g, len(self.tokens)) if g != -1 else len(self.tokens)
        for i in self.direct(g, start, end):
            up = self.tokens[i].upper
            if up in _SEGMENT_START and not (up == "SELECT" and i > 0 and self.tokens[i - 1].upper in ("UNION", "INTERSECT", "EXCEPT", "ALL", "DISTINCT")):
                if i < pos:
                    start = i
                elif i >= pos:
                    end = i
                    break
        return start, end

    def _relations(self, text: str, g: int, pos: int) -> list[Relation]:
        start, end = self._segment(g, pos)
        idx = self.direct(g, start, end)
        toks = self.tokens
        out: list[Relation] = []
        clause = ""
        k = 0
        while k < len(idx):
            i = idx[k]
            up = toks[i].upper if toks[i].kind == "word" else toks[i].text
            if up in _CLAUSES or up in ("UPDATE", "INTO", "TABLE"):
                clause = up
            item = up in ("FROM", "JOIN", "UPDATE", "INTO") or (up == "," and clause == "FROM") or (
                up == "USING" and clause == "USING" and k + 1 < len(idx) and toks[idx[k + 1]].text != "(")
            if not item:
                k += 1
                continue
            k += 1
            while k < len(idx) and toks[idx[k]].upper in ("ONLY", "LATERAL"):
                k += 1
            if k >= len(idx):
                break
            first = toks[idx[k]]
            if first.text == "(":
                body = text[first.end : toks[self.close[idx[k]]].start] if self.close[idx[k]] < len(toks) else text[first.end :]
                rel = Relation([], idx[k], columns=output_columns(body))
                k += 1
                if k < len(idx) and toks[idx[k]].text == ")":
                    k += 1
            elif first.kind in ("word", "quoted") and first.upper not in _NOT_ALIAS:
                parts = [(first.name, first.kind == "quoted")]
                first_at = idx[k]
                k += 1
                while k + 1 < len(idx) and toks[idx[k]].text == "." and toks[idx[k + 1]].kind in ("word", "quoted"):
                    nxt = toks[idx[k + 1]]
                    parts.append((nxt.name, nxt.kind == "quoted"))
                    k += 2
                rel = Relation(parts, first_at)
                if k < len(idx) and toks[idx[k]].text == "(":  # INTO t (columns), or a function
                    if up != "INTO":
                        rel.columns = []
                    k += 1
                    if k < len(idx) and toks[idx[k]].text == ")":
                        k += 1
            else:
                continue
            if k < len(idx) and toks[idx[k]].upper == "AS":
                k += 1
            if k < len(idx) and toks[idx[k]].kind in ("word", "quoted") and toks[idx[k]].upper not in _NOT_ALIAS:
                alias = toks[idx[k]]
                rel.alias = alias.name if alias.kind == "quoted" else alias.name.lower()
                k += 1
            if rel.parts or rel.alias:
                out.append(rel)
        return out

    def _ctes(self, text: str, g: int, ctes: dict[str, list[str]]) -> None:
        """CTEs defined by a WITH directly in level ``g``."""
        toks = self.tokens
        idx = self.direct(g)
        for n, i in enumerate(idx):
            if toks[i].upper != "WITH":
                continue
            k = n + 1
            if k < len(idx) and toks[idx[k]].upper == "RECURSIVE":
                k += 1
            while k < len(idx) and toks[idx[k]].kind in ("word", "quoted"):
                name_tok = toks[idx[k]]
                name = name_tok.name if name_tok.kind == "quoted" else name_tok.name.lower()
                k += 1
                explicit: list[str] = []
                if k < len(idx) and toks[idx[k]].text == "(":
                    j = idx[k]
                    explicit = [t.name for t in toks[j + 1 : self.close[j]] if t.kind in ("word", "quoted")]
                    k += 2  # "(" and ")"
                if k < len(idx) and toks[idx[k]].upper == "AS":
                    k += 1
                while k < len(idx) and toks[idx[k]].upper in ("NOT", "MATERIALIZED"):
                    k += 1
                if k < len(idx) and toks[idx[k]].text == "(":
                    j = idx[k]
                    stop = self.close[j]
                    body = text[toks[j].end : toks[stop].start] if stop < len(toks) else text[toks[j].end :]
                    ctes[name] = explicit or output_columns(body)
                    k += 2
                else:
                    ctes[name] = explicit
                    break
                if k < len(idx) and toks[idx[k]].text == ",":
                    k += 1
                    continue
                break


@lru_cache(maxsize=256)
def _parsed_columns(body: str) -> tuple[str, ...] | None:
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(body)
    except (SqlglotError, ValueError, RecursionError):
        return None
    if isinstance(tree, exp.Query):
        return tuple(name for name in tree.named_selects if name and name != "*")
    return None


def output_columns(body: str) -> list[str]:
    """Output names of a SELECT (a CTE or subquery body): sqlglot's reading when it parses, else
    the select list read from tokens (``x AS y`` gives y, ``t.x`` gives x)."""
    parsed = _parsed_columns(body.strip())
    if parsed is not None:
        return list(parsed)
    from aishell.tui.sqltext import tokenize

    names: list[str] = []
    depth, last = 0, None
    started = False
    for tok in tokenize(body):
        if not started:
            started = tok.upper == "SELECT"
            continue
        if tok.text == "(":
            depth += 1
        elif tok.text == ")":
            depth -= 1
        elif depth == 0 and (tok.text == "," or tok.upper == "FROM"):
            if last is not None:
                names.append(last)
            last = None
            if tok.upper == "FROM":
                return names
        elif depth == 0 and tok.kind in ("word", "quoted") and tok.upper not in ("DISTINCT", "ALL", "AS"):
            last = tok.name
    if last is not None:
        names.append(last)
    return names


__all__ = ["Walk", "Scope", "Relation", "output_columns"]
