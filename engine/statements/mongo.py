"""The Mongo family: mongosh statements classified from :mod:`engine.mongo.shell`'s parser, so
the Session, the cache and the TUI treat them as they treat SQL (cache only plain reads,
invalidate what writes touch, confirm destructive ones, refuse writes in a read-only session).

>>> describe("db.orders.deleteMany({})").destructive
True
>>> plan("db.orders.find({status: 'paid'})").cacheable
True
>>> plan("db.orders.insertOne({a: 1})").read_only_escape
'insertOne() would change data or schema'
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from aishell.engine.errors import QueryError
from aishell.engine.mongo.shell import ShellQuery, format_value, parse_script
from aishell.engine.statements.model import Plan, StatementInfo

@lru_cache(maxsize=4096)
def describe(text: str) -> StatementInfo:
    """What the statement does. Text that does not parse is ``unknown`` (callers treat it as a
    possible write)."""
    queries = _parse(text)
    if queries is None:
        # No read-only verdict: the driver's parser refuses the text before anything is sent,
        # with the position of the mistake.
        return StatementInfo("unknown")
    return _describe(queries)


@lru_cache(maxsize=256)
def _parse(text: str) -> tuple[ShellQuery, ...] | None:
    try:
        return tuple(parse_script(text))
    except QueryError:
        return None


def _describe(queries: tuple[ShellQuery, ...]) -> StatementInfo:
    reads: set[str] = set()
    writes: set[str] = set()
    kinds: list[str] = []
    reason = ""
    escape = None
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
        if escape is None and query.is_write and not query.explain:
            escape = f"{query.method}() would change data or schema"
    if len(set(kinds)) == 1:
        kind = kinds[0]
    else:
        kind = next((k for k in kinds if k != "select"), "other")
    return StatementInfo(kind, frozenset(reads), frozenset(writes), bool(reason), reason, escape)


def is_destructive(query: ShellQuery) -> str | None:
    """Why ``query`` should be confirmed before it runs, or None.

    Unbounded ``deleteMany({})``/``updateMany({})``, ``drop()``, ``dropDatabase()``,
    ``dropIndex()``, an aggregation ending in ``$out`` (it replaces the target collection) and
    the matching ``runCommand`` forms. Explained statements never are (nothing is applied).
    """
    if query.explain:
        return None
    name = query.collection
    if query.method == "deleteMany" and _unbounded(query.filter):
        return f"deleteMany({{}}) deletes every document in {name}"
    if query.method == "updateMany" and _unbounded(query.filter):
        return f"updateMany({{}}) changes every document in {name}"
    if query.method == "drop":
        return f"drop() removes the collection {name} with its documents and indexes"
    if query.method == "dropIndex":
        return f"dropIndex() removes the index {format_value(query.args[0])} from {name}"
    if query.method == "dropDatabase":
        return f"dropDatabase() removes the database{' ' + query.database if query.database else ''} with every collection"
    if query.method == "aggregate":
        for stage in query.pipeline:
            if isinstance(stage, Mapping) and "$out" in stage:
                target = stage["$out"]
                if isinstance(target, Mapping):
                    target = target.get("coll")
                return f"$out replaces the collection {target} with this aggregation's result"
    if query.method == "runCommand" and query.args and isinstance(query.args[0], Mapping) and query.args[0]:
        command = query.args[0]
        verb = next(iter(command))
        if verb in ("drop", "dropDatabase", "dropIndexes", "deleteIndexes"):
            return f"runCommand({verb}) removes {command[verb] if verb != 'dropDatabase' else 'the database'}"
        if verb == "delete":
            for item in command.get("deletes") or []:
                if isinstance(item, Mapping) and _unbounded(item.get("q")) and not item.get("limit"):
                    return f"runCommand(delete) deletes every document in {command[verb]}"
        if verb == "update":
            for item in command.get("updates") or []:
                if isinstance(item, Mapping) and _unbounded(item.get("q")) and item.get("multi"):
                    return f"runCommand(update) changes every document in {command[verb]}"
    return None


def _unbounded(filter_doc: Any) -> bool:
    """True for a filter that matches everything: absent, {}, or only empty $and lists."""
    if filter_doc is None:
        return True
    if not isinstance(filter_doc, Mapping):
        return False
    for key, value in filter_doc.items():
        if key == "$and" and isinstance(value, list) and all(_unbounded(v) for v in value):
            continue
        if key == "$comment":
            continue
        return False
    return True


# Aggregation stages and operators whose result changes between runs of the same text.
_VOLATILE = frozenset({
    "$sample", "$currentOp", "$listSessions", "$listLocalSessions", "$indexStats", "$collStats",
    "$planCacheStats", "$changeStream", "$rand", "$function", "$accumulator", "$where", "$$NOW",
    "$$CLUSTER_TIME", "$listSearchIndexes", "$shardedDataDistribution",
})
_NOW = re.compile(r"\b(?:new\s+Date|ISODate|Date|ObjectId|UUID)\s*\(\s*\)|\bDate\s*\.\s*now\b")
_CACHEABLE = frozenset({"find", "findOne", "aggregate", "countDocuments", "estimatedDocumentCount", "distinct"})


@lru_cache(maxsize=4096)
def plan(text: str) -> Plan:
    """The :class:`Plan` of a Mongo statement: single plain reads are cacheable (keyed by the
    exact text), writes invalidate the collections they touch, ``use``/``dropDatabase``/unknown
    commands clear all; writes escape read-only.

    Not cacheable: explains, listings (show, getCollectionNames, stats), ``runCommand``, reads
    with volatile stages or operators ($sample, $currentOp, $rand, $where, $$NOW...) and texts
    that build "now" values (``new Date()``, ``ObjectId()``).
    """
    queries = _parse(text)
    if queries is None:
        return Plan(False, "unknown", clears_all=True, reason="statement not understood")
    info = _describe(queries)
    reads, writes, escape = info.reads, info.writes, info.read_only_escape
    if any(q.method in ("use", "dropDatabase") for q in queries):
        return Plan(False, info.kind, reads, writes, ddl=True, clears_all=True, reason="changes the database", read_only_escape=escape)
    if any(q.method == "runCommand" and q.is_write for q in queries):
        return Plan(False, info.kind, reads, writes, ddl=True, clears_all=True, reason="a command that may change anything", read_only_escape=escape)
    ddl = any(q.kind == "ddl" and not q.explain for q in queries)
    if writes or info.kind not in ("select", "other"):
        return Plan(False, info.kind, reads, writes, ddl=ddl, reason="writes", read_only_escape=escape)
    if len(queries) != 1:
        return Plan(False, info.kind, reads, reason="more than one statement", read_only_escape=escape)
    query = queries[0]
    if query.explain:
        return Plan(False, info.kind, reads, reason="explain")
    if query.method not in _CACHEABLE:
        return Plan(False, "other", reads, reason="not a query", read_only_escape=escape)
    volatile = _volatile(query.args) or _volatile([v for _, v in query.modifiers])
    if volatile:
        return Plan(False, info.kind, reads, reason=f"volatile {volatile}")
    if _NOW.search(text):
        return Plan(False, info.kind, reads, reason="time-dependent value")
    return Plan(True, info.kind, reads)


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

__all__ = ["describe", "plan", "is_destructive"]
