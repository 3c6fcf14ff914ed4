"""Schema migrations: a directory of numbered ``.sql`` files, state kept in the target database.

A migration file is ``NNNN_name.sql`` with an ``-- up`` section (applies the change) and an
optional ``-- down`` section (undoes it)::

    -- add an index for the order lookups
    -- up
    CREATE INDEX orders_customer ON orders (customer_id);
    -- down
    DROP INDEX orders_customer;

Each migration runs in its own transaction together with its row in the state table
``aishell_migrations`` (version, name, checksum, applied_at), so a failing migration leaves the
database and the state table as they were. Transaction control inside a migration (``BEGIN``,
``COMMIT``, ``ROLLBACK``, ``END``, ``SAVEPOINT``, ``RELEASE``, ``START TRANSACTION``, ``ABORT``,
``PREPARE TRANSACTION``) would end that transaction early and leave half of it applied, so such a
migration is refused before anything runs, naming the file and line. A file whose header (above
``-- up``) has the line ``-- aishell: no-transaction`` runs outside a transaction instead (for
``CREATE INDEX CONCURRENTLY``, or batches that commit as they go): its statements run one by
one, and a failure says which of them were applied.
The checksum is the sha256 of the ``up`` section: editing an applied migration is reported by
``status`` and refused by ``up``. On PostgreSQL a session advisory lock serializes concurrent
runs; on SQLite each migration takes the write lock (``BEGIN IMMEDIATE``) and re-checks the
state inside it. Discovery is cached by the directory's and the files' modification times.

    async with await Migrator.open("postgresql://…/shop", "migrations") as migrator:
        for state in await migrator.status(): ...
        applied = await migrator.up()
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from aishell.engine.drivers import driver_for
from aishell.engine.drivers.base import Connection
from aishell.engine.errors import AishellError, QueryError

STATE_TABLE = "aishell_migrations"
LOCK_KEY = 0x616973686D6967  # "aishmig": the pg_advisory_lock key every aishell run shares
DEFAULT_LOCK_TIMEOUT = 60.0

_FILE_NAME = re.compile(r"^(?P<version>\d+)[_-](?P<name>[^/\\]+)\.sql$")
_MARKER = re.compile(r"^[ \t]*--[ \t]*(?P<which>up|down)[ \t]*$", re.IGNORECASE)
_NO_TRANSACTION = re.compile(r"^[ \t]*--[ \t]*aishell:[ \t]*no-transaction[ \t]*$", re.IGNORECASE | re.MULTILINE)
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)


class MigrationError(AishellError):
    """Migrations that cannot be discovered, checked or applied."""

    title = "Migration error"


class MigrationFailed(MigrationError):
    """A migration's SQL failed; its transaction was rolled back."""

    title = "Migration failed"

    def __init__(self, message: str, *, version: int, cause: AishellError | None = None) -> None:
        super().__init__(message)
        self.version = version
        self.cause = cause


class MigrationLocked(MigrationError):
    """Another run holds the migration lock and did not release it in time."""

    title = "Migrations locked"


class ChecksumMismatch(MigrationError):
    """An applied migration's file was edited afterwards."""

    title = "Migration changed"


# -- files ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Migration:
    """One parsed migration file."""

    version: int
    name: str
    path: Path
    up: str
    down: str | None
    """None when the file has no (or an empty) ``-- down`` section: it cannot be rolled back."""
    checksum: str
    """sha256 of the normalized ``up`` section."""
    transactional: bool = True
    up_line: int = 1
    """Line in the file where the ``up`` SQL starts (for error messages)."""
    down_line: int = 1

    @property
    def label(self) -> str:
        return self.path.stem


@dataclass(slots=True)
class MigrationState:
    """A migration as ``status`` sees it: ``applied``, ``pending``, ``changed`` or ``missing``."""

    version: int
    name: str
    state: str
    applied_at: Any = None
    migration: Migration | None = None
    applied_checksum: str | None = None


