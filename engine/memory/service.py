"""Memory as the Session uses it: record every statement, recall by meaning, import history.

:class:`Memory` ties the store, the embedder and the vector index together. It never breaks a
query: :meth:`Memory.open` returns a memory that is *off* (``enabled`` False, ``reason`` says
why) instead of raising, and a failing write (full disk, file gone read-only) switches it off with
a warning. Each :meth:`record` is committed before it returns, so the caller shows a result only
after its entry is durable.

The vector index loads (or is rebuilt from the store) in the background at open; searches wait
for it a few seconds at most, then rank on text alone. Pruning, consolidation, WAL checkpoints
and index saves run in a background task with limits from settings.

A damaged file, found on open or by any later query, is moved aside (never deleted) with its
vector index and memory goes on with a fresh one: the operation that found it is retried there,
and the user hears of it once, through the log and the listeners of :meth:`Memory.subscribe`.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import gc
import hashlib
import importlib
import logging
import os
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence, TypeVar

import numpy as np

from aishell.engine.config import MemorySettings, Settings
from aishell.engine.errors import AishellError, MemoryUnavailable
from aishell.engine.memory.embed import Embedder, HashingEmbedder, embedder_for
from aishell.engine.memory.history import HistoryItem, Progress, read_history, resume_at
from aishell.engine.memory.search import SearchHit, bm25, rank, terms
from aishell.engine.memory.store import Batch, Entry, MemoryStore, Prepared, Vector, damaged, move_aside
from aishell.engine.memory.text import fingerprint_lexemes, ignored, lex, literal_key, redact_statement, text_hash
from aishell.engine.statements.dialects import normalize_dialect
from aishell.engine.statements.fingerprint import fingerprint

if TYPE_CHECKING:
    from aishell.engine.memory.vectors import VectorIndex

log = logging.getLogger("aishell.engine.memory")
_T = TypeVar("_T")

SHAPE_CACHE = 4096
PINNED = "pinned"
"""The ``meta`` key holding the ids of pinned statements (a msgpack list)."""
READY_WAIT = 5.0
THREAD_SEARCH_FROM = 20_000
RERANK_DEPTH = 40
"""Vector candidates a search asks the index for (re-ranked exactly when the index is compact)."""
RARE_TERM = 1000
"""Words in fewer statements than this also fetch lexical candidates from the whole memory."""
BATCH = 20_000
FIRST_BATCH = 2_500
"""Bulk recording writes batches growing from FIRST_BATCH to BATCH: the first is prepared with
nothing to overlap, and each later one is prepared while the one before it is written."""
IMPORT_BATCH = 5_000
"""An import's batches: three are in flight (read, prepared, written), a few MB each, where
batches of BATCH held over 100 MB."""
IMPORT_SAVE_EVERY = 200_000
"""An import saves the vector index after this many statements: killed later, the next process
re-embeds only what it recorded since (a rebuild of millions takes minutes)."""
IMPORT_SPACING = 1e-5
"""Seconds between imported entries without a time, per character of the file between them: later
in the file is later, the last one at the file's modification time."""


@dataclass(slots=True)
class ImportReport:
    """What ``aishell memory import`` did."""

    kind: str
    read: int
    recorded: int
    skipped: int
    redacted: int
    already: int = 0
    """Entries an earlier import of the same file recorded (not recorded again)."""

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind, "read": self.read, "recorded": self.recorded, "skipped": self.skipped,
            "redacted": self.redacted, "already": self.already,
        }


def shape_fingerprint(text: str, dialect: str, lexemes: list) -> str:
    """16 hex digits of the statement's shape, as memory files store it: for SQL
    :func:`engine.statements.fingerprint.fingerprint` (the shape the analyzer caches by, so
    memory and analysis agree on what "the same query" is); for Mongo and dialects sqlglot does
    not know, memory's own token normalization (what files of schema v2 hold for them)."""
    if normalize_dialect(dialect) == "mongo":
        return fingerprint_lexemes(lexemes)
    try:
        return fingerprint(text, dialect)
    except ValueError:
        return fingerprint_lexemes(lexemes)


BULK_SWITCH_INTERVAL = 0.0005
_bulk = {"writers": 0, "saved": 0.005, "gc": True}


