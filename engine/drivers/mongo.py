"""MongoDB on PyMongo's async API (``pymongo.AsyncMongoClient``; Motor is not used).

Statements are typed as in mongosh and parsed by :mod:`engine.mongo.shell` before anything is
sent: a parse error costs no round trip. Documents come back flattened into the same paged grid
as SQL rows (:mod:`engine.mongo.flatten`), fetched from the server cursor ``page_size`` at a time.

One driver owns one ``AsyncMongoClient`` (PyMongo pools connections inside it); every
:class:`MongoConnection` handed out by :meth:`MongoDriver.connect` shares it and keeps its own
current database (``use shop``). The client is closed when the last connection closes.
Connection-pool monitoring events feed :meth:`MongoConnection.pool_metrics`, the same
:class:`engine.metrics.PoolSnapshot` the SQL pools report.

Cancel: each operation carries a ``comment`` tag; :meth:`MongoConnection.cancel` finds the
operation with ``currentOp`` (``$ownOps``) and ends it with ``killOp``, closes an open stream's
cursor, and as a last resort cancels the task awaiting the reply.

Read-only sessions: MongoDB has no read-only session mode, so writes (insert/update/delete,
index and collection changes, aggregations with ``$out``/``$merge``, non-read ``runCommand``)
are refused from the parsed statement, before anything is sent; use a user with the ``read``
role for a guarantee on the server side too.
"""

from __future__ import annotations

import asyncio
import datetime as _dt
import decimal
import itertools
import os
import re
import time
import uuid
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import unquote

from aishell.engine.drivers import catalog_listing
from aishell.engine.drivers.listing import Listing
from aishell.engine.drivers.url import redact_text, redact_url, url_password
from aishell.engine.errors import (
    AishellError,
    AuthenticationFailed,
    ConnectionFailed,
    ConnectionLost,
    QueryCancelled,
    QueryError,
    ReadOnlyViolation,
)
from aishell.engine.metrics import LatencyWindow, PoolSnapshot
from aishell.engine.mongo.flatten import Flattener, cell, flatten, type_name
from aishell.engine.mongo.schema import FieldInfo, infer_fields
from aishell.engine.mongo.shell import ShellQuery, format_value, parse_script
from aishell.engine.mongo.values import (
    BinaryValue,
    Int64Value,
    KeyBound,
    ObjectIdValue,
    RegexValue,
    TimestampValue,
)
from aishell.engine.types import CatalogObjects, CatalogRelations, Column, ColumnInfo, DatabaseInfo, IndexInfo, Params, QueryResult, SchemaInfo, TableInfo

_CURSOR_METHODS = frozenset({"find", "aggregate", "getIndexes", "getCollectionInfos", "show"})
_STREAMED = frozenset({"find", "aggregate", "getCollectionInfos"})
_INTERRUPTED = frozenset({11601, 11602, 237, 175})  # Interrupted, InterruptedAtShutdown, CursorKilled, QueryPlanKilled
_TIME_LIMIT = 50  # MaxTimeMSExpired
_UNAUTHORIZED = 13
_AUTH_FAILED = 18
_NOT_IMPLEMENTED = 238


class MongoDriver:
    """Connections to one MongoDB deployment (``mongodb://`` or ``mongodb+srv://``).

    ``statement_timeout`` (seconds, 0: none) becomes ``maxTimeMS`` on every read and count;
    ``sample_size`` is how many documents :meth:`MongoConnection.columns` samples;
    ``client_options`` go to ``AsyncMongoClient`` unchanged (``tls=True``, ``replicaSet=...``).
    """

    name = "mongo"
    language = "mongosh"
    dialect = "mongo"
    POOLED = False
    MANUAL_COMMIT = False
    HYPOTHETICAL_INDEXES = False
    LISTINGS = catalog_listing.LISTINGS
    COPY = False
    value_text = None

    def __init__(
        self,
        target: str,
        *,
        read_only: bool = False,
        connect_timeout: float = 5.0,
        statement_timeout: float = 0.0,
        sample_size: int = 1000,
        schema_sample_size: int = 200,
        min_pool_size: int = 0,
        max_pool_size: int = 10,
        app_name: str = "aishell",
        **client_options: Any,
    ) -> None:
        if connect_timeout <= 0:
            raise ValueError(f"connect_timeout must be positive, got {connect_timeout!r}")
        if sample_size < 1 or schema_sample_size < 1:
            raise ValueError(f"sample sizes must be >= 1, got {sample_size!r} and {schema_sample_size!r}")
        if max_pool_size < 1 or not 0 <= min_pool_size <= max_pool_size:
            raise ValueError(f"pool sizes must satisfy 0 <= min <= max, max >= 1; got {min_pool_size!r}, {max_pool_size!r}")
        self.target = target
        self.display_url = redact_url(target)
        self.read_only = read_only
        self.connect_timeout = connect_timeout
        self.statement_timeout = statement_timeout
        self.sample_size = sample_size
        self.schema_sample_size = schema_sample_size
        self.min_pool_size = min_pool_size
        self.max_pool_size = max_pool_size
        self.app_name = app_name
        self.client_options = client_options
        self.default_database = database_from_url(target)
        self._secret = url_password(target) or ""
        self._client: Any = None
        self._handles = 0
        self._client_lock = asyncio.Lock()
        self.listener = _pymongo_pool_monitor()(min_pool_size, max_pool_size)
        self.read_plan: Callable[[dict[str, Any], ShellQuery], QueryResult] | None = None
        """What a typed ``.explain()`` shows, made from the server's reply. The Session sets the
        analyzer's plan grid (:func:`engine.analyzer.mongo.report.plan_result`): drivers never
        import the analyzer. None: the reply itself, one document like ``runCommand``'s."""

    async def connect(self, *, verify: bool = True) -> "MongoConnection":
        """A connection on the shared client; with ``verify`` a ``ping`` proves the server answers.

        Raises ConnectionFailed (unreachable, bad URL or options), AuthenticationFailed.
        """
        async with self._client_lock:
            if self._client is None:
                self._client = self._make_client()
            client = self._client
            self._handles += 1
        conn = MongoConnection(client, self)
        if verify:
            try:
                await client.admin.command("ping")
            except (Exception, asyncio.CancelledError) as exc:
                await conn.close()
                if isinstance(exc, asyncio.CancelledError):
                    raise
                raise self.translate_connect_error(exc) from None
        return conn

    def _make_client(self) -> Any:
        from pymongo import AsyncMongoClient
        from pymongo.errors import ConfigurationError, InvalidURI

        timeout_ms = int(self.connect_timeout * 1000)
        defaults: dict[str, Any] = {
            "serverSelectionTimeoutMS": timeout_ms,
            "connectTimeoutMS": timeout_ms,
            "minPoolSize": self.min_pool_size,
            "maxPoolSize": self.max_pool_size,
            "appname": self.app_name,
            "tz_aware": True,
            "uuidRepresentation": "standard",
        }
        # Options written in the URL win over our defaults (PyMongo lets keywords override them).
        in_url = url_options(self.target)
        options = {k: v for k, v in defaults.items() if k.lower() not in in_url}
        options.update(self.client_options)
        options["event_listeners"] = [self.listener, *(self.client_options.get("event_listeners") or [])]
        for key, attr in (("maxpoolsize", "max_size"), ("minpoolsize", "min_size")):
            if in_url.get(key, "").isdigit():
                setattr(self.listener, attr, int(in_url[key]))
        try:
            return AsyncMongoClient(self.target, **options)
        except (ConfigurationError, InvalidURI, ValueError, TypeError) as exc:
            message = redact_text(str(exc), (self._secret,))
            raise ConnectionFailed(f"invalid connection settings for {self.display_url}: {message}") from None

    async def _release(self) -> None:
        async with self._client_lock:
            self._handles -= 1
            if self._handles > 0 or self._client is None:
                return
            client, self._client = self._client, None
        try:
            await asyncio.wait_for(client.close(), 5.0)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - close never raises
            pass

    def translate_connect_error(self, exc: BaseException) -> AishellError:
        """Our error for a failure while connecting, password-free."""
        from pymongo import errors

        where = self.display_url
        message = _short(redact_text(str(exc), (self._secret,)))
        if isinstance(exc, AishellError):
            return exc
        if isinstance(exc, errors.OperationFailure) and exc.code == _AUTH_FAILED:
            return AuthenticationFailed(f"authentication failed for {where}: {message}")
        if isinstance(exc, errors.ServerSelectionTimeoutError):
            return ConnectionFailed(
                f"could not connect to {where}: no server answered within {self.connect_timeout:g}s ({message})"
            )
        if isinstance(exc, (errors.ConfigurationError, errors.InvalidURI)):
            return ConnectionFailed(f"invalid connection settings for {where}: {message}")
        if isinstance(exc, errors.OperationFailure):
            return ConnectionFailed(f"could not connect to {where}: {message}")
        return ConnectionFailed(f"could not connect to {where}: {type(exc).__name__}: {message}")


