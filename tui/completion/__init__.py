"""Clause-aware SQL completion: what may come at the cursor, ranked.

Pure logic over the forgiving lexer in :mod:`tui.sqltext` (the statement is always half typed),
with a plain :class:`Catalog` the app builds from the session's schema. Rules, as pgcli does:

- after ``FROM``/``JOIN``/``INTO``/``UPDATE``/``TABLE``: tables (and CTE names, schemas);
- after ``alias.``: the columns of the table, CTE or subquery that alias names;
- in ``SELECT``/``WHERE``/``ON``/``GROUP BY``/``ORDER BY``/``HAVING``/``SET``: the columns of the
  tables in scope (aliases and CTEs resolved over the whole statement, also text after the
  cursor), then functions and keywords;
- anywhere else: keywords and functions.

Candidates that start with the typed prefix come first, then those containing it; within each
group the context's preferred kinds come first, then how often the user used the name (the
``frequency`` hook, fed from memory), then the name.

>>> cat = Catalog({"orders": ["id", "customer_id", "total"], "customers": ["id", "email"]})
>>> [c.text for c in complete("SELECT * FROM ord", 17, cat).candidates][:1]
['orders']
>>> [c.text for c in complete("SELECT o.to FROM orders o", 11, cat).candidates][:1]
['total']
>>> [c.text for c in complete("SELECT  FROM orders o", 7, cat).candidates][:4]
['id', 'customer_id', 'total', 'o']
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Callable, Mapping

from aishell.tui.sqltext import Token, split_statements, tokenize

KEYWORDS = (
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "IS", "NULL", "LIKE", "ILIKE", "BETWEEN",
    "EXISTS", "JOIN", "LEFT", "RIGHT", "INNER", "OUTER", "FULL", "CROSS", "ON", "USING", "AS",
    "GROUP BY", "ORDER BY", "HAVING", "LIMIT", "OFFSET", "DISTINCT", "UNION", "UNION ALL",
    "INTERSECT", "EXCEPT", "WITH", "RECURSIVE", "CASE", "WHEN", "THEN", "ELSE", "END", "ASC",
    "DESC", "NULLS FIRST", "NULLS LAST", "INSERT INTO", "VALUES", "UPDATE", "SET", "DELETE FROM",
    "RETURNING", "CREATE TABLE", "CREATE INDEX", "CREATE VIEW", "ALTER TABLE", "DROP TABLE",
    "DROP INDEX", "TRUNCATE", "PRIMARY KEY", "FOREIGN KEY", "REFERENCES", "DEFAULT", "UNIQUE",
    "CHECK", "CONSTRAINT", "BEGIN", "COMMIT", "ROLLBACK", "EXPLAIN", "ANALYZE", "OVER",
    "PARTITION BY", "WINDOW", "FILTER", "LATERAL", "TRUE", "FALSE", "CAST", "INTERVAL",
    "ON CONFLICT", "DO NOTHING", "DO UPDATE", "VACUUM", "FETCH FIRST", "ROWS ONLY",
)
FUNCTIONS = (
    "count", "sum", "avg", "min", "max", "coalesce", "nullif", "greatest", "least", "lower",
    "upper", "length", "substring", "substr", "trim", "replace", "concat", "round", "floor",
    "ceil", "abs", "now", "current_date", "current_timestamp", "date_trunc", "extract",
    "to_char", "to_date", "date", "datetime", "strftime", "julianday", "string_agg",
    "group_concat", "array_agg", "json_agg", "jsonb_agg", "json_extract", "row_number", "rank",
    "dense_rank", "lag", "lead", "first_value", "last_value", "ntile", "percentile_cont",
    "generate_series", "random", "md5", "split_part", "position", "regexp_replace", "age",
    "ifnull", "iif", "printf", "typeof", "unnest", "exists",
)

_TABLE_WORDS = {"FROM", "JOIN", "INTO", "UPDATE", "TABLE", "USING_TABLE", "DESCRIBE"}
_COLUMN_WORDS = {"SELECT", "WHERE", "ON", "BY", "HAVING", "SET", "AND", "OR", "NOT", "RETURNING",
                 "WHEN", "THEN", "ELSE", "CASE", "DISTINCT", "USING", "VALUES", "IN", "BETWEEN"}
_CLAUSE_WORDS = _TABLE_WORDS | _COLUMN_WORDS | {"LIMIT", "OFFSET", "WITH", "AS", "UNION",
                                                 "EXCEPT", "INTERSECT", "VALUES", "LATERAL"}
_RESERVED = {w for k in KEYWORDS for w in k.split()} | {"LIMIT", "OFFSET", "NATURAL", "LATERAL"}
_SIMPLE = re.compile(r"^[a-z_][a-z0-9_$]*$")


@dataclass(slots=True)
class Catalog:
    """What the database has, as plain data. ``tables`` maps a table name as the database spells
    it (``table`` in the default schema, ``schema.table`` elsewhere) to its column names in order."""

    tables: Mapping[str, list[str]] = field(default_factory=dict)
    schemas: list[str] = field(default_factory=list)
    functions: tuple[str, ...] = FUNCTIONS
    keywords: tuple[str, ...] = KEYWORDS

    def columns_of(self, name: str) -> list[str] | None:
        """Columns of ``name`` (``table`` or ``schema.table``, any case), or None when unknown."""
        if name in self.tables:
            return list(self.tables[name])
        lowered = name.lower()
        short = lowered.rsplit(".", 1)[-1]
        fallback = None
        for key, cols in self.tables.items():
            if key.lower() == lowered:
                return list(cols)
            if fallback is None and key.lower().rsplit(".", 1)[-1] == short:
                fallback = list(cols)
        return fallback


@dataclass(frozen=True, slots=True)
class Candidate:
    """One completion: the text to insert, its kind (table, column, cte, alias, schema,
    function, keyword) and a short detail (the table a column belongs to)."""

    text: str
    kind: str
    detail: str = ""
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class Completion:
    """Candidates replacing ``text[start:offset]`` (the typed ``prefix``); ``context`` names the
    clause kind that was recognised (table, column, qualified, keyword)."""

    start: int
    prefix: str
    context: str
    candidates: list[Candidate]


@dataclass(slots=True)
class _Scope:
    aliases: dict[str, str] = field(default_factory=dict)
    """alias (lower) -> table name as written."""
    tables: list[str] = field(default_factory=list)
    ctes: dict[str, list[str]] = field(default_factory=dict)
    """CTE or subquery alias (lower) -> its output column names."""


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
    before = [t for t in tokens if t.end <= local]
    prefix, qualifier, prefix_start = _prefix(statement, local, before)
    if prefix and before and before[-1].end == local:
        before = before[:-1]
    if qualifier is not None:
        before = before[:-2] if len(before) >= 2 else []
    scope = _scope(statement, tokens)
    freq = _frequency(frequency)
    if qualifier is not None:
        context = "qualified"
        pool = _qualified(qualifier, scope, catalog)
    else:
        context = _context(before)
        pool = _pool(context, scope, catalog, before)
    ranked = _rank(pool, prefix, context, freq)
    return Completion(stmt_start + prefix_start, prefix, context, ranked[:limit])


def _statement_bounds(text: str, offset: int) -> tuple[int, int]:
    start, end = 0, len(text)
    for stmt in split_statements(text):
        if stmt.end < offset and text[stmt.end:offset].lstrip().startswith(";"):
            start = text.index(";", stmt.end) + 1
        elif stmt.start > offset:
            end = stmt.start
            break
    return start, end


def _prefix(statement: str, local: int, before: list[Token]) -> tuple[str, str | None, int]:
    prefix, start = "", local
    if before and before[-1].end == local and before[-1].kind in ("word", "quoted"):
        prefix, start = before[-1].name, before[-1].start
        rest = before[:-1]
    else:
        rest = before
    qualifier = None
    if len(rest) >= 2 and rest[-1].text == "." and rest[-1].end == start and rest[-2].kind in ("word", "quoted"):
        qualifier = rest[-2].name
    return prefix, qualifier, start


def _context(before: list[Token]) -> str:
    depth = 0
    prev = before[-1] if before else None
    for tok in reversed(before):
        if tok.text == ")":
            depth += 1
            continue
        if tok.text == "(":
            if depth == 0:
                return "column" if prev is not None else "keyword"
            depth -= 1
            continue
        if depth or tok.kind != "word":
            continue
        word = tok.upper
        if word in _TABLE_WORDS:
            if prev is tok or (prev is not None and prev.text == ","):
                return "table"
            return "after_table"
        if word in _COLUMN_WORDS:
            if word == "BY" or prev is tok or prev.kind in ("op", "punct") or prev.upper in _RESERVED:
                return "column"
            return "after_column"
        if word in ("LIMIT", "OFFSET"):
            return "keyword"
    return "keyword"


def _scope(statement: str, tokens: list[Token]) -> _Scope:
    scope = _Scope()
    words = tokens
    n = len(words)
    i = 0
    while i < n:
        tok = words[i]
        up = tok.upper if tok.kind == "word" else ""
        if up == "WITH" or (up == "RECURSIVE" and i and words[i - 1].upper == "WITH"):
            i += 1
            continue
        # CTE: name [(cols)] AS ( ... )
        if tok.kind in ("word", "quoted") and i + 1 < n and (
            (words[i + 1].upper == "AS" and i + 2 < n and words[i + 2].text == "(")
            or (words[i + 1].text == "(" and _is_cte_collist(words, i + 1))
        ) and _in_with(words, i):
            name = tok.name.lower()
            j = i + 1
            explicit: list[str] = []
            if words[j].text == "(":
                close = _match(words, j)
                explicit = [t.name for t in words[j + 1 : close] if t.kind in ("word", "quoted")]
                j = close + 1
            if j < n and words[j].upper == "AS":
                j += 1
            if j < n and words[j].text == "(":
                close = _match(words, j)
                body = statement[words[j].end : words[close].start] if close < n else statement[words[j].end :]
                scope.ctes[name] = explicit or _output_columns(body)
                i = close + 1
                continue
        if up in ("FROM", "JOIN", "UPDATE", "INTO") or (tok.text == "," and _in_from(words, i)):
            j = i + 1
            if j < n and words[j].text == "(":
                close = _match(words, j)
                body = statement[words[j].end : words[close].start] if close < n else ""
                k = close + 1
                if k < n and words[k].upper == "AS":
                    k += 1
                if k < n and words[k].kind in ("word", "quoted") and words[k].upper not in _RESERVED:
                    scope.ctes[words[k].name.lower()] = _output_columns(body)
                i = k
                continue
            if j < n and words[j].kind in ("word", "quoted") and words[j].upper not in _RESERVED:
                name = words[j].name
                k = j + 1
                while k + 1 < n and words[k].text == "." and words[k + 1].kind in ("word", "quoted"):
                    name += "." + words[k + 1].name
                    k += 2
                scope.tables.append(name)
                scope.aliases[name.lower()] = name
                scope.aliases[name.rsplit(".", 1)[-1].lower()] = name
                if k < n and words[k].upper == "AS":
                    k += 1
                if k < n and words[k].kind in ("word", "quoted") and words[k].upper not in _RESERVED:
                    scope.aliases[words[k].name.lower()] = name
                i = k
                continue
        i += 1
    return scope


def _is_cte_collist(words: list[Token], j: int) -> bool:
    close = _match(words, j)
    return close + 2 < len(words) and words[close + 1].upper == "AS" and words[close + 2].text == "("


def _in_with(words: list[Token], i: int) -> bool:
    depth = 0
    for tok in reversed(words[:i]):
        if tok.text == ")":
            depth += 1
        elif tok.text == "(":
            depth -= 1
        elif depth == 0 and tok.kind == "word":
            if tok.upper in ("WITH", "RECURSIVE"):
                return True
            if tok.upper in ("SELECT", "FROM", "WHERE", "INSERT", "UPDATE", "DELETE"):
                return False
    return False


def _in_from(words: list[Token], i: int) -> bool:
    depth = 0
    for tok in reversed(words[:i]):
        if tok.text == ")":
            depth += 1
        elif tok.text == "(":
            if depth == 0:
                return False
            depth -= 1
        elif depth == 0 and tok.kind == "word" and tok.upper in _CLAUSE_WORDS | {"GROUP", "ORDER"}:
            return tok.upper == "FROM"
    return False


def _match(words: list[Token], j: int) -> int:
    depth = 0
    for k in range(j, len(words)):
        if words[k].text == "(":
            depth += 1
        elif words[k].text == ")":
            depth -= 1
            if depth == 0:
                return k
    return len(words) - 1


def _output_columns(body: str) -> list[str]:
    """Output names of a SELECT (a CTE or subquery body); empty when it does not parse."""
    import sqlglot
    from sqlglot import exp
    from sqlglot.errors import SqlglotError

    try:
        tree = sqlglot.parse_one(body)
    except (SqlglotError, ValueError, RecursionError):
        return []
    if isinstance(tree, exp.Query):
        return [name for name in tree.named_selects if name and name != "*"]
    return []


def _qualified(qualifier: str, scope: _Scope, catalog: Catalog) -> list[Candidate]:
    key = qualifier.lower()
    if key in scope.ctes:
        return [Candidate(c, "column", key) for c in scope.ctes[key]]
    table = scope.aliases.get(key, qualifier)
    if table.lower() in scope.ctes:
        return [Candidate(c, "column", table) for c in scope.ctes[table.lower()]]
    columns = catalog.columns_of(table)
    if columns is not None:
        return [Candidate(c, "column", table) for c in columns]
    if key in (s.lower() for s in catalog.schemas):
        return [Candidate(t.split(".", 1)[1], "table", key) for t in catalog.tables if t.startswith(key + ".")]
    return []


def _pool(context: str, scope: _Scope, catalog: Catalog, before: list[Token]) -> list[Candidate]:
    if context == "table":
        out = [Candidate(name, "cte") for name in scope.ctes]
        out += [Candidate(t.rsplit(".", 1)[-1] if _default_schema(t) else t, "table") for t in catalog.tables]
        out += [Candidate(s, "schema") for s in catalog.schemas]
        return out
    keywords = [Candidate(k, "keyword") for k in catalog.keywords]
    functions = [Candidate(f, "function") for f in catalog.functions]
    if context == "column":
        out: list[Candidate] = []
        seen: set[tuple[str, str]] = set()
        for table in scope.tables:
            cols = scope.ctes.get(table.lower()) or catalog.columns_of(table) or []
            for col in cols:
                if (col, table) not in seen:
                    seen.add((col, table))
                    out.append(Candidate(col, "column", table))
        for name, cols in scope.ctes.items():
            if name not in {t.lower() for t in scope.tables}:
                continue
        for alias, table in scope.aliases.items():
            if alias != table.lower() and alias != table.rsplit(".", 1)[-1].lower():
                out.append(Candidate(alias, "alias", table))
        return out + functions + keywords
    return keywords + functions


def _default_schema(name: str) -> bool:
    return "." not in name or name.split(".", 1)[0] in ("public", "main")


_AFTER_TABLE = ("JOIN", "WHERE", "LEFT", "INNER", "ON", "AS", "GROUP BY", "ORDER BY", "LIMIT", "USING",
                "CROSS", "FULL", "RIGHT", "UNION", "SET", "VALUES", "HAVING")
_KIND_ORDER = {
    "table": {"cte": 0, "table": 1, "schema": 2},
    "column": {"column": 0, "alias": 1, "function": 2, "keyword": 3},
    "qualified": {"column": 0, "table": 1},
}


def _rank(pool: list[Candidate], prefix: str, context: str, freq: Callable[[str], float]) -> list[Candidate]:
    low = prefix.lower()
    order = _KIND_ORDER.get(context, {"keyword": 0, "function": 1})
    scored: list[tuple[tuple, Candidate]] = []
    seen: set[tuple[str, str]] = set()
    for cand in pool:
        name = cand.text.lower()
        if low:
            if name.startswith(low):
                group = 0
            elif low in name:
                group = 1
            elif _subsequence(low, name):
                group = 2
            else:
                continue
            if name == low and cand.kind == "keyword":
                continue
        else:
            group = 0
        key = (cand.text, cand.kind)
        if key in seen:
            continue
        seen.add(key)
        used = freq(name)
        score = order.get(cand.kind, 9) - math.log1p(used) * 0.5
        if context == "after_table" and cand.text in _AFTER_TABLE:
            score -= 2 - _AFTER_TABLE.index(cand.text) / 100
        length = len(scored) if cand.kind in ("column", "alias") else len(name)
        text = _quote(cand.text) if cand.kind in ("table", "column", "cte", "alias", "schema") else cand.text
        scored.append(((group, score, length, name), Candidate(text, cand.kind, cand.detail, -score)))
    scored.sort(key=lambda pair: pair[0])
    return [c for _, c in scored]


def _subsequence(needle: str, hay: str) -> bool:
    it = iter(hay)
    return len(needle) >= 3 and all(ch in it for ch in needle)


def _quote(name: str) -> str:
    if "." in name and all(_SIMPLE.match(p) for p in name.split(".")):
        return name
    if _SIMPLE.match(name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


def _frequency(frequency: Callable[[str], float] | Mapping[str, float] | None) -> Callable[[str], float]:
    if frequency is None:
        return lambda name: 0.0
    if callable(frequency):
        return frequency
    lowered = {k.lower(): float(v) for k, v in frequency.items()}
    return lambda name: lowered.get(name, 0.0)


def frequencies_from_statements(statements: list[str]) -> dict[str, float]:
    """How often each identifier appears in past statements: the ranking hook's data."""
    counts: dict[str, float] = {}
    for sql in statements:
        for tok in tokenize(sql):
            if tok.kind in ("word", "quoted"):
                key = tok.name.lower()
                counts[key] = counts.get(key, 0.0) + 1.0
    return counts
