"""Fingerprints of Mongo statements: the query's shape with its literals stripped.

Two statements that differ only in the values they look for (``{status: "paid"}`` and
``{status: "open"}``, a ``$in`` of 3 or of 300 ids, ``limit(10)`` or ``limit(20)``) have the same
fingerprint, so memory can count how often a shape ran and caches can key analyses by it. Field
names, operators, projections, sort orders and index keys are kept: they change the plan.

>>> from aishell.engine.mongo.shell import parse
>>> normalize(parse('db.orders.find({status: "paid", qty: {$in: [1, 2, 3]}}).sort({ts: -1}).limit(20)'))
'db.orders.find({status: ?, qty: {$in: [?]}}).sort({ts: -1}).limit(?)'
>>> fingerprint(parse('db.orders.find({status: "open"}).limit(5)')) == fingerprint(parse("db.orders.find({status: 'x'}).limit(9)"))
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from aishell.engine.mongo.shell import ShellQuery, _format_key, format_value, parse_script

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
    if value is _P:
        return "?"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{_format_key(k)}: {_render(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_render(v) for v in value) + "]"
    return format_value(value)


def normalize(query: ShellQuery) -> str:
    """The statement in canonical shell syntax with its literals replaced by ``?``."""
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
    return _readable(text, query)


def _readable(text: str, query: ShellQuery) -> str:
    # db.getCollection("orders") reads better as db.orders when the name allows it.
    if query.collection is not None and query.collection.replace("_", "a").isalnum() and not query.collection[0].isdigit():
        return text.replace(f'.getCollection({format_value(query.collection)})', f".{query.collection}", 1)
    return text


def fingerprint(query: ShellQuery) -> str:
    """A short stable hash of :func:`normalize` (16 hex digits)."""
    return hashlib.blake2b(normalize(query).encode(), digest_size=8).hexdigest()


def fingerprint_text(text: str) -> tuple[str, str]:
    """(normalized text, fingerprint) of a whole script; raises QueryError if it does not parse."""
    normalized = "; ".join(normalize(q) for q in parse_script(text))
    return normalized, hashlib.blake2b(normalized.encode(), digest_size=8).hexdigest()


__all__ = ["normalize", "fingerprint", "fingerprint_text"]