def url_options(url: str) -> dict[str, str]:
    """The URL's query options with lower-cased names (``maxPoolSize=50`` → ``{"maxpoolsize": "50"}``)."""
    query = url.split("?", 1)[1] if "?" in url else ""
    return {k.lower(): unquote(v) for k, _, v in (p.partition("=") for p in query.split("&")) if k}


def database_from_url(url: str) -> str:
    """The database named in the URL's path, ``test`` (as mongosh) when there is none."""
    rest = url.split("://", 1)[1] if "://" in url else url
    rest = rest.split("?", 1)[0]
    if "@" in rest:
        rest = rest.rsplit("@", 1)[1]
    if "/" not in rest:
        return "test"
    name = unquote(rest.split("/", 1)[1])
    return name or "test"


class MongoConnection:
    """A handle on the driver's client with its own current database, behind the driver protocol."""

    dialect = "mongo"

    def __init__(self, client: Any, driver: MongoDriver) -> None:
        self.client = client
        self.driver = driver
        self.database = driver.default_database
        self.uses = 0
        self._closed = False
        self._running = 0
        self._tag: str | None = None
        self._task: asyncio.Future | None = None
        self._cursor: Any = None
        self._cancel_requested = False
        self._serial = itertools.count(1)
        self._id = f"aishell-{os.getpid()}-{uuid.uuid4().hex[:8]}"

    # -- statements -------------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        """Run every statement of ``sql`` (mongosh syntax) and return the last one's result.

        Raises QueryError (parse errors with ``position``; nothing is sent), ReadOnlyViolation,
        QueryCancelled, ConnectionLost.
        """
        queries = self._prepare(sql, params)
        started = time.perf_counter()
        result = QueryResult((), [], 0, "")
        for query in queries:
            result = await self._run(query, sql)
        result.elapsed = time.perf_counter() - started
        return result

    def stream(self, sql: str, params: Params = None, *, page_size: int = 1000) -> "_MongoStream":
        return _MongoStream(self, sql, params, max(1, page_size))

    async def explain(self, sql: str, verbosity: str = "executionStats") -> dict[str, Any]:
        """The server's explain output for the last statement of ``sql`` (``find``, ``aggregate``,
        counts, writes), unread: :mod:`engine.analyzer.mongo` reads it.

        Writes are planned, not applied. Raises QueryError when the statement cannot be explained.
        """
        queries = self._prepare(sql, None, check_read_only=False)
        query = queries[-1]
        return await self._guard(self._explain_doc(query, verbosity), sql, query)

    def _prepare(self, sql: str, params: Params, *, check_read_only: bool = True) -> list[ShellQuery]:
        if self._closed:
            raise ConnectionLost(f"connection to {self.driver.display_url} is closed")
        if params:
            raise QueryError("MongoDB statements take no parameters: write the values in the query", statement=sql)
        queries = parse_script(sql)
        if check_read_only and self.driver.read_only:
            for query in queries:
                if query.is_write:
                    raise ReadOnlyViolation(
                        f"read-only session: {query.method}() would change data or schema; nothing was sent",
                        position=query.start + 1,
                        statement=sql,
                    )
        return queries

    async def _run(self, query: ShellQuery, sql: str) -> QueryResult:
        if query.explain:
            doc = await self._guard(self._explain_doc(query, query.explain), sql, query)
            if self.driver.read_plan is not None:
                return self.driver.read_plan(doc, query)
            columns, rows = flatten([doc])
            return QueryResult(columns, rows, len(rows), "EXPLAIN")
        if query.method in _CURSOR_METHODS:
            cursor = await self._guard(self._open_cursor(query, batch_size=0), sql, query)
            try:
                docs = await self._guard(cursor.to_list(None), sql, query)
            finally:
                await _close_cursor(cursor)
            columns, rows = _doc_grid(query, docs)
            return QueryResult(columns, rows, len(rows), f"{_verb(query)} {len(rows)}")
        return await self._guard(self._call(query), sql, query)

    async def _guard(self, awaitable: Any, sql: str, query: ShellQuery | None) -> Any:
        """Await ``awaitable`` as the running operation (cancellable), translating errors."""
        self._running += 1
        self.uses += 1
        self._cancel_requested = False
        task = asyncio.ensure_future(awaitable)
        self._task = task
        try:
            return await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if self._cancel_requested and (current is None or not current.cancelling()):
                raise QueryCancelled("operation cancelled", statement=sql) from None
            raise
        except Exception as exc:  # noqa: BLE001 - translated
            raise self._translate(exc, sql, query) from None
        finally:
            self._task = None
            self._running -= 1

    def _next_tag(self, query: ShellQuery) -> str:
        user = query.modifier("comment") if query.method == "find" else None
        if user is None:
            user = query.options.get("comment")
        self._tag = user if isinstance(user, str) else f"{self._id}-{next(self._serial)}"
        return self._tag

    def _db(self, query: ShellQuery) -> Any:
        return self.client[query.database or self.database]

    def _collection(self, query: ShellQuery) -> Any:
        return self._db(query)[query.collection]

    def _max_time(self) -> dict[str, int]:
        timeout = self.driver.statement_timeout
        return {"maxTimeMS": int(timeout * 1000)} if timeout > 0 else {}

    async def _open_cursor(self, query: ShellQuery, *, batch_size: int) -> Any:
        """A server cursor for find/aggregate/getIndexes/listings."""
        tag = self._next_tag(query)
        if query.method == "show" and query.target == "dbs":
            return await self.client.list_databases(comment=tag)
        if query.method == "show":
            return await self._db(query).list_collections(comment=tag)
        if query.method == "getCollectionInfos":
            return await self._db(query).list_collections(filter=to_bson(query.args[0]) if query.args else None, comment=tag)
        coll = self._collection(query)
        if query.method == "getIndexes":
            return await coll.list_indexes(comment=tag)
        if query.method == "aggregate":
            options = _options(query.options, _AGGREGATE_OPTIONS, "aggregate")
            for name, value in query.modifiers:
                options[{"maxTimeMS": "maxTimeMS", "batchSize": "batchSize", "allowDiskUse": "allowDiskUse"}.get(name, name)] = value
            options.pop("comment", None)
            for key, value in self._max_time().items():
                options.setdefault(key, value)
            if batch_size and "batchSize" not in options:
                options["batchSize"] = batch_size
            return await coll.aggregate(to_bson(query.pipeline), comment=tag, **options)
        kwargs = _find_kwargs(query)
        kwargs["comment"] = tag
        if self._max_time() and "max_time_ms" not in kwargs:
            kwargs["max_time_ms"] = self._max_time()["maxTimeMS"]
        if batch_size and "batch_size" not in kwargs:
            kwargs["batch_size"] = batch_size
        return coll.find(**kwargs)

    async def _call(self, query: ShellQuery) -> QueryResult:
        """Statements that do not return a cursor."""
        tag = self._next_tag(query)
        method = query.method
        if method == "use":
            self.database = query.target or self.database
            return QueryResult((), [], 0, f"switched to db {self.database}")
        if method in ("getCollectionNames", "stats", "runCommand", "dropDatabase", "createCollection"):
            return await self._database_call(query, tag)
        coll = self._collection(query)
        options = query.options
        if method == "findOne":
            kwargs = _find_kwargs(query)
            kwargs.pop("limit", None)
            doc = await coll.find_one(comment=tag, **kwargs)
            columns, rows = flatten([doc] if doc is not None else [])
            return QueryResult(columns, rows, len(rows), f"FIND {len(rows)}")
        if method == "countDocuments":
            kwargs = _options(options, _COUNT_OPTIONS, method)
            if self._max_time():
                kwargs.setdefault("maxTimeMS", self._max_time()["maxTimeMS"])
            count = await coll.count_documents(to_bson(query.filter), comment=tag, **kwargs)
            return QueryResult((Column("count", "long"),), [(count,)], 1, "COUNT 1")
        if method == "estimatedDocumentCount":
            kwargs = _options(options, {"maxTimeMS": "maxTimeMS"}, method)
            count = await coll.estimated_document_count(comment=tag, **kwargs)
            return QueryResult((Column("count", "long"),), [(count,)], 1, "COUNT 1")
        if method == "distinct":
            kwargs = _options(options, {"maxTimeMS": "maxTimeMS", "collation": "collation", "hint": "hint"}, method)
            values = await coll.distinct(query.args[0], to_bson(query.filter), comment=tag, **kwargs)
            rows = [(cell(v),) for v in values]
            kinds = sorted({type_name(v) for v in values} - {"null"})
            return QueryResult((Column(query.args[0], "|".join(kinds)),), rows, len(rows), f"DISTINCT {len(rows)}")
        if method == "insertOne":
            result = await coll.insert_one(to_bson(query.args[0]), comment=tag, **_options(options, _INSERT_OPTIONS, method))
            return QueryResult((Column("insertedId"),), [(cell(result.inserted_id),)], 1, "INSERT 1")
        if method == "insertMany":
            result = await coll.insert_many(
                to_bson(query.args[0]), comment=tag, **_options(options, {**_INSERT_OPTIONS, "ordered": "ordered"}, method)
            )
            ids = [(cell(i),) for i in result.inserted_ids]
            return QueryResult((Column("insertedId"),), ids, len(ids), f"INSERT {len(ids)}")
        if method in ("updateOne", "updateMany", "replaceOne"):
            call = {"updateOne": coll.update_one, "updateMany": coll.update_many, "replaceOne": coll.replace_one}[method]
            allowed = _UPDATE_OPTIONS if method != "replaceOne" else {k: v for k, v in _UPDATE_OPTIONS.items() if k != "arrayFilters"}
            result = await call(to_bson(query.filter), to_bson(query.update), comment=tag, **_options(options, allowed, method))
            upserted = f", upserted {cell(result.upserted_id)}" if result.upserted_id is not None else ""
            return QueryResult(
                (), [], result.matched_count,
                f"UPDATE {result.matched_count} (modified {result.modified_count}{upserted})",
            )
        if method in ("deleteOne", "deleteMany"):
            call = coll.delete_one if method == "deleteOne" else coll.delete_many
            result = await call(to_bson(query.filter), comment=tag, **_options(options, _DELETE_OPTIONS, method))
            return QueryResult((), [], result.deleted_count, f"DELETE {result.deleted_count}")
        if method in ("findOneAndUpdate", "findOneAndReplace", "findOneAndDelete"):
            return await self._find_and_modify(query, coll, tag)
        if method == "createIndex":
            keys = list(to_bson(query.args[0]).items())
            index_options = {k: v for k, v in to_bson(options).items() if k != "comment"}
            name = await coll.create_index(keys, comment=tag, **index_options)
            return QueryResult((Column("index", "string"),), [(name,)], 1, "CREATE INDEX")
        if method == "dropIndex":
            target = query.args[0]
            await coll.drop_index(target if isinstance(target, str) else list(to_bson(target).items()), comment=tag)
            return QueryResult((), [], 0, "DROP INDEX")
        if method == "drop":
            await coll.drop(comment=tag)
            return QueryResult((), [], 0, "DROP COLLECTION")
        raise QueryError(f"{method}() is not supported", statement=query.text)

    async def _database_call(self, query: ShellQuery, tag: str) -> QueryResult:
        db = self._db(query)
        method = query.method
        if method == "getCollectionNames":
            names = sorted(await db.list_collection_names(comment=tag))
            return QueryResult((Column("name", "string"),), [(n,) for n in names], len(names), f"SHOW {len(names)}")
        if method == "stats":
            doc = await db.command("dbStats", comment=tag)
            columns, rows = flatten([doc])
            return QueryResult(columns, rows, 1, "STATS")
        if method == "runCommand":
            command = to_bson(query.args[0])
            doc = await db.command(command)
            batch = (doc.get("cursor") or {}).get("firstBatch") if isinstance(doc.get("cursor"), Mapping) else None
            columns, rows = flatten(list(batch) if batch is not None else [doc])
            return QueryResult(columns, rows, len(rows), f"COMMAND {next(iter(command), '')}")
        if method == "dropDatabase":
            await self.client.drop_database(db.name, comment=tag)
            return QueryResult((), [], 0, f"DROP DATABASE {db.name}")
        if method == "createCollection":
            options = {k: v for k, v in to_bson(query.options).items() if k != "comment"}
            await db.create_collection(query.args[0], comment=tag, **options)
            return QueryResult((), [], 0, "CREATE COLLECTION")
        raise QueryError(f"{method}() is not supported", statement=query.text)

    async def _find_and_modify(self, query: ShellQuery, coll: Any, tag: str) -> QueryResult:
        from pymongo import ReturnDocument

        options = dict(query.options)
        after = options.pop("returnNewDocument", False) or options.pop("returnDocument", "before") == "after"
        options.pop("returnDocument", None)
        kwargs = _options(options, _FIND_AND_MODIFY_OPTIONS, query.method)
        if query.method == "findOneAndDelete":
            doc = await coll.find_one_and_delete(to_bson(query.filter), comment=tag, **kwargs)
        elif query.method == "findOneAndUpdate":
            doc = await coll.find_one_and_update(
                to_bson(query.filter), to_bson(query.update), comment=tag,
                return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE, **kwargs,
            )
        else:
            doc = await coll.find_one_and_replace(
                to_bson(query.filter), to_bson(query.update), comment=tag,
                return_document=ReturnDocument.AFTER if after else ReturnDocument.BEFORE, **kwargs,
            )
        columns, rows = flatten([doc] if doc is not None else [])
        verb = {"findOneAndDelete": "DELETE", "findOneAndUpdate": "UPDATE", "findOneAndReplace": "UPDATE"}[query.method]
        return QueryResult(columns, rows, len(rows), f"{verb} {len(rows)}")

    async def _explain_doc(self, query: ShellQuery, verbosity: str) -> dict[str, Any]:
        command = explain_command(query)
        tag = self._next_tag(query)
        return await self._db(query).command({"explain": to_bson(command), "verbosity": verbosity}, comment=tag)

    # -- cancel -----------------------------------------------------------------------------------

    async def cancel(self) -> bool:
        """Stop the running operation: killOp on the server, close an open cursor, cancel the wait."""
        if self._closed or (not self._running and self._cursor is None):
            return False
        self._cancel_requested = True
        tag = self._tag
        killed = False
        if tag:
            try:
                reply = await self.client.admin.command(
                    {
                        "currentOp": 1,
                        "$ownOps": True,
                        "$or": [{"command.comment": tag}, {"cursor.originatingCommand.comment": tag}],
                    }
                )
                for op in reply.get("inprog", []):
                    if "opid" in op:
                        await self.client.admin.command({"killOp": 1, "op": op["opid"]})
                        killed = True
            except Exception:  # noqa: BLE001 - no privilege or no server: fall back below
                pass
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await _close_cursor(cursor)
            killed = True
        task = self._task
        if task is not None and not task.done() and not killed:
            task.cancel()
            killed = True
        return killed or bool(self._running)

    # -- catalog ----------------------------------------------------------------------------------

    async def catalog_marker(self) -> tuple[Any, Any] | None:
        """None: nothing is cached by catalog here, so nothing is watched."""
        return None

    async def catalog_relations(self) -> CatalogRelations:
        """Collections have no views the cache must skip nor cascades: empty."""
        return CatalogRelations()

    async def catalog_objects(self) -> CatalogObjects:
        """Collections have no foreign keys, functions or types: empty."""
        return CatalogObjects()

    async def databases(self) -> list[DatabaseInfo]:
        """The databases the user may see with their size on disk (the current one, without a
        size, when listing is not allowed)."""
        try:
            cursor = await self._guard(self.client.list_databases(authorizedDatabases=True), "show dbs", None)
            docs = await self._guard(cursor.to_list(None), "show dbs", None)
        except QueryError:
            docs = []
        found = {str(d["name"]): DatabaseInfo(str(d["name"]), size=_size_on_disk(d)) for d in docs}
        found.setdefault(self.database, DatabaseInfo(self.database))
        return sorted(found.values(), key=lambda info: info.name)

    async def schemas(self) -> list[str]:
        """Database names the user may see (the current one when listing is not allowed)."""
        try:
            cursor = await self._guard(self.client.list_databases(nameOnly=True, authorizedDatabases=True), "show dbs", None)
            docs = await self._guard(cursor.to_list(None), "show dbs", None)
        except QueryError:
            return [self.database]
        names = sorted(d["name"] for d in docs)
        if self.database not in names:
            names.append(self.database)
        return names

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        """Collections, views and time series of ``schema`` (default: the current database)
        with estimated document counts (from collection metadata: no scan)."""
        db_name = schema or self.database
        db = self.client[db_name]
        cursor = await self._guard(db.list_collections(), "show collections", None)
        infos = await self._guard(cursor.to_list(None), "show collections", None)
        # The server's own bookkeeping (view definitions, time-series buckets) is not user data.
        infos = [i for i in infos if not str(i.get("name", "")).startswith(("system.views", "system.buckets."))]
        limit = asyncio.Semaphore(8)

        async def estimate(info: Mapping[str, Any]) -> int:
            if info.get("type", "collection") == "view":
                return -1
            async with limit:
                try:
                    return int(await db[info["name"]].estimated_document_count())
                except Exception:  # noqa: BLE001 - an estimate is optional
                    return -1

        counts = await self._guard(asyncio.gather(*(estimate(i) for i in infos)), "show collections", None)
        tables = [
            TableInfo(db_name, info["name"], str(info.get("type", "collection")), count)
            for info, count in zip(infos, counts)
        ]
        return sorted(tables, key=lambda t: t.name)

    async def columns(self, table: str, schema: str | None = None, *, sample_size: int | None = None) -> list[ColumnInfo]:
        """Fields of a collection inferred from a random sample (:class:`FieldInfo`: path, types,
        frequency). Empty for an empty or missing collection."""
        return list(await self.field_stats(table, schema, sample_size=sample_size))

    async def field_stats(self, table: str, schema: str | None = None, *, sample_size: int | None = None) -> list[FieldInfo]:
        size = sample_size or self.driver.sample_size
        coll = self.client[schema or self.database][table]
        text = f"db.{table}.aggregate([{{$sample: {{size: {size}}}}}])"

        async def sample() -> list[Any]:
            from pymongo.errors import OperationFailure

            try:
                cursor = await coll.aggregate([{"$sample": {"size": size}}], **self._max_time())
            except OperationFailure as exc:
                if exc.code != _NOT_IMPLEMENTED:
                    raise
                # A server without $sample (FerretDB 1.x): the first documents, not a random pick.
                cursor = coll.find({}, limit=size, max_time_ms=self._max_time().get("maxTimeMS"))
            try:
                return await cursor.to_list(None)
            finally:
                await _close_cursor(cursor)

        return infer_fields(await self._guard(sample(), text, None))

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        coll = self.client[schema or self.database][table]
        text = f"db.{table}.getIndexes()"

        async def listing() -> list[Any]:
            cursor = await coll.list_indexes()
            return await cursor.to_list(None)

        try:
            docs = await self._guard(listing(), text, None)
        except QueryError as exc:
            if exc.sqlstate == "NamespaceNotFound":
                return []
            raise
        return [index_info(doc) for doc in docs]

    async def schema_info(self) -> SchemaInfo:
        """Every collection of the current database with sampled fields and indexes."""
        info = SchemaInfo(search_path=(self.database,))
        tables = await self.tables()
        limit = asyncio.Semaphore(4)

        async def fill(table: TableInfo) -> None:
            async with limit:
                table.columns = list(
                    await self.field_stats(table.name, table.schema, sample_size=self.driver.schema_sample_size)
                )
                if table.kind != "view":
                    table.indexes = await self.indexes(table.name, table.schema)

        await asyncio.gather(*(fill(t) for t in tables))
        for table in tables:
            info.add(table)
        return info

    async def listing(self, command: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
        """Collections (``\\dt``), views, indexes, databases (``\\dn``, ``\\l``) of the current
        database unless the pattern names another (:mod:`.catalog_listing`)."""
        return await catalog_listing.listing(self, command, pattern, visible=(self.database,), verbose=verbose)

    async def describe(self, pattern: str, *, system: bool, verbose: bool) -> list[Listing]:
        """A collection's sampled fields and its indexes."""
        return await catalog_listing.describe(self, pattern, visible=(self.database,), verbose=verbose)

    async def server_version(self) -> str:
        doc = await self._guard(self.client.admin.command("buildInfo"), "buildInfo", None)
        return str(doc.get("version", ""))

    # -- state ------------------------------------------------------------------------------------

    @property
    def in_transaction(self) -> bool:
        return False

    @property
    def transaction_failed(self) -> bool:
        return False

    @property
    def closed(self) -> bool:
        return self._closed

    def pool_metrics(self) -> PoolSnapshot:
        """The driver's connection pool, from PyMongo's pool monitoring events."""
        return self.driver.listener.snapshot()

    async def readers_block_writers(self) -> str:
        return ""  # document-level concurrency: readers and writers do not wait on each other

    async def ping(self) -> None:
        if self._closed:
            raise ConnectionLost(f"connection to {self.driver.display_url} is closed")
        try:
            await self.client.admin.command("ping")
        except Exception as exc:  # noqa: BLE001
            error = self._translate(exc, "ping", None)
            if isinstance(error, ConnectionLost):
                raise error from None
            raise ConnectionLost(f"connection to {self.driver.display_url} lost: {error}") from None

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            await _close_cursor(cursor)
        await self.driver._release()

    # -- errors -----------------------------------------------------------------------------------

    def _translate(self, exc: BaseException, sql: str, query: ShellQuery | None) -> AishellError:
        return translate_error(exc, sql, self.driver, query, cancelled=self._cancel_requested)


