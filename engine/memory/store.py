"""The memory file: one SQLite database (aiosqlite, WAL) holding every statement and each run.

Layout (schema version 3; the migrations below take older files there): ``statements`` has one
row per distinct statement text with its fingerprint, a 64-bit hash of the text (looked up, then
the text compared) and all-time counters; embeddings are not stored here but once, compressed,
in the vector index beside the file (see :mod:`.vectors`; it is rebuilt from the texts when
missing: version 2 kept every float32 vector here too, 80 % of the file); ``runs`` has one
row per execution (database, times, rows, outcome, msgpack ``info`` with tables touched, kind and
source); ``fingerprints`` keeps frequency and success per statement shape; ``statements_fts`` is
an FTS5 index (porter stemming, external content, no positions): rows are indexed by the code that inserts them
(in bulk for batches: a per-row trigger costs ten times more) and unindexed by a delete trigger;
``meta`` holds msgpack values.

Batches are written with multi-row ``INSERT ... VALUES`` statements, not ``executemany``: SQLite
then runs thousands of rows in one step with the GIL released, while ``executemany`` takes the GIL
back after every row and stalls for the interpreter's switch interval whenever another thread
(the next batch being prepared) is running Python.

Files are created mode 0600 in a 0700 directory. A file that is not ours (not SQLite, another
application's, damaged) is moved aside as ``memory.db.corrupt-<UTC time>`` with its WAL, never
deleted, and a fresh store takes its place; :attr:`MemoryStore.notice` says so. Damage that
shows only later, as a query's error, is recognised by :func:`damaged` and handled the same way
by the store's user (:func:`move_aside`). A directory or disk that refuses writes raises
:class:`~engine.errors.MemoryUnavailable`. Any number of processes may open (or create) one file
at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import sqlite3
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, AsyncIterator, Callable, Iterable, Iterator, Sequence, TypeVar

import aiosqlite
import msgpack
import numpy as np

from aishell.engine.compat import aiosqlite as compat_aiosqlite
from aishell.engine.errors import MemoryUnavailable
from aishell.engine.files import private_file
from aishell.engine.memory.text import text_hash

log = logging.getLogger("aishell.engine.memory")

SCHEMA_VERSION = 3
_T = TypeVar("_T")
APPLICATION_ID = 0x41534D31  # "ASM1": aishell memory
SQLITE_MAGIC = b"SQLite format 3\x00"
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
BUSY_WAIT = 5.0
"""Seconds a statement waits for another process's lock on the file."""

