"""A parser for queries typed as in mongosh, with the relaxed JSON users actually type.

    db.orders.find({status: "paid", total: {$gt: 100}}, {total: 1}).sort({ts: -1}).limit(20)
    db.orders.aggregate([{$match: {status: 'paid'}}, {$group: {_id: "$customer", n: {$sum: 1}}},])
    db.getCollection("order items").countDocuments({sku: /^AB-/i})
    db.orders.updateMany({_id: ObjectId("65a1b2c3d4e5f60718293a4b")}, {$set: {ts: ISODate("2024-05-01")}})
    show dbs · show collections · use shop

Keys may be unquoted, strings single- or double-quoted, trailing commas are allowed, ``//`` and
``/* */`` comments are skipped, regex literals work where a value is expected, and ObjectId(),
ISODate()/new Date(), NumberLong(), NumberInt(), NumberDecimal(), Timestamp(), UUID(),
BinData(), RegExp(), MinKey()/MaxKey() build the matching values (:mod:`engine.mongo.values`).

A script is several statements separated by ``;`` or new lines (a line starting with ``.``
continues the chain above it). Parsing is all or nothing: a mistake anywhere raises
:class:`engine.errors.QueryError` with ``position`` (1-based character offset into the text) and
nothing is sent to the server.

>>> q = parse('db.orders.find({status: "paid"}, {total: 1}).sort({ts: -1}).limit(20)')
>>> q.collection, q.method, q.filter, q.projection, q.sort, q.limit
('orders', 'find', {'status': 'paid'}, {'total': 1}, {'ts': -1}, 20)
>>> parse("db.orders.find({status: 'paid'").method
Traceback (most recent call last):
...
engine.errors.QueryError: expected ',' or '}' in object, found end of input
"""

from __future__ import annotations

import base64
import binascii
import datetime as _dt
import decimal
import difflib
import math
import re
import uuid
from dataclasses import dataclass
from typing import Any

from aishell.engine.errors import QueryError
from aishell.engine.mongo.values import (
    MAX_KEY,
    MIN_KEY,
    BinaryValue,
    Int64Value,
    KeyBound,
    ObjectIdValue,
    RegexValue,
    TimestampValue,
)

# -- what can be called -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MethodSpec:
    """A collection method: its argument shapes (required first) and what it does."""

    name: str
    kind: str
    """``read``, ``write``, ``ddl`` (indexes, drop) or ``admin``."""
    args: tuple[str, ...]
    """Argument shapes in order: ``object``, ``update`` (object or pipeline), ``array``
    (of objects), ``string``, ``index`` (name or key object), ``any``."""
    required: int = 0
    options_at: int | None = None
    """Index of the trailing options object, if the method takes one."""


_SPECS = {
    s.name: s
    for s in (
        MethodSpec("find", "read", ("object", "object", "object"), 0, 2),
        MethodSpec("findOne", "read", ("object", "object", "object"), 0, 2),
        MethodSpec("aggregate", "read", ("array", "object"), 0, 1),
        MethodSpec("countDocuments", "read", ("object", "object"), 0, 1),
        MethodSpec("estimatedDocumentCount", "read", ("object",), 0, 0),
        MethodSpec("distinct", "read", ("string", "object", "object"), 1, 2),
        MethodSpec("getIndexes", "read", (), 0),
        MethodSpec("insertOne", "write", ("object", "object"), 1, 1),
        MethodSpec("insertMany", "write", ("array", "object"), 1, 1),
        MethodSpec("updateOne", "write", ("object", "update", "object"), 2, 2),
        MethodSpec("updateMany", "write", ("object", "update", "object"), 2, 2),
        MethodSpec("replaceOne", "write", ("object", "object", "object"), 2, 2),
        MethodSpec("deleteOne", "write", ("object", "object"), 1, 1),
        MethodSpec("deleteMany", "write", ("object", "object"), 1, 1),
        MethodSpec("findOneAndUpdate", "write", ("object", "update", "object"), 2, 2),
        MethodSpec("findOneAndReplace", "write", ("object", "object", "object"), 2, 2),
        MethodSpec("findOneAndDelete", "write", ("object", "object"), 1, 1),
        MethodSpec("createIndex", "ddl", ("object", "object"), 1, 1),
        MethodSpec("dropIndex", "ddl", ("index",), 1),
        MethodSpec("drop", "ddl", (), 0),
    )
}
_ALIASES = {"count": "countDocuments", "getIndices": "getIndexes", "ensureIndex": "createIndex"}
# Deprecated mongosh methods still typed from habit; read as their replacements.
_LEGACY = {
    "insert": MethodSpec("insert", "write", ("any", "object"), 1),
    "remove": MethodSpec("remove", "write", ("object", "any"), 1),
    "update": MethodSpec("update", "write", ("object", "update", "object"), 2),
}
_DB_METHODS = {
    "getCollectionNames": MethodSpec("getCollectionNames", "read", (), 0),
    "getCollectionInfos": MethodSpec("getCollectionInfos", "read", ("object",), 0),
    "stats": MethodSpec("stats", "read", (), 0),
    "runCommand": MethodSpec("runCommand", "admin", ("object",), 1),
    "dropDatabase": MethodSpec("dropDatabase", "ddl", (), 0),
    "createCollection": MethodSpec("createCollection", "ddl", ("string", "object"), 1, 1),
}
# Cursor modifiers and the argument shape each takes.
_FIND_MODIFIERS = {
    "sort": "object",
    "limit": "number",
    "skip": "number",
    "projection": "object",
    "project": "object",
    "hint": "index",
    "maxTimeMS": "number",
    "batchSize": "number",
    "comment": "string",
    "collation": "object",
    "min": "object",
    "max": "object",
    "allowDiskUse": "flag",
}
_AGG_MODIFIERS = {"maxTimeMS": "number", "batchSize": "number", "comment": "string", "allowDiskUse": "flag"}
_NO_OPS = {"pretty", "toArray"}
EXPLAIN_VERBOSITIES = ("queryPlanner", "executionStats", "allPlansExecution")