def translate_error(
    exc: BaseException,
    sql: str,
    driver: MongoDriver,
    query: ShellQuery | None = None,
    *,
    cancelled: bool = False,
) -> AishellError:
    """Our error for a PyMongo failure while running ``sql`` (passwords redacted)."""
    from bson.errors import BSONError
    from pymongo import errors

    if isinstance(exc, AishellError):
        return exc
    secret = (driver._secret,)
    message = _short(redact_text(str(exc), secret))
    position = query.start + 1 if query is not None and query.start else None
    if isinstance(exc, errors.OperationFailure):
        code = exc.code
        details = exc.details or {}
        name = details.get("codeName") if isinstance(details, Mapping) else None
        if isinstance(exc, errors.BulkWriteError):
            write_errors = details.get("writeErrors") or []
            first = write_errors[0] if write_errors else {}
            done = details.get("nInserted", 0)
            message = f"{first.get('errmsg', message)} ({len(write_errors)} write error{'s' if len(write_errors) != 1 else ''}, {done} inserted)"
            code = first.get("code", code)
        if code in _INTERRUPTED or (cancelled and isinstance(exc, errors.CursorNotFound)):
            return QueryCancelled("operation cancelled", sqlstate=name or str(code), statement=sql)
        if code == _TIME_LIMIT or isinstance(exc, errors.ExecutionTimeout):
            return QueryError(f"operation exceeded its time limit: {message}", sqlstate=name or "MaxTimeMSExpired", statement=sql, position=position)
        if code == _AUTH_FAILED:
            return AuthenticationFailed(f"authentication failed for {driver.display_url}: {message}")
        if code == _UNAUTHORIZED and driver.read_only and "requires authentication" not in message:
            # A role that may not write; not a missing login, which refuses reads as well.
            return ReadOnlyViolation(f"read-only session: {message}", sqlstate=name, statement=sql, position=position)
        if code == 11000 and not name:
            name = "DuplicateKey"
        return QueryError(message, sqlstate=name or (str(code) if code is not None else None), statement=sql, position=position)
    if cancelled and isinstance(exc, (errors.InvalidOperation, errors.CursorNotFound)):
        return QueryCancelled("operation cancelled", statement=sql)
    if isinstance(exc, (errors.AutoReconnect, errors.ConnectionFailure)):
        return ConnectionLost(f"connection to {driver.display_url} lost: {message}{_closed_on_value(query)}")
    if isinstance(exc, errors.InvalidOperation) and "close" in message.lower():
        return ConnectionLost(f"connection to {driver.display_url} lost: {message}")
    if isinstance(exc, (BSONError, errors.InvalidName, errors.InvalidOperation, errors.ConfigurationError, ValueError, TypeError, KeyError, OverflowError)):
        return QueryError(message or type(exc).__name__, statement=sql, position=position)
    if isinstance(exc, errors.PyMongoError):
        return QueryError(message, statement=sql, position=position)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return QueryError("operation timed out", statement=sql, position=position)
    if isinstance(exc, OSError):
        return ConnectionLost(f"connection to {driver.display_url} lost: {exc.strerror or message}")
    return QueryError(f"{type(exc).__name__}: {message}", statement=sql, position=position)


