"""PostgreSQL on asyncpg.

Connection parameters follow libpq conventions because asyncpg does: the URL, then PG*
environment variables (PGHOST, PGPORT, PGUSER, PGPASSWORD, PGDATABASE, PGSSLMODE) and the
passfile (PGPASSFILE or ~/.pgpass). Read-only sessions set ``default_transaction_read_only``
on the server, so the server, not string matching, refuses writes; after every statement the
connection checks the server still reports it on (:meth:`PostgresConnection.lifted`).
"""

from __future__ import annotations

import asyncio
import os
import socket
import ssl
import time
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import asyncpg

from aishell.engine.compat import asyncpg as compat_asyncpg
from aishell.engine.drivers import pg_values, postgres_describe
from aishell.engine.drivers.listing import Listing
from aishell.engine.drivers.url import redact_text, redact_url, url_password
from aishell.engine.encode import pg_text
from aishell.engine.errors import (
    AishellError,
    AuthenticationFailed,
    ConnectionFailed,
    ConnectionLost,
    DatabaseNotFound,
    QueryCancelled,
    QueryError,
    ReadOnlyViolation,
)
from aishell.engine.types import CatalogObjects, CatalogRelations, Column, ColumnInfo, DatabaseInfo, IndexInfo, Params, QueryResult, SchemaInfo, TableInfo

CONNECT_TIMEOUT = 10.0


