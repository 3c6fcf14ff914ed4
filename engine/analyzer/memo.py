"""The analysis cache's pieces: statement keys and a thread-shared LRU.

The analysis cache keys a statement by its fingerprint (the shape
:mod:`engine.statements.fingerprint` defines: literals as ``?``, keywords upper-cased, unquoted
names lower-cased, comments and layout dropped) plus the *class* of each literal — the only
facts about literal values any rule may look at (:func:`string_class`): whether a string is all
wildcards, starts with a LIKE wildcard (``%``/``_``) or reads as a number, and whether a number
reaches the deep-OFFSET threshold. A rule that needs another fact about a literal must add it
here, or quote the literal in its finding (which disables reuse). Findings are stored with
positions as token indices, so a hit for the same shape with other literals (or other spacing)
is re-located in the new text without parsing. Findings whose message or suggestion quotes a
literal of the statement are not reused across texts.

>>> from aishell.engine.statements.dialects import dialect_of, tools
>>> tokens = tools(dialect_of("postgres"))[0].tokenize("select *  from T where title like '%x' limit 10")
>>> statement_key(tokens, 1000).split(SEPARATOR)
['SELECT', '*', 'FROM', 't', 'WHERE', 'title', 'LIKE', '?', 'LIMIT', '?', 'wn']
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Hashable

from sqlglot.tokens import Token, TokenType

from aishell.engine.statements.fingerprint import NAMES, PLACEHOLDERS, QUOTED_NAMES, STRINGS

SEPARATOR = "\x1f"

_VAR, _QUOTED, _STRING, _NUMBER, _PLACEHOLDER = 1, 2, 3, 4, 5
_ACTIONS = {TokenType.NUMBER: _NUMBER}
_ACTIONS.update({kind: _VAR for kind in NAMES})
_ACTIONS.update({kind: _QUOTED for kind in QUOTED_NAMES})
_ACTIONS.update({kind: _PLACEHOLDER for kind in PLACEHOLDERS})
_ACTIONS.update({kind: _STRING for kind in STRINGS})


def statement_key(tokens: list[Token], deep_offset: int) -> str:
    """One statement's cache key: its normalized shape (each token as
    :func:`engine.statements.fingerprint.normalized_part` spells it, inlined here: this runs on
    every token analyzed) joined by :data:`SEPARATOR`, then its literal classes."""
    parts: list[str] = []
    classes: list[str] = []
    actions = _ACTIONS
    for token in tokens:
        action = actions.get(token.token_type)
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
    return SEPARATOR.join(parts) + SEPARATOR + "".join(classes)


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


__all__ = ["LRU", "SEPARATOR", "statement_key", "looks_numeric", "string_class"]
