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
import re
from functools import lru_cache
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


def describe(text: str) -> Any:
    """What the statement does, as :class:`engine.statements.StatementInfo`, so the Session and the
    TUI treat Mongo statements like SQL ones (cache only reads, confirm destructive ones).
    Text that does not parse is ``unknown`` (callers treat it as a possible write)."""
    from aishell.engine.errors import QueryError
    from aishell.engine.statements import StatementInfo

    try:
        queries = parse_script(text)
    except QueryError:
        return StatementInfo("unknown")
    return _describe(queries)


def _describe(queries: list[ShellQuery]) -> Any:
    from aishell.engine.mongo.explain import is_destructive
    from aishell.engine.statements import StatementInfo

    reads: set[str] = set()
    writes: set[str] = set()
    kinds: list[str] = []
    reason = ""
    for query in queries:
        name = (query.collection or "").lower()
        kind = _KINDS.get(query.method, "other")
        if query.explain:
            kind = "select"
        elif query.method == "aggregate" and query.is_write:
            kind = "insert"
            for stage in query.pipeline:
                for key in ("$out", "$merge"):
                    if isinstance(stage, Mapping) and key in stage:
                        target = stage[key]
                        if isinstance(target, Mapping):
                            target = target.get("coll") or target.get("into")
                        if isinstance(target, Mapping):
                            target = target.get("coll")
                        if isinstance(target, str):
                            writes.add(target.lower())
        elif query.method == "runCommand" and query.is_write:
            kind = "unknown"
        if name and query.method != "aggregate":
            (writes if query.is_write else reads).add(name)
        elif name:
            reads.add(name)
            for stage in query.pipeline:
                if not isinstance(stage, Mapping):
                    continue
                for key in ("$lookup", "$graphLookup", "$unionWith"):
                    source = stage.get(key)
                    if isinstance(source, Mapping):
                        source = source.get("from") or source.get("coll")
                    if isinstance(source, str):
                        reads.add(source.lower())
        kinds.append(kind)
        reason = reason or (is_destructive(query) or "")
    if len(set(kinds)) == 1:
        kind = kinds[0]
    else:
        kind = next((k for k in kinds if k != "select"), "other")
    return StatementInfo(kind, frozenset(reads), frozenset(writes), bool(reason), reason)


# Aggregation stages and operators whose result changes between runs of the same text.
_VOLATILE = frozenset({
    "$sample", "$currentOp", "$listSessions", "$listLocalSessions", "$indexStats", "$collStats",
    "$planCacheStats", "$changeStream", "$rand", "$function", "$accumulator", "$where", "$$NOW",
    "$$CLUSTER_TIME", "$listSearchIndexes", "$shardedDataDistribution",
})
_NOW = re.compile(r"\b(?:new\s+Date|ISODate|Date|ObjectId|UUID)\s*\(\s*\)|\bDate\s*\.\s*now\b")
_CACHEABLE = frozenset({"find", "findOne", "aggregate", "countDocuments", "estimatedDocumentCount", "distinct"})


@lru_cache(maxsize=4096)
def cache_plan(text: str) -> Any:
    """An :class:`engine.cache.CachePlan` for a Mongo statement, so the result cache treats it
    as it treats SQL: single plain reads are cacheable (keyed by the exact text), writes
    invalidate the collections they touch, ``use``/``dropDatabase``/unknown commands clear all.

    Not cacheable: explains, listings (show, getCollectionNames, stats), ``runCommand``, reads
    with volatile stages or operators ($sample, $currentOp, $rand, $where, $$NOW...) and texts
    that build "now" values (``new Date()``, ``ObjectId()``).
    """
    from aishell.engine.cache import CachePlan
    from aishell.engine.errors import QueryError

    try:
        queries = parse_script(text)
    except QueryError:
        return CachePlan(False, "unknown", clears_all=True, reason="statement not understood")
    info = _describe(queries)
    reads, writes = info.reads, info.writes
    if any(q.method in ("use", "dropDatabase") for q in queries):
        return CachePlan(False, info.kind, reads, writes, ddl=True, clears_all=True, reason="changes the database")
    if any(q.method == "runCommand" and q.is_write for q in queries):
        return CachePlan(False, info.kind, reads, writes, ddl=True, clears_all=True, reason="a command that may change anything")
    ddl = any(q.kind == "ddl" and not q.explain for q in queries)
    if writes or info.kind not in ("select", "other"):
        return CachePlan(False, info.kind, reads, writes, ddl=ddl, reason="writes")
    if len(queries) != 1:
        return CachePlan(False, info.kind, reads, reason="more than one statement")
    query = queries[0]
    if query.explain:
        return CachePlan(False, info.kind, reads, reason="explain")
    if query.method not in _CACHEABLE:
        return CachePlan(False, "other", reads, reason="not a query")
    volatile = _volatile(query.args) or _volatile([v for _, v in query.modifiers])
    if volatile:
        return CachePlan(False, info.kind, reads, reason=f"volatile {volatile}")
    if _NOW.search(text):
        return CachePlan(False, info.kind, reads, reason="time-dependent value")
    return CachePlan(True, info.kind, reads)


def _volatile(value: Any) -> str:
    if isinstance(value, Mapping):
        for key, item in value.items():
            if key in _VOLATILE:
                return key
            found = _volatile(item)
            if found:
                return found
    elif isinstance(value, (list, tuple)):
        for item in value:
            found = _volatile(item)
            if found:
                return found
    elif isinstance(value, str) and value in _VOLATILE:
        return value
    return ""


_KINDS = {
    "find": "select", "findOne": "select", "aggregate": "select", "countDocuments": "select",
    "estimatedDocumentCount": "select", "distinct": "select", "getIndexes": "select", "show": "select",
    "getCollectionNames": "select", "getCollectionInfos": "select", "stats": "select",
    "insertOne": "insert", "insertMany": "insert",
    "updateOne": "update", "updateMany": "update", "replaceOne": "update", "findOneAndUpdate": "update",
    "findOneAndReplace": "update",
    "deleteOne": "delete", "deleteMany": "delete", "findOneAndDelete": "delete",
    "createIndex": "ddl", "dropIndex": "ddl", "drop": "ddl", "dropDatabase": "ddl", "createCollection": "ddl",
    "use": "other", "runCommand": "other",
}

__all__ = ["normalize", "fingerprint", "fingerprint_text", "describe", "cache_plan"]