class PostgresDriver:
    """Connections to one PostgreSQL target."""

    name = "postgres"
    language = "sql"
    dialect = "postgres"
    POOLED = True
    MANUAL_COMMIT = True
    HYPOTHETICAL_INDEXES = True
    LISTINGS = postgres_describe.LISTINGS
    COPY = True
    value_text = staticmethod(pg_text)

    def __init__(
        self,
        url: str,
        *,
        read_only: bool = False,
        statement_timeout: float = 0.0,
        connect_timeout: float = CONNECT_TIMEOUT,
        application_name: str = "aishell",
    ) -> None:
        self.url = url
        self.display_url = redact_url(url)
        self.read_only = read_only
        self.connect_timeout = connect_timeout
        # a URL's own server settings (``?application_name=…&search_path=…``, a profile's
        # options) are asyncpg's to send, and win over our defaults
        in_url = {key for key, _ in parse_qsl(urlsplit(url).query)} if "://" in url else set()
        settings = {} if "application_name" in in_url else {"application_name": application_name}
        if read_only:
            settings["default_transaction_read_only"] = "on"
        if statement_timeout and "statement_timeout" not in in_url:
            settings["statement_timeout"] = str(int(statement_timeout * 1000))
        self.server_settings = settings
        self._secret = url_password(url) or ""

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for ``asyncpg.connect``/``create_pool`` (used by the pool too)."""
        return {
            "dsn": self.url,
            "timeout": self.connect_timeout,
            "server_settings": dict(self.server_settings),
            "statement_cache_size": 256,
        }

    async def connect(self) -> "PostgresConnection":
        try:
            raw = await asyncpg.connect(**self.connect_kwargs())
        except BaseException as exc:  # noqa: BLE001 - translated below, CancelledError re-raised
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self.translate_connect_error(exc) from None
        await self.prepare_connection(raw)
        return PostgresConnection(raw, self)

    @staticmethod
    async def prepare_connection(raw: asyncpg.Connection) -> None:
        """What every new connection gets before its first statement, pooled or not: codecs that
        keep values as PostgreSQL has them (:mod:`engine.drivers.pg_values`)."""
        await pg_values.install(raw)

    def translate_connect_error(self, exc: BaseException) -> AishellError:
        """Our error for a failure while connecting, password-free."""
        where = self.display_url
        # one line: the server's DETAIL and HINT come after newlines (a restarting server says
        # "not yet accepting connections\nDETAIL: ..."), and errors show on one line everywhere
        message = " ".join(redact_text(str(exc), (self._secret,)).split())
        if isinstance(exc, asyncpg.InvalidPasswordError):
            return AuthenticationFailed(f"authentication failed for {where}: {message}")
        if isinstance(exc, asyncpg.InvalidAuthorizationSpecificationError):
            return AuthenticationFailed(f"connection refused for {where}: {message}")
        if isinstance(exc, asyncpg.InvalidCatalogNameError):
            return DatabaseNotFound(f"{message} ({where})")
        if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
            return ConnectionFailed(f"could not connect to {where}: timed out after {self.connect_timeout:g}s")
        if isinstance(exc, socket.gaierror):
            return ConnectionFailed(f"could not connect to {where}: unknown host ({exc.strerror})")
        if isinstance(exc, ssl.SSLError):  # before OSError: its errno is not the reason
            reason = getattr(exc, "verify_message", None) or exc.reason or message
            return ConnectionFailed(f"could not connect to {where}: TLS: {' '.join(str(reason).split())}")
        if isinstance(exc, OSError):
            reason = os.strerror(exc.errno) if exc.errno else (exc.strerror or message)
            return ConnectionFailed(f"could not connect to {where}: {reason.lower()}")
        if isinstance(exc, asyncpg.PostgresError):
            return ConnectionFailed(f"could not connect to {where}: {message}")
        if isinstance(exc, (ValueError, asyncpg.InterfaceError, asyncpg.ClientConfigurationError)):
            return ConnectionFailed(f"invalid connection settings for {where}: {message}")
        return ConnectionFailed(f"could not connect to {where}: {type(exc).__name__}: {message}")


class PostgresConnection:
    """One asyncpg connection behind the driver protocol."""

    dialect = "postgres"

    def __init__(self, raw: asyncpg.Connection, driver: PostgresDriver) -> None:
        self.raw = raw
        self.driver = driver
        self._running = 0
        self.uses = 0
        self._described: dict[Any, tuple[Column, ...]] = {}
        self._read_only = driver.read_only
        self._aborted = False
        """The last statement failed inside a transaction (asyncpg keeps the server's
        transaction status private: an error in a transaction block aborts it, and only a
        statement that ends it or rolls back to a savepoint succeeds afterwards)."""

    # -- statements ---------------------------------------------------------------------------

    async def execute(self, sql: str, params: Params = None) -> QueryResult:
        args = tuple(params or ())
        started = time.perf_counter()
        self._running += 1
        self.uses += 1
        self._aborted = False
        try:
            if not args and is_script(sql):
                # Several statements: the simple protocol runs them all. Preparing first would
                # fail and, inside the user's transaction, abort it.
                status = await self.raw.execute(sql)
                if self._read_only and self.lifted():
                    await self.drop_lifted(sql)
                return QueryResult((), [], _rowcount(status), status, time.perf_counter() - started)
            # One round trip through asyncpg's statement cache; the prepared statement comes
            # back too, so its columns are described once per statement, not per call.
            rows, status, state = await compat_asyncpg.execute(self.raw, sql, args)
            columns = self._described.get(state)
            if columns is None:
                if len(self._described) > 512:
                    self._described.clear()
                columns = self._described[state] = _columns(state)
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            if self._read_only and self.lifted():
                await self.drop_lifted(sql)  # a script may have lifted it before it failed
            raise self._translate(exc, sql) from None
        finally:
            self._running -= 1
        if self._read_only and self.lifted():
            await self.drop_lifted(sql)
        status_text = status.decode() if isinstance(status, bytes) else str(status or "")
        tuples = [tuple(r) for r in rows]
        rowcount = len(tuples) if columns else _rowcount(status_text)
        return QueryResult(columns, tuples, rowcount, status_text, time.perf_counter() - started)

    def stream(self, sql: str, params: Params = None, *, page_size: int = 1000) -> "_PostgresStream":
        return _PostgresStream(self, sql, tuple(params or ()), page_size)

    async def copy_out(self, query: str, sink: Any, options: Any, progress: Any = None) -> int:
        """See :mod:`engine.drivers.copy`."""
        from aishell.engine.drivers.copy import postgres_copy_out

        return await postgres_copy_out(self, query, sink, options, *([progress] if progress else []))

    async def copy_in(self, table: tuple[str | None, str], columns: Any, source: Any, options: Any, progress: Any = None) -> int:
        """See :mod:`engine.drivers.copy`."""
        from aishell.engine.drivers.copy import postgres_copy_in

        return await postgres_copy_in(self, table, columns, source, options, *([progress] if progress else []))

    async def cancel(self) -> bool:
        """Cancel through ``pg_cancel_backend`` on a side connection (works from any task)."""
        if not self._running or self.raw.is_closed():
            return False
        pid = self.raw.get_server_pid()
        try:
            side = await asyncpg.connect(**self.driver.connect_kwargs())
        except Exception:  # noqa: BLE001 - fall back to the protocol-level cancel request
            self.raw.terminate()
            return True
        try:
            return bool(await side.fetchval("SELECT pg_cancel_backend($1)", pid))
        finally:
            await side.close()

    # -- catalog ------------------------------------------------------------------------------

    async def databases(self) -> list[DatabaseInfo]:
        # Like psql's \l+: the size only where the user may connect (pg_database_size refuses
        # the others unless the role reads all statistics).
        rows = await self._fetch(
            """SELECT datname, pg_get_userbyid(datdba), pg_encoding_to_char(encoding),
                      CASE WHEN has_database_privilege(oid, 'CONNECT')
                                OR pg_has_role('pg_read_all_stats', 'USAGE')
                           THEN pg_database_size(oid) END
               FROM pg_database WHERE NOT datistemplate ORDER BY datname"""
        )
        return [DatabaseInfo(r[0], r[1] or "", r[2], r[3]) for r in rows]

    async def schemas(self) -> list[str]:
        rows = await self._fetch(
            """SELECT nspname FROM pg_namespace
               WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema'
               ORDER BY nspname"""
        )
        return [r[0] for r in rows]

    async def tables(self, schema: str | None = None) -> list[TableInfo]:
        rows = await self._fetch(
            f"""SELECT n.nspname, c.relname, c.relkind::text,
                       CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r','v','m','f','p')
                  AND {_schema_filter('n.nspname', schema)}
                ORDER BY n.nspname, c.relname""",
            *( [schema] if schema else [] ),
        )
        return [TableInfo(r[0], r[1], _KINDS.get(r[2], "table"), int(r[3])) for r in rows]

    async def columns(self, table: str, schema: str | None = None) -> list[ColumnInfo]:
        info = await self._schema_info(table=table, schema=schema)
        found = info.find(table, schema)
        return list(found.columns) if found else []

    async def indexes(self, table: str, schema: str | None = None) -> list[IndexInfo]:
        info = await self._schema_info(table=table, schema=schema)
        found = info.find(table, schema)
        return list(found.indexes) if found else []

    async def schema_info(self) -> SchemaInfo:
        return await self._schema_info()

    async def _schema_info(self, table: str | None = None, schema: str | None = None) -> SchemaInfo:
        where = [_schema_filter("n.nspname", None)]
        args: list[Any] = []
        if table is not None:
            args.append(table)
            where.append(f"c.relname = ${len(args)}")
            if schema:
                args.append(schema)
                where.append(f"n.nspname = ${len(args)}")
            else:
                where.append("n.nspname = ANY(current_schemas(false))")
        cond = " AND ".join(where)
        path = await self._fetch("SELECT unnest(current_schemas(false))")
        info = SchemaInfo(search_path=tuple(r[0] for r in path) or ("public",))
        for r in await self._fetch(
            f"""SELECT n.nspname, c.relname, c.relkind::text,
                       CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r','v','m','f','p') AND {cond}""",
            *args,
        ):
            info.add(TableInfo(r[0], r[1], _KINDS.get(r[2], "table"), int(r[3])))
        for r in await self._fetch(
            f"""SELECT n.nspname, c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
                       NOT a.attnotnull, pg_get_expr(d.adbin, d.adrelid), a.attnum
                FROM pg_attribute a
                JOIN pg_class c ON c.oid = a.attrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
                WHERE a.attnum > 0 AND NOT a.attisdropped
                  AND c.relkind IN ('r','v','m','f','p') AND {cond}
                ORDER BY n.nspname, c.relname, a.attnum""",
            *args,
        ):
            t = info.find(r[1], r[0])
            if t is not None:
                t.columns.append(ColumnInfo(r[2], r[3], bool(r[4]), r[5], int(r[6])))
        for r in await self._fetch(
            f"""SELECT n.nspname, c.relname, i.relname, ix.indisunique, ix.indisprimary,
                       pg_get_indexdef(ix.indexrelid), ix.indpred IS NOT NULL,
                       ARRAY(SELECT pg_get_indexdef(ix.indexrelid, k + 1, true)
                             FROM generate_subscripts(ix.indkey, 1) AS k ORDER BY k)
                FROM pg_index ix
                JOIN pg_class c ON c.oid = ix.indrelid
                JOIN pg_class i ON i.oid = ix.indexrelid
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE {cond}
                ORDER BY n.nspname, c.relname, i.relname""",
            *args,
        ):
            t = info.find(r[1], r[0])
            if t is not None:
                t.indexes.append(IndexInfo(r[2], tuple(r[7]), bool(r[3]), bool(r[4]), r[5], bool(r[6])))
        return info

    async def server_version(self) -> str:
        return await self._fetchval("SHOW server_version")

    async def listing(self, command: str, pattern: str | None, *, system: bool, verbose: bool) -> Listing:
        """psql's own catalog query for ``\\<command>`` (:mod:`.postgres_describe`)."""
        return await postgres_describe.listing(self._fetch, command, pattern, system=system, verbose=verbose)

    async def describe(self, pattern: str, *, system: bool, verbose: bool) -> list[Listing]:
        """psql's ``\\d pattern`` (:mod:`.postgres_describe`)."""
        return await postgres_describe.describe(self._fetch, pattern, system=system, verbose=verbose)

    async def server_version_num(self) -> int:
        """The server's version as one number (150004 for 15.4; the major is ``// 10000``)."""
        return int(await self._fetchval("SHOW server_version_num"))

    async def relation_sizes(self) -> list[tuple[TableInfo, int]]:
        """The relations whose rows a dump holds: tables, partitioned tables and materialized
        views outside the system schemas and not owned by an extension, each with its size on
        disk in bytes (indexes and TOAST included), by schema and name."""
        rows = await self._fetch(
            f"""SELECT n.nspname, c.relname, c.relkind::text,
                       CASE WHEN c.reltuples < 0 THEN -1 ELSE c.reltuples::bigint END,
                       pg_total_relation_size(c.oid)
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'm') AND {_schema_filter('n.nspname', None)}
                  AND NOT {_EXTENSION_MEMBER}
                ORDER BY 1, 2"""
        )
        return [(TableInfo(r[0], r[1], _KINDS[r[2]], int(r[3])), int(r[4])) for r in rows]

    async def user_relation_count(self) -> int:
        """Tables, views, materialized views, sequences, partitioned and foreign tables outside
        the system schemas and not owned by an extension: 0 for an empty database."""
        return int(await self._fetchval(
            f"""SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {_schema_filter('n.nspname', None)}
                  AND NOT {_EXTENSION_MEMBER}"""
        ))

    # -- state ----------------------------------------------------------------------------------

    def lifted(self) -> bool:
        """True when the server no longer reports ``default_transaction_read_only`` on (a
        function that called ``set_config``...), checked after every statement of a read-only
        session. PostgreSQL 14 and later report the setting whenever it changes
        (ParameterStatus) and asyncpg keeps the last value: reading it costs no round trip
        (about 1.5 µs). Older servers do not report it: there the other layers stand alone.
        """
        raw = self.raw
        return not raw.is_closed() and getattr(raw.get_settings(), "default_transaction_read_only", "on") != "on"

    async def drop_lifted(self, sql: str) -> None:
        """Close this connection for good (a pool replaces it with a fresh read-only one) and
        raise ReadOnlyViolation naming what happened."""
        await self.close()
        raise ReadOnlyViolation(
            "read-only: the session stopped being read-only after this statement "
            "(default_transaction_read_only is off now); its connection was closed",
            statement=sql,
        )

    async def catalog_marker(self) -> tuple[Any, Any] | None:
        """The count and the summed row versions of ``pg_class``: any DDL moves them."""
        row = await self._fetch(_CATALOG_EPOCH)
        return (tuple(row[0]), None)

    async def catalog_relations(self) -> CatalogRelations:
        """Relations (any schema, by lower-cased name) with their kind, row version and oid;
        cascading foreign keys and user triggers."""
        versions = {str(r[0]): str(r[1]) for r in await self._fetch(_CATALOG_RELATIONS)}
        views = [name for name, version in versions.items() if version.startswith("v:")]
        return CatalogRelations.of(versions, views, await self._fetch(_CATALOG_EDGES))

    async def catalog_objects(self) -> CatalogObjects:
        """Foreign keys, user functions and user types (see :mod:`engine.drivers.objects`)."""
        from aishell.engine.drivers.objects import postgres_objects

        return await postgres_objects(self._fetch)

    @property
    def in_transaction(self) -> bool:
        return self.raw.is_in_transaction()

    @property
    def transaction_failed(self) -> bool:
        return self._aborted and self.raw.is_in_transaction()

    @property
    def closed(self) -> bool:
        return self.raw.is_closed()

    async def ping(self) -> None:
        await self._fetchval("SELECT 1")

    async def readers_block_writers(self) -> str:
        return ""  # MVCC: a reader never blocks a writer

    async def close(self) -> None:
        if self.raw.is_closed():
            return
        try:
            await asyncio.wait_for(self.raw.close(), 2.0)
        except (Exception, asyncio.CancelledError):  # noqa: BLE001 - close never raises
            self.raw.terminate()

    # -- helpers --------------------------------------------------------------------------------

    async def _fetch(self, sql: str, *args: Any) -> list[Any]:
        try:
            return await self.raw.fetch(sql, *args)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, sql) from None

    async def _fetchval(self, sql: str, *args: Any) -> Any:
        try:
            return await self.raw.fetchval(sql, *args)
        except Exception as exc:  # noqa: BLE001
            raise self._translate(exc, sql) from None

    def _translate(self, exc: BaseException, sql: str) -> AishellError:
        self._aborted = not self.raw.is_closed() and self.raw.is_in_transaction()
        return translate_error(exc, sql, self.driver)