@contextlib.contextmanager
def _bulk_mode() -> Iterator[None]:
    """While bulk writes run, threads hand the GIL over every 0.5 ms instead of CPython's 5 ms,
    and the cyclic garbage collector is off.

    The connection's thread gives the GIL up around each SQLite call and has to win it back
    from the thread preparing the next batch, which is busy in Python; at the default interval
    every such wait could cost 5 ms, and recording 100,000 statements ran 15 % slower. The
    collector walked every batch's entries again and again as they aged (1.9 s of the 16 s of
    CPU importing 100,000 statements took); a bulk write leaves no cycles of its own (an import
    of 20,000 or of 100,000 statements left the same 910 objects for the collector), and what
    other code left meanwhile is collected when it is back on. Both are process-wide: they are
    restored when the last bulk write ends.
    """
    if _bulk["writers"] == 0:
        _bulk["saved"] = sys.getswitchinterval()
        sys.setswitchinterval(min(_bulk["saved"], BULK_SWITCH_INTERVAL))
        _bulk["gc"] = gc.isenabled()
        gc.disable()
    _bulk["writers"] += 1
    try:
        yield
    finally:
        _bulk["writers"] -= 1
        if _bulk["writers"] == 0:
            sys.setswitchinterval(_bulk["saved"])
            if _bulk["gc"]:
                gc.enable()


def _quietly(task: asyncio.Task[Any]) -> None:
    """Done callback of a background task whose failure was reported already."""
    if not task.cancelled():
        task.exception()


def _read(path: Path, kind: str) -> Iterator[HistoryItem]:
    """The entries of the history file at ``path``; MemoryUnavailable when it cannot be read."""
    try:
        yield from read_history(path, kind)[1]
    except OSError as exc:
        raise MemoryUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None


def _growing_chunks(entries: Sequence[Entry]) -> list[Sequence[Entry]]:
    out = []
    start, size = 0, FIRST_BATCH
    while start < len(entries):
        out.append(entries[start : start + size])
        start += size
        size = min(size * 2, BATCH)
    return out


def _append_in_step(index: VectorIndex, ids: np.ndarray, vectors: np.ndarray) -> bool:
    """``index.append`` for bulk writes: the compact tier, once due, is trained in this thread.

    In the background, the fresh tier kept growing while it trained, its vectors held twice (the
    tier and the training journal): importing 200,000 statements peaked at 985 MB RSS, 420 MB
    of it during the training. Here the next batch is written meanwhile, and no more.
    """
    background, index.background = index.background, False
    try:
        return index.append(ids, vectors)
    finally:
        index.background = background