# Commands runCommand may send in a read-only session (anything else counts as a write).
READ_COMMANDS = frozenset(
    {
        "ping", "hello", "ismaster", "isMaster", "buildInfo", "buildinfo", "serverStatus", "dbStats",
        "dbstats", "collStats", "collstats", "listCollections", "listIndexes", "listDatabases",
        "count", "distinct", "find", "aggregate", "explain", "connectionStatus", "hostInfo",
        "getParameter", "validate", "dataSize", "currentOp", "top", "getLog", "getCmdLineOpts",
        "replSetGetStatus", "getShardMap", "listShards", "usersInfo", "rolesInfo",
    }
)


def command_writes(command: Any) -> bool:
    """Whether a ``runCommand`` document can change data or schema: any command not known to
    read, an ``aggregate`` ending in ``$out``/``$merge`` (also inside ``explain``), ``validate``
    with ``repair``.

    >>> command_writes({"aggregate": "t", "pipeline": [{"$out": "copy"}], "cursor": {}})
    True
    >>> command_writes({"explain": {"delete": "t", "deletes": []}})  # planned, never applied
    False
    """
    if not isinstance(command, dict) or not command:
        return True
    name = next(iter(command))
    if name not in READ_COMMANDS:
        return True
    if name == "aggregate":
        return _pipeline_writes(command.get("pipeline"))
    if name == "explain":
        inner = command.get("explain")
        return isinstance(inner, dict) and next(iter(inner), None) == "aggregate" and _pipeline_writes(inner.get("pipeline"))
    if name == "validate":
        return bool(command.get("repair"))
    return False


def _pipeline_writes(pipeline: Any) -> bool:
    return isinstance(pipeline, list) and any(isinstance(s, dict) and ("$out" in s or "$merge" in s) for s in pipeline)


# -- the parsed statement ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ShellQuery:
    """One parsed statement.

    ``method`` is canonical (``count`` is read as ``countDocuments``); ``collection`` is None for
    database-level calls and ``show``/``use``; ``database`` is set by ``db.getSiblingDB("x")``
    (None: the connection's current database). ``modifiers`` are the chained cursor calls in
    order, e.g. ``(("sort", {"ts": -1}), ("limit", 20))``.
    """

    text: str
    start: int
    method: str
    kind: str
    collection: str | None = None
    database: str | None = None
    args: tuple[Any, ...] = ()
    modifiers: tuple[tuple[str, Any], ...] = ()
    explain: str | None = None
    target: str | None = None
    """The argument of ``show``/``use`` (``dbs``, ``collections``, a database name)."""

    # -- convenience views of the arguments -----------------------------------------------------

    def _arg(self, index: int, default: Any = None) -> Any:
        return self.args[index] if len(self.args) > index else default

    def modifier(self, name: str, default: Any = None) -> Any:
        """The last value given to a chained cursor modifier."""
        for key, value in reversed(self.modifiers):
            if key == name or (name == "projection" and key == "project"):
                return value
        return default

    @property
    def filter(self) -> dict[str, Any]:
        """The query filter ({} when absent); for aggregate, the leading ``$match`` stages."""
        if self.method == "aggregate":
            merged: dict[str, Any] = {}
            for stage in self.pipeline:
                if isinstance(stage, dict) and len(stage) == 1 and "$match" in stage:
                    if isinstance(stage["$match"], dict):
                        for key, value in stage["$match"].items():
                            merged[key] = value
                    continue
                break
            return merged
        if self.method in ("find", "findOne", "countDocuments", "updateOne", "updateMany", "replaceOne",
                           "deleteOne", "deleteMany", "findOneAndUpdate", "findOneAndReplace", "findOneAndDelete"):
            return self._arg(0) or {}
        if self.method == "distinct":
            return self._arg(1) or {}
        return {}

    @property
    def projection(self) -> dict[str, Any] | None:
        if self.method in ("find", "findOne"):
            return self.modifier("projection", self._arg(1))
        return None

    @property
    def spec(self) -> MethodSpec | None:
        return _SPECS.get(self.method) if self.collection is not None else _DB_METHODS.get(self.method)

    @property
    def options(self) -> dict[str, Any]:
        """The trailing options object of the call ({} when absent)."""
        spec = self.spec
        if spec is None or spec.options_at is None:
            return {}
        value = self._arg(spec.options_at)
        return value if isinstance(value, dict) else {}

    @property
    def sort(self) -> dict[str, Any] | None:
        """The sort: ``.sort()`` for find, the first ``$sort`` after the leading matches for aggregate."""
        if self.method == "aggregate":
            for stage in self.pipeline:
                if isinstance(stage, dict) and "$match" in stage:
                    continue
                if isinstance(stage, dict) and "$sort" in stage and isinstance(stage["$sort"], dict):
                    return stage["$sort"]
                return None
            return None
        return self.modifier("sort", self.options.get("sort"))

    @property
    def limit(self) -> int | None:
        value = self.modifier("limit", self.options.get("limit"))
        return int(value) if value is not None else None

    @property
    def skip(self) -> int | None:
        value = self.modifier("skip", self.options.get("skip"))
        return int(value) if value is not None else None

    @property
    def pipeline(self) -> list[Any]:
        return list(self._arg(0) or []) if self.method == "aggregate" else []

    @property
    def update(self) -> Any:
        """The update document (or pipeline) of update*/findOneAndUpdate, the replacement of replace*."""
        if self.method in ("updateOne", "updateMany", "replaceOne", "findOneAndUpdate", "findOneAndReplace"):
            return self._arg(1)
        return None

    @property
    def documents(self) -> list[dict[str, Any]]:
        if self.method == "insertOne":
            return [self._arg(0)]
        if self.method == "insertMany":
            return list(self._arg(0) or [])
        return []

    @property
    def is_write(self) -> bool:
        """True when the statement can change data or schema (aggregate with $out/$merge too).

        An explained write is not one: the server plans (and counts) it without applying it.
        """
        if self.explain:
            return False
        if self.kind in ("write", "ddl"):
            return True
        if self.method == "aggregate":
            return _pipeline_writes(self.pipeline)
        if self.method == "runCommand":
            return command_writes(self._arg(0) or {})
        return False

    @property
    def namespace(self) -> str:
        """``database.collection`` (``?`` for the current database), for messages."""
        return f"{self.database or '?'}.{self.collection or ''}"