def _closed_on_value(query: ShellQuery | None) -> str:
    """Why a server may have hung up on this statement: FerretDB 1.x closes the connection
    instead of refusing a NumberDecimal, MinKey or MaxKey it cannot store."""
    if query is None:
        return ""

    def holds(value: Any) -> str | None:
        if isinstance(value, decimal.Decimal):
            return "NumberDecimal"
        if isinstance(value, KeyBound):
            return value.name
        items = value.values() if isinstance(value, Mapping) else value if isinstance(value, (list, tuple)) else ()
        return next(filter(None, map(holds, items)), None)

    kind = holds(query.args)
    return f" (the statement holds a {kind}: servers without it, such as FerretDB 1.x, close the connection)" if kind else ""


def _short(message: str) -> str:
    """PyMongo's selection errors append a whole topology description, and a server's refusal the
    whole reply (``, full error: {...}``): keep the first part."""
    head = message.split(", full error: {", 1)[0]
    head = head.split(", Timeout:", 1)[0]
    head = head.split(" Topology Description:", 1)[0]
    head = re.sub(r"\s*\(configured timeouts:[^)]*\)", "", head)
    return head.strip()


# -- streaming ----------------------------------------------------------------------------------


class _MongoStream:
    """Documents from one server cursor, ``page_size`` at a time, flattened on a stable column set.

    The next page is asked for as soon as a full one arrives, before that one is flattened, so
    the server reads while the client flattens: at most two pages are held.
    """

    holds_snapshot = False  # a MongoDB cursor reads without pinning a snapshot

    def __init__(self, conn: MongoConnection, sql: str, params: Params, page_size: int) -> None:
        self._conn = conn
        self._sql = sql
        self._params = params
        self._page_size = page_size
        self._cursor: Any = None
        self._next: asyncio.Future | None = None
        self._query: ShellQuery | None = None
        self._flattener: Flattener | None = None
        self._first: list[tuple] | None = None
        self._buffered: list[tuple] | None = None
        self.columns: tuple[Column, ...] = ()
        self.rowcount = 0
        self.status = ""

    async def __aenter__(self) -> "_MongoStream":
        conn = self._conn
        queries = conn._prepare(self._sql, self._params)
        for query in queries[:-1]:
            await conn._run(query, self._sql)
        query = self._query = queries[-1]
        if query.method not in _STREAMED or query.explain:
            result = await conn._run(query, self._sql)
            self.columns, self.status = result.columns, result.status
            self._buffered = result.rows
            if not result.columns:
                self.rowcount = result.rowcount
            return self
        self._cursor = await conn._guard(conn._open_cursor(query, batch_size=self._page_size), self._sql, query)
        conn._cursor = self._cursor
        try:
            docs = await conn._guard(self._cursor.to_list(self._page_size), self._sql, query)
        except BaseException:
            await self._close()
            raise
        if len(docs) < self._page_size:
            await self._close()
        else:
            self._prefetch()
        self._flattener = Flattener()
        self._flattener.learn(docs)
        self.columns = self._flattener.freeze()
        self._first = self._flattener.rows(docs) if docs else []
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self._close()

    def __aiter__(self) -> "_MongoStream":
        return self

    async def __anext__(self) -> list[tuple]:
        if self._buffered is not None:
            rows, self._buffered = self._buffered, None
            if rows:
                self.rowcount += len(rows)
                return rows
            raise StopAsyncIteration
        if self._first:
            rows, self._first = self._first, None
            self.rowcount += len(rows)
            return rows
        self._first = None
        if self._cursor is None:
            self._finish()
            raise StopAsyncIteration
        if self._conn._cursor is not self._cursor:
            # MongoConnection.cancel() took the cursor away between pages (and closed it).
            self._cursor = None
            await self._drop_prefetch()
            self.status = f"{_verb(self._query)} {self.rowcount} (cancelled)" if self._query else "cancelled"
            raise QueryCancelled("operation cancelled", statement=self._sql)
        pending, self._next = self._next, None
        try:
            docs = await self._conn._guard(pending or self._cursor.to_list(self._page_size), self._sql, self._query)
        except BaseException:
            await self._close()
            raise
        if not docs:
            await self._close()
            self._finish()
            raise StopAsyncIteration
        if len(docs) < self._page_size:
            await self._close()
        else:
            self._prefetch()
        assert self._flattener is not None
        rows = self._flattener.rows(docs)
        self.rowcount += len(rows)
        return rows

    def _finish(self) -> None:
        if self.status or self._query is None:
            return
        note = self._flattener.unseen_note() if self._flattener else ""
        self.status = f"{_verb(self._query)} {self.rowcount}" + (f" ({note})" if note else "")

    def _prefetch(self) -> None:
        """Ask for the next page now; :meth:`__anext__` awaits it."""
        if self._cursor is not None and self._next is None:
            self._next = asyncio.ensure_future(self._cursor.to_list(self._page_size))

    async def _drop_prefetch(self) -> None:
        """Stop a page nobody will read (an outer cancel still goes through)."""
        pending, self._next = self._next, None
        if pending is None:
            return
        pending.cancel()
        await asyncio.wait({pending})
        if not pending.cancelled():
            pending.exception()  # retrieved: its failure does not matter any more

    async def _close(self) -> None:
        await self._drop_prefetch()
        cursor, self._cursor = self._cursor, None
        if cursor is not None:
            if self._conn._cursor is cursor:
                self._conn._cursor = None
            await _close_cursor(cursor)


