"""The vector index: FAISS inner product over unit vectors, keyed by statement id.

Small memories use an exact ``IndexFlatIP``. From ``ivf_threshold`` vectors on, an
``IndexIVFFlat`` is trained in a background thread on a snapshot and swapped in atomically;
vectors added or removed while it trains are replayed into it before the swap. After training,
``nprobe`` is tuned on a sample of the data itself: the smallest that finds ≥ 0.97 of the exact
top-10 (ties at the 10th score count as found). The IVF index is retrained (again in the
background) once it holds four times the vectors it was trained on.

Thread-safe: one lock guards the live index; searches hold it only while FAISS runs.
:meth:`save` writes ``<path>`` and ``<path>.meta`` (msgpack) atomically; :meth:`load` returns
None for a missing, unreadable or mismatched file, and the caller rebuilds from the store.
"""

from __future__ import annotations

import contextlib
import logging
import math
import os
import threading
import uuid
from pathlib import Path
from typing import Any

import faiss
import msgpack
import numpy as np

log = logging.getLogger(__name__)

# One thread: searches are single queries, where OpenMP's thread start and spin cost more than
# they save, and on a shared two-core machine extra threads only fight the event loop.
faiss.omp_set_num_threads(1)

RECALL_TARGET = 0.97
TUNE_QUERIES = 200