# -- parsing ----------------------------------------------------------------------------------


def parse(text: str) -> ShellQuery:
    """Parse exactly one statement; raises QueryError (with position) otherwise."""
    queries = parse_script(text)
    if len(queries) > 1:
        raise QueryError(
            "expected one statement, found several (run them as a script)",
            position=queries[1].start + 1,
            statement=text,
        )
    return queries[0]


def parse_script(text: str) -> list[ShellQuery]:
    """Parse every statement of ``text``; raises QueryError on the first mistake."""
    parser = _Parser(text)
    queries = parser.script()
    if not queries:
        raise QueryError("nothing to run: type a query such as db.collection.find({})", position=1, statement=text)
    return queries


_IDENT_START = re.compile(r"[A-Za-z_$]")
_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
_KEY = re.compile(r"[A-Za-z_$][A-Za-z0-9_$.]*")
_NUMBER = re.compile(r"(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)")
_DB_NAME = re.compile(r"[^\s;/\\.\"$*<>:|?]+")
_SKIP_START = frozenset(" \t\r\f\v\ufeff\n/")
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "v": "\v", "0": "\0", "/": "/", "\\": "\\", "'": "'", '"': '"', "`": "`"}


class _Parser:
    """Recursive descent over the raw text (regex literals need context, so no tokenizer)."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    # -- errors and whitespace ---------------------------------------------------------------

    def error(self, message: str, at: int | None = None) -> QueryError:
        where = self.pos if at is None else at
        return QueryError(message, position=min(where, len(self.text)) + 1, statement=self.text)

    def found(self) -> str:
        if self.pos >= len(self.text):
            return "end of input"
        match = _IDENT.match(self.text, self.pos)
        return repr(match.group(0)) if match else repr(self.text[self.pos])

    def skip(self, *, newlines: bool = True) -> bool:
        """Skip blanks and comments; returns True if a new line was crossed."""
        text, crossed = self.text, False
        if self.pos < len(text) and text[self.pos] not in _SKIP_START:
            return False  # the common case: a token starts right here
        while self.pos < len(text):
            char = text[self.pos]
            if char == "\n":
                if not newlines:
                    return True
                crossed = True
                self.pos += 1
            elif char in " \t\r\f\v\ufeff":
                self.pos += 1
            elif text.startswith("//", self.pos):
                end = text.find("\n", self.pos)
                self.pos = len(text) if end < 0 else end
            elif text.startswith("/*", self.pos):
                end = text.find("*/", self.pos + 2)
                if end < 0:
                    raise self.error("unterminated /* comment")
                crossed = crossed or "\n" in text[self.pos : end]
                self.pos = end + 2
            else:
                break
        return crossed

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def accept(self, char: str) -> bool:
        self.skip()
        if self.peek() == char:
            self.pos += 1
            return True
        return False

    def expect(self, char: str, context: str) -> None:
        self.skip()
        if self.peek() != char:
            raise self.error(f"expected {char!r} {context}, found {self.found()}")
        self.pos += 1

    def ident(self, what: str) -> str:
        self.skip()
        match = _IDENT.match(self.text, self.pos)
        if not match:
            raise self.error(f"expected {what}, found {self.found()}")
        self.pos = match.end()
        return match.group(0)

    # -- statements ----------------------------------------------------------------------------

    def script(self) -> list[ShellQuery]:
        queries: list[ShellQuery] = []
        while True:
            self.skip()
            while self.peek() == ";":
                self.pos += 1
                self.skip()
            if self.pos >= len(self.text):
                return queries
            queries.append(self.statement())
            crossed = self.skip(newlines=False)
            if self.pos >= len(self.text) or crossed or self.peek() == ";":
                continue
            raise self.error(f"expected ';' or a new line after the statement, found {self.found()}")

    def statement(self) -> ShellQuery:
        start = self.pos
        word = self.ident("a statement (db.collection.method(...), show or use)")
        if word in ("show", "use"):
            self.skip(newlines=False)
            match = _DB_NAME.match(self.text, self.pos) if word == "use" else _IDENT.match(self.text, self.pos)
            if not match:
                raise self.error(f"expected {'a database name' if word == 'use' else 'what to show (dbs, collections, indexes)'} after {word!r}")
            self.pos = match.end()
            target = match.group(0)
            if word == "show":
                target = {"databases": "dbs", "tables": "collections", "indices": "indexes"}.get(target, target)
                if target not in ("dbs", "collections"):
                    raise self.error(f"unknown show target {target!r} (dbs, collections)", match.start())
            return ShellQuery(self.text[start : self.pos], start, word, "read" if word == "show" else "admin", target=target)
        if word != "db":
            raise self.error(f"a statement starts with db., show or use, not {word!r}", start)
        return self.db_chain(start)

    def db_chain(self, start: int) -> ShellQuery:
        database: str | None = None
        segments: list[str] = []
        collection: str | None = None
        while True:
            self.skip()
            if self.peek() == "[" and not segments:
                at = self.pos
                self.pos += 1
                name = self.value()
                if not isinstance(name, str) or not name:
                    raise self.error("a collection name in db[...] must be a non-empty string", at + 1)
                self.expect("]", "after the collection name")
                collection = name
                break
            dot_at = self.pos
            self.expect(".", "after 'db'" if not segments else "after the collection name")
            self.skip()
            name_at = self.pos
            name = self.ident("a collection or method name")
            self.skip()
            if self.peek() != "(":
                segments.append(name)
                continue
            if segments:
                self.pos = dot_at
                collection = ".".join(segments)
                break
            if name == "getSiblingDB" and database is None:
                database = self.single_string_arg("getSiblingDB", "a database name")
                continue
            if name == "getCollection":
                collection = self.single_string_arg("getCollection", "a collection name")
                break
            if name in _DB_METHODS:
                spec = _DB_METHODS[name]
                args = self.call_args(spec, name_at)
                return ShellQuery(self.text[start : self.pos], start, name, spec.kind, None, database, args)
            raise self.error(
                f"unknown database method {name!r}{_did_you_mean(name, _DB_METHODS)}; "
                "use db.<collection>.<method>(...)",
                name_at,
            )
        return self.collection_call(start, database, collection)

    def single_string_arg(self, method: str, what: str) -> str:
        self.expect("(", f"after {method}")
        self.skip()
        at = self.pos
        value = self.value()
        if not isinstance(value, str) or not value:
            raise self.error(f"{method}() takes {what} as a string", at)
        self.expect(")", f"after the argument of {method}()")
        return value

    def collection_call(self, start: int, database: str | None, collection: str) -> ShellQuery:
        self.expect(".", "before the method")
        self.skip()
        name_at = self.pos
        name = self.ident("a collection method (find, aggregate, insertOne, ...)")
        explain: str | None = None
        if name == "explain":
            explain = self.explain_args()
            self.expect(".", "after explain()")
            self.skip()
            name_at = self.pos
            name = self.ident("find, aggregate, countDocuments, distinct, update* or delete* after explain()")
        method = _ALIASES.get(name, name)
        if method in _LEGACY:
            method, spec, args = self.legacy_call(method, name_at)
        else:
            spec = _SPECS.get(method)
            if spec is None:
                raise self.error(f"unknown collection method {name!r}{_did_you_mean(name, _SPECS)}", name_at)
            args = None
        if explain and method not in ("find", "findOne", "aggregate", "countDocuments", "distinct", "updateOne",
                                      "updateMany", "deleteOne", "deleteMany", "findOneAndUpdate",
                                      "findOneAndDelete", "findOneAndReplace", "replaceOne"):
            raise self.error(f"{method}() cannot be explained", name_at)
        if args is None:
            args = self.call_args(spec, name_at)
        modifiers: list[tuple[str, Any]] = []
        allowed = _FIND_MODIFIERS if method == "find" else _AGG_MODIFIERS if method == "aggregate" else {}
        while True:
            save = self.pos
            self.skip()
            if self.peek() != ".":
                self.pos = save
                break
            self.pos += 1
            self.skip()
            mod_at = self.pos
            mod = self.ident("a cursor method (sort, limit, skip, explain, ...)")
            if mod == "explain":
                if explain:
                    raise self.error("explain() given twice", mod_at)
                explain = self.explain_args()
                continue
            if mod == "count" and method == "find":
                # Legacy cursor.count(): the number of documents the filter matches.
                self.expect("(", "after count")
                self.expect(")", "count() takes no argument here")
                method, spec = "countDocuments", _SPECS["countDocuments"]
                args, allowed = args[:1], {}
                continue
            if mod in _NO_OPS:
                self.expect("(", f"after {mod}")
                self.expect(")", f"{mod}() takes no argument")
                continue
            if mod not in allowed:
                if not allowed:
                    raise self.error(f"{method}() does not return a cursor: .{mod}() cannot follow it", mod_at)
                raise self.error(f"unknown cursor method {mod!r}{_did_you_mean(mod, allowed)}", mod_at)
            modifiers.append((mod, self.modifier_arg(mod, allowed[mod])))
        return ShellQuery(
            self.text[start : self.pos], start, method, spec.kind, collection, database, args, tuple(modifiers), explain
        )

    def legacy_call(self, name: str, name_at: int) -> tuple[str, MethodSpec, tuple[Any, ...]]:
        """mongosh's deprecated insert/remove/update, read as the methods that replaced them."""
        args = self.call_args(_LEGACY[name], name_at)
        if name == "insert":
            first = args[0]
            if isinstance(first, list):
                if not all(isinstance(d, dict) for d in first):
                    raise self.error("insert() takes a document or an array of documents", name_at)
                return "insertMany", _SPECS["insertMany"], args
            if not isinstance(first, dict):
                raise self.error("insert() takes a document or an array of documents", name_at)
            return "insertOne", _SPECS["insertOne"], args
        if name == "remove":
            option = args[1] if len(args) > 1 else None
            just_one = option is True or (isinstance(option, dict) and bool(option.get("justOne")))
            options = {k: v for k, v in option.items() if k != "justOne"} if isinstance(option, dict) else {}
            method = "deleteOne" if just_one else "deleteMany"
            return method, _SPECS[method], (args[0], options) if options else (args[0],)
        options = dict(args[2]) if len(args) > 2 else {}
        multi = bool(options.pop("multi", False))
        method = "updateMany" if multi else "updateOne"
        update = args[1]
        if isinstance(update, dict) and update and not any(str(k).startswith("$") for k in update):
            method = "replaceOne"  # update() with a plain document replaces the match
            if multi:
                raise self.error("update() with multi: true needs update operators ($set, ...)", name_at)
        return method, _SPECS[method], (args[0], update, options) if options else (args[0], update)

    def explain_args(self) -> str:
        self.expect("(", "after explain")
        self.skip()
        if self.accept(")"):
            return "queryPlanner"
        at = self.pos
        value = self.value()
        self.expect(")", "after the explain verbosity")
        if value is True:
            return "allPlansExecution"
        if value is False:
            return "queryPlanner"
        if value not in EXPLAIN_VERBOSITIES:
            raise self.error(f"explain verbosity must be one of {', '.join(EXPLAIN_VERBOSITIES)}", at)
        return value

    def modifier_arg(self, name: str, shape: str) -> Any:
        self.expect("(", f"after {name}")
        self.skip()
        at = self.pos
        if shape == "flag" and self.accept(")"):
            return True
        value = self.value()
        self.expect(")", f"after the argument of {name}()")
        if shape == "number":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value or value < 0:
                raise self.error(f"{name}() takes a non-negative number", at)
            if float(value) != int(value):
                raise self.error(f"{name}() takes a whole number", at)
            return int(value)
        _check_shape(self, name, shape, value, at)
        return value

    def call_args(self, spec: MethodSpec, name_at: int) -> tuple[Any, ...]:
        self.expect("(", f"after {spec.name}")
        args: list[Any] = []
        while True:
            self.skip()
            if self.accept(")"):
                break
            if len(args) >= len(spec.args):
                raise self.error(f"{spec.name}() takes at most {len(spec.args)} argument{'s' if len(spec.args) != 1 else ''}")
            at = self.pos
            value = self.value()
            _check_shape(self, f"argument {len(args) + 1} of {spec.name}()", spec.args[len(args)], value, at)
            args.append(value)
            self.skip()
            if self.accept(","):
                continue
            self.expect(")", f"or ',' after argument {len(args)} of {spec.name}()")
            break
        if len(args) < spec.required:
            hint = ""
            if spec.name in ("deleteMany", "updateMany", "deleteOne", "updateOne"):
                hint = " (pass {} to match every document)"
            raise self.error(
                f"{spec.name}() needs {spec.required} argument{'s' if spec.required > 1 else ''}, got {len(args)}{hint}",
                name_at,
            )
        return tuple(args)

    # -- values --------------------------------------------------------------------------------

    def value(self) -> Any:
        """A value, with JavaScript's arithmetic on numbers (``7 * 24 * 3600 * 1000``,
        ``Date.now() - 86400000``) and ``+`` on strings."""
        self.skip()
        start = self.pos
        char = self.peek()
        left = self.primary() if char != "(" else self.factor()
        if not self._operator_follows():
            return left  # the common case: a plain value
        left = self.term_tail(left, start)
        while True:
            save = self.pos
            self.skip()
            op = self.peek()
            if op not in ("+", "-") or not op:
                self.pos = save
                return left
            self.pos += 1
            left = self.arithmetic(op, left, self.term(), start)

    def _operator_follows(self) -> bool:
        text, pos = self.text, self.pos
        while pos < len(text) and text[pos] in " \t\r\n":
            pos += 1
        return pos < len(text) and text[pos] in "+-*/%"

    def term(self) -> Any:
        self.skip()
        start = self.pos
        return self.term_tail(self.factor(), start)

    def term_tail(self, left: Any, start: int) -> Any:
        while True:
            save = self.pos
            self.skip()
            op = self.peek()
            if op not in ("*", "/", "%") or not op:
                self.pos = save
                return left
            self.pos += 1
            left = self.arithmetic(op, left, self.factor(), start)

    def factor(self) -> Any:
        self.skip()
        if self.peek() == "(":
            self.pos += 1
            inner = self.value()
            self.expect(")", "to close the parenthesis")
            return inner
        return self.primary()

    def arithmetic(self, op: str, left: Any, right: Any, at: int) -> Any:
        if op == "+" and isinstance(left, str) and isinstance(right, str):
            return left + right
        numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (left, right))
        if not numbers:
            raise self.error(f"'{op}' needs two numbers here (or two strings for '+')", at)
        if op == "+":
            return left + right
        if op == "-":
            return left - right
        if op == "*":
            return left * right
        if right == 0:
            return math.nan if op == "%" or left == 0 else math.copysign(math.inf, left)
        if op == "%":
            return math.fmod(left, right) if isinstance(left, float) or isinstance(right, float) else int(math.fmod(left, right))
        quotient = left / right
        return int(quotient) if quotient.is_integer() and abs(quotient) < 2**53 else quotient

    def primary(self) -> Any:
        self.skip()
        char = self.peek()
        if not char:
            raise self.error("expected a value, found end of input")
        if char == "{":
            return self.object()
        if char == "[":
            return self.array()
        if char in "'\"":
            return self.string()
        if char == "/":
            return self.regex()
        if char == "-" or char == "+" or char == "." or char.isdigit():
            return self.number()
        if char and _IDENT_START.match(char):
            return self.word()
        raise self.error(f"expected a value, found {self.found()}")

    def object(self) -> dict[str, Any]:
        self.pos += 1  # {
        result: dict[str, Any] = {}
        while True:
            self.skip()
            char = self.peek()
            if char == "}":
                self.pos += 1
                return result
            if char and char in "'\"":
                key = self.string()
            elif char.isdigit():
                number = self.number()
                key = str(int(number)) if isinstance(number, float) and number.is_integer() else str(number)
            else:
                match = _KEY.match(self.text, self.pos)
                if not match:
                    if not char:
                        raise self.error("expected a key or '}' in object, found end of input")
                    raise self.error(f"expected a key or '}}' in object, found {self.found()}")
                self.pos = match.end()
                key = match.group(0)
            self.skip()
            if self.peek() != ":":
                raise self.error(f"expected ':' after key {key!r}, found {self.found()}")
            self.pos += 1
            result[key] = self.value()
            self.skip()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == "}":
                continue
            raise self.error(f"expected ',' or '}}' in object, found {self.found()}")

    def array(self) -> list[Any]:
        self.pos += 1  # [
        result: list[Any] = []
        while True:
            self.skip()
            if self.peek() == "]":
                self.pos += 1
                return result
            result.append(self.value())
            self.skip()
            char = self.peek()
            if char == ",":
                self.pos += 1
                continue
            if char == "]":
                continue
            raise self.error(f"expected ',' or ']' in array, found {self.found()}")

    def string(self) -> str:
        quote, start = self.text[self.pos], self.pos
        self.pos += 1
        out: list[str] = []
        text = self.text
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.error("unterminated string", start)
            char = text[self.pos]
            if char == quote:
                self.pos += 1
                return "".join(out)
            if char == "\\":
                self.pos += 1
                esc = text[self.pos] if self.pos < len(text) else ""
                if esc == "u":
                    digits = text[self.pos + 1 : self.pos + 5]
                    if not re.fullmatch(r"[0-9a-fA-F]{4}", digits):
                        raise self.error("bad \\u escape: four hex digits expected", self.pos - 1)
                    out.append(chr(int(digits, 16)))
                    self.pos += 5
                    continue
                if esc == "x":
                    digits = text[self.pos + 1 : self.pos + 3]
                    if not re.fullmatch(r"[0-9a-fA-F]{2}", digits):
                        raise self.error("bad \\x escape: two hex digits expected", self.pos - 1)
                    out.append(chr(int(digits, 16)))
                    self.pos += 3
                    continue
                if esc == "\n":
                    self.pos += 1
                    continue
                if not esc:
                    raise self.error("unterminated string", start)
                out.append(_ESCAPES.get(esc, esc))
                self.pos += 1
                continue
            out.append(char)
            self.pos += 1

    def number(self) -> int | float:
        start = self.pos
        negative = False
        if self.peek() in ("+", "-"):
            negative = self.peek() == "-"
            self.pos += 1
            if self.text.startswith("Infinity", self.pos):
                self.pos += len("Infinity")
                return -math.inf if negative else math.inf
        match = _NUMBER.match(self.text, self.pos)
        if not match:
            raise self.error(f"expected a number, found {self.found()}")
        self.pos = match.end()
        if self.pos < len(self.text) and (self.text[self.pos].isalnum() or self.text[self.pos] in "_$"):
            raise self.error(f"malformed number {self.text[start:self.pos + 1]!r}", start)
        literal = match.group(0)
        if literal.lower().startswith("0x"):
            number: int | float = int(literal, 16)
        elif literal.isdigit():
            number = int(literal)
        else:
            number = float(literal)
        return -number if negative else number

    def regex(self) -> RegexValue:
        start = self.pos
        self.pos += 1
        text, in_class, out = self.text, False, []
        while True:
            if self.pos >= len(text) or text[self.pos] == "\n":
                raise self.error("unterminated regular expression", start)
            char = text[self.pos]
            if char == "\\" and self.pos + 1 < len(text):
                out.append(text[self.pos : self.pos + 2])
                self.pos += 2
                continue
            if char == "[":
                in_class = True
            elif char == "]":
                in_class = False
            elif char == "/" and not in_class:
                break
            out.append(char)
            self.pos += 1
        self.pos += 1
        flags_match = re.compile(r"[A-Za-z]*").match(text, self.pos)
        flags = flags_match.group(0) if flags_match else ""
        bad = sorted(set(flags) - set("imsxu"))
        if bad:
            raise self.error(f"unsupported regular expression flag {bad[0]!r} (i, m, s, x, u)", self.pos + flags.index(bad[0]))
        if len(set(flags)) != len(flags):
            raise self.error("a regular expression flag is repeated", self.pos)
        self.pos += len(flags)
        pattern = "".join(out)
        if not pattern:
            raise self.error("empty regular expression", start)
        return RegexValue(pattern, "".join(sorted(flags.replace("u", ""))))

    def word(self) -> Any:
        start = self.pos
        name = self.ident("a value")
        if name == "new":
            self.skip()
            ctor_at = self.pos
            ctor = self.ident("a constructor after 'new'")
            if ctor not in _CONSTRUCTORS:
                raise self.error(f"unknown constructor {ctor!r}{_did_you_mean(ctor, _CONSTRUCTORS)}", ctor_at)
            return self.construct(ctor, ctor_at, new=True)
        if name in _CONSTANTS:
            return _CONSTANTS[name]
        if name == "Date" and re.match(r"\s*\.\s*now\s*\(\s*\)", self.text[self.pos :]):
            self.pos = re.compile(r"\s*\.\s*now\s*\(\s*\)").match(self.text, self.pos).end()
            return int(_dt.datetime.now(_dt.timezone.utc).timestamp() * 1000)  # Date.now(): milliseconds
        if name in _CONSTRUCTORS:
            self.skip()
            if self.peek() == "(":
                return self.construct(name, start, new=False)
            if name in ("MinKey", "MaxKey"):
                return MIN_KEY if name == "MinKey" else MAX_KEY
            raise self.error(f"{name} must be called: {name}(...)", self.pos)
        raise self.error(
            f"unknown name {name!r}{_did_you_mean(name, {**_CONSTANTS, **_CONSTRUCTORS})}: "
            "quote strings, e.g. \"" + name + "\"",
            start,
        )

    def construct(self, name: str, at: int, *, new: bool) -> Any:
        self.expect("(", f"after {name}")
        args: list[tuple[Any, int]] = []
        while True:
            self.skip()
            if self.accept(")"):
                break
            arg_at = self.pos
            args.append((self.value(), arg_at))
            if self.accept(","):
                continue
            self.expect(")", f"or ',' in {name}(...)")
            break
        try:
            return _CONSTRUCTORS[name](args, new)
        except _BadArgument as exc:
            raise self.error(f"{name}(): {exc.message}", exc.at if exc.at is not None else at) from None


