"""The vector index: FAISS inner product over unit vectors, keyed by statement id, in two tiers.

- The *fresh* tier holds exact float32 vectors in memory (``IndexFlatIP``): every vector of a
  small memory, and those recorded since the compact tier's file was loaded.
- The *compact* tier holds the rest as IVF-PQ codes: 48 bytes a 384-dimension vector (32 times
  smaller than float32) plus its id. From ``ivf_threshold`` vectors on it is trained in a
  background thread on a snapshot of the fresh tier and swapped in; vectors added or removed
  while it trains are replayed into it before the swap. A saved compact tier is memory-mapped on
  load (read only): a process pays in RSS only for the lists its searches touch, so RSS does not
  grow with the history. Vectors recorded meanwhile go to the fresh tier, and are folded into the
  compact one (an in-memory copy of it, written at the next save) once ``SEAL_AT`` gather;
  removals from a mapped tier are filtered out of its results until then.

PQ scores are approximate: :attr:`VectorIndex.approximate` says so, and the caller re-ranks the
candidates with their exact vectors (memory re-embeds the candidates' texts: the hashing
embedder needs microseconds). ``nprobe`` is tuned after training on a sample of the data itself:
the smallest that puts ≥ 0.97 of the exact top-10 among the first ``RERANK`` candidates (ties at
the 10th score count as found).

Thread-safe: one lock guards the tiers; searches hold it only while FAISS runs. :meth:`save`
writes ``<path>`` (the compact tier, else the fresh one) and ``<path>.meta`` (msgpack, with the
fresh tier's vectors when there is a compact one) atomically; :meth:`load` returns None for a
missing, unreadable or mismatched file, and the caller rebuilds from the store.

>>> import numpy as np
>>> index = VectorIndex(8)
>>> index.add(np.array([1, 2]), np.eye(8, dtype=np.float32)[:2])
>>> index.search(np.eye(8, dtype=np.float32)[1], 1)[1].tolist(), index.kind, index.approximate
([[2]], 'flat', False)
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import shutil
import threading
import uuid
from pathlib import Path
from typing import Any, BinaryIO

# OpenMP reads this once, when FAISS loads it: every thread (the event loop's executor threads
# included) then runs one-threaded, not only those that call omp_set_num_threads below.
os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss  # noqa: E402
import msgpack  # noqa: E402
import numpy as np  # noqa: E402

log = logging.getLogger(__name__)

# One thread: searches are single queries, where OpenMP's thread start and spin cost more than
# they save, and on a shared two-core machine extra threads only fight the event loop. The setting
# is per thread: each thread that runs FAISS here sets it (training in a thread of its own with
# OpenMP's default took 20 times longer on two busy cores).
faiss.omp_set_num_threads(1)

RECALL_TARGET = 0.97
TUNE_QUERIES = 200
RERANK = 40
"""Candidates a caller re-ranks exactly: nprobe is tuned for the exact top-10 to be among them."""
SEAL_AT = 10_000
"""Fresh vectors beside a mapped compact tier that make it fold them in (an in-memory copy)."""
JOURNAL_CAP = 20_000
"""Vectors journalled while the compact tier trains before adding waits for the training."""
MAX_LISTS = 1024
ADD_SLICE = 8192
"""Vectors a training adds to the new compact tier at once."""
TRAIN_POINTS_PER_LIST = 32
"""Training sample: this many vectors a list (and 64 a PQ centroid), at most."""
TRAIN_ITERATIONS = 10
"""k-means iterations of the lists' centroids and of the PQ codebooks. FAISS's 25 took 7 s of
the 22 s an import of 100,000 statements took; 10 found the same recall@10 (0.969 at 300,000
statements trained on the first 50,000), and half the sample lost 0.005 of it."""


class VectorIndex:
    """Ids (int64) to unit vectors; ``search`` returns inner products, best first."""

    def __init__(self, dim: int, *, ivf_threshold: int = 50_000, background: bool = True) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim!r}")
        self.dim = dim
        self.ivf_threshold = ivf_threshold
        self.background = background
        self._lock = threading.RLock()
        self._fresh: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self._compact: Any = None
        """IVF-PQ: owned (in memory, writable) or mapped (read-only, from :attr:`_mapped`)."""
        self._mapped: BinaryIO | None = None
        """The compact tier's file while it is mapped: saves copy its bytes from here."""
        self._removed: set[int] = set()
        """Ids removed from a mapped compact tier (filtered out of its results)."""
        self._selector: Any = None
        self.kind = "flat"
        self.nprobe = 0
        self.trained_on = 0
        self.max_id = 0
        self._journal: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None
        self._journalled = 0
        self._trainer: threading.Thread | None = None
        self.swaps = 0
        self.last_error: str | None = None
        self.auto_train = True
        """Train the compact tier on its own when the size calls for it (off while bulk loading)."""

    # -- size and state -------------------------------------------------------------------------

    @property
    def ntotal(self) -> int:
        compact = self._compact
        return int(self._fresh.ntotal) + (int(compact.ntotal) - len(self._removed) if compact is not None else 0)

    @property
    def approximate(self) -> bool:
        """True when scores may be off (PQ codes): re-rank the candidates with exact vectors."""
        return self._compact is not None

    @property
    def mapped(self) -> bool:
        """True while the compact tier is read from its file (memory-mapped)."""
        return self._mapped is not None

    @property
    def training(self) -> bool:
        return self._trainer is not None and self._trainer.is_alive()

    def wait_trained(self, timeout: float | None = None) -> bool:
        """Wait for a background training to finish; True when none is running."""
        trainer = self._trainer
        if trainer is not None:
            trainer.join(timeout)
        return not self.training

    # -- changes --------------------------------------------------------------------------------

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self._pace()
        self._add(ids, vectors)

    def _pace(self) -> None:
        """Wait for the training when bulk loading has outran it: the journal stays bounded.
        Never under the lock (the training needs it to finish)."""
        if self._journalled > JOURNAL_CAP and self.training and threading.current_thread() is not self._trainer:
            self.wait_trained()

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        if not len(ids):
            return
        faiss.omp_set_num_threads(1)
        with self._lock:
            if int(ids[0]) <= self.max_id:  # ids only grow: rows at or below max_id are in already
                keep = ids > self.max_id
                ids, vectors = ids[keep], vectors[keep]
                if not len(ids):
                    return
            if self._compact is not None and self._mapped is None:
                self._compact.add_with_ids(vectors, ids)
            else:
                self._fresh.add_with_ids(vectors, ids)
            self.max_id = max(self.max_id, int(ids.max()))
            if self._journal is not None:
                self._journal.append(("add", ids, vectors))
                self._journalled += len(ids)
            if self._mapped is not None and self._fresh.ntotal >= SEAL_AT:
                self._own_compact()
        self._maybe_train()

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> bool:
        """Add statements that directly follow the newest one indexed (checked under the lock, so
        writers on several threads cannot add a row twice). False when they do not follow: the
        rows in between are missing, and the next catch-up from the store adds them all."""
        self._pace()
        with self._lock:
            if not len(ids) or int(ids[0]) != self.max_id + 1:
                return False
            self._add(ids, vectors)
        return True

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Drop vectors by id; returns how many were there."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return 0
        with self._lock:
            removed = int(self._fresh.remove_ids(faiss.IDSelectorBatch(ids)))
            compact = self._compact
            if compact is not None and self._mapped is None:
                removed += int(compact.remove_ids(faiss.IDSelectorBatch(ids)))
            elif compact is not None:
                present = ids[np.isin(ids, _list_ids(compact))]
                fresh_gone = {int(i) for i in present} - self._removed
                self._removed |= fresh_gone
                removed += len(fresh_gone)
                self._selector = None
            if self._journal is not None:
                self._journal.append(("remove", ids, None))
        return removed

    def _own_compact(self) -> None:
        """Replace the mapped compact tier by an in-memory copy holding the fresh vectors too,
        removals applied (under the lock)."""
        mapped = self._mapped
        assert mapped is not None
        mapped.seek(0)
        owned = faiss.deserialize_index(np.frombuffer(mapped.read(), dtype=np.uint8))
        if self._removed:
            owned.remove_ids(faiss.IDSelectorBatch(np.fromiter(self._removed, dtype=np.int64)))
        ids, vectors = _flat_contents(self._fresh, self.dim)
        if len(ids):
            owned.add_with_ids(vectors, ids)
        self._compact, self._mapped, self._removed, self._selector = owned, None, set(), None
        self._fresh = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
        mapped.close()

    # -- searching ------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the ``k`` nearest for each query row; missing slots have id -1.
        Scores are approximate when :attr:`approximate` is."""
        return self._search(query, k, exhaustive=False)

    def exact_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Every list of the compact tier searched (for measuring recall; still PQ scores)."""
        return self._search(query, k, exhaustive=True)

    def _search(self, query: np.ndarray, k: int, *, exhaustive: bool) -> tuple[np.ndarray, np.ndarray]:
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1, self.dim)
        faiss.omp_set_num_threads(1)
        with self._lock:
            n = self.ntotal
            if n == 0:
                return np.zeros((len(query), 0), np.float32), np.zeros((len(query), 0), np.int64)
            k = min(k, n)
            parts = []
            if self._fresh.ntotal:
                parts.append(self._fresh.search(query, min(k, int(self._fresh.ntotal))))
            compact = self._compact
            if compact is not None and compact.ntotal:
                if self._removed and self._selector is None:
                    batch = faiss.IDSelectorBatch(np.fromiter(self._removed, dtype=np.int64))
                    self._selector = (faiss.IDSelectorNot(batch), batch)  # the batch outlives the Not
                params = faiss.SearchParametersIVF(
                    nprobe=compact.nlist if exhaustive else self.nprobe,
                    sel=self._selector[0] if self._removed else None,
                )
                parts.append(compact.search(query, k, params=params))
        if len(parts) == 1:
            return parts[0]
        scores = np.hstack([p[0] for p in parts])
        ids = np.hstack([p[1] for p in parts])
        scores = np.where(ids >= 0, scores, -np.inf)
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        return np.take_along_axis(scores, order, 1).astype(np.float32), np.take_along_axis(ids, order, 1)

    # -- the compact tier -----------------------------------------------------------------------

    def maybe_train(self) -> None:
        """Start training the compact tier if the index has grown past its threshold."""
        self._maybe_train(force=True)

    def _maybe_train(self, force: bool = False) -> None:
        if not (self.auto_train or force):
            return
        due = self._compact is None and self._fresh.ntotal >= max(self.ivf_threshold, 256)
        if not due or self.training:
            return
        if self.background:
            self._trainer = threading.Thread(target=self._train_guarded, name="aishell-ivf-train", daemon=True)
            self._trainer.start()
        else:
            self._train_guarded()

    def train_now(self) -> None:
        """Train and swap in the compact tier in this thread (benchmarks and tests)."""
        self._train_guarded()

    def _train_guarded(self) -> None:
        faiss.omp_set_num_threads(1)
        try:
            self._train()
        except Exception as exc:  # training must never take the index down
            self.last_error = f"IVF-PQ training failed: {exc}"
            log.warning("%s", self.last_error)
            with self._lock:
                self._journal = None
                self._journalled = 0

    def _train(self) -> None:
        # Trained in the caller's thread (bulk writes, a rebuild, benchmarks), it holds the lock
        # throughout: the fresh tier cannot change meanwhile and is read in place, not copied
        # (an import's peak RSS: 88 MB at the default threshold). A background training copies it.
        in_place = threading.current_thread() is not self._trainer
        with self._lock if in_place else contextlib.nullcontext():
            self._train_from(in_place)

    def _train_from(self, in_place: bool) -> None:
        with self._lock:
            if self._compact is not None:
                return
            self._journal, self._journalled = [], 0
            ids, vectors = _flat_contents(self._fresh, self.dim, copy=not in_place)
        n = len(ids)
        if n < 256:
            with self._lock:
                self._journal = None
            return
        nlist = min(MAX_LISTS, max(16, n // 39))
        nlist = 1 << int(math.log2(nlist))
        bits = max(4, min(8, int(math.log2(n / 39))))
        m = _subquantizers(self.dim)
        compact = faiss.IndexIVFPQ(faiss.IndexFlatIP(self.dim), self.dim, nlist, m, bits, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(12345)
        compact.cp.niter = compact.pq.cp.niter = TRAIN_ITERATIONS
        compact.cp.min_points_per_centroid = min(compact.cp.min_points_per_centroid, TRAIN_POINTS_PER_LIST)
        size = min(n, max(nlist * TRAIN_POINTS_PER_LIST, (1 << bits) * 64))
        if size >= n:
            sample = vectors
        elif in_place:  # the first vectors, read in place: a random pick is a copy of 50 MB
            sample = vectors[:size]
        else:
            sample = vectors[np.sort(rng.choice(n, size, replace=False))]
        compact.train(np.ascontiguousarray(sample))
        del sample
        for start in range(0, n, ADD_SLICE):  # FAISS's residuals for what it adds stay one slice
            compact.add_with_ids(vectors[start : start + ADD_SLICE], ids[start : start + ADD_SLICE])
        nprobe = _tune_nprobe(compact, ids, vectors, rng)
        del vectors, ids
        with self._lock:
            for op, j_ids, j_vectors in self._journal or ():
                if op == "add":
                    compact.add_with_ids(j_vectors, j_ids)
                else:
                    compact.remove_ids(faiss.IDSelectorBatch(j_ids))
            self._compact = compact
            self._fresh = faiss.IndexIDMap2(faiss.IndexFlatIP(self.dim))
            self.kind = "ivf"
            self.nprobe = nprobe
            self.trained_on = n
            self._journal, self._journalled = None, 0
            self.swaps += 1
        log.info("memory: IVF-PQ index (%d lists, %d x %d bits, nprobe %d) swapped in over %d vectors", nlist, m, bits, nprobe, n)

    # -- persistence ----------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], meta: dict[str, Any]) -> None:
        """Write the index and its meta (``meta`` plus kind, nprobe, dim, count) atomically."""
        path = Path(path)
        # Names of this process's own: two processes saving at once each write whole files, and
        # the meta names the index file it describes (size, mtime), so a pair that crossed with
        # another process's is refused by load() instead of read with the wrong meta.
        unique = f".{os.getpid()}-{uuid.uuid4().hex[:8]}.tmp"
        tmp = path.with_name(path.name + unique)
        meta_tmp = path.with_name(path.name + ".meta" + unique)
        try:
            with self._lock:
                fresh_ids, fresh_vectors = np.zeros(0, np.int64), np.zeros((0, self.dim), np.float32)
                if self._compact is None:
                    faiss.write_index(self._fresh, str(tmp))
                elif self._mapped is None:
                    faiss.write_index(self._compact, str(tmp))
                else:
                    self._mapped.seek(0)
                    with open(tmp, "wb") as out:
                        shutil.copyfileobj(self._mapped, out, 1 << 20)
                    fresh_ids, fresh_vectors = _flat_contents(self._fresh, self.dim)
                info = dict(meta, kind=self.kind, nprobe=self.nprobe, dim=self.dim, ntotal=self.ntotal,
                            max_id=self.max_id, trained_on=self.trained_on,
                            removed=sorted(self._removed), fresh_ids=fresh_ids.tobytes(), fresh=fresh_vectors.tobytes())
            os.chmod(tmp, 0o600)
            written = os.stat(tmp)
            info["file"] = [written.st_size, written.st_mtime_ns]
            fd = os.open(meta_tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(msgpack.packb(info, use_bin_type=True))
            with _directory_lock(path.parent, exclusive=True):  # the pair lands together
                os.replace(tmp, path)
                os.replace(meta_tmp, path.with_name(path.name + ".meta"))
        finally:
            for leftover in (tmp, meta_tmp):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, expect: dict[str, Any], ivf_threshold: int, background: bool = True) -> "VectorIndex | None":
        """The saved index if its meta matches ``expect`` (store uid, embedder, dim), else None.
        A compact tier is memory-mapped, not read."""
        path = Path(path)
        meta_path = path.with_name(path.name + ".meta")
        mapped: BinaryIO | None = None
        try:
            with _directory_lock(path.parent, exclusive=False):  # a pair, not one of each of two saves
                meta = msgpack.unpackb(meta_path.read_bytes(), raw=False)
                if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expect.items()):
                    return None
                kind = meta.get("kind", "flat")
                if kind == "flat":
                    stored = os.stat(path)
                    if meta.get("file") != [stored.st_size, stored.st_mtime_ns]:
                        return None  # not the file this meta was written with
                    index = faiss.read_index(str(path))
                else:
                    mapped = open(path, "rb")
                    stored = os.fstat(mapped.fileno())
                    if meta.get("file") != [stored.st_size, stored.st_mtime_ns]:
                        mapped.close()
                        return None
                    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP)
                    if (os.stat(path).st_dev, os.stat(path).st_ino) != (stored.st_dev, stored.st_ino):
                        mapped.close()  # replaced between the two opens: the mapping may be another file
                        return None
        except (OSError, ValueError, RuntimeError, msgpack.UnpackException):
            if mapped is not None:
                mapped.close()
            return None
        self = cls(int(meta["dim"]), ivf_threshold=ivf_threshold, background=background)
        self.kind = kind
        self.nprobe = int(meta.get("nprobe", 0))
        self.trained_on = int(meta.get("trained_on", 0))
        self.max_id = int(meta.get("max_id", 0))
        if kind == "flat":
            self._fresh = index
        else:
            self._compact, self._mapped = index, mapped
            self._removed = {int(i) for i in meta.get("removed", ())}
            fresh_ids = np.frombuffer(meta.get("fresh_ids", b""), dtype=np.int64)
            if len(fresh_ids):
                self._fresh.add_with_ids(np.frombuffer(meta.get("fresh", b""), dtype=np.float32).reshape(len(fresh_ids), -1), fresh_ids)
        if index.d != self.dim or self.ntotal != meta.get("ntotal") or (kind != "flat" and self.nprobe <= 0):
            self.close()
            return None
        return self

    def close(self) -> None:
        """Let go of a mapped file (also done when the index is garbage collected)."""
        with self._lock:
            if self._mapped is not None:
                self._compact = None
                self._mapped.close()
                self._mapped = None

    def ids(self) -> np.ndarray:
        """Every id in the index (unordered)."""
        with self._lock:
            parts = [faiss.vector_to_array(self._fresh.id_map).copy()]
            if self._compact is not None:
                listed = _list_ids(self._compact)
                if self._removed:
                    listed = listed[~np.isin(listed, np.fromiter(self._removed, dtype=np.int64))]
                parts.append(listed)
            return np.concatenate(parts)


@contextlib.contextmanager
def _directory_lock(directory: Path, *, exclusive: bool):
    """An advisory lock on the index's directory (no extra file beside it): a save replaces the
    index and its meta under it, a load reads the pair under it, so two processes saving at once
    leave one whole pair."""
    import fcntl

    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _subquantizers(dim: int) -> int:
    """PQ sub-vectors: 8 dimensions each (48 for 384: 48 bytes a vector), or fewer that divide."""
    for width in (8, 4, 2, 1):
        if dim % width == 0:
            return dim // width
    return dim


def _flat_contents(index: Any, dim: int, *, copy: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The ids and vectors of an ``IndexIDMap2(IndexFlatIP)``: a copy, or (``copy`` False) the
    vectors in place, valid only while the index is neither changed nor freed."""
    n = int(index.ntotal)
    if not n:
        return np.zeros(0, np.int64), np.zeros((0, dim), np.float32)
    flat = faiss.downcast_index(index.index)
    vectors = faiss.rev_swig_ptr(flat.get_xb(), n * dim).reshape(-1, dim)
    return faiss.vector_to_array(index.id_map).copy(), vectors.copy() if copy else vectors


def _list_ids(index: Any) -> np.ndarray:
    """Every id in an IVF index's inverted lists."""
    lists = index.invlists
    parts = []
    for number in range(index.nlist):
        size = lists.list_size(number)
        if size:
            parts.append(faiss.rev_swig_ptr(lists.get_ids(number), size).copy())
    return np.concatenate(parts) if parts else np.zeros(0, np.int64)


def _tune_nprobe(index: Any, ids: np.ndarray, vectors: np.ndarray, rng: np.random.Generator, k: int = 10) -> int:
    """Smallest power-of-two nprobe whose top-:data:`RERANK`, re-ranked exactly, holds
    RECALL_TARGET of the exact top-k on sample queries."""
    n = len(vectors)
    picks = rng.choice(n, min(TUNE_QUERIES, n), replace=False)
    # stored vectors moved well away (cosine ~0.7 to where they started), as a few typed words
    # are from the statement they mean: tuning on the vectors themselves would flatter nprobe
    queries = vectors[picks] + rng.normal(0, 0.05, size=(len(picks), vectors.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    # block by block, not an exact index: that copied every vector once more while training
    exact_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    for start in range(0, n, 16_384):
        block = np.concatenate([exact_scores, queries @ vectors[start : start + 16_384].T], axis=1)
        exact_scores = -np.sort(-block, axis=1)[:, :k]
    order = np.argsort(ids)
    nprobe, nlist = 1, index.nlist
    while nprobe < nlist:
        _, found = index.search(queries, RERANK, params=faiss.SearchParametersIVF(nprobe=nprobe))
        rows = order[np.clip(np.searchsorted(ids, found, sorter=order), 0, n - 1)]
        rescored = np.where(found >= 0, np.einsum("qkd,qd->qk", vectors[rows], queries), -np.inf)
        best = -np.sort(-rescored, axis=1)[:, :k]
        if recall_at_k(best, exact_scores) >= RECALL_TARGET:
            return nprobe
        nprobe *= 2
    return nlist


def recall_at_k(found_scores: np.ndarray, exact_scores: np.ndarray, *, tol: float = 1e-5) -> float:
    """Share of the exact top-k found, by score (a result tied with the k-th exact score counts)."""
    hits = 0
    total = 0
    for got, want in zip(found_scores, exact_scores):
        want = want[np.isfinite(want) & (want > -1e30)]
        if not len(want):
            continue
        kth = want[-1]
        got = got[np.isfinite(got) & (got > -1e30)]
        hits += min(int((got >= kth - tol).sum()), len(want))
        total += len(want)
    return hits / total if total else 1.0
