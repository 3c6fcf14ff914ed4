"""Fingerprints of statements and the analysis cache.

A fingerprint is the statement's token stream with literals replaced by ``?``, keywords
upper-cased, unquoted identifiers lower-cased and comments and layout dropped, so
``SELECT * FROM t WHERE id = 1`` and ``select *  from T where id=42 -- x`` share one. Memory
reuses :func:`fingerprint` to group statements of the same shape.

The analysis cache keys a statement by its fingerprint plus the *class* of each literal — the
only facts about literal values any rule may look at (:func:`string_class`): whether a string
is all wildcards, starts with a LIKE wildcard (``%``/``_``) or reads as a number, and whether a
number reaches the deep-OFFSET threshold. A rule that needs another fact about a literal must
add it here, or quote the literal in its finding (which disables reuse). Findings are
stored with positions as token indices, so a hit for the same shape with other literals (or
other spacing) is re-located in the new text without parsing. Findings whose message or
suggestion quotes a literal of the statement are not reused across texts.

>>> fingerprint("select *  from T where id=42 and kind in ('a', 'b') -- x")
'SELECT * FROM t WHERE id = ? AND kind IN (?)'
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any, Hashable

from sqlglot.dialects import Dialect
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

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
STRINGS = LITERALS - {TokenType.NUMBER}
PLACEHOLDERS = frozenset({TokenType.PLACEHOLDER})
_KEEP_CASE = frozenset({TokenType.IDENTIFIER})
_NAMES = frozenset({TokenType.VAR})
SEPARATOR = "\x1f"


_DIALECTS: dict[str, Dialect] = {}
DIALECT_ALIASES = {"postgresql": "postgres", "pg": "postgres", "sqlite3": "sqlite", "": "postgres"}


def normalize_dialect(name: str | None) -> str:
    """sqlglot's name for a dialect: ``postgresql``/``pg`` → ``postgres``, ``sqlite3`` → ``sqlite``,
    lower-cased, ``postgres`` when empty."""
    lowered = (name or "").strip().lower()
    return DIALECT_ALIASES.get(lowered, lowered)


def dialect_of(name: str | None) -> Dialect:
    """The sqlglot dialect object (kept per name); ValueError for an unknown name."""
    name = name or "postgres"
    found = _DIALECTS.get(name)
    if found is None:
        found = _DIALECTS[name] = Dialect.get_or_raise(name)
    return found


_LOCAL = threading.local()


def tools(dialect: Dialect):
    """This thread's (tokenizer, parser) for ``dialect``: sqlglot resets both on every call, and
    building them costs more than tokenizing a short statement."""
    cached = getattr(_LOCAL, "tools", None)
    if cached is None:
        cached = _LOCAL.tools = {}
    found = cached.get(id(dialect))
    if found is None:
        found = cached[id(dialect)] = (dialect.tokenizer(), dialect.parser())
    return found


def normalized_parts(tokens: list[Token]) -> list[str]:
    """One normalized string a token, aligned with ``tokens``."""
    parts: list[str] = []
    append = parts.append
    for token in tokens:
        kind = token.token_type
        if kind in LITERALS or kind in PLACEHOLDERS:
            append("?")
        elif kind in _NAMES:
            append(token.text.lower())
        elif kind in _KEEP_CASE:
            append('"' + token.text + '"')
        else:
            append(token.text.upper())
    return parts


_VAR, _QUOTED, _STRING, _NUMBER, _PLACEHOLDER = 1, 2, 3, 4, 5
_ACTIONS = {TokenType.VAR: _VAR, TokenType.IDENTIFIER: _QUOTED, TokenType.NUMBER: _NUMBER, TokenType.PLACEHOLDER: _PLACEHOLDER}
_ACTIONS.update({kind: _STRING for kind in STRINGS})


def split_keyed(tokens: list[Token], deep_offset: int, max_keyed: int | None = None) -> list[tuple[list[Token], str]]:
    """Statements (split on ``;`` tokens) with their cache keys: the normalized shape joined
    by :data:`SEPARATOR`, then the literal classes — :func:`normalized_parts` and
    :func:`literal_classes` in one pass. Statements of more than ``max_keyed`` tokens get an
    empty key (they are too long to cache)."""
    out: list[tuple[list[Token], str]] = []
    chunk: list[Token] = []
    parts: list[str] = []
    classes: list[str] = []
    actions = _ACTIONS
    semicolon = TokenType.SEMICOLON
    limit = max_keyed if max_keyed is not None else len(tokens)
    for token in tokens:
        kind = token.token_type
        if kind is semicolon:
            if chunk:
                out.append((chunk, SEPARATOR.join(parts) + SEPARATOR + "".join(classes) if len(chunk) <= limit else ""))
                chunk, parts, classes = [], [], []
            continue
        chunk.append(token)
        if len(chunk) > limit:
            continue
        action = actions.get(kind)
        if action is None:
            parts.append(token.text.upper())
        elif action == _VAR:
            parts.append(token.text.lower())
        elif action == _STRING:
            parts.append("?")
            classes.append(string_class(token.text))
        elif action == _NUMBER:
            parts.append("?")
            try:
                classes.append("N" if abs(float(token.text)) >= deep_offset else "n")
            except ValueError:
                classes.append("n")
        elif action == _PLACEHOLDER:
            parts.append("?")
        else:
            parts.append('"' + token.text + '"')
    if chunk:
        out.append((chunk, SEPARATOR.join(parts) + SEPARATOR + "".join(classes) if len(chunk) <= limit else ""))
    return out


def looks_numeric(text: str) -> bool:
    """True when a string literal reads as a number (``'12.50'``, ``'-3'``, ``'1e5'``)."""
    try:
        float(text)
    except ValueError:
        return False
    return True


def string_class(text: str) -> str:
    """``p`` only wildcards (or empty), ``w`` a leading LIKE wildcard, ``d`` reads as a number,
    ``s`` anything else."""
    if text.strip("%") == "":
        return "p"
    if text[:1] in ("%", "_"):
        return "w"
    if text[:1] in "0123456789+-. " and looks_numeric(text):
        return "d"
    return "s"


def literal_classes(tokens: list[Token], deep_offset: int) -> str:
    """One character a literal: a :func:`string_class` for strings, ``N`` a number at or
    above ``deep_offset``, ``n`` another number."""
    out = []
    for token in tokens:
        kind = token.token_type
        if kind is TokenType.NUMBER:
            try:
                big = abs(float(token.text)) >= deep_offset
            except ValueError:
                big = False
            out.append("N" if big else "n")
        elif kind in STRINGS:
            out.append(string_class(token.text))
    return "".join(out)


def fingerprint(sql: str, dialect: str = "postgres") -> str:
    """The normalized shape of ``sql`` with literals stripped (lists of literals collapse to
    one ``?``). Text that cannot be tokenized is fingerprinted by its whitespace-collapsed
    form, so the function never raises for bad SQL (ValueError for an unknown dialect)."""
    tokenizer = tools(dialect_of(normalize_dialect(dialect)))[0]
    try:
        tokens = tokenizer.tokenize(sql)
    except (SqlglotError, RecursionError, ValueError):
        return " ".join(sql.split())
    parts = normalized_parts(tokens)
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
    return _join(out)


def _join(parts: list[str]) -> str:
    text = " ".join(parts)
    for before, after in ((" ,", ","), ("( ", "("), (" )", ")"), (" .", "."), (". ", "."), (" ;", ";")):
        text = text.replace(before, after)
    return text


class LRU:
    """A small least-recently-used map, safe to share between threads without a lock: each
    OrderedDict operation is atomic under the GIL, and a key evicted by another thread between
    two of them is simply a miss. Bounded by entries and, when ``max_weight`` is set, by the
    sum of the weights given to :meth:`put` (the characters an entry holds), so a few huge
    entries cannot take the memory many small ones are allowed."""

    __slots__ = ("maxsize", "max_weight", "weight", "_data", "_weights", "hits", "misses")

    def __init__(self, maxsize: int, max_weight: int | None = None) -> None:
        self.maxsize = maxsize
        self.max_weight = max_weight
        self.weight = 0
        self._data: OrderedDict[Hashable, Any] = OrderedDict()
        self._weights: dict[Hashable, int] = {}
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> Any:
        value = self._data.get(key)
        if value is None:
            self.misses += 1
            return None
        try:
            self._data.move_to_end(key)
        except KeyError:  # evicted meanwhile by another thread
            pass
        self.hits += 1
        return value

    def put(self, key: Hashable, value: Any, weight: int = 1) -> None:
        if self.maxsize <= 0 or (self.max_weight is not None and weight > self.max_weight):
            return
        data, weights = self._data, self._weights
        self.weight += weight - weights.get(key, 0)
        weights[key] = weight
        data[key] = value
        try:
            data.move_to_end(key)
            while len(data) > self.maxsize or (self.max_weight is not None and self.weight > self.max_weight):
                old, _ = data.popitem(last=False)
                self.weight -= weights.pop(old, 0)
        except KeyError:  # another thread evicted concurrently
            pass

    def clear(self) -> None:
        self._data.clear()
        self._weights.clear()
        self.weight = 0
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._data)