MIGRATIONS: dict[int, tuple[str, ...]] = {
    1: (
        "CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID",
        """CREATE TABLE statements (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            text_hash BLOB NOT NULL UNIQUE,
            fingerprint TEXT NOT NULL,
            embedding BLOB NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            runs INTEGER NOT NULL DEFAULT 0,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0
        )""",
        "CREATE INDEX statements_fingerprint ON statements (fingerprint)",
        "CREATE INDEX statements_last_seen ON statements (last_seen)",
        """CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            statement_id INTEGER NOT NULL REFERENCES statements (id) ON DELETE CASCADE,
            database TEXT NOT NULL,
            schema TEXT,
            started_at REAL NOT NULL,
            ended_at REAL,
            duration_ms REAL,
            rows INTEGER,
            success INTEGER,
            error TEXT,
            info BLOB
        )""",
        "CREATE INDEX runs_statement ON runs (statement_id, started_at)",
        "CREATE INDEX runs_started ON runs (started_at)",
        "CREATE INDEX runs_database ON runs (database, started_at)",
        "CREATE INDEX runs_failed ON runs (started_at) WHERE success = 0",  # recent failures; few rows
        """CREATE TABLE fingerprints (
            fingerprint TEXT PRIMARY KEY,
            runs INTEGER NOT NULL DEFAULT 0,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0,
            total_ms REAL NOT NULL DEFAULT 0,
            last_run REAL NOT NULL DEFAULT 0
        ) WITHOUT ROWID""",
        """CREATE VIRTUAL TABLE statements_fts USING fts5 (
            text, content='statements', content_rowid='id', tokenize='porter unicode61'
        )""",
        """CREATE TRIGGER statements_fts_delete AFTER DELETE ON statements BEGIN
            INSERT INTO statements_fts (statements_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
    ),
    # Embeddings move to ``vectors``, stored once each; the text hash becomes an integer looked up
    # then compared; runs_started goes (no query reads runs by time alone); the FTS index keeps
    # only which statements hold each word. Runs with foreign keys off: the statements table is
    # rebuilt under its runs.
    2: (
        "CREATE TABLE vectors (id INTEGER PRIMARY KEY, digest BLOB NOT NULL UNIQUE, embedding BLOB NOT NULL)",
        "INSERT OR IGNORE INTO vectors (digest, embedding) SELECT aishell_digest(embedding), embedding FROM statements ORDER BY id",
        """CREATE TABLE statements_v2 (
            id INTEGER PRIMARY KEY,
            text TEXT NOT NULL,
            text_hash INTEGER NOT NULL,
            fingerprint TEXT NOT NULL,
            vector_id INTEGER NOT NULL,
            first_seen REAL NOT NULL,
            last_seen REAL NOT NULL,
            runs INTEGER NOT NULL DEFAULT 0,
            successes INTEGER NOT NULL DEFAULT 0,
            failures INTEGER NOT NULL DEFAULT 0
        )""",
        """INSERT INTO statements_v2 (id, text, text_hash, fingerprint, vector_id, first_seen, last_seen, runs, successes, failures)
            SELECT s.id, s.text, aishell_text_hash(s.text), s.fingerprint, v.id, s.first_seen, s.last_seen, s.runs, s.successes, s.failures
            FROM statements s JOIN vectors v ON v.digest = aishell_digest(s.embedding)""",
        "DROP TABLE statements",
        "ALTER TABLE statements_v2 RENAME TO statements",
        "CREATE INDEX statements_text_hash ON statements (text_hash)",
        "CREATE INDEX statements_fingerprint ON statements (fingerprint)",
        "CREATE INDEX statements_last_seen ON statements (last_seen)",
        """CREATE TRIGGER statements_fts_delete AFTER DELETE ON statements BEGIN
            INSERT INTO statements_fts (statements_fts, rowid, text) VALUES ('delete', old.id, old.text);
        END""",
        "DROP INDEX runs_started",
        # Search asks FTS5 which statements hold a word and ranks them itself (BM25 over the
        # candidates' text): positions and column sizes were never read, and cost 40 % of indexing.
        "DROP TABLE statements_fts",
        """CREATE VIRTUAL TABLE statements_fts USING fts5 (
            text, content='statements', content_rowid='id', tokenize='porter unicode61', detail=none, columnsize=0
        )""",
        "INSERT INTO statements_fts (statements_fts) VALUES ('rebuild')",
    ),
    # Embeddings leave the file: the vector index beside it is their one copy (compressed, and
    # rebuilt from the texts when lost). Every statement, run and id stays; the pages freed are
    # returned by a VACUUM after the migration commits.
    3: (
        "ALTER TABLE statements DROP COLUMN vector_id",
        "DROP TABLE vectors",
    ),
}
VACUUM_AFTER = 3
"""Migrating to this version frees most of the file: it is vacuumed once, right after."""


@dataclass(slots=True)
class Entry:
    """One execution to remember. ``success`` None means unknown (imported history)."""

    text: str
    database: str = ""
    started_at: float = field(default_factory=time.time)
    """Epoch seconds."""
    duration_ms: float | None = None
    rows: int | None = None
    success: bool | None = True
    error: str | None = None
    schema: str | None = None
    tables: tuple[str, ...] = ()
    kind: str = ""
    source: str = "session"
    fingerprint: str | None = None
    """The shape fingerprint of ``text`` when the caller worked it out already (an import's
    splitter); None: recording works it out."""


@dataclass(slots=True, frozen=True)
class Vector:
    """An embedding as the vector index takes it (float32, contiguous; statements of one shape
    share one with the hashing embedder)."""

    array: np.ndarray

    @classmethod
    def of(cls, array: np.ndarray) -> "Vector":
        return cls(np.ascontiguousarray(array, dtype=np.float32))


@dataclass(slots=True)
class Prepared:
    """An entry with what recording derives from its text."""

    entry: Entry
    text_hash: int
    fingerprint: str
    vector: Vector


@dataclass(slots=True)
class Batch:
    """What recording a batch of runs writes, worked out before its transaction (on the thread
    that prepared it: the connection's thread then does little besides SQLite)."""

    firsts: list[Prepared]
    """The first run of each distinct text, in order."""
    totals: list[tuple[float, float, int, int, int]]
    """Per distinct text: first and last start, runs, successes, failures."""
    run_texts: list[int]
    """Per run: the index of its text in ``firsts``."""
    run_params: list[Any]
    """The runs' INSERT parameters, ten a run; the statement id slots are filled in the write."""
    shapes: list[tuple[str, int, int, int, float, float]]
    """Per fingerprint: runs, successes, failures, total milliseconds, last start."""

    @classmethod
    def plan(cls, items: Sequence[Prepared]) -> "Batch":
        position: dict[str, int] = {}
        firsts: list[Prepared] = []
        totals: list[list[Any]] = []
        run_texts: list[int] = []
        run_params: list[Any] = []
        shapes: dict[str, list[Any]] = {}
        for item in items:
            e = item.entry
            ok, bad = _outcome(e.success)
            k = position.get(e.text)
            if k is None:
                k = position[e.text] = len(firsts)
                firsts.append(item)
                totals.append([e.started_at, e.started_at, 1, ok, bad])
            else:
                t = totals[k]
                t[0] = min(t[0], e.started_at)
                t[1] = max(t[1], e.started_at)
                t[2] += 1
                t[3] += ok
                t[4] += bad
            run_texts.append(k)
            run_params += _run_row(0, e)
            shape = shapes.get(item.fingerprint)
            if shape is None:
                shapes[item.fingerprint] = [item.fingerprint, 1, ok, bad, e.duration_ms or 0.0, e.started_at]
            else:
                shape[1] += 1
                shape[2] += ok
                shape[3] += bad
                shape[4] += e.duration_ms or 0.0
                shape[5] = max(shape[5], e.started_at)
        return cls(firsts, [tuple(t) for t in totals], run_texts, run_params, [tuple(v) for v in shapes.values()])

    def __len__(self) -> int:
        return len(self.run_texts)


@dataclass(slots=True)
class Candidate:
    """A statement with its most relevant run, as search needs it."""

    id: int
    text: str
    fingerprint: str
    last_seen: float
    runs: int
    shape_runs: int
    shape_successes: int
    shape_failures: int
    database: str
    started_at: float
    duration_ms: float | None
    rows: int | None
    success: bool | None
    error: str | None
    schema: str | None
    tables: tuple[str, ...]


class MemoryStore:
    """The memory database. Create with :meth:`open`; writes are serialized by one lock."""

    def __init__(self, conn: aiosqlite.Connection, path: Path, notice: str | None) -> None:
        self._conn = conn
        self.path = path
        self.notice = notice
        """Set when a damaged or foreign file was moved aside on open (a message for the user)."""
        self.uid = ""
        """A random id of this store, so saved vector indexes can tell whose they are."""
        self.identity: tuple[int, int] = (0, 0)
        """Device and inode of the file opened: moving it aside checks it is still this one."""
        self._write = asyncio.Lock()
        self._closed = False

    # -- opening ----------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls, path: str | os.PathLike[str], *, synchronous: str = "normal", side_files: Sequence[Path] = ()
    ) -> "MemoryStore":
        """Open or create the store at ``path``.

        A foreign or damaged file is moved aside with its ``side_files`` (the vector index) and
        replaced (see :attr:`notice`). Safe when several processes open or create the same file
        at once. Raises MemoryUnavailable when the directory or disk refuses writes or the file
        is from a newer aishell.
        """
        path = Path(path)
        notice = None
        for attempt in range(3):
            try:
                _prepare_file(path)
                before = _identity(path)
                conn = await aiosqlite.connect(str(path), isolation_level=None)
                identity = _identity(path)
            except OSError as exc:
                raise MemoryUnavailable(f"memory off: cannot create {path}: {exc.strerror or exc}") from None
            except sqlite3.Error as exc:
                raise MemoryUnavailable(f"memory off: cannot open {path}: {exc}") from None
            if identity != before:  # another process moved the file aside meanwhile: open the new one
                await conn.close()
                continue
            try:
                uid = await _initialize(conn, path, synchronous)
            except _Foreign as exc:
                await conn.close()
                if notice is not None:
                    raise MemoryUnavailable(f"memory off: {path} is still unusable after moving it aside") from None
                notice = move_aside(path, identity, side_files, exc.reason)
                continue
            except MemoryUnavailable:
                await conn.close()
                raise
            except sqlite3.Error as exc:
                await conn.close()
                raise MemoryUnavailable(f"memory off: {path}: {exc}") from None
            store = cls(conn, path, notice)
            store.uid = uid
            store.identity = identity
            return store
        raise MemoryUnavailable(f"memory off: {path} keeps being replaced by another process")

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            await self._conn.close()
        except (sqlite3.Error, ValueError):
            pass

    # -- writing ----------------------------------------------------------------------------------

    async def _transaction(self, work: Callable[[sqlite3.Connection], _T]) -> _T:
        """``work(db)`` inside BEGIN IMMEDIATE ... COMMIT, run on the connection's own thread in
        one hop. A write then waits for the event loop (and the GIL) once, not once per statement,
        which matters when another thread is busy in Python (the next batch being prepared).
        aiosqlite has no public call for this: :func:`engine.compat.aiosqlite.run` makes one."""
        async with self._write:
            return await compat_aiosqlite.run(self._conn, _in_transaction, work)

    async def add(self, item: Prepared) -> tuple[int, bool]:
        """Record one run in its own transaction, committed on return. ``(statement_id, new)``."""
        return await self._transaction(functools.partial(_add, item=item))

    async def add_many(self, batch: Batch, *, meta: tuple[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Record a planned batch of runs in one transaction (plan it off the event loop: the
        write stays short), with the ``meta`` (key, value) set in the same transaction (an
        import's progress: it holds exactly when the batch does). Returns the ids of the
        statements new to the store (ascending) and their embeddings, one row each."""
        if not len(batch):
            if meta is not None:
                await self.set_meta(*meta)
            return np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32)
        return await self._transaction(functools.partial(_add_many, batch=batch, meta=meta))

    async def delete(self, ids: Iterable[int]) -> list[int]:
        """Forget statements (and their runs). Returns the ids that existed."""
        ids = [int(i) for i in ids]
        gone: list[int] = []
        async with self._write:
            conn = self._conn
            await conn.execute("BEGIN IMMEDIATE")
            try:
                for start in range(0, len(ids), 900):
                    chunk = ids[start : start + 900]
                    marks = ",".join("?" * len(chunk))
                    rows = await conn.execute_fetchall(f"DELETE FROM statements WHERE id IN ({marks}) RETURNING id", chunk)
                    gone.extend(r[0] for r in rows)
                await conn.execute("COMMIT")
            except BaseException:
                await _rollback(conn)
                raise
        return gone

    async def prune(self, *, max_statements: int, max_runs_per_statement: int, half_life_days: float, batch: int = 2000) -> list[int]:
        """Consolidate and prune, in small transactions so recording never waits long.

        Runs beyond the newest ``max_runs_per_statement`` of a statement are dropped (its
        counters keep the totals). Past ``max_statements``, the least important statements go:
        importance is recency with each doubling of runs worth one half-life. Returns the ids of
        the statements removed (for the vector index).
        """
        async with self._write:
            await self._conn.execute("BEGIN IMMEDIATE")
            try:
                await self._conn.execute(
                    "DELETE FROM runs WHERE id IN (SELECT id FROM (SELECT id, row_number() OVER"
                    " (PARTITION BY statement_id ORDER BY started_at DESC, id DESC) AS n FROM runs) WHERE n > ?)",
                    (max_runs_per_statement,),
                )
                await self._conn.execute("COMMIT")
            except BaseException:
                await _rollback(self._conn)
                raise
        (count,) = next(iter(await self._conn.execute_fetchall("SELECT count(*) FROM statements")))
        excess = count - max_statements
        removed: list[int] = []
        half_life = half_life_days * 86400.0
        while excess > 0:
            take = min(excess, batch)
            rows = await self._conn.execute_fetchall(
                "SELECT id FROM statements ORDER BY last_seen + ? * aishell_log2(1 + runs) ASC, id ASC LIMIT ?",
                (half_life, take),
            )
            gone = await self.delete([r[0] for r in rows])
            if not gone:
                break
            removed.extend(gone)
            excess -= len(gone)
            await asyncio.sleep(0)
        return removed

    # -- reading ----------------------------------------------------------------------------------

    async def ids(self) -> np.ndarray:
        """Every statement id, ascending."""
        rows = await self._conn.execute_fetchall("SELECT id FROM statements ORDER BY id")
        return np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))

    async def max_id(self) -> int:
        """The largest statement id (an index lookup)."""
        rows = await self._conn.execute_fetchall("SELECT coalesce(max(id), 0) FROM statements")
        return int(next(iter(rows))[0])

    async def summary(self) -> tuple[int, int]:
        """``(statement count, max id)``, to check a saved index against the store (counts rows:
        not for every search)."""
        rows = await self._conn.execute_fetchall("SELECT count(*), coalesce(max(id), 0) FROM statements")
        count, max_id = next(iter(rows))
        return int(count), int(max_id)

    async def texts(self, ids: Sequence[int]) -> list[tuple[int, str]]:
        marks = ",".join("?" * len(ids))
        return [tuple(r) for r in await self._conn.execute_fetchall(f"SELECT id, text FROM statements WHERE id IN ({marks})", list(ids))]

    async def all_texts(self, *, after_id: int = 0, chunk: int = 5000) -> AsyncIterator[list[tuple[int, str]]]:
        """``(id, text)`` of every statement with id > ``after_id``, in id order, chunk by chunk
        (what the vector index is built from)."""
        last = after_id
        while True:
            rows = await self._conn.execute_fetchall("SELECT id, text FROM statements WHERE id > ? ORDER BY id LIMIT ?", (last, chunk))
            if not rows:
                return
            yield [tuple(r) for r in rows]
            last = rows[-1][0]

    async def text_matches(self, match: str, limit: int, *, after_id: int = 0) -> list[int]:
        """Ids of the newest statements matching an FTS5 expression (no ranking: cheap however
        many match, since FTS5 walks its doclists in rowid order)."""
        try:
            rows = await self._conn.execute_fetchall(
                "SELECT rowid FROM statements_fts WHERE statements_fts MATCH ? AND rowid > ? ORDER BY rowid DESC LIMIT ?",
                (match, after_id, limit),
            )
        except sqlite3.OperationalError:  # a query FTS5 cannot read
            return []
        return [int(r[0]) for r in rows]

    async def term_counts(self, terms: Sequence[str], cap: int) -> dict[str, int]:
        """How many statements contain each term (FTS5, porter-stemmed), counted up to ``cap``."""
        if not terms:
            return {}
        one = "(SELECT count(*) FROM (SELECT rowid FROM statements_fts WHERE statements_fts MATCH ? LIMIT ?))"
        args: list[Any] = []
        for term in terms:
            args += [f'"{term}"', cap]
        try:
            rows = await self._conn.execute_fetchall("SELECT " + ", ".join([one] * len(terms)), args)
        except sqlite3.OperationalError:
            return {t: 0 for t in terms}
        return {t: int(n) for t, n in zip(terms, next(iter(rows)))}

    async def candidates(self, ids: Sequence[int], database: str) -> list[Candidate]:
        """Statements by id with their most relevant run (latest on ``database``, else latest)."""
        if not ids:
            return []
        marks = ",".join("?" * len(ids))
        rows = await self._conn.execute_fetchall(
            "SELECT s.id, s.text, s.fingerprint, s.last_seen, s.runs,"
            " coalesce(f.runs, s.runs), coalesce(f.successes, s.successes), coalesce(f.failures, s.failures),"
            " r.database, r.started_at, r.duration_ms, r.rows, r.success, r.error, r.schema, r.info"
            " FROM statements s LEFT JOIN fingerprints f ON f.fingerprint = s.fingerprint"
            " LEFT JOIN runs r ON r.id = (SELECT r2.id FROM runs r2 WHERE r2.statement_id = s.id"
            "   ORDER BY (r2.database = ?) DESC, r2.started_at DESC, r2.id DESC LIMIT 1)"
            f" WHERE s.id IN ({marks})",
            (database, *ids),
        )
        out = []
        for r in rows:
            info = _unpack(r[15])
            out.append(
                Candidate(
                    id=r[0], text=r[1], fingerprint=r[2], last_seen=r[3], runs=r[4],
                    shape_runs=r[5], shape_successes=r[6], shape_failures=r[7],
                    database=r[8] or "", started_at=r[9] if r[9] is not None else r[3],
                    duration_ms=r[10], rows=r[11], success=None if r[12] is None else bool(r[12]),
                    error=r[13], schema=r[14], tables=tuple(info.get("tables", ())),
                )
            )
        return out

    async def recent(self, limit: int, database: str | None = None) -> list[int]:
        """Ids of the most recently run statements (optionally on one database)."""
        if database:
            rows = await self._conn.execute_fetchall(
                "SELECT statement_id FROM runs WHERE database = ? GROUP BY statement_id ORDER BY max(started_at) DESC LIMIT ?",
                (database, limit),
            )
        else:
            rows = await self._conn.execute_fetchall("SELECT id FROM statements ORDER BY last_seen DESC LIMIT ?", (limit,))
        return [r[0] for r in rows]

    async def stats(self) -> dict[str, Any]:
        """Counts, time span, success rate, databases and the most frequent shapes."""
        q = self._conn.execute_fetchall
        (statements, runs_total, fails, first, last) = next(iter(await q(
            "SELECT (SELECT count(*) FROM statements), coalesce(sum(runs), 0), coalesce(sum(failures), 0),"
            " min(first_seen), max(last_seen) FROM statements"
        )))
        (stored_runs,) = next(iter(await q("SELECT count(*) FROM runs")))
        (shapes,) = next(iter(await q("SELECT count(*) FROM fingerprints")))
        databases = [
            {"database": r[0], "runs": r[1]}
            for r in await q("SELECT database, count(*) FROM runs GROUP BY database ORDER BY count(*) DESC LIMIT 20")
        ]
        top = [
            {"fingerprint": r[0], "runs": r[1], "successes": r[2], "failures": r[3], "example": r[4]}
            for r in await q(
                "SELECT f.fingerprint, f.runs, f.successes, f.failures,"
                " (SELECT text FROM statements s WHERE s.fingerprint = f.fingerprint ORDER BY last_seen DESC LIMIT 1)"
                " FROM fingerprints f ORDER BY f.runs DESC LIMIT 10"
            )
        ]
        size = sum(p.stat().st_size for p in (self.path, _sidecar(self.path, "-wal")) if p.exists())
        return {
            "path": str(self.path),
            "bytes": size,
            "statements": statements,
            "runs": int(runs_total),
            "runs_stored": stored_runs,
            "failures": int(fails),
            "fingerprints": shapes,
            "first_seen": first,
            "last_seen": last,
            "databases": databases,
            "top": top,
            "schema_version": SCHEMA_VERSION,
        }

    async def get_meta(self, key: str, default: Any = None) -> Any:
        rows = await self._conn.execute_fetchall("SELECT value FROM meta WHERE key = ?", (key,))
        for (value,) in rows:
            return msgpack.unpackb(value, raw=False)
        return default

    async def set_meta(self, key: str, value: Any) -> None:
        async with self._write:
            await self._conn.execute(_SET_META, (key, msgpack.packb(value, use_bin_type=True)))

    async def checkpoint(self) -> None:
        """Fold the WAL into the main file (background housekeeping)."""
        await self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")


# -- writes, run on the connection's thread inside one transaction (see MemoryStore._transaction) -----


def _in_transaction(db: sqlite3.Connection, work: Callable[[sqlite3.Connection], _T]) -> _T:
    db.execute("BEGIN IMMEDIATE")
    try:
        result = work(db)
        db.execute("COMMIT")
    except BaseException:
        try:
            db.execute("ROLLBACK")
        except sqlite3.Error:
            pass
        raise
    return result


def _add(db: sqlite3.Connection, item: Prepared) -> tuple[int, bool]:
    e = item.entry
    ok, bad = _outcome(e.success)
    row = db.execute(
        "UPDATE statements SET first_seen = min(first_seen, ?), last_seen = max(last_seen, ?), runs = runs + 1,"
        " successes = successes + ?, failures = failures + ? WHERE text_hash = ? AND text = ? RETURNING id",
        (e.started_at, e.started_at, ok, bad, item.text_hash, e.text),
    ).fetchone()
    new = row is None
    if new:
        row = db.execute(
            "INSERT INTO statements (text, text_hash, fingerprint, first_seen, last_seen, runs, successes, failures)"
            " VALUES (?, ?, ?, ?, ?, 1, ?, ?) RETURNING id",
            (e.text, item.text_hash, item.fingerprint, e.started_at, e.started_at, ok, bad),
        ).fetchone()
        db.execute("INSERT INTO statements_fts (rowid, text) VALUES (?, ?)", (row[0], e.text))
    statement_id = row[0]
    db.execute(_values_sql(_INSERT_RUN, _RUN_ROW, 1, ""), _run_row(statement_id, e))
    db.execute(_values_sql(_UPSERT_SHAPE_HEAD, _ROW6, 1, _UPSERT_SHAPE_TAIL), (item.fingerprint, 1, ok, bad, e.duration_ms or 0.0, e.started_at))
    return statement_id, new


def _add_many(db: sqlite3.Connection, batch: Batch, meta: tuple[str, Any] | None = None) -> tuple[np.ndarray, np.ndarray]:
    existing: dict[str, int] = {}
    hashes = list({item.text_hash for item in batch.firsts})
    for chunk in _chunks(hashes, _MAX_VARIABLES):
        marks = ",".join("?" * len(chunk))
        for sid, text in _one_step(db, f"SELECT json_array(id, text) AS j FROM statements WHERE text_hash IN ({marks})", chunk):
            existing[text] = sid
    (max_id,) = db.execute("SELECT coalesce(max(id), 0) FROM statements").fetchone()
    first_new = max_id + 1
    sids: list[int] = []
    new_rows: list[tuple] = []
    update_rows: list[tuple] = []
    new_vectors: list[np.ndarray] = []
    for item, (first, last, n, ok, bad) in zip(batch.firsts, batch.totals):
        text = item.entry.text
        sid = existing.get(text)
        if sid is not None:
            update_rows.append((sid, first, last, n, ok, bad))
        else:
            max_id += 1
            sid = max_id
            new_rows.append((sid, text, item.text_hash, item.fingerprint, first, last, n, ok, bad))
            new_vectors.append(item.vector.array)
        sids.append(sid)
    if new_rows:
        _insert_values(db, _INSERT_STATEMENT, _ROW9, new_rows)
        db.execute("INSERT INTO statements_fts (rowid, text) SELECT id, text FROM statements WHERE id >= ?", (first_new,))
    if update_rows:
        _insert_values(db, _UPDATE_STATEMENTS_HEAD, _ROW6, update_rows, _UPDATE_STATEMENTS_TAIL)
    run_params = batch.run_params
    run_params[0::10] = [sids[k] for k in batch.run_texts]
    _insert_flat(db, _INSERT_RUN, _RUN_ROW, run_params)
    _insert_values(db, _UPSERT_SHAPE_HEAD, _ROW6, batch.shapes, _UPSERT_SHAPE_TAIL)
    if meta is not None:
        db.execute(_SET_META, (meta[0], msgpack.packb(meta[1], use_bin_type=True)))
    ids = np.arange(first_new, max_id + 1, dtype=np.int64)
    matrix = np.vstack(new_vectors) if new_vectors else np.zeros((0, 0), np.float32)
    return ids, matrix


def _one_step(db: sqlite3.Connection, select: str, params: Sequence[Any]) -> list[Any]:
    """The values of ``select`` (a query of one JSON column ``j``) fetched in one step.

    Fetching rows one by one takes the GIL back after each row, and while another thread runs
    Python (the next batch being prepared) each of those waits out the switch interval (5 ms):
    looking up a few thousand rows took seconds instead of milliseconds.
    """
    (packed,) = db.execute(f"SELECT json_group_array(json(j)) FROM ({select})", params).fetchone()
    return json.loads(packed)


# -- helpers -----------------------------------------------------------------------------------------

_INSERT_RUN = "INSERT INTO runs (statement_id, database, schema, started_at, ended_at, duration_ms, rows, success, error, info)"
_INSERT_STATEMENT = (
    "INSERT INTO statements (id, text, text_hash, fingerprint, first_seen, last_seen, runs, successes, failures)"
)
_UPDATE_STATEMENTS_HEAD = "WITH u (id, first, last, n, ok, bad) AS ("
_UPDATE_STATEMENTS_TAIL = (
    ") UPDATE statements SET first_seen = min(first_seen, u.first), last_seen = max(last_seen, u.last),"
    " runs = runs + u.n, successes = successes + u.ok, failures = failures + u.bad FROM u WHERE statements.id = u.id"
)
_UPSERT_SHAPE_HEAD = "INSERT INTO fingerprints (fingerprint, runs, successes, failures, total_ms, last_run)"
_UPSERT_SHAPE_TAIL = (
    " ON CONFLICT (fingerprint) DO UPDATE SET runs = runs + excluded.runs, successes = successes + excluded.successes,"
    " failures = failures + excluded.failures, total_ms = total_ms + excluded.total_ms,"
    " last_run = max(last_run, excluded.last_run)"
)
_SET_META = "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value"
_ROW6 = "(?,?,?,?,?,?)"
_ROW9 = "(?,?,?,?,?,?,?,?,?)"
_RUN_ROW = "(?,?,nullif(?,''),?,?,?,?,?,nullif(?,''),?)"


def _variable_limit() -> int:
    """How many ``?`` one statement may hold in this SQLite (32,766 by default since 3.32)."""
    probe = sqlite3.connect(":memory:")
    try:
        return min(probe.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER), 32766)
    finally:
        probe.close()


_MAX_VARIABLES = _variable_limit()


def _chunks(values: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    return (values[start : start + size] for start in range(0, len(values), size))


@functools.lru_cache(maxsize=64)
def _values_sql(head: str, row: str, count: int, tail: str) -> str:
    return f"{head} VALUES {','.join([row] * count)}{tail}"


def _insert_flat(db: sqlite3.Connection, head: str, row: str, params: list[Any], tail: str = "") -> None:
    """``head VALUES row, row, ... tail`` over ``params`` laid out one row after another, as few
    statements as the variable limit allows (see the module docstring for why not
    ``executemany``)."""
    width = row.count("?")
    per = _MAX_VARIABLES // width * width
    for start in range(0, len(params), per):
        part = params[start : start + per]
        db.execute(_values_sql(head, row, len(part) // width, tail), part)


def _insert_values(db: sqlite3.Connection, head: str, row: str, rows: Sequence[tuple], tail: str = "") -> None:
    """:func:`_insert_flat` over rows given as tuples."""
    _insert_flat(db, head, row, list(itertools.chain.from_iterable(rows)), tail)


class _Foreign(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _outcome(success: bool | None) -> tuple[int, int]:
    if success is None:
        return 0, 0
    return (1, 0) if success else (0, 1)


def _digest(blob: bytes | None) -> bytes:
    """What schema 2 deduplicated embeddings by (a SQL function for migration 2)."""
    return hashlib.blake2b(blob or b"", digest_size=16).digest()


def _text_hash_sql(text: str | None) -> int:
    return text_hash(text or "")


def _run_row(statement_id: int, e: Entry) -> tuple:
    """A run's parameters for ``_RUN_ROW``. Absent values are bound as NaN (SQLite stores a NaN
    as NULL) or ``''`` (turned to NULL by the row's ``nullif``), and ``info`` as a bytearray:
    the sqlite3 module binds floats, ints, str and bytearray directly but sends None and bytes
    through its adapter lookup, which took a third of a bulk write's binding time."""
    duration = e.duration_ms
    return (
        statement_id, e.database, e.schema or "", e.started_at,
        _NAN if duration is None else e.started_at + duration / 1000.0, _NAN if duration is None else duration,
        _NAN if e.rows is None else e.rows, _NAN if e.success is None else int(e.success), e.error or "",
        _info(tuple(e.tables), e.kind, e.source),
    )


_NAN = float("nan")


@functools.lru_cache(maxsize=4096)
def _info(tables: tuple[str, ...], kind: str, source: str) -> bytearray:
    """The msgpack ``info`` of a run (few distinct values: cached; never mutated)."""
    return bytearray(msgpack.packb({"tables": list(tables), "kind": kind, "source": source}, use_bin_type=True))


def _unpack(blob: bytes | None) -> dict[str, Any]:
    if not blob:
        return {}
    try:
        value = msgpack.unpackb(blob, raw=False)
    except (msgpack.UnpackException, ValueError):
        return {}
    return value if isinstance(value, dict) else {}


def _sidecar(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _prepare_file(path: Path) -> None:
    """Create the directory (0700, parents too) and an empty file (0600) so SQLite never creates
    it wider (its -wal and -shm files take the database file's mode)."""
    private_file(path)


async def _initialize(conn: aiosqlite.Connection, path: Path, synchronous: str) -> str:
    """Check that the file is ours and sound, set the connection up and bring the schema to
    :data:`SCHEMA_VERSION`; returns the store's uid. Several processes may run this on one new
    file at once: the state is read in one statement (one snapshot), and each migration reads
    it again under the write lock, so only the first process creates the tables."""
    await conn.execute(f"PRAGMA busy_timeout={int(BUSY_WAIT * 1000)}")  # first: another process may be creating the file
    with open(path, "rb") as fh:
        head = fh.read(16)
    if head and head != SQLITE_MAGIC:
        raise _Foreign("not an SQLite database")
    try:
        app_id, version, tables = await _schema_state(conn)
        if app_id not in (0, APPLICATION_ID) or (app_id == 0 and tables):
            raise _Foreign("another application's database")
        _check_version(path, version)
        # Damage deep inside a larger file shows later, as the error of a query that reads it;
        # the store's user moves the file aside then (see damaged()). quick_check reads every
        # page: about 0.2 s at this size, 1.6 s at 600 MB.
        if app_id == APPLICATION_ID and path.stat().st_size <= QUICK_CHECK_MAX_BYTES:
            result = [r[0] for r in await conn.execute_fetchall("PRAGMA quick_check")]
            if result != ["ok"]:
                raise _Foreign(f"damaged ({'; '.join(map(str, result[:3]))})")
        mode = await _use_wal(conn)
        if str(mode).lower() != "wal":
            raise MemoryUnavailable(f"memory off: {path}: cannot use WAL mode (got {mode})")
        sync = {"off": "OFF", "normal": "NORMAL", "full": "FULL", "extra": "EXTRA"}.get(synchronous.lower(), "NORMAL")
        await conn.execute(f"PRAGMA synchronous={sync}")
        await conn.create_function("aishell_log2", 1, _log2, deterministic=True)
        await conn.create_function("aishell_digest", 1, _digest, deterministic=True)
        await conn.create_function("aishell_text_hash", 1, _text_hash_sql, deterministic=True)
        vacuum = False
        for target in range(version + 1, SCHEMA_VERSION + 1):  # foreign keys off: tables get rebuilt
            await conn.execute("BEGIN IMMEDIATE")
            try:
                _, current, _ = await _schema_state(conn)
                _check_version(path, current)
                if current < target:  # else another process migrated it while this one waited
                    await _migrate(conn, target)
                    vacuum = vacuum or target == VACUUM_AFTER
                await conn.execute("COMMIT")
            except BaseException:
                await _rollback(conn)
                raise
        if vacuum:
            await _vacuum(conn)
        await conn.execute("PRAGMA foreign_keys=ON")
        rows = await conn.execute_fetchall("SELECT value FROM meta WHERE key = 'uid'")
    except sqlite3.OperationalError as exc:
        text = str(exc).lower()
        if "readonly" in text or "read-only" in text or "disk" in text or "full" in text or "unable to open" in text:
            raise MemoryUnavailable(f"memory off: {path} is not writable ({exc})") from None
        raise
    except sqlite3.DatabaseError as exc:
        if damaged(exc):
            raise _Foreign(f"damaged ({exc})") from None
        raise
    for (value,) in rows:
        return str(msgpack.unpackb(value, raw=False))
    raise _Foreign("missing its identity record")


async def _use_wal(conn: aiosqlite.Connection) -> str:
    """Switch the file to WAL (it stays so) and return the journal mode now in use. The switch
    takes an exclusive lock without waiting for it (the busy timeout does not apply): while
    another process opens the same new file, try again for a few seconds."""
    deadline = time.monotonic() + BUSY_WAIT
    while True:
        try:
            return str(next(iter(await conn.execute_fetchall("PRAGMA journal_mode=WAL")))[0])
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", 0) & 0xFF != _SQLITE_BUSY or time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.01)


async def _schema_state(conn: aiosqlite.Connection) -> tuple[int, int, int]:
    """``(application_id, user_version, number of schema objects)``, read in one snapshot."""
    rows = await conn.execute_fetchall(
        "SELECT a.application_id, v.user_version, (SELECT count(*) FROM sqlite_master)"
        " FROM pragma_application_id AS a, pragma_user_version AS v"
    )
    app_id, version, tables = next(iter(rows))
    return int(app_id), int(version), int(tables)


def _check_version(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise MemoryUnavailable(
            f"memory off: {path} has schema version {version}, newer than this aishell's {SCHEMA_VERSION}"
        )


async def _migrate(conn: aiosqlite.Connection, target: int) -> None:
    """Run migration ``target`` inside the caller's write transaction."""
    for statement in MIGRATIONS[target]:
        await conn.execute(statement)
    problems = await conn.execute_fetchall("PRAGMA foreign_key_check")
    if problems:
        raise _Foreign(f"inconsistent after migration {target} ({len(problems)} dangling references)")
    if target == 1:
        await conn.execute(f"PRAGMA application_id={APPLICATION_ID}")
        await conn.execute(
            "INSERT INTO meta (key, value) VALUES ('uid', ?), ('created', ?)",
            (msgpack.packb(uuid.uuid4().hex), msgpack.packb(time.time())),
        )
    await conn.execute(f"PRAGMA user_version={target}")


async def _vacuum(conn: aiosqlite.Connection) -> None:
    """Give the pages a migration freed back to the disk. Skipped while another process reads the
    file (VACUUM needs it alone): the free pages are then reused by later statements instead."""
    try:
        await conn.execute("VACUUM")
        await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # in WAL mode the smaller file is written at a checkpoint
    except sqlite3.OperationalError as exc:
        log.info("memory: VACUUM after migration skipped (%s)", exc)


def _log2(x: float) -> float:
    return math.log2(x) if x and x > 0 else 0.0


_SQLITE_BUSY = 5
_SQLITE_CORRUPT = 11
_SQLITE_NOTADB = 26


def damaged(exc: BaseException) -> bool:
    """True for SQLite's errors that say the file's content is broken ("database disk image is
    malformed", "file is not a database"), whether raised on open or by a later query."""
    if not isinstance(exc, sqlite3.DatabaseError):
        return False
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_CORRUPT, _SQLITE_NOTADB)
    text = str(exc).lower()
    return "not a database" in text or "malformed" in text or "corrupt" in text


def move_aside(path: Path, identity: tuple[int, int], side_files: Sequence[Path], reason: str) -> str:
    """Move an unusable memory file with its WAL and shared memory to ``<name>.corrupt-<UTC
    time>`` and each of ``side_files`` beside it (``<that name>.<its name>``), never deleting
    anything; returns the message for the user. Only while ``path`` is still the file with
    ``identity``: when another process got there first, the file now at ``path`` is its fresh
    one and stays (the check and the move hold a lock on the directory, so two processes never
    both move)."""
    with _directory_lock(path.parent):
        try:
            current: tuple[int, int] | None = _identity(path)
        except FileNotFoundError:
            current = None
        if current != identity:
            return f"memory file {path} was {reason}; another aishell moved it aside, starting a fresh memory"
        stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%S.%fZ")
        aside = path.with_name(f"{path.name}.corrupt-{stamp}")
        moves = [(_sidecar(path, suffix), _sidecar(aside, suffix)) for suffix in ("", "-wal", "-shm")]
        moves += [(side, aside.with_name(f"{aside.name}.{side.name}")) for side in side_files]
        for source, target in moves:
            try:
                os.replace(source, target)
            except FileNotFoundError:
                pass
    return f"memory file {path} was {reason}; moved aside to {aside.name}, starting a fresh memory"


def _identity(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_dev, st.st_ino


@contextlib.contextmanager
def _directory_lock(directory: Path) -> Iterator[None]:
    """An exclusive advisory lock between processes (flock on the directory itself: no lock file
    is left behind). Where flock does not exist, no lock."""
    try:
        import fcntl
    except ImportError:  # Windows
        yield
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


async def _rollback(conn: aiosqlite.Connection) -> None:
    try:
        await conn.execute("ROLLBACK")
    except (sqlite3.Error, ValueError):
        pass