class VectorIndex:
    """Ids (int64) to unit vectors; ``search`` returns inner products, best first."""

    def __init__(self, dim: int, *, ivf_threshold: int = 50_000, background: bool = True) -> None:
        if dim <= 0:
            raise ValueError(f"dim must be positive, got {dim!r}")
        self.dim = dim
        self.ivf_threshold = ivf_threshold
        self.background = background
        self._lock = threading.RLock()
        self._index: Any = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        self.kind = "flat"
        self.nprobe = 0
        self.trained_on = 0
        self.max_id = 0
        self._journal: list[tuple[str, np.ndarray, np.ndarray | None]] | None = None
        self._trainer: threading.Thread | None = None
        self.swaps = 0
        self.last_error: str | None = None
        self.auto_train = True
        """Train IVF on its own when the size calls for it (off while bulk loading)."""

    # -- size and state -------------------------------------------------------------------------

    @property
    def ntotal(self) -> int:
        return int(self._index.ntotal)

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
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vectors = np.ascontiguousarray(vectors, dtype=np.float32).reshape(len(ids), self.dim)
        if not len(ids):
            return
        with self._lock:
            if int(ids[0]) <= self.max_id:  # ids only grow: rows at or below max_id are in already
                keep = ids > self.max_id
                ids, vectors = ids[keep], vectors[keep]
                if not len(ids):
                    return
            self._index.add_with_ids(vectors, ids)
            self.max_id = max(self.max_id, int(ids.max()))
            if self._journal is not None:
                self._journal.append(("add", ids, vectors))
        self._maybe_train()

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> bool:
        """Add statements that directly follow the newest one indexed (checked under the lock, so
        writers on several threads cannot add a row twice). False when they do not follow: the
        rows in between are missing, and the next catch-up from the store adds them all."""
        with self._lock:
            if not len(ids) or int(ids[0]) != self.max_id + 1:
                return False
            self.add(ids, vectors)
        return True

    def remove(self, ids: np.ndarray | list[int]) -> int:
        """Drop vectors by id; returns how many were there."""
        ids = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return 0
        with self._lock:
            removed = int(self._index.remove_ids(faiss.IDSelectorBatch(ids)))
            if self._journal is not None:
                self._journal.append(("remove", ids, None))
        return removed

    def search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``(scores, ids)`` of the ``k`` nearest for each query row; missing slots have id -1."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            if self._index.ntotal == 0:
                return np.zeros((len(query), 0), np.float32), np.zeros((len(query), 0), np.int64)
            k = min(k, int(self._index.ntotal))
            if self.kind == "ivf":
                params = faiss.SearchParametersIVF(nprobe=self.nprobe)
                return self._index.search(query, k, params=params)
            return self._index.search(query, k)

    def exact_search(self, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Exhaustive search whatever the index kind (for measuring recall)."""
        query = np.ascontiguousarray(query, dtype=np.float32).reshape(-1, self.dim)
        with self._lock:
            if self.kind == "flat":
                return self._index.search(query, min(k, self.ntotal))
            return self._index.search(query, min(k, self.ntotal), params=faiss.SearchParametersIVF(nprobe=self._index.nlist))

    # -- IVF ------------------------------------------------------------------------------------

    def maybe_train(self) -> None:
        """Start IVF (re)training if the index has grown past its threshold."""
        self._maybe_train(force=True)

    def _maybe_train(self, force: bool = False) -> None:
        if not (self.auto_train or force):
            return
        n = self.ntotal
        due = (self.kind == "flat" and n >= self.ivf_threshold) or (self.kind == "ivf" and n >= 4 * max(self.trained_on, 1))
        if not due or self.training:
            return
        if self.background:
            self._trainer = threading.Thread(target=self._train_guarded, name="aishell-ivf-train", daemon=True)
            self._trainer.start()
        else:
            self._train_guarded()

    def train_now(self) -> None:
        """Train and swap in an IVF index in this thread (benchmarks and tests)."""
        self._train_guarded()

    def _train_guarded(self) -> None:
        try:
            self._train()
        except Exception as exc:  # training must never take the index down
            self.last_error = f"IVF training failed: {exc}"
            log.warning("%s", self.last_error)
            with self._lock:
                self._journal = None

    def _snapshot(self) -> tuple[np.ndarray, np.ndarray]:
        """A copy of every vector and id; changes from here on are journalled for the swap."""
        with self._lock:
            self._journal = []
            index = self._index
            if self.kind == "flat":
                flat = faiss.downcast_index(index.index)
                vectors = faiss.rev_swig_ptr(flat.get_xb(), index.ntotal * self.dim).reshape(-1, self.dim).copy()
                ids = faiss.vector_to_array(index.id_map).copy()
            else:
                ids, vectors = _ivf_contents(index, self.dim)
        return ids, vectors

    def _train(self) -> None:
        ids, vectors = self._snapshot()
        n = len(ids)
        if n == 0:
            with self._lock:
                self._journal = None
            return
        nlist = max(16, min(int(math.sqrt(n)), n // 39, 4096))  # ~sqrt(n) lists: training stays seconds
        nlist = 1 << int(round(math.log2(nlist)))
        quantizer = faiss.IndexFlatIP(self.dim)
        ivf = faiss.IndexIVFFlat(quantizer, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(12345)
        sample = vectors if n <= nlist * 40 else vectors[rng.choice(n, nlist * 40, replace=False)]
        ivf.train(np.ascontiguousarray(sample))
        index = ivf  # IVF keeps ids itself; IndexIDMap over IVF would misnumber after removals
        index.add_with_ids(vectors, ids)
        nprobe = _tune_nprobe(index, vectors, nlist, rng)
        with self._lock:
            for op, j_ids, j_vectors in self._journal or ():
                if op == "add":
                    index.add_with_ids(j_vectors, j_ids)
                else:
                    index.remove_ids(faiss.IDSelectorBatch(j_ids))
            self._index = index
            self.kind = "ivf"
            self.nprobe = nprobe
            self.trained_on = n
            self._journal = None
            self.swaps += 1
        log.info("memory: IVF index with %d lists (nprobe %d) swapped in over %d vectors", nlist, nprobe, n)

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
                faiss.write_index(self._index, str(tmp))
                info = dict(meta, kind=self.kind, nprobe=self.nprobe, dim=self.dim, ntotal=self.ntotal,
                            max_id=self.max_id, trained_on=self.trained_on)
            os.chmod(tmp, 0o600)
            written = os.stat(tmp)
            info["file"] = [written.st_size, written.st_mtime_ns]
            fd = os.open(meta_tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(msgpack.packb(info, use_bin_type=True))
            os.replace(tmp, path)
            os.replace(meta_tmp, path.with_name(path.name + ".meta"))
        finally:
            for leftover in (tmp, meta_tmp):
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()

    @classmethod
    def load(cls, path: str | os.PathLike[str], *, expect: dict[str, Any], ivf_threshold: int, background: bool = True) -> "VectorIndex | None":
        """The saved index if its meta matches ``expect`` (store uid, embedder, dim), else None."""
        path = Path(path)
        meta_path = path.with_name(path.name + ".meta")
        try:
            meta = msgpack.unpackb(meta_path.read_bytes(), raw=False)
            if not isinstance(meta, dict) or any(meta.get(k) != v for k, v in expect.items()):
                return None
            stored = os.stat(path)
            if meta.get("file") != [stored.st_size, stored.st_mtime_ns]:
                return None  # not the file this meta was written with
            index = faiss.read_index(str(path))
        except (OSError, ValueError, RuntimeError, msgpack.UnpackException):
            return None
        if index.d != meta.get("dim") or index.ntotal != meta.get("ntotal"):
            return None
        self = cls(int(meta["dim"]), ivf_threshold=ivf_threshold, background=background)
        self._index = index
        self.kind = meta.get("kind", "flat")
        self.nprobe = int(meta.get("nprobe", 0))
        self.trained_on = int(meta.get("trained_on", 0))
        self.max_id = int(meta.get("max_id", 0))
        if self.kind == "ivf" and self.nprobe <= 0:
            return None
        return self

    def ids(self) -> np.ndarray:
        """Every id in the index (unordered)."""
        with self._lock:
            if self.kind == "flat":
                return faiss.vector_to_array(self._index.id_map).copy()
            return _ivf_contents(self._index, self.dim, vectors=False)[0]


def _ivf_contents(index: Any, dim: int, *, vectors: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Ids and vectors straight from an IVF-Flat index's inverted lists."""
    lists = index.invlists
    id_parts: list[np.ndarray] = []
    vec_parts: list[np.ndarray] = []
    for number in range(index.nlist):
        size = lists.list_size(number)
        if not size:
            continue
        id_parts.append(faiss.rev_swig_ptr(lists.get_ids(number), size).copy())
        if vectors:
            codes = faiss.rev_swig_ptr(lists.get_codes(number), size * index.code_size)
            vec_parts.append(np.frombuffer(codes.tobytes(), dtype=np.float32).reshape(size, dim))
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, np.int64)
    vecs = np.concatenate(vec_parts) if vec_parts else np.zeros((0, dim), np.float32)
    return ids, vecs


def _tune_nprobe(index: Any, vectors: np.ndarray, nlist: int, rng: np.random.Generator, k: int = 10) -> int:
    """Smallest power-of-two nprobe whose recall@k on sample queries reaches RECALL_TARGET."""
    n = len(vectors)
    picks = rng.choice(n, min(TUNE_QUERIES, n), replace=False)
    # stored vectors moved well away (cosine ~0.7 to where they started), as a few typed words
    # are from the statement they mean: tuning on the vectors themselves would flatter nprobe
    queries = vectors[picks] + rng.normal(0, 0.05, size=(len(picks), vectors.shape[1])).astype(np.float32)
    queries /= np.linalg.norm(queries, axis=1, keepdims=True)
    exact_scores, _ = index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=nlist))
    nprobe = 2
    while nprobe < nlist:
        scores, _ = index.search(queries, k, params=faiss.SearchParametersIVF(nprobe=nprobe))
        if recall_at_k(scores, exact_scores) >= RECALL_TARGET:
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
