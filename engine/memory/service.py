"""Memory as the Session uses it: record every statement, recall by meaning, import history.

:class:`Memory` ties the store, the embedder and the vector index together. It never breaks a
query: :meth:`Memory.open` returns a memory that is *off* (``enabled`` False, ``reason`` says
why) instead of raising, and a failing write (full disk, file gone read-only) switches it off with
a warning. Each :meth:`record` is committed before it returns, so the caller shows a result only
after its entry is durable.

The vector index loads (or is rebuilt from the store) in the background at open; searches wait
for it a few seconds at most, then rank on text alone. Pruning, consolidation, WAL checkpoints
and index saves run in a background task with limits from settings.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import importlib
import logging
import sqlite3
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator, Sequence

import numpy as np

from aishell.engine.config import MemorySettings, Settings
from aishell.engine.errors import AishellError, MemoryUnavailable
from aishell.engine.memory.embed import Embedder, HashingEmbedder, embedder_for
from aishell.engine.memory.history import guess_kind, parse
from aishell.engine.memory.search import SearchHit, bm25, rank, terms
from aishell.engine.memory.store import Batch, Entry, MemoryStore, Prepared, Vector
from aishell.engine.memory.text import fingerprint_lexemes, ignored, lex, literal_key, redact_statement, text_hash

if TYPE_CHECKING:
    from aishell.engine.memory.vectors import VectorIndex

log = logging.getLogger("aishell.engine.memory")

SHAPE_CACHE = 4096
READY_WAIT = 5.0
THREAD_SEARCH_FROM = 20_000
RARE_TERM = 1000
"""Words in fewer statements than this also fetch lexical candidates from the whole memory."""
BATCH = 20_000
FIRST_BATCH = 2_500
"""Bulk recording writes batches growing from FIRST_BATCH to BATCH: the first is prepared with
nothing to overlap, and each later one is prepared while the one before it is written."""


@dataclass(slots=True)
class ImportReport:
    """What ``aishell memory import`` did."""

    kind: str
    read: int
    recorded: int
    skipped: int
    redacted: int

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "read": self.read, "recorded": self.recorded, "skipped": self.skipped, "redacted": self.redacted}


def shape_fingerprint(text: str, dialect: str, lexemes: list) -> str:
    """16 hex digits of the statement's shape: a hash of :func:`engine.analyzer.fingerprint`
    (the analyzer's cache key, so memory and analysis agree on what "the same query" is); for
    dialects the analyzer does not know (mongo), memory's own token normalization."""
    try:
        from aishell.engine.analyzer import fingerprint as analyzer_fingerprint

        shape = analyzer_fingerprint(text, dialect)
    except (ImportError, ValueError):
        return fingerprint_lexemes(lexemes)
    return hashlib.blake2b(shape.encode(), digest_size=8).hexdigest()


BULK_SWITCH_INTERVAL = 0.0005
_bulk = {"writers": 0, "saved": 0.005}


@contextlib.contextmanager
def _quick_gil_handoffs() -> Iterator[None]:
    """While bulk writes run, threads hand the GIL over every 0.5 ms instead of CPython's 5 ms.

    The connection's thread gives the GIL up around each SQLite call and has to win it back
    from the thread preparing the next batch, which is busy in Python; at the default interval
    every such wait could cost 5 ms, and recording 100,000 statements ran 15 % slower. The
    interval is process-wide: it is restored when the last bulk write ends.
    """
    if _bulk["writers"] == 0:
        _bulk["saved"] = sys.getswitchinterval()
        sys.setswitchinterval(min(_bulk["saved"], BULK_SWITCH_INTERVAL))
    _bulk["writers"] += 1
    try:
        yield
    finally:
        _bulk["writers"] -= 1
        if _bulk["writers"] == 0:
            sys.setswitchinterval(_bulk["saved"])


def _growing_chunks(entries: Sequence[Entry]) -> list[Sequence[Entry]]:
    out = []
    start, size = 0, FIRST_BATCH
    while start < len(entries):
        out.append(entries[start : start + size])
        start += size
        size = min(size * 2, BATCH)
    return out


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
        """A one-time message for the user (a damaged file moved aside)."""
        self.store: MemoryStore | None = None
        self.embedder: Embedder = HashingEmbedder()
        self.index: VectorIndex | None = None
        self._ready = asyncio.Event()
        self._shapes: collections.OrderedDict[str, tuple[str, Vector]] = collections.OrderedDict()
        self._tasks: list[asyncio.Task[Any]] = []
        self._saved_state: tuple[int, int, int] | None = None
        self._closed = False

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
        if not mem_settings.enabled:
            self.reason = "memory is disabled in settings"
            return self
        try:
            self.embedder = embedder or embedder_for(mem_settings.embedder)
            self.store = await MemoryStore.open(self.path, synchronous=getattr(mem_settings, "synchronous", "normal"))
        except AishellError as exc:
            self._off(str(exc))
            return self
        self.notice = self.store.notice
        if self.notice:
            log.warning("memory: %s", self.notice)
        self.enabled = True
        loader = asyncio.get_running_loop().create_task(self._load_index(background))
        self._tasks.append(loader)
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
            statement_id, new = await self.store.add(prepared)
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
        if not self.enabled or self.store is None:
            raise MemoryUnavailable(self.reason or "memory off")
        recorded = 0
        chunks = _growing_chunks(entries)
        plan = functools.partial(self._plan, dialect=dialect, filtered=filtered)
        ahead: asyncio.Future[Batch] | None = None
        indexing: asyncio.Future[bool] | None = None
        try:
            with _quick_gil_handoffs() if len(chunks) > 1 else contextlib.nullcontext():
                for number, chunk in enumerate(chunks):
                    if ahead is not None:
                        batch = await ahead
                    else:
                        batch = await asyncio.to_thread(plan, chunk) if len(chunk) > 256 else plan(chunk)
                    ahead = None
                    if number + 1 < len(chunks):  # prepare the next chunk while this one is written
                        ahead = asyncio.ensure_future(asyncio.to_thread(plan, chunks[number + 1]))
                    try:
                        new_ids, new_vectors = await self.store.add_many(batch)
                    except (sqlite3.Error, OSError) as exc:
                        self._off(f"memory off: could not record ({exc})")
                        raise MemoryUnavailable(self.reason or "memory off") from None
                    recorded += len(batch)
                    index = self.index
                    if len(new_ids) and index is not None and self._ready.is_set():
                        if indexing is not None:
                            await indexing  # in order: each batch follows the one before
                        # FAISS copies the vectors with the GIL released, beside the next batch's write
                        indexing = asyncio.ensure_future(asyncio.to_thread(index.append, new_ids, new_vectors))
        finally:
            await asyncio.gather(*(f for f in (ahead, indexing) if f is not None), return_exceptions=True)
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
                fp = shape_fingerprint(entries[todo[key][0]].text, dialect, lexemes)
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
        if not self.enabled or self.store is None:
            raise MemoryUnavailable(self.reason or "memory off")
        limit = max(1, int(limit))
        now = time.time()
        try:
            if not text.strip():
                ids = await self.store.recent(limit, database or None) or await self.store.recent(limit)
                cands = await self.store.candidates(ids, database)
                return rank(cands, vector_scores={}, text_scores={}, database=database, now=now, settings=self.settings, limit=limit)
            k = max(limit * 4, 40)
            vector_scores: dict[int, float] = {}
            max_id = await self.store.max_id()
            index = await self._ready_index()
            total = max_id
            if index is not None:
                if max_id > index.max_id:
                    await self._catch_up(index)
                total = index.ntotal
                query = self.embedder.embed([text])
                if index.ntotal >= THREAD_SEARCH_FROM:
                    scores, ids = await asyncio.to_thread(index.search, query, k)
                else:
                    scores, ids = index.search(query, k)
                vector_scores = {int(i): float(s) for s, i in zip(scores[0], ids[0]) if i >= 0}
            words = terms(text)
            lexical: list[int] = []
            doc_freq: dict[str, int] = {}
            if words:
                doc_freq = await self.store.term_counts(words, RARE_TERM)
                rare = [w for w in words if doc_freq[w] < RARE_TERM]
                if rare:
                    lexical += await self.store.text_matches(" OR ".join(f'"{w}"' for w in rare), k)
                lexical += await self.store.text_matches(" OR ".join(f'"{w}"' for w in words), k // 2)
            wanted = list(dict.fromkeys([*vector_scores, *lexical]))
            cands = await self.store.candidates(wanted, database)
            text_scores = bm25(words, {c.id: c.text for c in cands}, doc_freq, total) if words else {}
        except sqlite3.Error as exc:
            raise MemoryUnavailable(f"memory search failed: {exc}") from None
        return rank(cands, vector_scores=vector_scores, text_scores=text_scores, database=database, now=now, settings=self.settings, limit=limit)

    async def forget(self, ids: Iterable[int]) -> int:
        """Remove statements (and their runs) from memory and the index. Returns how many."""
        if not self.enabled or self.store is None:
            raise MemoryUnavailable(self.reason or "memory off")
        gone = await self.store.delete(ids)
        if self.index is not None and gone:
            self.index.remove(np.array(gone, dtype=np.int64))
        return len(gone)

    async def stats(self) -> dict[str, Any]:
        """Store statistics plus the vector index's kind and size. Raises MemoryUnavailable when off."""
        if not self.enabled or self.store is None:
            raise MemoryUnavailable(self.reason or "memory off")
        data = await self.store.stats()
        index = await self._ready_index()
        data["embedder"] = self.embedder.name
        data["index"] = {
            "kind": index.kind if index else "loading",
            "vectors": index.ntotal if index else 0,
            "nprobe": index.nprobe if index else 0,
            "training": index.training if index else False,
            "ivf_threshold": self.settings.ivf_threshold,
        }
        return data

    # -- import ---------------------------------------------------------------------------------

    async def import_file(self, path: str | Path, *, kind: str | None = None, database: str = "", dialect: str = "postgres") -> ImportReport:
        """Read a psql, pgcli or plain history file into memory, in batched transactions."""
        path = Path(path).expanduser()
        try:
            raw = path.read_bytes()
            mtime = path.stat().st_mtime
        except OSError as exc:
            raise MemoryUnavailable(f"cannot read {path}: {exc.strerror or exc}") from None
        text = raw.decode("utf-8", errors="replace")
        kind = kind or guess_kind(path, text)
        items = parse(text, kind)
        entries: list[Entry] = []
        redacted = 0
        skipped = 0
        n = len(items)
        for i, item in enumerate(items):
            if ignored(item.text, ignore_space=False):
                skipped += 1
                continue
            clean = redact_statement(item.text.strip(), dialect)
            redacted += clean != item.text.strip()
            started = item.started_at if item.started_at is not None else mtime - (n - i) * 1e-3
            entries.append(Entry(text=clean, database=database, started_at=started, success=None, duration_ms=None, rows=None, source=f"import:{kind}"))
        recorded = await self.record_many(entries, dialect=dialect, filtered=True)
        return ImportReport(kind, n, recorded, skipped, redacted)

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

    async def _catch_up(self, index: VectorIndex) -> None:
        """Add statements recorded by other processes (or skipped) since the index last grew."""
        assert self.store is not None
        max_id = await self.store.max_id()
        if max_id <= index.max_id:
            return
        async for ids, vectors in self.store.embeddings(after_id=index.max_id):
            index.add(ids, vectors)

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
                await self._reembed()
            expect = {"uid": store.uid, "embedder": self.embedder.name, "dim": self.embedder.dim}
            threshold = self.settings.ivf_threshold
            index = await asyncio.to_thread(VectorIndex.load, self.index_path, expect=expect, ivf_threshold=threshold, background=background)
            count, max_id = await store.summary()
            if index is not None and (index.max_id > max_id or index.ntotal > count):
                index = None  # entries were deleted behind its back: rebuild
            if index is not None:
                missing = count - index.ntotal
                async for ids, vectors in store.embeddings(after_id=index.max_id):
                    index.add(ids, vectors)
                    missing -= len(ids)
                if missing != 0:
                    index = None
            if index is None:
                index = VectorIndex(self.embedder.dim, ivf_threshold=threshold, background=background)
                index.auto_train = False
                async for ids, vectors in store.embeddings():
                    await asyncio.to_thread(index.add, ids, vectors)
                index.auto_train = True
            index.maybe_train()  # past the threshold (perhaps a new setting): IVF, in the background
            self.index = index
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.warning("memory: vector index unavailable, searching text only: %s", exc)
            self.index = None
        finally:
            self._ready.set()

    async def _reembed(self) -> None:
        store = self.store
        assert store is not None
        log.warning("memory: embedder changed to %s, re-embedding stored statements", self.embedder.name)
        async for rows in store.all_texts():
            vectors = await asyncio.to_thread(self.embedder.embed, [t for _, t in rows])
            await store.set_embeddings([(i, v) for (i, _), v in zip(rows, vectors)])
        await store.set_meta("embedder", self.embedder.name)
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
        store = self.store
        if not self.enabled or store is None:
            return []
        s = self.settings
        removed = await store.prune(
            max_statements=s.max_entries,
            max_runs_per_statement=getattr(s, "max_runs_per_statement", 100),
            half_life_days=s.half_life_days,
        )
        if removed and self.index is not None:
            self.index.remove(np.array(removed, dtype=np.int64))
        await store.checkpoint()
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