def parse_migration(path: Path) -> Migration:
    """Parse one migration file. Raises MigrationError for a bad name or layout."""
    match = _FILE_NAME.match(path.name)
    if not match:
        raise MigrationError(f"{path.name}: migration files are named NNNN_name.sql (a number, '_', a name)")
    try:
        text = path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except (OSError, UnicodeDecodeError) as exc:
        raise MigrationError(f"cannot read {path}: {exc}") from None
    lines = text.split("\n")
    sections: dict[str, tuple[int, int]] = {}
    marks = [(i, m["which"].lower()) for i, line in enumerate(lines) if (m := _MARKER.match(line))]
    for which in ("up", "down"):
        if sum(1 for _, w in marks if w == which) > 1:
            raise MigrationError(f"{path.name}: more than one '-- {which}' line")
    if not marks:
        header_end = 0
        sections["up"] = (0, len(lines))
    else:
        header_end = marks[0][0]
        for n, (start, which) in enumerate(marks):
            end = marks[n + 1][0] if n + 1 < len(marks) else len(lines)
            sections[which] = (start + 1, end)
    header = "\n".join(lines[:header_end])
    if not _blank(header):
        raise MigrationError(f"{path.name}: SQL before the '-- up' line (only comments may come first)")
    if "up" not in sections:
        raise MigrationError(f"{path.name}: no '-- up' section")
    up_start, up_end = sections["up"]
    up_start += _leading_blank_lines(lines, up_start, up_end)
    up = "\n".join(lines[up_start:up_end]).rstrip()
    if _blank(up):
        raise MigrationError(f"{path.name}: the '-- up' section is empty")
    down = None
    down_start = 0
    if "down" in sections:
        down_start, down_end = sections["down"]
        down_start += _leading_blank_lines(lines, down_start, down_end)
        body = "\n".join(lines[down_start:down_end]).rstrip()
        down = None if _blank(body) else body
    return Migration(
        version=int(match["version"]),
        name=match["name"],
        path=path,
        up=up,
        down=down,
        checksum=checksum(up),
        transactional=not _NO_TRANSACTION.search(header),
        up_line=up_start + 1,
        down_line=down_start + 1,
    )


def checksum(sql: str) -> str:
    """sha256 of SQL with line endings and trailing spaces normalized."""
    normalized = "\n".join(line.rstrip() for line in sql.replace("\r\n", "\n").strip().split("\n"))
    return hashlib.sha256(normalized.encode("utf-8")).hexdigest()


_DIR_CACHE: dict[Path, tuple[Any, list[Migration]]] = {}
_FILE_CACHE: dict[Path, tuple[int, int, Migration]] = {}


def discover(directory: str | os.PathLike[str]) -> list[Migration]:
    """The migrations in ``directory``, by version.

    Cached: the directory is listed again only when its modification time changes, and a file
    is parsed again only when its own modification time or size does (so an edit in place is
    seen). Raises MigrationError for a missing directory, bad file names, duplicate versions.
    """
    root = Path(directory).expanduser().resolve()
    try:
        dir_mtime = root.stat().st_mtime_ns
    except FileNotFoundError:
        raise MigrationError(f"migrations directory {root} does not exist (aishell migrate new NAME creates it)") from None
    except NotADirectoryError:
        raise MigrationError(f"{root} is not a directory") from None
    cached = _DIR_CACHE.get(root)
    if cached is not None and cached[0][0] == dir_mtime and _settled(dir_mtime):
        names = cached[0][1]
    else:
        names = sorted(e.name for e in os.scandir(root) if e.name.endswith(".sql") and e.is_file())
    stats = []
    for name in names:
        try:
            st = (root / name).stat()
        except FileNotFoundError:  # removed after the listing: list again next time
            _DIR_CACHE.pop(root, None)
            return discover(root)
        stats.append((name, st.st_mtime_ns, st.st_size))
    key = (dir_mtime, names, stats)
    if cached is not None and cached[0] == key and _settled(dir_mtime) and all(_settled(s[1]) for s in stats):
        return list(cached[1])
    migrations = []
    for name, mtime, size in stats:
        path = root / name
        hit = _FILE_CACHE.get(path)
        if hit is not None and hit[0] == mtime and hit[1] == size:
            migration = hit[2]
        else:
            migration = parse_migration(path)
            if _settled(mtime):
                _FILE_CACHE[path] = (mtime, size, migration)
        migrations.append(migration)
    migrations.sort(key=lambda m: m.version)
    for a, b in zip(migrations, migrations[1:]):
        if a.version == b.version:
            raise MigrationError(f"two migrations with version {a.version}: {a.path.name} and {b.path.name}")
    _DIR_CACHE[root] = (key, migrations)
    return list(migrations)