def translate_error(exc: BaseException, sql: str, driver: PostgresDriver) -> AishellError:
    """Our error for an asyncpg failure while running ``sql``."""
    if isinstance(exc, AishellError):
        return exc
    secret = (driver._secret,)
    if isinstance(exc, asyncpg.QueryCanceledError):
        message = redact_text(exc.args[0] if exc.args else str(exc), secret)
        if "user request" in message:
            return QueryCancelled("statement cancelled", sqlstate=exc.sqlstate, statement=sql)
        return QueryError(message, sqlstate=exc.sqlstate, statement=sql)
    if isinstance(exc, asyncpg.ReadOnlySQLTransactionError):
        return ReadOnlyViolation(
            f"read-only session: {exc.args[0] if exc.args else exc}", sqlstate=exc.sqlstate, statement=sql
        )
    if isinstance(
        exc,
        (
            asyncpg.ConnectionDoesNotExistError,
            asyncpg.AdminShutdownError,
            asyncpg.CannotConnectNowError,
            asyncpg.ConnectionFailureError,
            ConnectionError,
        ),
    ):
        reason = redact_text(str(exc), secret) or type(exc).__name__
        return ConnectionLost(f"connection to {driver.display_url} lost: {reason}")
    if isinstance(exc, asyncpg.PostgresError):
        position = getattr(exc, "position", None)
        return QueryError(
            redact_text(exc.args[0] if exc.args else str(exc), secret),
            position=int(position) if position else None,
            sqlstate=getattr(exc, "sqlstate", None),
            detail=getattr(exc, "detail", None),
            hint=getattr(exc, "hint", None),
            statement=sql,
        )
    if isinstance(exc, asyncpg.InterfaceError) and "closed" in str(exc):
        return ConnectionLost(f"connection to {driver.display_url} lost: {exc}")
    if isinstance(exc, (asyncpg.DataError, ValueError, TypeError, OverflowError)):
        return QueryError(f"invalid parameter: {redact_text(str(exc), secret)}", statement=sql)
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError)):
        return QueryError("statement timed out", statement=sql)
    if isinstance(exc, OSError):
        return ConnectionLost(f"connection to {driver.display_url} lost: {exc.strerror or exc}")
    return QueryError(f"{type(exc).__name__}: {redact_text(str(exc), secret)}", statement=sql)


