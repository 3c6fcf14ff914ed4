"""Where the cursor is in a half-typed mongosh statement, and the names that may come there:
collections after ``db.``, methods after ``db.orders.``, field paths where a document key goes
inside a call on a collection (``find({cu|``), and ``$field`` references inside a string of an
``aggregate`` (``{$group: {_id: '$cu|``). Pure text work, no parser: the statement is half typed.

>>> fields = {"orders": ["_id", "status", "customer.name"], "people": ["name"]}
>>> complete("db.or", 5, fields)
Completion(start=3, prefix='or', context='collection', names=['orders'], collection=None, quoted=False)
>>> complete("db.orders.find({cu", 18, fields).names
["'customer.name'"]
>>> complete("db.orders.find({'cu", 19, fields).names
['customer.name']
>>> complete("db.orders.aggregate([{$group: {_id: '$st", 40, fields).names
['$status']
>>> complete("db.orders.agg", 13, fields).names
['aggregate']
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from aishell.engine.mongo.shell import _DB_METHODS, _SPECS

_NAME = re.compile(r"[A-Za-z0-9_$.]*\Z")
_PLAIN_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_COLLECTION_AT = re.compile(r"(?:^|[^\w$.])db\.([A-Za-z_][\w$]*)?\Z")
_METHOD_AT = re.compile(r"(?:^|[^\w$.])db\.([A-Za-z_][\w$.]*)\.([A-Za-z]*)\Z")
_CALL_HEAD = re.compile(r"(?:^|[^\w$.])db\.(?:getCollection\(\s*['\"]([^'\"]+)['\"]\s*\)|([A-Za-z_][\w$.]*))\.(\w+)\s*\Z")
COLLECTION_METHODS = tuple(sorted(_SPECS))
DATABASE_METHODS = tuple(sorted(_DB_METHODS))


@dataclass(frozen=True, slots=True)
class Completion:
    """``names`` replace ``text[start:offset]`` (the typed ``prefix``). ``context``: collection,
    method, field, reference (a ``$field`` inside a string) or nothing."""

    start: int
    prefix: str
    context: str
    names: list[str] = field(default_factory=list)
    collection: str | None = None
    quoted: bool = False


def complete(text: str, offset: int, fields: Mapping[str, Sequence[str]]) -> Completion:
    """What may be typed at ``offset`` of ``text``, from ``fields`` (collection → field paths)."""
    before = text[:offset]
    string, stack, comment = _scan(before)
    if comment:
        return Completion(offset, "", "nothing")
    if string is None:
        match = _COLLECTION_AT.search(before)
        if match:
            prefix = match.group(1) or ""
            names = [*sorted(fields), *DATABASE_METHODS]
            return Completion(offset - len(prefix), prefix, "collection", _starting(names, prefix))
        match = _METHOD_AT.search(before)
        if match:
            prefix = match.group(2)
            return Completion(offset - len(prefix), prefix, "method", _starting(COLLECTION_METHODS, prefix), match.group(1))
    call = _call(before, stack)
    if call is None:
        return Completion(offset, "", "nothing")
    collection = call
    known = list(fields.get(collection, ()))
    if string is not None:
        typed = before[string + 1 :]
        if typed.startswith("$") and _NAME.match(typed):
            names = _starting([f"${name}" for name in known], typed)
            return Completion(string + 1, typed, "reference", names, collection, True)
        if _NAME.match(typed) and _at_key(before, string, stack):
            return Completion(string + 1, typed, "field", _starting(known, typed), collection, True)
        return Completion(offset, "", "nothing", collection=collection)
    prefix = _NAME.search(before).group(0)
    start = offset - len(prefix)
    if prefix.startswith("$") or not _at_key(before, start, stack):
        return Completion(offset, "", "nothing", collection=collection)
    names = [name if _PLAIN_KEY.match(name) else f"'{name}'" for name in _starting(known, prefix)]
    return Completion(start, prefix, "field", names, collection)


def _starting(names: Sequence[str], prefix: str) -> list[str]:
    """``names`` that start with ``prefix`` (any case), in their order, then those containing it."""
    low = prefix.lower()
    first = [n for n in names if n.lower().startswith(low)]
    return first + [n for n in names if low and low in n.lower() and n not in first]


def _scan(text: str) -> tuple[int | None, list[tuple[str, int]], bool]:
    """The offset of an unclosed string's quote (None outside one), the open brackets
    ``[(char, offset)]`` at the end of ``text``, and whether it ends inside a comment."""
    stack: list[tuple[str, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and text[end] != ch:
                end += 2 if text[end] == "\\" else 1
            if end >= n:
                return i, stack, False
            i = end + 1
            continue
        if text.startswith("//", i):
            newline = text.find("\n", i)
            if newline == -1:
                return None, stack, True
            i = newline + 1
            continue
        if text.startswith("/*", i):
            close = text.find("*/", i + 2)
            if close == -1:
                return None, stack, True
            i = close + 2
            continue
        if ch in "({[":
            stack.append((ch, i))
        elif ch in ")}]" and stack:
            stack.pop()
        elif ch == ";":
            stack.clear()
        i += 1
    return None, stack, False


def _call(text: str, stack: list[tuple[str, int]]) -> str | None:
    """The collection whose method call the cursor is inside (its outermost open parenthesis)."""
    for char, at in stack:
        if char == "(":
            match = _CALL_HEAD.search(text[:at])
            if match and (match.group(1) or match.group(2)) and match.group(3) in _SPECS:
                return match.group(1) or match.group(2)
            return None
    return None


def _at_key(text: str, start: int, stack: list[tuple[str, int]]) -> bool:
    """Whether ``start`` is where a document key begins: right after ``{`` or ``,`` inside a document."""
    if not stack or stack[-1][0] != "{":
        return False
    head = text[:start].rstrip()
    return head.endswith(("{", ","))