def _doc_grid(query: ShellQuery, docs: list[Any]) -> tuple[tuple[Column, ...], list[tuple]]:
    if query.method == "show" and query.target == "collections":
        names = sorted(d.get("name", "") for d in docs)
        return (Column("name", "string"),), [(n,) for n in names]
    if query.method == "getIndexes":
        # One line an index, its key pattern as shell text (not one column per key field).
        rows = []
        for doc in docs:
            options = {k: v for k, v in doc.items() if k not in ("v", "key", "name", "unique", "ns")}
            rows.append((
                doc.get("name"),
                format_value(_plain(dict(doc.get("key") or {}))),
                bool(doc.get("unique")) or doc.get("name") == "_id_",
                format_value(_plain(options)) if options else "",
            ))
        columns = (Column("name", "string"), Column("key", "object"), Column("unique", "bool"), Column("options", "object"))
        return columns, rows
    return flatten(docs)


def _verb(query: ShellQuery) -> str:
    return {"aggregate": "AGGREGATE", "show": "SHOW", "getIndexes": "INDEXES", "getCollectionInfos": "SHOW"}.get(query.method, "FIND")


async def _close_cursor(cursor: Any) -> None:
    try:
        await asyncio.wait_for(cursor.close(), 5.0)
    except (Exception, asyncio.CancelledError):  # noqa: BLE001 - closing is best effort
        pass