class _PostgresStream:
    """Rows through a server-side cursor, ``page_size`` rows a round trip.

    Cursors need a transaction: one is opened for the stream unless the user's is already open,
    and closed (committed: the statement is read-only by nature of a cursor) at the end.
    """

    def __init__(self, conn: PostgresConnection, sql: str, args: tuple, page_size: int) -> None:
        self._conn = conn
        self._sql = sql
        self._args = args
        self._page_size = max(1, page_size)
        self._tx: Any = None
        self._cursor: Any = None
        self._portal: Any = None  # the cursor until it is closed (exhausted, it is still open)
        self._buffered: list[tuple] | None = None
        self.columns: tuple[Column, ...] = ()
        self.rowcount = 0
        self.status = ""

    async def __aenter__(self) -> "_PostgresStream":
        conn = self._conn
        conn._running += 1
        conn.uses += 1
        try:
            script = not self._args and is_script(self._sql)
            state = None if script else await compat_asyncpg.prepared(conn.raw, self._sql)
            if state is None or not _columns(state) or _is_not_cursorable(self._sql):
                # Not a plain row-returning query (a write, DDL, script, or a data-modifying
                # CTE): run it whole. Writes with RETURNING are bounded by what they touched.
                conn._running -= 1
                conn.uses -= 1
                result = await conn.execute(self._sql, self._args)
                conn._running += 1
                self.columns, self.rowcount, self.status = result.columns, result.rowcount, result.status
                self._buffered = result.rows
                return self
            self.columns = _columns(state)
            if not conn.raw.is_in_transaction():
                self._tx = conn.raw.transaction(readonly=False)
                await self._tx.start()
            self._cursor = self._portal = await conn.raw.cursor(self._sql, *self._args)
        except (Exception, asyncio.CancelledError) as exc:
            await self._finish(failed=True)
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise conn._translate(exc, self._sql) from None
        return self

    async def __aexit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        await self._finish(failed=exc_type is not None)
        if self._conn._read_only and self._conn.lifted():
            await self._conn.drop_lifted(self._sql)

    @property
    def holds_snapshot(self) -> bool:
        return self._cursor is not None

    def __aiter__(self) -> "_PostgresStream":
        return self

    async def __anext__(self) -> list[tuple]:
        if self._buffered is not None:
            rows, self._buffered = self._buffered, []
            if rows:
                return rows
            raise StopAsyncIteration
        if self._cursor is None:
            raise StopAsyncIteration
        try:
            records = await self._cursor.fetch(self._page_size)
        except (Exception, asyncio.CancelledError) as exc:
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise self._conn._translate(exc, self._sql) from None
        if not records:
            self._cursor = None
            self.status = f"SELECT {self.rowcount}"
            raise StopAsyncIteration
        self.rowcount += len(records)
        return [tuple(r) for r in records]

    async def _finish(self, failed: bool) -> None:
        tx, self._tx = self._tx, None
        portal, self._portal = self._portal, None
        self._cursor = None
        if tx is not None and not self._conn.raw.is_closed():
            try:
                if failed:
                    await tx.rollback()
                else:
                    await tx.commit()
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - the stream's error wins
                pass
        elif portal is not None and not self._conn.raw.is_closed() and not self._conn.transaction_failed:
            # In the user's transaction: close it now, or its snapshot stays until COMMIT.
            try:
                await compat_asyncpg.close_cursor(portal)
            except (Exception, asyncio.CancelledError):  # noqa: BLE001 - the stream's error wins
                pass
        if self._conn._running:
            self._conn._running -= 1