def new_migration(directory: str | os.PathLike[str], name: str) -> Path:
    """Create ``directory/NNNN_name.sql`` (the next version) from a template; returns its path."""
    slug = re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")
    if not slug:
        raise MigrationError(f"migration name {name!r} has no letters or digits")
    root = Path(directory).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    # From the names only: the newest file may still be an unfinished template.
    numbers = [m["version"] for p in root.glob("*.sql") if (m := _FILE_NAME.match(p.name))]
    version = max((int(n) for n in numbers), default=0) + 1
    width = max([4] + [len(n) for n in numbers])
    path = root / f"{version:0{width}d}_{slug}.sql"
    created = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    with open(path, "x", encoding="utf-8") as f:
        f.write(
            f"-- {name}\n"
            f"-- created {created}. SQL under 'up' applies the change, SQL under 'down' undoes it;\n"
            "-- each runs in one transaction (a header line '-- aishell: no-transaction' turns that off).\n"
            "\n-- up\n\n\n-- down\n\n"
        )
    return path


# -- the runner -------------------------------------------------------------------------------------


class Migrator:
    """Applies and reverts the migrations of one directory on one connection."""

    def __init__(
        self,
        conn: Connection,
        directory: str | os.PathLike[str],
        *,
        lock_timeout: float = DEFAULT_LOCK_TIMEOUT,
        table: str = STATE_TABLE,
        owns_connection: bool = False,
    ) -> None:
        if conn.dialect not in ("postgres", "sqlite"):
            raise MigrationError(f"migrations need PostgreSQL or SQLite, not {conn.dialect}")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", table):
            raise MigrationError(f"state table name {table!r} must be a plain identifier")
        self.conn = conn
        self.directory = Path(directory)
        self.lock_timeout = lock_timeout
        self.table = table
        self._owns = owns_connection
        self._pg = conn.dialect == "postgres"

    @classmethod
    async def open(cls, url: str, directory: str | os.PathLike[str], *, create: bool = False, **kwargs: Any) -> "Migrator":
        """A Migrator on a new connection to ``url`` (closed by :meth:`close`)."""
        conn = await driver_for(url, create=create).connect()
        try:
            return cls(conn, directory, owns_connection=True, **kwargs)
        except BaseException:
            await conn.close()
            raise

    async def close(self) -> None:
        if self._owns:
            await self.conn.close()

    async def __aenter__(self) -> "Migrator":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- operations -------------------------------------------------------------------------------

    async def status(self) -> list[MigrationState]:
        """Every migration known to the files or the state table, by version. Changes nothing."""
        migrations = discover(self.directory)
        applied = await self._applied() if await self._table_exists() else {}
        states = []
        by_version = {m.version: m for m in migrations}
        for version in sorted(set(by_version) | set(applied)):
            m = by_version.get(version)
            row = applied.get(version)
            if row is None:
                states.append(MigrationState(version, m.name, "pending", migration=m))
            elif m is None:
                states.append(MigrationState(version, row[0], "missing", row[2], applied_checksum=row[1]))
            else:
                state = "applied" if row[1] == m.checksum else "changed"
                states.append(MigrationState(version, m.name, state, row[2], m, row[1]))
        return states

    async def up(
        self,
        count: int | None = None,
        *,
        out_of_order: bool = False,
        on_applied: Callable[[Migration, float], None] | None = None,
    ) -> list[Migration]:
        """Apply pending migrations in version order (the first ``count`` of them); returns them.

        Refuses (ChecksumMismatch) when an applied migration was edited, and (MigrationError)
        a pending migration older than the newest applied one unless ``out_of_order``, or one
        holding transaction control without ``aishell: no-transaction``; these checks run before
        anything is applied. Stops at the first failure with MigrationFailed; the migrations
        before it stay applied.
        """
        if count is not None and count < 0:
            raise MigrationError(f"count must be positive, got {count}")
        migrations = discover(self.directory)
        done: list[Migration] = []
        async with self._lock():
            applied = await self._applied() if await self._table_exists() else {}
            changed = [m for m in migrations if m.version in applied and applied[m.version][1] != m.checksum]
            if changed:
                raise ChecksumMismatch(
                    f"{_labels(changed)} changed after being applied (checksum differs): "
                    "restore the file, or add a new migration for the change"
                )
            pending = [m for m in migrations if m.version not in applied]
            if applied and not out_of_order:
                late = [m for m in pending if m.version < max(applied)]
                if late:
                    raise MigrationError(
                        f"{_labels(late)} older than the newest applied migration ({max(applied)}): "
                        "renumber it, or pass --out-of-order"
                    )
            selected = pending[:count] if count is not None else pending
            for migration in selected:
                self._refuse_transaction_control(migration, "up")
            await self._ensure_table()
            for migration in selected:
                started = time.perf_counter()
                if await self._run(migration, "up"):
                    done.append(migration)
                    if on_applied is not None:
                        on_applied(migration, time.perf_counter() - started)
        return done

    async def down(self, count: int = 1, *, on_reverted: Callable[[Migration, float], None] | None = None) -> list[Migration]:
        """Revert the ``count`` most recently applied migrations (newest first); returns them.

        Checks all of them first: each needs its file, unchanged, with a ``-- down`` section.
        """
        if count < 0:
            raise MigrationError(f"count must be positive, got {count}")
        by_version = {m.version: m for m in discover(self.directory)}
        done: list[Migration] = []
        async with self._lock():
            if not await self._table_exists():
                return []
            applied = await self._applied()
            targets = []
            for version in sorted(applied, reverse=True)[:count]:
                m = by_version.get(version)
                label = f"{version}_{applied[version][0]}"
                if m is None:
                    raise MigrationError(f"cannot revert {label}: its file is gone from {self.directory}")
                if m.checksum != applied[version][1]:
                    raise ChecksumMismatch(f"cannot revert {m.label}: the file changed after it was applied")
                if m.down is None:
                    raise MigrationError(f"cannot revert {m.label}: it has no '-- down' section")
                self._refuse_transaction_control(m, "down")
                targets.append(m)
            for migration in targets:
                started = time.perf_counter()
                if await self._run(migration, "down"):
                    done.append(migration)
                    if on_reverted is not None:
                        on_reverted(migration, time.perf_counter() - started)
        return done

    # -- internals ---------------------------------------------------------------------------------

    async def _run(self, m: Migration, direction: str) -> bool:
        """Run one migration's section and its state change, in one transaction when allowed.

        Returns False when (SQLite) another run did it first.
        """
        sql, first_line = (m.up, m.up_line) if direction == "up" else (m.down or "", m.down_line)
        conn = self.conn
        try:
            if m.transactional:
                await conn.execute("BEGIN" if self._pg else "BEGIN IMMEDIATE")
                if not self._pg:  # the write lock is ours now: has another run done it meanwhile?
                    present = (await conn.execute(f"SELECT 1 FROM {self.table} WHERE version = ?", [m.version])).rows
                    if bool(present) == (direction == "up"):
                        await conn.execute("ROLLBACK")
                        return False
            await self._script(sql, first_line, m, direction)
            if direction == "up":
                await conn.execute(
                    f"INSERT INTO {self.table} (version, name, checksum) VALUES ({self._ph(1)}, {self._ph(2)}, {self._ph(3)})",
                    [m.version, m.name, m.checksum],
                )
            else:
                await conn.execute(f"DELETE FROM {self.table} WHERE version = {self._ph(1)}", [m.version])
            if m.transactional:
                await conn.execute("COMMIT")
        except (Exception, asyncio.CancelledError) as exc:
            if conn.in_transaction:
                with contextlib.suppress(Exception):
                    await asyncio.shield(conn.execute("ROLLBACK"))
            if isinstance(exc, MigrationFailed) or not isinstance(exc, AishellError):
                raise
            if not self._pg and "database is locked" in str(exc):
                raise MigrationLocked(
                    f"could not take the SQLite write lock for {m.label}: another migration run or writer holds it"
                ) from None
            raise self._failed(m, direction, exc, None) from None
        return True

    async def _script(self, sql: str, first_line: int, m: Migration, direction: str) -> None:
        if _blank(sql):
            return
        if self._pg and m.transactional:
            # Inside our transaction the simple query protocol runs the script as it is (the
            # transaction control it might hold was refused up front).
            try:
                await self._execute_raw(sql)
            except QueryError as exc:
                where = exc.line_column  # only syntax errors carry a position
                raise self._failed(m, direction, exc, first_line + where[0] - 1 if where else None) from None
            return
        parts = split_script(sql, self.conn.dialect)
        for n, (statement, line) in enumerate(parts):
            try:
                if self._pg:
                    await self._execute_raw(statement)  # each its own implicit transaction
                else:
                    await self.conn.execute(statement)
            except QueryError as exc:
                applied = [first_line + line - 1 for _, line in parts[:n]]
                raise self._failed(m, direction, exc, first_line + line - 1, at=(n + 1, len(parts), applied)) from None

    async def _execute_raw(self, sql: str) -> None:
        """PostgreSQL: ``sql`` through the simple query protocol (no prepare: a script, or a
        statement that must not run inside a transaction block). Raises QueryError."""
        from aishell.engine.drivers.postgres import translate_error

        try:
            await self.conn.raw.execute(sql)  # type: ignore[attr-defined]
        except Exception as exc:  # noqa: BLE001 - translated
            raise translate_error(exc, sql, self.conn.driver) from None  # type: ignore[attr-defined]

    def _refuse_transaction_control(self, m: Migration, direction: str) -> None:
        """Raise MigrationError when a transactional migration's section controls transactions.

        A ``COMMIT`` inside would commit the first half of the migration and leave the rest (and
        its state row) to a transaction of its own: a failure after it could no longer roll back
        what came before. Checked for every migration of a run before any of them runs.
        """
        if not m.transactional:
            return
        sql, first_line = (m.up, m.up_line) if direction == "up" else (m.down or "", m.down_line)
        if not _may_control_transactions(sql):
            return
        for statement, line in split_script(sql, self.conn.dialect):
            command = transaction_control(statement, self.conn.dialect)
            if command is not None:
                raise MigrationError(
                    f"{m.path.name}, line {first_line + line - 1}: {command} inside a migration would end its "
                    "transaction early and leave part of it applied; remove it (each migration runs in one "
                    "transaction), or put '-- aishell: no-transaction' above '-- up' to run its statements one by one"
                )

    def _failed(
        self, m: Migration, direction: str, exc: AishellError, line: int | None, *, at: tuple[int, int, list[int]] | None = None
    ) -> MigrationFailed:
        """The one-line failure. ``at`` (no-transaction runs): the failing statement's number,
        the number of statements and the lines of those applied before it."""
        where = m.path.name if line is None else f"{m.path.name}, line {line}"
        if m.transactional:
            outcome = "rolled back, nothing from it was applied"
        elif at is None:
            outcome = "aishell: no-transaction: what ran before the failure stays applied"
        else:
            applied = at[2]
            if not applied:
                done = "no statement was applied"
            elif len(applied) == 1:
                done = f"statement 1 (line {applied[0]}) was applied"
            else:
                done = f"statements 1-{len(applied)} (lines {applied[0]}-{applied[-1]}) were applied"
            outcome = f"aishell: no-transaction: {done} and stay; the migration is not recorded as applied"
        step = f" at statement {at[0]} of {at[1]}" if at and not m.transactional else ""
        verb = "down " if direction == "down" else ""
        text = exc.message.replace("\n", " ")
        return MigrationFailed(f"migration {verb}{m.label} failed{step} ({where}): {text} ({outcome})", version=m.version, cause=exc)

    def _ph(self, n: int) -> str:
        return f"${n}" if self._pg else "?"

    async def _table_exists(self) -> bool:
        if self._pg:
            rows = (await self.conn.execute("SELECT to_regclass($1) IS NOT NULL", [self.table])).rows
        else:
            rows = (await self.conn.execute("SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = ?", [self.table])).rows
        return bool(rows[0][0])

    async def _ensure_table(self) -> None:
        if self._pg:
            ddl = (
                f"CREATE TABLE IF NOT EXISTS {self.table} (version bigint PRIMARY KEY, name text NOT NULL, "
                "checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
        else:
            ddl = (
                f"CREATE TABLE IF NOT EXISTS {self.table} (version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
                "checksum TEXT NOT NULL, applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')))"
            )
        await self.conn.execute(ddl)

    async def _applied(self) -> dict[int, tuple[str, str, Any]]:
        rows = (await self.conn.execute(f"SELECT version, name, checksum, applied_at FROM {self.table} ORDER BY version")).rows
        return {int(r[0]): (r[1], r[2], r[3]) for r in rows}

    @contextlib.asynccontextmanager
    async def _lock(self):
        """PostgreSQL: the advisory lock, waited for up to ``lock_timeout``. SQLite: nothing
        here (each migration takes the write lock itself)."""
        if not self._pg:
            yield
            return
        deadline = time.monotonic() + self.lock_timeout
        while not (await self.conn.execute("SELECT pg_try_advisory_lock($1)", [LOCK_KEY])).rows[0][0]:
            if time.monotonic() >= deadline:
                holder = await self.conn.execute(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted "
                    "AND classid = $1 AND objid = $2 AND objsubid = 1 AND database = "
                    "(SELECT oid FROM pg_database WHERE datname = current_database())",
                    [LOCK_KEY >> 32, LOCK_KEY & 0xFFFFFFFF],
                )
                pid = f" (server process {holder.rows[0][0]})" if holder.rows else ""
                raise MigrationLocked(
                    f"another migration run holds the lock{pid}; gave up after {self.lock_timeout:g} s"
                )
            await asyncio.sleep(0.05)
        try:
            yield
        finally:
            if not self.conn.closed:
                with contextlib.suppress(Exception):
                    await asyncio.shield(self.conn.execute("SELECT pg_advisory_unlock($1)", [LOCK_KEY]))


# -- module-level conveniences -------------------------------------------------------------------


async def status(url: str, directory: str | os.PathLike[str]) -> list[MigrationState]:
    async with await Migrator.open(url, directory) as migrator:
        return await migrator.status()


async def up(url: str, directory: str | os.PathLike[str], count: int | None = None, **kwargs: Any) -> list[Migration]:
    async with await Migrator.open(url, directory) as migrator:
        return await migrator.up(count, **kwargs)


async def down(url: str, directory: str | os.PathLike[str], count: int = 1) -> list[Migration]:
    async with await Migrator.open(url, directory) as migrator:
        return await migrator.down(count)


# -- helpers -----------------------------------------------------------------------------------------


def split_script(script: str, dialect: str) -> list[tuple[str, int]]:
    """The statements of a migration section with the 1-based line of each one's first word:
    :func:`aishell.engine.statements.split.split` (strings, comments and dollar quotes respected,
    SQLite trigger and PostgreSQL ``BEGIN ATOMIC`` bodies kept whole, as the server expects them).
    """
    from aishell.engine.statements.split import split

    return [(statement.text, statement.line) for statement in split(script, dialect)]


def transaction_control(statement: str, dialect: str) -> str | None:
    """The transaction-control command ``statement`` is (``COMMIT``, ``SAVEPOINT``, ``PREPARE
    TRANSACTION`` …), or None.

    The statement classifier decides (:func:`aishell.engine.statements.describe`, kind
    ``transaction``); it is asked only about statements whose first word can start one, read by
    sqlglot's tokenizer, so comments, strings, quoted identifiers and dollar-quoted bodies never
    count. Two-phase commit (``PREPARE TRANSACTION``, ``COMMIT/ROLLBACK PREPARED``), which the
    classifier does not call transaction control, is read from the same words.

    >>> transaction_control("/* done */ commit", "postgres")
    'COMMIT'
    >>> transaction_control("INSERT INTO log VALUES ('COMMIT;')", "sqlite") is None
    True
    """
    from aishell.engine.statements import describe
    from aishell.engine.statements.parsing import TRANSACTION_HEADS

    if not _may_control_transactions(statement):
        return None
    words = [word for word, _ in _leading_words(statement, dialect, 2)]
    if not words:
        return None
    if words[0] == "PREPARE":  # PREPARE TRANSACTION 'id'; PREPARE name AS … is a prepared statement
        return "PREPARE TRANSACTION" if len(words) > 1 and words[1].startswith("TRANSACTION") else None
    if words[0] not in TRANSACTION_HEADS:
        return None
    if words[1:2] == ["PREPARED"]:
        return " ".join(words)
    if describe(statement, dialect).kind != "transaction":
        return None
    return " ".join(words) if words[0] in ("START", "RELEASE") else words[0]


def _may_control_transactions(sql: str) -> bool:
    """False when none of the transaction-control words occurs in ``sql`` at all: then no
    statement in it can be one, and tokenizing it (about 1 MB/s) can be skipped."""
    from aishell.engine.statements.parsing import TRANSACTION_HEADS

    upper = sql.upper()
    return any(word in upper for word in TRANSACTION_HEADS) or "PREPARE" in upper


def _leading_words(sql: str, dialect: str, count: int = 2) -> list[tuple[str, int]]:
    """The first ``count`` tokens of ``sql`` (upper-cased text, offset), comments skipped;
    quoted identifiers come back as empty words."""
    import sqlglot
    from sqlglot.errors import SqlglotError
    from sqlglot.tokens import TokenType

    tokenizer = sqlglot.Dialect.get_or_raise(dialect)
    tokens = None
    if len(sql) > 512 and count < 8:  # the first words of a long statement: tokenize its head only
        with contextlib.suppress(SqlglotError, ValueError, IndexError, RecursionError):
            tokens = tokenizer.tokenize(sql[:512])[:-1]  # the last token may be cut short
        if tokens is not None and len(tokens) < count:
            tokens = None
    if tokens is None:
        try:
            tokens = tokenizer.tokenize(sql)
        except (SqlglotError, ValueError, IndexError, RecursionError):
            return []  # unreadable: the server reports it when the statement runs
    return [("" if t.token_type is TokenType.IDENTIFIER else t.text.upper(), t.start) for t in tokens[:count]]


def split_sqlite(script: str) -> list[tuple[str, int]]:
    """Complete SQLite statements of ``script``, each with the comments before it and its ``;``,
    with the 1-based line each starts on (:func:`split_script`'s rules; trigger bodies stay
    whole). Comment-only leftovers are dropped."""
    from aishell.engine.statements.split import split

    result = []
    line, counted = 1, 0  # lines counted incrementally: a script of many statements stays linear
    for statement in split(script, "sqlite"):
        chunk = script[statement.begin : statement.end]
        begin = statement.begin + len(chunk) - len(chunk.lstrip())
        line += script.count("\n", counted, begin)
        counted = begin
        result.append((chunk.strip(), line))
    return result


def _settled(mtime_ns: int) -> bool:
    """True when a modification time is old enough to trust as a cache key.

    File system timestamps are coarse (a few ms): a second write within the same tick keeps the
    same mtime, so anything modified in the last two seconds is read again (as git does).
    """
    return time.time_ns() - mtime_ns > 2_000_000_000


def _blank(sql: str) -> bool:
    """True when ``sql`` holds nothing but comments, whitespace and semicolons."""
    return not _COMMENTS.sub("", sql).replace(";", "").strip()


def _leading_blank_lines(lines: list[str], start: int, end: int) -> int:
    n = 0
    while start + n < end and not lines[start + n].strip():
        n += 1
    return n


def _labels(migrations: list[Migration]) -> str:
    names = ", ".join(m.label for m in migrations)
    return f"migration {names} is" if len(migrations) == 1 else f"migrations {names} are"


__all__ = [
    "ChecksumMismatch",
    "Migration",
    "MigrationError",
    "MigrationFailed",
    "MigrationLocked",
    "MigrationState",
    "Migrator",
    "checksum",
    "discover",
    "down",
    "new_migration",
    "parse_migration",
    "split_script",
    "split_sqlite",
    "status",
    "transaction_control",
    "up",
]