def _check_shape(parser: _Parser, what: str, shape: str, value: Any, at: int) -> None:
    ok = {
        "object": isinstance(value, dict),
        "update": isinstance(value, dict) or (isinstance(value, list) and all(isinstance(v, dict) for v in value)),
        "array": isinstance(value, list) and all(isinstance(v, dict) for v in value),
        "string": isinstance(value, str),
        "index": isinstance(value, (str, dict)),
        "flag": isinstance(value, bool),
        "any": True,
    }[shape]
    if not ok:
        expected = {
            "object": "an object {...}",
            "update": "an update object {...} or a pipeline [...]",
            "array": "an array of objects [{...}, ...]",
            "string": "a string",
            "index": "an index name or key object",
            "flag": "true or false",
        }[shape]
        raise parser.error(f"{what} must be {expected}", at)


def _did_you_mean(name: str, choices: Any) -> str:
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


# -- constructors -------------------------------------------------------------------------------


class _BadArgument(Exception):
    def __init__(self, message: str, at: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.at = at


def _one(args: list[tuple[Any, int]], kinds: tuple[type, ...], what: str, *, optional: bool = False) -> tuple[Any, int | None]:
    if not args:
        if optional:
            return None, None
        raise _BadArgument(f"expected {what}")
    if len(args) > 1:
        raise _BadArgument("takes one argument", args[1][1])
    value, at = args[0]
    if not isinstance(value, kinds) or isinstance(value, bool):
        raise _BadArgument(f"expected {what}", at)
    return value, at


def _object_id(args: list[tuple[Any, int]], new: bool) -> ObjectIdValue:
    value, at = _one(args, (str,), "24 hex digits", optional=True)
    if value is None:
        return ObjectIdValue.generate()
    if not re.fullmatch(r"[0-9a-fA-F]{24}", value):
        raise _BadArgument(f"{value!r} is not 24 hex digits", at)
    return ObjectIdValue(value.lower())


_ISO_SHORT = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_date(value: str) -> _dt.datetime:
    """An ISO-8601 date or date-time as mongosh's ISODate reads it; naive times are UTC."""
    text = value.strip()
    if _ISO_SHORT.match(text):
        text += "T00:00:00"
    text = re.sub(r"^(\d{4})(\d{2})(\d{2})(?=T|$)", r"\1-\2-\3", text)
    parsed = _dt.datetime.fromisoformat(text.replace("z", "Z").replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=_dt.timezone.utc)
    return parsed.astimezone(_dt.timezone.utc)


def _iso_date(args: list[tuple[Any, int]], new: bool) -> _dt.datetime:
    if not args:
        now = _dt.datetime.now(_dt.timezone.utc)
        return now.replace(microsecond=now.microsecond // 1000 * 1000)  # BSON dates are milliseconds
    value, at = args[0]
    if len(args) > 1:
        numbers = [a for a, _ in args]
        if not all(isinstance(n, int) and not isinstance(n, bool) for n in numbers) or len(numbers) > 7:
            raise _BadArgument("expected (year, month[, day, hours, minutes, seconds, ms])", at)
        parts = numbers + [0] * (7 - len(numbers))
        try:
            return _dt.datetime(parts[0], parts[1] + 1, parts[2] or 1, parts[3], parts[4], parts[5], parts[6] * 1000,
                                tzinfo=_dt.timezone.utc)
        except ValueError as exc:
            raise _BadArgument(str(exc), at) from None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            return _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc) + _dt.timedelta(milliseconds=value)
        except OverflowError:
            raise _BadArgument("milliseconds out of range", at) from None
    if isinstance(value, _dt.datetime):
        return value
    if not isinstance(value, str):
        raise _BadArgument("expected an ISO-8601 date string", at)
    try:
        return parse_date(value)
    except ValueError:
        raise _BadArgument(f"{value!r} is not an ISO-8601 date (e.g. \"2024-05-01T12:00:00Z\")", at) from None


def _integer(args: list[tuple[Any, int]], what: str, bits: int) -> int:
    if not args:
        return 0
    value, at = _one(args, (int, float, str), "an integer")
    try:
        number = int(value, 10) if isinstance(value, str) else value
        if isinstance(number, float):
            if not number.is_integer():
                raise ValueError
            number = int(number)
    except ValueError:
        raise _BadArgument(f"{value!r} is not an integer", at) from None
    if not -(2 ** (bits - 1)) <= number < 2 ** (bits - 1):
        raise _BadArgument(f"{number} does not fit in {bits} bits", at)
    return number


def _number_long(args: list[tuple[Any, int]], new: bool) -> Int64Value:
    return Int64Value(_integer(args, "NumberLong", 64))


def _number_int(args: list[tuple[Any, int]], new: bool) -> int:
    return _integer(args, "NumberInt", 32)


def _double(args: list[tuple[Any, int]], new: bool) -> float:
    value, at = _one(args, (int, float, str), "a number")
    try:
        return float(value)
    except ValueError:
        raise _BadArgument(f"{value!r} is not a number", at) from None


def _decimal(args: list[tuple[Any, int]], new: bool) -> decimal.Decimal:
    if not args:
        return decimal.Decimal(0)
    value, at = _one(args, (int, float, str), "a decimal string")
    try:
        result = decimal.Decimal(str(value))
    except decimal.InvalidOperation:
        raise _BadArgument(f"{value!r} is not a decimal number", at) from None
    digits = len(result.as_tuple().digits)
    if result.is_finite() and digits > 34:
        raise _BadArgument("more than 34 significant digits", at)
    return result


def _timestamp(args: list[tuple[Any, int]], new: bool) -> TimestampValue:
    if len(args) == 1 and isinstance(args[0][0], dict):
        doc, at = args[0]
        args = [(doc.get("t"), at), (doc.get("i"), at)]
    if len(args) == 0:
        return TimestampValue(0, 0)
    if len(args) != 2 or not all(isinstance(a, int) and not isinstance(a, bool) and 0 <= a < 2**32 for a, _ in args):
        raise _BadArgument("expected (seconds, increment) as unsigned 32-bit integers", args[0][1] if args else None)
    return TimestampValue(args[0][0], args[1][0])


def _uuid(args: list[tuple[Any, int]], new: bool) -> uuid.UUID:
    value, at = _one(args, (str,), "a UUID string", optional=True)
    if value is None:
        return uuid.uuid4()
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _BadArgument(f"{value!r} is not a UUID", at) from None


def _bin_data(args: list[tuple[Any, int]], new: bool, *, hex_data: bool = False) -> BinaryValue:
    if len(args) != 2:
        raise _BadArgument("expected (subtype, data)", args[0][1] if args else None)
    (subtype, s_at), (data, d_at) = args
    if not isinstance(subtype, int) or isinstance(subtype, bool) or not 0 <= subtype <= 255:
        raise _BadArgument("subtype must be an integer 0-255", s_at)
    if not isinstance(data, str):
        raise _BadArgument("data must be a string", d_at)
    try:
        raw = bytes.fromhex(data) if hex_data else base64.b64decode(data, validate=True)
    except (ValueError, binascii.Error):
        raise _BadArgument(f"data is not valid {'hex' if hex_data else 'base64'}", d_at) from None
    return BinaryValue(subtype, raw)


def _regexp(args: list[tuple[Any, int]], new: bool) -> RegexValue:
    if not args or len(args) > 2 or not all(isinstance(a, str) for a, _ in args):
        if args and isinstance(args[0][0], RegexValue) and len(args) == 1:
            return args[0][0]
        raise _BadArgument("expected (pattern[, flags]) as strings", args[0][1] if args else None)
    pattern = args[0][0]
    flags = args[1][0] if len(args) > 1 else ""
    if set(flags) - set("imsxu"):
        raise _BadArgument(f"unsupported flags {flags!r}", args[1][1])
    return RegexValue(pattern, "".join(sorted(set(flags) - {"u"})))


def _key(bound: KeyBound):  # noqa: ANN202
    def build(args: list[tuple[Any, int]], new: bool) -> KeyBound:
        if args:
            raise _BadArgument("takes no argument", args[0][1])
        return bound

    return build


_CONSTRUCTORS: dict[str, Any] = {
    "ObjectId": _object_id,
    "ISODate": _iso_date,
    "Date": _iso_date,
    "NumberLong": _number_long,
    "Long": _number_long,
    "NumberInt": _number_int,
    "Int32": _number_int,
    "Double": _double,
    "NumberDecimal": _decimal,
    "Decimal128": _decimal,
    "Timestamp": _timestamp,
    "UUID": _uuid,
    "BinData": _bin_data,
    "HexData": lambda args, new: _bin_data(args, new, hex_data=True),
    "RegExp": _regexp,
    "MinKey": _key(MIN_KEY),
    "MaxKey": _key(MAX_KEY),
}
_CONSTANTS: dict[str, Any] = {
    "true": True,
    "false": False,
    "null": None,
    "undefined": None,
    "Infinity": math.inf,
    "NaN": math.nan,
}


# -- writing values back in shell syntax ---------------------------------------------------------


_PLAIN_KEY = re.compile(r"^[A-Za-z_$][A-Za-z0-9_$]*$")


def format_value(value: Any) -> str:
    """``value`` in mongosh syntax (unquoted keys where possible), parseable by :func:`parse`.

    >>> format_value({"status": "paid", "ts": {"$gte": 5}, "a.b": [1, 2.5, None]})
    '{status: "paid", ts: {$gte: 5}, "a.b": [1, 2.5, null]}'
    """
    if isinstance(value, dict):
        if not value:
            return "{}"
        parts = [f"{_format_key(k)}: {format_value(v)}" for k, v in value.items()]
        return "{" + ", ".join(parts) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(format_value(v) for v in value) + "]"
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, str):
        return _quote(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, _dt.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=_dt.timezone.utc)
        text = moment.astimezone(_dt.timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        return f'ISODate("{text}")'
    if isinstance(value, decimal.Decimal):
        return f'NumberDecimal("{value}")'
    if isinstance(value, uuid.UUID):
        return f'UUID("{value}")'
    if isinstance(value, ObjectIdValue):
        return f'ObjectId("{value.hex}")'
    if isinstance(value, Int64Value):
        return f"NumberLong({value.value})"
    if isinstance(value, RegexValue):
        if "/" in value.pattern or "\n" in value.pattern:
            return f"RegExp({_quote(value.pattern)}, {_quote(value.flags)})"
        return f"/{value.pattern}/{value.flags}"
    return repr(value)


def _format_key(key: str) -> str:
    return key if _PLAIN_KEY.match(key) else _quote(key)


def _quote(text: str) -> str:
    out = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t").replace("\r", "\\r")
    return f'"{out}"'


def format_query(query: ShellQuery) -> str:
    """The statement back in canonical mongosh syntax (the original spacing is not kept)."""
    if query.method in ("show", "use"):
        return f"{query.method} {query.target}"
    head = "db"
    if query.database:
        head += f".getSiblingDB({_quote(query.database)})"
    if query.collection is not None:
        plain = re.fullmatch(r"[A-Za-z_$][\w$]*(\.[A-Za-z_$][\w$]*)*", query.collection)
        head += f".{query.collection}" if plain else f".getCollection({_quote(query.collection)})"
    text = f"{head}.{query.method}({', '.join(format_value(a) for a in query.args)})"
    for name, value in query.modifiers:
        text += f".{name}({format_value(value)})"
    if query.explain:
        text += f'.explain("{query.explain}")'
    return text


_STRING = r"(?:\"(?:[^\"\\\n]|\\.)*\"|'(?:[^'\\\n]|\\.)*')"
_SECRET_VALUE = re.compile(r"""((?:["']?)(?:pwd|password|passwd|secret|secretAccessKey)(?:["']?)\s*:\s*)""" + _STRING, re.IGNORECASE)
_CHANGE_PASSWORD = re.compile(r"(changeUserPassword\s*\(\s*" + _STRING + r"\s*,\s*)" + _STRING)


def redact_secrets(text: str) -> str:
    """``text`` with passwords replaced by ``"***"``, for history and memory: ``pwd``/``password``
    values (``db.createUser``, ``runCommand({createUser: …, pwd: …})``), the password argument of
    ``db.changeUserPassword`` and URL passwords. Works on text that does not parse too.

    >>> redact_secrets('db.runCommand({createUser: "bob", pwd: "s3cret", roles: []})')
    'db.runCommand({createUser: "bob", pwd: "***", roles: []})'
    """
    from aishell.engine.redact import redact_text

    text = _SECRET_VALUE.sub(lambda m: m.group(1) + '"***"', text)
    text = _CHANGE_PASSWORD.sub(lambda m: m.group(1) + '"***"', text)
    return redact_text(text)


__all__ = [
    "redact_secrets",
    "ShellQuery",
    "MethodSpec",
    "parse",
    "parse_script",
    "parse_date",
    "format_value",
    "format_query",
    "EXPLAIN_VERBOSITIES",
    "READ_COMMANDS",
    "command_writes",
]