def is_script(sql: str) -> bool:
    """True when ``sql`` holds more than one statement.

    Fast path without tokenizing: no ``;`` before the trailing ones means one statement.
    Otherwise sqlglot's tokenizer tells separators from semicolons inside strings and comments.
    """
    body = sql.rstrip().rstrip(";")
    if ";" not in body:
        return False
    from sqlglot.tokens import TokenType
    from sqlglot.dialects.postgres import Postgres

    try:
        tokens = Postgres().tokenize(body)
    except Exception:  # noqa: BLE001 - let the server judge text we cannot tokenize
        return True
    return any(token.token_type == TokenType.SEMICOLON for token in tokens)


def _is_not_cursorable(sql: str) -> bool:
    """Statements a cursor cannot wrap even though they return rows (writes with RETURNING,
    SHOW, EXPLAIN): PostgreSQL's DECLARE accepts only SELECT/VALUES/TABLE/WITH-SELECT."""
    head = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
    if head in ("SELECT", "VALUES", "TABLE", "(", "WITH"):
        if head != "WITH":
            return False
        try:
            import sqlglot
            from sqlglot import exp

            tree = sqlglot.parse_one(sql, read="postgres")
            return any(
                isinstance(node, (exp.Insert, exp.Update, exp.Delete, exp.Merge))
                for node in tree.walk()
            )
        except Exception:  # noqa: BLE001 - let the server decide
            return True
    return True