# -- values and options -------------------------------------------------------------------------


def to_bson(value: Any) -> Any:
    """Shell values (:mod:`engine.mongo.values`) as the bson types PyMongo encodes."""
    if isinstance(value, dict):
        return {k: to_bson(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_bson(v) for v in value]
    if value is None or isinstance(value, (str, bool, int, float, _dt.datetime, uuid.UUID)):
        return value
    import bson

    if isinstance(value, ObjectIdValue):
        return bson.ObjectId(value.hex)
    if isinstance(value, Int64Value):
        return bson.Int64(value.value)
    if isinstance(value, decimal.Decimal):
        return bson.Decimal128(value)
    if isinstance(value, RegexValue):
        return bson.Regex(value.pattern, value.flags)
    if isinstance(value, TimestampValue):
        return bson.Timestamp(value.time, value.inc)
    if isinstance(value, BinaryValue):
        return bson.Binary(value.data, value.subtype)
    if isinstance(value, KeyBound):
        return bson.MinKey() if value.name == "MinKey" else bson.MaxKey()
    return value


_FIND_OPTIONS = {
    "sort": "sort", "limit": "limit", "skip": "skip", "projection": "projection", "hint": "hint",
    "maxTimeMS": "max_time_ms", "batchSize": "batch_size", "collation": "collation",
    "allowDiskUse": "allow_disk_use", "comment": "comment", "min": "min", "max": "max", "let": "let",
    "returnKey": "return_key", "showRecordId": "show_record_id", "noCursorTimeout": "no_cursor_timeout",
    "allowPartialResults": "allow_partial_results",
}
_AGGREGATE_OPTIONS = {
    "allowDiskUse": "allowDiskUse", "maxTimeMS": "maxTimeMS", "batchSize": "batchSize", "collation": "collation",
    "hint": "hint", "let": "let", "comment": "comment", "bypassDocumentValidation": "bypassDocumentValidation",
}
_COUNT_OPTIONS = {"limit": "limit", "skip": "skip", "hint": "hint", "maxTimeMS": "maxTimeMS", "collation": "collation", "comment": "comment"}
_INSERT_OPTIONS = {"bypassDocumentValidation": "bypass_document_validation", "comment": "comment"}
_UPDATE_OPTIONS = {
    "upsert": "upsert", "arrayFilters": "array_filters", "hint": "hint", "collation": "collation", "let": "let",
    "bypassDocumentValidation": "bypass_document_validation", "comment": "comment", "sort": "sort",
}
_DELETE_OPTIONS = {"hint": "hint", "collation": "collation", "let": "let", "comment": "comment"}
_FIND_AND_MODIFY_OPTIONS = {
    "projection": "projection", "sort": "sort", "upsert": "upsert", "arrayFilters": "array_filters", "hint": "hint",
    "maxTimeMS": "maxTimeMS", "collation": "collation", "let": "let", "comment": "comment",
}


def _options(options: Mapping[str, Any], allowed: Mapping[str, str], method: str) -> dict[str, Any]:
    """mongosh option names mapped to PyMongo keywords; an unknown option is a QueryError."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if key not in allowed:
            raise QueryError(f"unknown option {key!r} for {method}() (known: {', '.join(sorted(allowed))})")
        if allowed[key] == "comment":
            continue  # the statement's comment is its cancel tag, set separately
        out[allowed[key]] = to_bson(value)  # PyMongo takes sort/hint documents as they are
    return out


def _find_kwargs(query: ShellQuery) -> dict[str, Any]:
    kwargs = _options(query.options, _FIND_OPTIONS, query.method)
    kwargs["filter"] = to_bson(query.filter)
    projection = query.projection
    if projection is not None:
        kwargs["projection"] = to_bson(projection)
    for name, value in query.modifiers:
        key = _FIND_OPTIONS.get("projection" if name == "project" else name)
        if key is None or key == "comment":
            continue
        kwargs[key] = to_bson(value)
    if kwargs.get("sort") in ([], {}):
        kwargs.pop("sort")
    return kwargs


def explain_command(query: ShellQuery) -> dict[str, Any]:
    """The command whose plan ``explain`` reports for ``query`` (shell values, not yet bson)."""
    name = query.collection
    if name is None:
        raise QueryError(f"{query.method}() cannot be explained", statement=query.text)
    method = query.method
    if method in ("find", "findOne"):
        command: dict[str, Any] = {"find": name, "filter": query.filter}
        if query.projection is not None:
            command["projection"] = query.projection
        for key, option in (("sort", query.sort), ("limit", 1 if method == "findOne" else query.limit), ("skip", query.skip)):
            if option is not None:
                command[key] = option
        hint = query.modifier("hint", query.options.get("hint"))
        if hint is not None:
            command["hint"] = hint
        collation = query.modifier("collation", query.options.get("collation"))
        if collation is not None:
            command["collation"] = collation
        return command
    if method == "aggregate":
        command = {"aggregate": name, "pipeline": query.pipeline, "cursor": {}}
        for key in ("allowDiskUse", "hint", "collation", "let"):
            if key in query.options:
                command[key] = query.options[key]
        return command
    if method == "countDocuments":
        command = {"count": name, "query": query.filter}
        for key in ("limit", "skip", "hint", "collation"):
            if key in query.options:
                command[key] = query.options[key]
        return command
    if method == "distinct":
        return {"distinct": name, "key": query.args[0], "query": query.filter}
    if method in ("updateOne", "updateMany", "replaceOne"):
        statement = {"q": query.filter, "u": query.update, "multi": method == "updateMany"}
        for key in ("upsert", "arrayFilters", "hint", "collation"):
            if key in query.options:
                statement[key] = query.options[key]
        return {"update": name, "updates": [statement]}
    if method in ("deleteOne", "deleteMany"):
        statement = {"q": query.filter, "limit": 1 if method == "deleteOne" else 0}
        for key in ("hint", "collation"):
            if key in query.options:
                statement[key] = query.options[key]
        return {"delete": name, "deletes": [statement]}
    if method in ("findOneAndUpdate", "findOneAndReplace", "findOneAndDelete"):
        command = {"findAndModify": name, "query": query.filter}
        if method == "findOneAndDelete":
            command["remove"] = True
        else:
            command["update"] = query.update
        for key in ("sort", "upsert", "projection"):
            if key in query.options:
                command["fields" if key == "projection" else key] = query.options[key]
        return command
    raise QueryError(f"{method}() cannot be explained", statement=query.text)


def index_info(doc: Mapping[str, Any]) -> IndexInfo:
    """An index document from ``listIndexes`` as :class:`IndexInfo` (definition in shell syntax)."""
    key = dict(doc.get("key") or {})
    name = str(doc.get("name", ""))
    options = {
        k: v
        for k, v in doc.items()
        if k in ("unique", "sparse", "partialFilterExpression", "expireAfterSeconds", "hidden", "collation", "weights", "default_language")
    }
    definition = format_value(_plain(key)) + (", " + format_value(_plain(options)) if options else "")
    return IndexInfo(
        name,
        tuple(key),
        bool(doc.get("unique")) or name == "_id_",
        name == "_id_",
        f"createIndex({definition})",
        "partialFilterExpression" in doc,
    )


def _size_on_disk(doc: Mapping[str, Any]) -> int | None:
    """``listDatabases``' sizeOnDisk as an int (servers send int, long or double), None if absent."""
    size = doc.get("sizeOnDisk")
    return int(size) if isinstance(size, (int, float)) and not isinstance(size, bool) else None


def _plain(value: Any) -> Any:
    """bson values as shell values for display (ObjectId → ObjectIdValue, ...)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    name = type(value).__name__
    if name == "ObjectId":
        return ObjectIdValue(str(value))
    if name == "Int64":
        return Int64Value(int(value))
    if name == "Decimal128":
        return value.to_decimal()
    if name == "Regex":
        return RegexValue(value.pattern, value.flags if isinstance(value.flags, str) else "")
    return value


# -- pool monitoring ----------------------------------------------------------------------------


class PoolMonitor:
    """Connection-pool event handlers keeping counters for :class:`PoolSnapshot`.

    The driver registers it with PyMongo as a ``ConnectionPoolListener`` (see
    :func:`_pymongo_pool_monitor`); the handlers only read the events' documented attributes.

    Events arrive on the event loop's thread; each handler is a few integer updates. Counts are
    summed over every server the client talks to (one pool per server). ``breaker`` reads
    ``open`` while a pool is cleared (the server is marked unknown) and ``closed`` once it is
    ready again; ``breaker_failures`` counts consecutive check-outs that failed on a connection
    error.
    """

    def __init__(self, min_size: int = 0, max_size: int = 10, window: int = 1024) -> None:
        self.min_size = min_size
        self.max_size = max_size
        self.latency = LatencyWindow(window)
        self.opened = 0
        self.closed = 0
        self.checkouts = 0
        self.checkins = 0
        self.checkout_started = 0
        self.checkout_failed = 0
        self.timeouts = 0
        self.errors = 0
        self.in_use = 0
        self.peak_in_use = 0
        self.clears = 0
        self.pools = 0
        """Connection pools open now (one per server the client talks to)."""
        self.consecutive_failures = 0
        self._born: dict[tuple[Any, int], float] = {}
        self._lifetimes_total = 0.0
        self._lifetimes = 0
        self._cleared: set[Any] = set()

    # pool events
    def pool_created(self, event: Any) -> None:
        self.pools += 1

    def pool_ready(self, event: Any) -> None:
        self._cleared.discard(event.address)

    def pool_cleared(self, event: Any) -> None:
        self.clears += 1
        self._cleared.add(event.address)

    def pool_closed(self, event: Any) -> None:
        self.pools = max(0, self.pools - 1)
        self._cleared.discard(event.address)

    # connection events
    def connection_created(self, event: Any) -> None:
        self.opened += 1
        self._born[(event.address, event.connection_id)] = time.monotonic()

    def connection_ready(self, event: Any) -> None:
        pass

    def connection_closed(self, event: Any) -> None:
        self.closed += 1
        born = self._born.pop((event.address, event.connection_id), None)
        if born is not None:
            self._lifetimes_total += time.monotonic() - born
            self._lifetimes += 1
        if event.reason == "error":
            self.errors += 1

    def connection_check_out_started(self, event: Any) -> None:
        self.checkout_started += 1

    def connection_check_out_failed(self, event: Any) -> None:
        self.checkout_failed += 1
        if event.reason == "timeout":
            self.timeouts += 1
        elif event.reason == "connectionError":
            self.errors += 1
            self.consecutive_failures += 1

    def connection_checked_out(self, event: Any) -> None:
        self.checkouts += 1
        self.in_use += 1
        self.consecutive_failures = 0
        if self.in_use > self.peak_in_use:
            self.peak_in_use = self.in_use
        duration = getattr(event, "duration", None)
        if duration is not None:
            self.latency.record(float(duration))

    def connection_checked_in(self, event: Any) -> None:
        self.checkins += 1
        self.in_use = max(0, self.in_use - 1)

    def snapshot(self) -> PoolSnapshot:
        size = max(0, self.opened - self.closed)
        p50, p95, p99 = self.latency.percentiles()
        now = time.monotonic()
        oldest = max((now - born for born in self._born.values()), default=0.0)
        waiting = max(0, self.checkout_started - self.checkouts - self.checkout_failed)
        return PoolSnapshot(
            backend="mongo",
            size=size,
            min_size=self.min_size,
            max_size=self.max_size,
            in_use=min(self.in_use, size) if size else self.in_use,
            idle=max(0, size - self.in_use),
            waiters=waiting,
            acquisitions=self.checkouts,
            releases=self.checkins,
            timeouts=self.timeouts,
            errors=self.errors,
            acquire_p50=p50,
            acquire_p95=p95,
            acquire_p99=p99,
            peak_in_use=self.peak_in_use,
            opened=self.opened,
            closed=self.closed,
            lifetime_avg=self._lifetimes_total / self._lifetimes if self._lifetimes else 0.0,
            lifetime_max=oldest,
            breaker="open" if self._cleared else "closed",
            breaker_failures=self.consecutive_failures,
        )


_MONITOR_CLASS: type | None = None


def _pymongo_pool_monitor() -> type:
    """:class:`PoolMonitor` mixed into ``pymongo.monitoring.ConnectionPoolListener`` (PyMongo
    accepts only its own listener types), built on first use so importing this module stays cheap."""
    global _MONITOR_CLASS
    if _MONITOR_CLASS is None:
        from pymongo.monitoring import ConnectionPoolListener

        _MONITOR_CLASS = type("PyMongoPoolMonitor", (PoolMonitor, ConnectionPoolListener), {"__doc__": PoolMonitor.__doc__})
    return _MONITOR_CLASS


__all__ = ["MongoDriver", "MongoConnection", "PoolMonitor", "translate_error", "to_bson", "explain_command", "index_info", "database_from_url"]