class Memory:
    """Every statement remembered. Create with :meth:`open`; close with :meth:`close`."""

    def __init__(self, settings: MemorySettings, path: Path) -> None:
        self.settings = settings
        self.path = path
        self.index_path = path.with_name(path.stem + ".faiss")
        self.enabled = False
        self.reason: str | None = None
        """Why memory is off (None while on)."""
        self.notice: str | None = None
        """The last message for the user (a damaged file moved aside); see :meth:`subscribe`."""
        self.store: MemoryStore | None = None
        self.embedder: Embedder = HashingEmbedder()
        self.index: VectorIndex | None = None
        self._ready = asyncio.Event()
        self._shapes: collections.OrderedDict[str, tuple[str, Vector]] = collections.OrderedDict()
        self._tasks: list[asyncio.Task[Any]] = []
        self._saved_state: tuple[int, int, int] | None = None
        self._closed = False
        self._background = True
        self._loader: asyncio.Task[None] | None = None
        self._recovery = asyncio.Lock()
        """Held while a damaged file is replaced; operations wait for it."""
        self._listeners: list[Callable[[str], None]] = []
        self._unheard: list[str] = []
        """Notices given before anyone subscribed."""

    @property
    def side_files(self) -> tuple[Path, Path]:
        """The saved vector index and its meta: moved aside with a damaged file."""
        return self.index_path, self.index_path.with_name(self.index_path.name + ".meta")

    # -- lifecycle ------------------------------------------------------------------------------

    @classmethod
    async def open(
        cls,
        settings: Settings | MemorySettings | None = None,
        *,
        path: str | Path | None = None,
        embedder: Embedder | None = None,
        background: bool = True,
    ) -> "Memory":
        """Open the memory at ``path`` (default ``settings.memory_path``). Never raises: a memory
        that cannot be used comes back off, with :attr:`reason` and a logged warning."""
        full = settings if isinstance(settings, Settings) else None
        mem_settings = settings.memory if isinstance(settings, Settings) else (settings or MemorySettings())
        if path is None:
            path = (full or Settings.load()).memory_path
        self = cls(mem_settings, Path(path))
        self._background = background
        if not mem_settings.enabled:
            self.reason = "memory is disabled in settings"
            return self
        try:
            self.embedder = embedder or embedder_for(mem_settings.embedder)
            self.store = await self._open_store()
        except AishellError as exc:
            self._off(str(exc))
            return self
        if self.store.notice:
            self._announce(self.store.notice)
        self.enabled = True
        self._start_loading()
        if background and mem_settings.prune_interval > 0:
            self._tasks.append(asyncio.get_running_loop().create_task(self._maintain()))
        return self

    async def close(self) -> None:
        """Stop background work, save the vector index, close the file. Safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if self._tasks and not self._ready.is_set():
            try:  # let a short index load finish, so the index is saved for next time
                await asyncio.wait_for(asyncio.shield(self._ready.wait()), READY_WAIT)
            except asyncio.TimeoutError:
                pass
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass
        if self.store is not None:
            if self.enabled and self._ready.is_set():
                try:
                    await self._save_index()
                except Exception as exc:  # a failed save only costs a rebuild next time
                    log.warning("memory: could not save the vector index: %s", exc)
            await self.store.close()

    async def __aenter__(self) -> "Memory":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    def _off(self, reason: str) -> None:
        self.enabled = False
        self.reason = reason
        log.warning("%s", reason if reason.startswith("memory") else f"memory off: {reason}")

    def subscribe(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(message)`` for each notice from now on (a damaged file moved aside),
        and at once for notices given before anyone subscribed. Subscribing again does nothing."""
        if listener in self._listeners:
            return
        self._listeners.append(listener)
        unheard, self._unheard = self._unheard, []
        for text in unheard:
            listener(text)

    def _announce(self, text: str) -> None:
        self.notice = text
        log.warning("%s", text)
        if not self._listeners:
            self._unheard.append(text)
        for listener in list(self._listeners):
            try:
                listener(text)
            except Exception as exc:  # a listener's failure is not memory's
                log.warning("memory: a notice listener failed: %s", exc)

    # -- the file and its damage ------------------------------------------------------------------

    async def _open_store(self) -> MemoryStore:
        return await MemoryStore.open(
            self.path, synchronous=getattr(self.settings, "synchronous", "normal"), side_files=self.side_files
        )

    def _start_loading(self) -> None:
        self._loader = asyncio.get_running_loop().create_task(self._load_index(self._background))
        self._tasks.append(self._loader)

    async def _on_store(self, work: Callable[[MemoryStore], Awaitable[_T]]) -> _T:
        """``work(store)``; when the file turns out damaged, again on a fresh file put in its place.

        Waits while another operation replaces a damaged file. Raises MemoryUnavailable when
        memory is off (or goes off because no fresh file can be made), and what ``work`` raises.
        """
        for attempt in range(2):
            if self._recovery.locked():
                async with self._recovery:
                    pass
            store = self.store
            if not self.enabled or store is None:
                raise MemoryUnavailable(self.reason or "memory off")
            try:
                return await work(store)
            except (sqlite3.Error, ValueError) as exc:  # ValueError: aiosqlite's connection, closed
                if attempt:
                    raise
                if damaged(exc):
                    await self._replace_damaged(store, exc)
                    continue
                async with self._recovery:  # closed under it by a replacement? then again on the new file
                    if self.store is store:
                        raise
        raise AssertionError("unreachable")

    async def _replace_damaged(self, store: MemoryStore, exc: BaseException) -> None:
        """Move ``store``'s damaged file aside (with the vector index) and open a fresh one in its
        place, announced once; nothing when another operation already did. Raises
        MemoryUnavailable when no fresh file can be made: memory is then off."""
        async with self._recovery:
            if self.store is not store:
                return
            loader = self._loader
            if loader is not None and loader is not asyncio.current_task() and not loader.done():
                loader.cancel()
                with contextlib.suppress(BaseException):
                    await loader
            self.index = None
            self._saved_state = None
            await store.close()
            notice = move_aside(self.path, store.identity, self.side_files, f"damaged ({exc})")
            try:
                self.store = await self._open_store()
            except MemoryUnavailable as off:
                self.store = None
                self._announce(notice)
                self._off(str(off))
                raise
            self._announce(notice)
            if self.store.notice:
                self._announce(self.store.notice)
            self._ready.clear()
            self._start_loading()

    # -- recording ------------------------------------------------------------------------------

    async def record(self, entry: Entry, *, dialect: str = "postgres") -> bool:
        """Remember one run; committed when this returns True. Never raises.

        False when memory is off, the statement is ignored (empty, or a leading space with
        ``ignore_space``), or the write failed (memory then goes off with a warning).
        """
        if not self.enabled or self.store is None or ignored(entry.text, ignore_space=self.settings.ignore_space):
            return False
        try:
            entry.text = redact_statement(entry.text.strip(), dialect)
            prepared = self._prepare([entry], dialect)[0]
            statement_id, new = await self._on_store(lambda store: store.add(prepared))
        except MemoryUnavailable:
            return False
        except (sqlite3.Error, OSError) as exc:
            self._off(f"memory off: could not record ({exc})")
            return False
        except Exception as exc:  # never let memory break a query
            log.warning("memory: could not record a statement: %s", exc)
            return False
        index = self.index
        if new and index is not None and self._ready.is_set():
            index.append(np.array([statement_id]), prepared.vector.array[None, :])
        return True

    async def record_many(self, entries: Sequence[Entry], *, dialect: str = "postgres", filtered: bool = False) -> int:
        """Remember many runs, up to ``BATCH`` to a transaction. Returns how many were recorded.

        Raises MemoryUnavailable when memory is off or the write fails (bulk paths report errors).
        """
        chunks = [(chunk, None) for chunk in _growing_chunks(entries)]
        return await self._bulk(functools.partial(self._record_batches, chunks=chunks, dialect=dialect, filtered=filtered))

    async def _bulk(self, work: Callable[[MemoryStore], Awaitable[_T]]) -> _T:
        """:meth:`_on_store` for bulk writes: a failed write turns memory off and raises
        MemoryUnavailable."""
        try:
            return await self._on_store(work)
        except (sqlite3.Error, OSError) as exc:
            self._off(f"memory off: could not record ({exc})")
            raise MemoryUnavailable(self.reason or "memory off") from None

    async def _record_batches(
        self,
        store: MemoryStore,
        chunks: Iterable[tuple[Sequence[Entry], tuple[str, Any] | None]],
        dialect: str,
        filtered: bool,
        save_every: int = 0,
    ) -> int:
        """The body of :meth:`record_many` on ``store``: each chunk of entries is written in one
        transaction with its meta (key, value), if any (an import's progress). Chunks are taken
        from the iterable (on a thread: an import reads its file there) two ahead of the write,
        so a lazy one keeps memory bounded. With ``save_every``, the vector index is saved each
        time that many more statements were recorded."""
        recorded = saved = 0
        pending = iter(chunks)
        plan = functools.partial(self._plan, dialect=dialect, filtered=filtered)
        ahead: asyncio.Future[Batch] | None = None
        upcoming: asyncio.Future[Any] | None = None
        indexing: asyncio.Future[bool] | None = None
        current = await asyncio.to_thread(next, pending, None)
        following = await asyncio.to_thread(next, pending, None) if current is not None else None
        try:
            with _bulk_mode() if following is not None else contextlib.nullcontext():
                while current is not None:
                    chunk, meta = current
                    if ahead is not None:
                        batch = await ahead
                    else:
                        batch = await asyncio.to_thread(plan, chunk) if len(chunk) > 256 else plan(chunk)
                    ahead = None
                    if following is not None:  # prepare the next chunk and read the one after while this one is written
                        ahead = asyncio.ensure_future(asyncio.to_thread(plan, following[0]))
                        upcoming = asyncio.ensure_future(asyncio.to_thread(next, pending, None))
                    new_ids, new_vectors = await store.add_many(batch, meta=meta)
                    recorded += len(batch)
                    index = self.index
                    if len(new_ids) and index is not None and self._ready.is_set():
                        if indexing is not None:
                            await indexing  # in order: each batch follows the one before
                        # FAISS copies the vectors with the GIL released, beside the next batch's write;
                        # a bulk write trains the compact tier there too (see _append_in_step)
                        append = functools.partial(_append_in_step, index) if following is not None else index.append
                        indexing = asyncio.ensure_future(asyncio.to_thread(append, new_ids, new_vectors))
                        if save_every and recorded - saved >= save_every:
                            await indexing
                            await self._save_index()
                            saved = recorded
                    del batch, chunk, new_vectors
                    current, following = following, (await upcoming if upcoming is not None else None)
                    upcoming = None
        finally:
            await asyncio.gather(*(f for f in (ahead, upcoming, indexing) if f is not None), return_exceptions=True)
        return recorded

    def _plan(self, entries: Sequence[Entry], dialect: str, filtered: bool) -> Batch:
        """A chunk ready to write: ignored statements dropped, secrets redacted (unless the caller
        did both), fingerprints and embeddings worked out."""
        if not filtered:
            entries = [e for e in entries if not ignored(e.text, ignore_space=self.settings.ignore_space)]
            for e in entries:
                e.text = redact_statement(e.text.strip(), dialect)
        return Batch.plan(self._prepare(entries, dialect))

    def _prepare(self, entries: Sequence[Entry], dialect: str = "postgres") -> list[Prepared]:
        """Fingerprint and embedding of each entry; texts of one shape (same but for literals)
        are lexed and embedded once, in this batch and across batches."""
        hashing = isinstance(self.embedder, HashingEmbedder)
        out: list[Prepared | None] = [None] * len(entries)
        todo: dict[str, list[int]] = {}  # shape key (or a unique key) -> entries waiting for it
        for i, e in enumerate(entries):
            key = literal_key(e.text) if hashing else None
            if key is not None:
                key = dialect + "\0" + key
                cached = self._shapes.get(key)
                if cached is not None:
                    self._shapes.move_to_end(key)
                    out[i] = Prepared(e, text_hash(e.text), cached[0], cached[1])
                    continue
                todo.setdefault(key, []).append(i)
            else:
                todo[f"\0{i}"] = [i]
        if todo:
            keys = list(todo)
            lexed = [lex(entries[todo[k][0]].text) for k in keys]
            if hashing:
                vectors = self.embedder.embed_lexemes(lexed)  # type: ignore[attr-defined]
            else:
                vectors = self.embedder.embed([entries[todo[k][0]].text for k in keys])
            for key, lexemes, array in zip(keys, lexed, vectors):
                first = entries[todo[key][0]]
                fp = first.fingerprint or shape_fingerprint(first.text, dialect, lexemes)
                vector = Vector.of(array)
                for i in todo[key]:
                    e = entries[i]
                    out[i] = Prepared(e, text_hash(e.text), fp, vector)
                if key[0] != "\0":
                    self._shapes[key] = (fp, vector)
                    if len(self._shapes) > SHAPE_CACHE:
                        self._shapes.popitem(last=False)
        return out  # type: ignore[return-value]

    # -- searching ------------------------------------------------------------------------------

    async def search(self, text: str, *, limit: int = 10, database: str = "") -> list[SearchHit]:
        """The statements best matching ``text`` (a few words or a similar query), best first.

        Empty ``text`` gives the most recent statements. Raises MemoryUnavailable when off.
        """
        try:
            return await self._on_store(functools.partial(self._search, text=text, limit=limit, database=database))
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory search failed: {exc}") from None

    async def _search(self, store: MemoryStore, text: str, limit: int, database: str) -> list[SearchHit]:
        limit = max(1, int(limit))
        now = time.time()
        if not text.strip():
            ids = await store.recent(limit, database or None) or await store.recent(limit)
            cands = await store.candidates(ids, database)
            return rank(cands, vector_scores={}, text_scores={}, database=database, now=now, settings=self.settings, limit=limit)
        k = max(limit * 4, RERANK_DEPTH)
        vector_scores: dict[int, float] = {}
        max_id = await store.max_id()
        index = await self._ready_index()
        total = max_id
        if index is not None:
            if max_id > index.max_id:
                await self._catch_up(index, store)
            total = index.ntotal
            vector_scores = await self._vector_scores(store, index, self.embedder.embed([text]), k)
        words = terms(text)
        lexical: list[int] = []
        doc_freq: dict[str, int] = {}
        if words:
            doc_freq = await store.term_counts(words, RARE_TERM)
            rare = [w for w in words if doc_freq[w] < RARE_TERM]
            if rare:
                lexical += await store.text_matches(" OR ".join(f'"{w}"' for w in rare), k)
            lexical += await store.text_matches(" OR ".join(f'"{w}"' for w in words), k // 2)
        wanted = list(dict.fromkeys([*vector_scores, *lexical]))
        cands = await store.candidates(wanted, database)
        text_scores = bm25(words, {c.id: c.text for c in cands}, doc_freq, total) if words else {}
        return rank(cands, vector_scores=vector_scores, text_scores=text_scores, database=database, now=now, settings=self.settings, limit=limit)

    async def _vector_scores(self, store: MemoryStore, index: VectorIndex, query: np.ndarray, k: int) -> dict[int, float]:
        """The ``k`` statements nearest to ``query`` by the index, with exact cosine scores: a
        compact (PQ) index's approximate scores are replaced by the candidates' own vectors'
        (their texts embedded again: microseconds each with the hashing embedder)."""
        if index.ntotal >= THREAD_SEARCH_FROM:
            scores, ids = await asyncio.to_thread(index.search, query, k)
        else:
            scores, ids = index.search(query, k)
        found = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
        if not found or not index.approximate or not isinstance(self.embedder, HashingEmbedder):
            return found
        rows = await store.texts(list(found))
        exact = self.embedder.embed([t for _, t in rows]) @ np.asarray(query, dtype=np.float32).reshape(-1)
        return {int(i): float(s) for (i, _), s in zip(rows, exact)}

    async def nearest(self, text: str, k: int = 10) -> list[tuple[int, float]]:
        """The vector channel of :meth:`search` alone: ``(statement id, cosine)``, best first
        (benchmarks measure its recall against exact search). Raises MemoryUnavailable when off."""
        index = await self._ready_index()
        if index is None:
            raise MemoryUnavailable("memory: the vector index is not loaded")

        async def work(store: MemoryStore) -> dict[int, float]:
            if await store.max_id() > index.max_id:
                await self._catch_up(index, store)
            return await self._vector_scores(store, index, self.embedder.embed([text]), max(k, RERANK_DEPTH))

        scores = await self._on_store(work)
        return sorted(scores.items(), key=lambda p: (-p[1], p[0]))[:k]

    async def forget(self, ids: Iterable[int]) -> int:
        """Remove statements (and their runs) from memory and the index. Returns how many."""
        wanted = [int(i) for i in ids]
        try:
            gone = await self._on_store(lambda store: store.delete(wanted))
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory: could not forget ({exc})") from None
        if self.index is not None and gone:
            self.index.remove(np.array(gone, dtype=np.int64))
        return len(gone)

    async def pin(self, ids: Iterable[int], pinned: bool = True) -> set[int]:
        """Pin statements (``pinned`` False: unpin them), so a front end lists them first.
        Returns every pinned id. Raises MemoryUnavailable when off or the write fails."""
        wanted = {int(i) for i in ids}

        async def update(store: MemoryStore) -> set[int]:
            now = set(await store.get_meta(PINNED, []))
            now = (now | wanted) if pinned else (now - wanted)
            await store.set_meta(PINNED, sorted(now))
            return now

        try:
            return await self._on_store(update)
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory: could not pin ({exc})") from None

    async def pinned(self, *, database: str = "") -> list[SearchHit]:
        """The pinned statements that are still remembered, latest run first (the run shown is
        the latest on ``database`` when there is one). Raises MemoryUnavailable when off."""

        async def read(store: MemoryStore) -> list[SearchHit]:
            ids = await store.get_meta(PINNED, [])
            cands = await store.candidates(ids, database)
            hits = rank(cands, vector_scores={}, text_scores={}, database=database, now=time.time(), settings=self.settings, limit=max(1, len(cands)))
            return sorted(hits, key=lambda h: -h.started_at)

        try:
            return await self._on_store(read)
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory search failed: {exc}") from None

    async def stats(self) -> dict[str, Any]:
        """Store statistics plus the vector index's kind and size. Raises MemoryUnavailable when off."""
        try:
            data = await self._on_store(lambda store: store.stats())
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory stats failed: {exc}") from None
        index = await self._ready_index()
        data["embedder"] = self.embedder.name
        data["index"] = {
            "kind": index.kind if index else "loading",
            "vectors": index.ntotal if index else 0,
            "nprobe": index.nprobe if index else 0,
            "training": index.training if index else False,
            "mapped": index.mapped if index else False,
            "ivf_threshold": self.settings.ivf_threshold,
        }
        return data

    # -- import ---------------------------------------------------------------------------------

    async def import_file(self, path: str | Path, *, kind: str | None = None, database: str = "", dialect: str = "postgres") -> ImportReport:
        """Read a psql, pgcli or plain history file into memory, in batched transactions.

        The file is read a block at a time and written a batch at a time (see
        :mod:`.history`): what an import holds does not grow with the file. Importing a file
        again records only what it gained since (nothing when unchanged), also after an import
        that was killed half way: each batch commits with how far the import got. Raises
        MemoryUnavailable when off or when the file cannot be read.
        """
        path = Path(path).expanduser()
        try:
            kind, _ = read_history(path, kind)
            stat = path.stat()
        except OSError as exc:
            raise MemoryUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
        key = "import:" + hashlib.blake2b(f"{path.resolve()}\0{kind}".encode(errors="replace"), digest_size=16).hexdigest()
        work = functools.partial(
            self._import, path=path, kind=kind, key=key, stat=stat, database=database, dialect=dialect
        )
        return await self._bulk(work)

    async def _import(
        self, store: MemoryStore, path: Path, kind: str, key: str, stat: os.stat_result, database: str, dialect: str
    ) -> ImportReport:
        progress = await store.get_meta(key)
        start = 0
        if progress is not None:  # a second reading finds where the last import stopped
            start = await asyncio.to_thread(resume_at, (item.text for item in _read(path, kind)), progress)
        counts = {"read": 0, "redacted": 0, "skipped": 0, "recorded": 0}
        source = f"import:{kind}"
        postgres = normalize_dialect(dialect) == "postgres"  # the splitter's dialect

        def chunks() -> Iterator[tuple[list[Entry], tuple[str, Any]]]:
            """Entries in growing chunks, read as they are written (memory stays bounded), each
            with the progress its transaction records: up to the next entry to read."""
            read = Progress()
            chunk: list[Entry] = []
            size, noted = min(FIRST_BATCH, IMPORT_BATCH), start
            for item in _read(path, kind):
                read.read(item.text)
                if read.entries <= start:
                    continue
                if ignored(item.text, ignore_space=False):
                    counts["skipped"] += 1
                    continue
                text = item.text.strip()
                clean = redact_statement(text, dialect)
                counts["redacted"] += clean != text
                started = item.started_at if item.started_at is not None else stat.st_mtime - max(0, stat.st_size - item.position) * IMPORT_SPACING
                known = item.fingerprint if postgres and clean == text else None  # redacted: its own shape
                chunk.append(Entry(text=clean, database=database, started_at=started, success=None, duration_ms=None, rows=None, source=source, fingerprint=known))
                if len(chunk) >= size:
                    counts["recorded"] += len(chunk)
                    noted = read.entries
                    yield chunk, (key, read.record())
                    chunk, size = [], min(size * 2, IMPORT_BATCH)
            counts["read"] = read.entries
            if chunk or read.entries > noted:  # statements never recorded were read too
                counts["recorded"] += len(chunk)
                yield chunk, (key, read.record())

        await self._record_batches(store, chunks(), dialect, filtered=True, save_every=IMPORT_SAVE_EVERY)
        return ImportReport(kind, counts["read"], counts["recorded"], counts["skipped"], counts["redacted"], already=start)

    # -- the vector index -----------------------------------------------------------------------

    async def _ready_index(self) -> VectorIndex | None:
        if not self._ready.is_set():
            try:
                await asyncio.wait_for(asyncio.shield(self._ready.wait()), READY_WAIT)
            except asyncio.TimeoutError:
                return None
        return self.index

    async def wait_ready(self, timeout: float | None = None) -> bool:
        """Wait until the vector index is loaded; True when it is."""
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except asyncio.TimeoutError:
            return False
        return True

    async def _catch_up(self, index: VectorIndex, store: MemoryStore) -> None:
        """Add statements recorded by other processes (or skipped) since the index last grew."""
        max_id = await store.max_id()
        if max_id <= index.max_id:
            return
        async for ids, vectors in self._embedded(store, after_id=index.max_id):
            await asyncio.to_thread(index.add, ids, vectors)

    async def _embedded(self, store: MemoryStore, *, after_id: int = 0) -> AsyncIterator[tuple[np.ndarray, np.ndarray]]:
        """``(ids, vectors)`` of the statements after ``after_id``, their texts embedded again
        (the file keeps no vectors: the index is their one copy), chunk by chunk in id order."""
        async for rows in store.all_texts(after_id=after_id):
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            vectors = await asyncio.to_thread(self.embedder.embed, [r[1] for r in rows])
            yield ids, vectors

    async def _load_index(self, background: bool) -> None:
        store = self.store
        assert store is not None
        try:
            # FAISS loads here, off the event loop: opening a session does not wait for it
            vectors = await asyncio.to_thread(importlib.import_module, "aishell.engine.memory.vectors")
            VectorIndex = vectors.VectorIndex
            stored = await store.get_meta("embedder")
            if stored is None:
                await store.set_meta("embedder", self.embedder.name)
            elif stored != self.embedder.name:
                await self._reembed(store)
            expect = {"uid": store.uid, "embedder": self.embedder.name, "dim": self.embedder.dim}
            threshold = self.settings.ivf_threshold
            index = await asyncio.to_thread(VectorIndex.load, self.index_path, expect=expect, ivf_threshold=threshold, background=background)
            count, max_id = await store.summary()
            if index is not None and (index.max_id > max_id or index.ntotal > count):
                index.close()
                index = None  # entries were deleted behind its back: rebuild
            if index is not None:
                missing = count - index.ntotal
                async for ids, vectors in self._embedded(store, after_id=index.max_id):
                    await asyncio.to_thread(index.add, ids, vectors)
                    missing -= len(ids)
                if missing != 0:
                    index.close()
                    index = None
            if index is None:
                # Rebuilt as a bulk write fills it: the compact tier is trained in step once the
                # threshold is reached (on those first vectors), so a rebuild of millions holds
                # their compact codes, never every float32 vector (1.5 GB at 1,000,000).
                index = VectorIndex(self.embedder.dim, ivf_threshold=threshold, background=False)
                async for ids, vectors in self._embedded(store):
                    await asyncio.to_thread(index.add, ids, vectors)
                index.background = background
            index.maybe_train()  # past the threshold (perhaps a new setting): IVF, in the background
            if self.store is store:
                self.index = index
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if damaged(exc):  # replaced by a fresh file, whose index loads then
                recovery = asyncio.get_running_loop().create_task(self._replace_damaged(store, exc))
                recovery.add_done_callback(_quietly)  # a failure turned memory off, with a warning
                self._tasks.append(recovery)
            else:
                log.warning("memory: vector index unavailable, searching text only: %s", exc)
            self.index = None
        finally:
            self._ready.set()

    async def _reembed(self, store: MemoryStore) -> None:
        log.warning("memory: embedder changed to %s, re-embedding stored statements", self.embedder.name)
        await store.set_meta("embedder", self.embedder.name)  # the index, rebuilt from the texts, follows
        for suffix in ("", ".meta"):
            target = self.index_path.with_name(self.index_path.name + suffix)
            try:
                target.unlink()
            except OSError:
                pass

    async def _save_index(self) -> None:
        index, store = self.index, self.store
        if index is None or store is None:
            return
        state = (index.ntotal, index.max_id, index.swaps)
        if state == self._saved_state and self.index_path.exists():
            return
        meta = {"uid": store.uid, "embedder": self.embedder.name}
        await asyncio.to_thread(index.save, self.index_path, meta)
        self._saved_state = state

    async def maintain_once(self) -> list[int]:
        """One pass of pruning, consolidation, checkpoint and index save. Returns removed ids."""
        if not self.enabled or self.store is None:
            return []
        s = self.settings
        removed = await self._on_store(
            lambda store: store.prune(
                max_statements=s.max_entries,
                max_runs_per_statement=getattr(s, "max_runs_per_statement", 100),
                half_life_days=s.half_life_days,
            )
        )
        if removed and self.index is not None:
            self.index.remove(np.array(removed, dtype=np.int64))
        await self._on_store(lambda store: store.checkpoint())
        if self._ready.is_set():
            await self._save_index()
        return removed

    async def _maintain(self) -> None:
        interval = self.settings.prune_interval
        last = time.monotonic()
        while True:
            await asyncio.sleep(min(interval, 30.0))
            try:
                index = self.index
                if time.monotonic() - last >= interval:
                    last = time.monotonic()
                    await self.maintain_once()
                elif index is not None and index.swaps and self._saved_state is not None and self._saved_state[2] != index.swaps:
                    await self._save_index()
            except asyncio.CancelledError:
                raise
            except (sqlite3.Error, OSError) as exc:
                log.warning("memory: background maintenance failed: %s", exc)
            except Exception as exc:
                log.warning("memory: background maintenance failed: %s", exc)