def _columns(state: Any) -> tuple[Column, ...]:
    attrs = compat_asyncpg.attributes(state)
    return tuple(Column(a.name, a.type.name) for a in attrs)


def _rowcount(status: str) -> int:
    parts = status.split()
    if parts and parts[-1].isdigit() and parts[0] in ("INSERT", "UPDATE", "DELETE", "SELECT", "MERGE", "COPY", "MOVE", "FETCH"):
        return int(parts[-1])
    return -1


def _schema_filter(column: str, schema: str | None) -> str:
    if schema:
        return f"{column} = $1"
    return f"{column} NOT IN ('pg_catalog', 'information_schema') AND {column} NOT LIKE 'pg\\_toast%' AND {column} NOT LIKE 'pg\\_temp%'"


_EXTENSION_MEMBER = """EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                  AND d.objid = c.oid AND d.deptype = 'e')"""
_KINDS = {"r": "table", "v": "view", "m": "materialized view", "f": "foreign table", "p": "partitioned table"}


# The query cache's schema watcher (catalog_marker, catalog_relations).
_CATALOG_EPOCH = "SELECT count(*), sum(xmin::text::bigint) FROM pg_catalog.pg_class"
_CATALOG_RELATIONS = (
    "SELECT lower(c.relname), string_agg(c.relkind::text || ':' || c.xmin::text || ':' || c.oid::text, ',') "
    "FROM pg_catalog.pg_class c WHERE c.relkind IN ('r','v','m','f','p') GROUP BY 1"
)
# Writes to the first table can change the second: cascading foreign keys and user triggers
# (a trigger may write anything: its table cascades to every table, spelled '*').
_CATALOG_EDGES = (
    "SELECT lower(p.relname), lower(ch.relname), "
    "CASE WHEN k.confdeltype IN ('c','n','d') THEN 'd' ELSE '' END || "
    "CASE WHEN k.confupdtype IN ('c','n','d') THEN 'u' ELSE '' END FROM pg_catalog.pg_constraint k "
    "JOIN pg_catalog.pg_class ch ON ch.oid = k.conrelid JOIN pg_catalog.pg_class p ON p.oid = k.confrelid "
    "WHERE k.contype = 'f' AND (k.confdeltype IN ('c','n','d') OR k.confupdtype IN ('c','n','d')) "
    "UNION SELECT lower(c.relname), '*', '' FROM pg_catalog.pg_trigger t JOIN pg_catalog.pg_class c ON c.oid = t.tgrelid "
    "WHERE NOT t.tgisinternal"
)
