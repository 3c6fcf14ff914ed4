"""Fingerprints: a statement's shape with its literal values stripped, one rule per family.

Two statements that differ only in the values they carry share a fingerprint, so memory counts
how often a shape ran and the analyzer reuses findings across them. The rules:

SQL (:func:`normalize`, read from sqlglot's tokens, so comments and layout never count):

- literals (the token kinds of :data:`LITERALS`: strings of every spelling, numbers, dollar
  quotes) and placeholders (``$1``, ``?``, ``:name``) become ``?``;
- a parenthesized list of literals collapses to one ``?`` (``IN (1, 2, 3)`` is ``IN (?)``);
- keywords and symbols are upper-cased, unquoted names lower-cased, quoted names kept as
  written between double quotes;
- tokens are joined by one space, without space inside parentheses, before commas or
  around dots; trailing ``;`` go. Text that does not tokenize is its whitespace-collapsed self.

Mongo (:func:`normalize_query`, from :mod:`engine.mongo.shell`'s parser): the statement in
canonical shell syntax with values replaced by ``?``; field names, operators, field paths
(``"$customer"``), projections, sort orders, index keys and pipeline stages that are structure
(``$group``, ``$project``...) are kept: they change the plan. Lists keep one copy of each shape.

:func:`fingerprint` is 16 hex digits (BLAKE2b, 8 bytes) of the normalized text. Memory stores
it in its file (``statements.fingerprint``), so changing a rule here changes the shape of new
entries only: do it together with a migration of memory files.

>>> normalize("select *  from T where id=42 and kind in ('a', 'b') -- x")
'SELECT * FROM t WHERE id = ? AND kind IN (?)'
>>> fingerprint("SELECT * FROM orders WHERE id = 1") == fingerprint("select * from ORDERS where id=7;")
True
>>> normalize('db.orders.find({status: "paid", qty: {$in: [1, 2, 3]}}).sort({ts: -1}).limit(20)', "mongo")
'db.orders.find({status: ?, qty: {$in: [?]}}).sort({ts: -1}).limit(?)'
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from aishell.engine.statements.dialects import dialect_of, normalize_dialect, tools

if TYPE_CHECKING:
    from aishell.engine.mongo.shell import ShellQuery

LITERALS = frozenset(
    {
        TokenType.STRING,
        TokenType.NUMBER,
        TokenType.NATIONAL_STRING,
        TokenType.RAW_STRING,
        TokenType.BIT_STRING,
        TokenType.HEX_STRING,
        TokenType.BYTE_STRING,
        TokenType.HEREDOC_STRING,
        TokenType.UNICODE_STRING,
    }
)
"""The literal kinds: every token sqlglot reads as a value written in the statement."""
STRINGS = LITERALS - {TokenType.NUMBER}
"""The literal kinds that are strings (quoted, ``E''``, ``N''``, ``B''``, ``X''``, dollar-quoted)."""
PLACEHOLDERS = frozenset({TokenType.PLACEHOLDER})
NAMES = frozenset({TokenType.VAR})
"""Unquoted names: lower-cased."""
QUOTED_NAMES = frozenset({TokenType.IDENTIFIER})
"""Quoted names: kept as written."""
_MARKED = LITERALS | PLACEHOLDERS
_NUMBER, _PARAMETER = TokenType.NUMBER, TokenType.PARAMETER


def digest(shape: str) -> str:
    """16 hex digits identifying a normalized shape."""
    return hashlib.blake2b(shape.encode(), digest_size=8).hexdigest()


def fingerprint(text: str, dialect: str = "postgres") -> str:
    """:func:`digest` of :func:`normalize`. Never raises for bad text (ValueError for an unknown
    SQL dialect; Mongo text that does not parse is fingerprinted by its collapsed spelling)."""
    return digest(normalize(text, dialect))


def normalize(text: str, dialect: str = "postgres") -> str:
    """The shape of ``text`` in ``dialect`` (``mongo``: a mongosh script), literals stripped."""
    dialect = normalize_dialect(dialect)
    if dialect == "mongo":
        return _normalize_mongo_script(text)
    tokenizer = tools(dialect_of(dialect))[0]
    try:
        tokens = tokenizer.tokenize(text)
    except (SqlglotError, RecursionError, ValueError):
        return " ".join(text.split())
    return normalize_tokens(tokens)


def normalized_part(token: Token) -> str:
    """One token as the shape spells it."""
    kind = token.token_type
    if kind in LITERALS or kind in PLACEHOLDERS:
        return "?"
    if kind in NAMES:
        return token.text.lower()
    if kind in QUOTED_NAMES:
        return '"' + token.text + '"'
    return token.text.upper()


def normalize_tokens(tokens: list[Token]) -> str:
    """:func:`normalize` of already tokenized SQL. A PostgreSQL ``$1`` (a ``$`` token right
    before a number) is one placeholder, as pg_stat_statements writes the literals it strips.

    >>> normalize("SELECT id FROM t WHERE a = $1 AND b IN ($2, $3)")
    'SELECT id FROM t WHERE a = ? AND b IN (?)'
    """
    parts: list[str] = []
    append = parts.append
    previous = None
    for token in tokens:  # normalized_part, inline: an import normalizes every statement it reads
        kind = token.token_type
        if kind in _MARKED:
            if kind is _NUMBER and previous is not None and previous.token_type is _PARAMETER and previous.end + 1 == token.start:
                parts[-1] = "?"  # the ``$`` of ``$1``
            else:
                append("?")
        elif kind in NAMES:
            append(token.text.lower())
        elif kind in QUOTED_NAMES:
            append('"' + token.text + '"')
        else:
            append(token.text.upper())
        previous = token
    out: list[str] = []
    i = 0
    n = len(parts)
    while i < n:
        part = parts[i]
        if part == "?" and out and out[-1] == "(":
            j = i + 1
            while j + 1 < n and parts[j] == "," and parts[j + 1] == "?":
                j += 2
            out.append("?")
            i = j
            continue
        out.append(part)
        i += 1
    while out and out[-1] == ";":
        out.pop()
    text = " ".join(out)
    for before, after in ((" ,", ","), ("( ", "("), (" )", ")"), (" .", "."), (". ", "."), (" ;", ";")):
        text = text.replace(before, after)
    return text


# -- the Mongo family ----------------------------------------------------------------------------

# Arguments (by method and position) and modifiers whose values are structure, not data.
_KEEP_ARGS = {
    ("find", 1), ("findOne", 1), ("distinct", 0), ("createIndex", 0), ("createIndex", 1),
    ("dropIndex", 0), ("createCollection", 0),
}
_KEEP_MODIFIERS = frozenset({"sort", "projection", "project", "hint", "collation"})
_KEEP_STAGES = frozenset({"$sort", "$project", "$unset", "$count", "$unwind", "$replaceRoot", "$replaceWith",
                          "$sortByCount", "$lookup", "$graphLookup", "$out", "$merge", "$addFields", "$set", "$group"})
_KEEP_OPTIONS = frozenset({"sort", "projection", "hint", "collation", "upsert", "arrayFilters"})


class _Placeholder:
    __slots__ = ()

    def __repr__(self) -> str:
        return "?"


_P = _Placeholder()


def normalize_query(query: "ShellQuery") -> str:
    """One parsed mongosh statement in canonical shell syntax with its values replaced by ``?``.

    >>> from aishell.engine.mongo.shell import parse
    >>> normalize_query(parse("db.o.updateOne({a: 1}, {$set: {b: 2}}, {upsert: true})"))
    'db.o.updateOne({a: ?}, {$set: {b: ?}}, {upsert: true})'
    """
    from aishell.engine.mongo.shell import format_value

    if query.method in ("show", "use"):
        return f"{query.method} {query.target}"
    head = "db"
    if query.database:
        head += f".getSiblingDB({format_value(query.database)})"
    if query.collection is not None:
        head += f".getCollection({format_value(query.collection)})"
    parts = []
    options_at = query.spec.options_at if query.spec else None
    for index, arg in enumerate(query.args):
        if (query.method, index) in _KEEP_ARGS:
            parts.append(_render(arg))
        elif index == options_at and isinstance(arg, Mapping):
            parts.append(_render({k: (v if k in _KEEP_OPTIONS else _strip(v)) for k, v in arg.items()}))
        elif query.method == "runCommand" and isinstance(arg, Mapping):
            # The command name and its target collection are the shape.
            first = next(iter(arg), None)
            parts.append(_render({k: (v if k == first else _strip(v)) for k, v in arg.items()}))
        else:
            parts.append(_render(_strip(arg)))
    text = f"{head}.{query.method}({', '.join(parts)})"
    for name, value in query.modifiers:
        text += f".{name}({_render(value) if name in _KEEP_MODIFIERS else '?'})"
    if query.explain:
        text += f'.explain("{query.explain}")'
    # db.getCollection("orders") reads better as db.orders when the name allows it.
    name = query.collection
    if name is not None and name.replace("_", "a").isalnum() and not name[0].isdigit():
        return text.replace(f".getCollection({format_value(name)})", f".{name}", 1)
    return text


def _normalize_mongo_script(text: str) -> str:
    from aishell.engine.errors import QueryError
    from aishell.engine.mongo.shell import parse_script

    try:
        return "; ".join(normalize_query(q) for q in parse_script(text))
    except QueryError:
        return " ".join(text.split())


def _strip(value: Any) -> Any:
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if key in _KEEP_STAGES:
                out[key] = _keep_refs(item) if key in ("$group", "$addFields", "$set") else item
            else:
                out[key] = _strip(item)
        return out
    if isinstance(value, (list, tuple)):
        shapes: list[Any] = []
        seen: set[str] = set()
        for item in value:
            stripped = _strip(item)
            key = _render(stripped)
            if key not in seen:
                seen.add(key)
                shapes.append(stripped)
        return shapes
    if isinstance(value, str) and value.startswith("$") and len(value) > 1:
        return value  # a field path ("$customer"), part of the shape
    return _P


def _keep_refs(value: Any) -> Any:
    """Expressions ($group, $set): field paths and operators kept, constants stripped."""
    if isinstance(value, Mapping):
        return {k: _keep_refs(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_keep_refs(v) for v in value]
    if isinstance(value, str) and value.startswith("$"):
        return value
    return _P


def _render(value: Any) -> str:
    from aishell.engine.mongo.shell import _format_key, format_value

    if value is _P:
        return "?"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_format_key(k)}: {_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return format_value(value)


__all__ = [
    "LITERALS", "STRINGS", "PLACEHOLDERS", "NAMES", "QUOTED_NAMES",
    "digest", "fingerprint", "normalize", "normalize_tokens", "normalized_part", "normalize_query",
]
