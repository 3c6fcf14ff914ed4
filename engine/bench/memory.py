"""Memory: recording and search, each against a straightforward implementation in the same run.

- ``memory.insert_single``: one ``Memory.record`` (redact, fingerprint, embed, upsert, run row,
  shape stats, commit) against the naive way: ``sqlite3`` with its default rollback journal,
  one INSERT and a commit per statement (text + embedding).
- ``memory.insert_batch``: ``Memory.record_many`` of a history-like stream (statements from a
  few thousand shapes with varying literals) and of distinct-shape statements, against the same
  naive per-row commits.
- ``memory.import_100k``: ``aishell memory import`` of a plain file of distinct statements, in a
  process of its own timed end to end, against a process that puts the same file's statements
  into a bare ``sqlite3`` table (the floor: reading and storing the text alone).
- ``memory.search_100k``: ``Memory.search`` (hybrid: FAISS + FTS5 + ranking SQL) over 100,000
  entries, median over mixed word and SQL queries, against a naive search over the same data:
  numpy brute-force cosine over every vector plus a ``LIKE`` scan. Also the vector part alone
  (FAISS exact) against numpy.
- ``memory.rss_100k``: RSS of a fresh process with those 100,000 entries open and searched,
  against a process holding the same rows as Python objects with numpy vectors.
- ``memory.search_1m_ivf`` and ``memory.recall_at_10_ivf_1m``: 1,000,000 hashing embeddings of
  distinct synthetic statements in the IVF index (trained as in production, nprobe self-tuned)
  against exact ``IndexFlatIP`` search on the same vectors; recall@10 against that exact result
  for held-out statements (ties at the 10th score count as found).

``--quick`` shrinks 100k to 20k and 1M to 100k (names keep saying what was measured).

``--memory-1m`` adds the end-to-end case at 1,000,000 statements (minutes; never by default):
a plain file of distinct statements imported by a real ``aishell memory import`` process into an
empty memory, then ``memory.import_1m`` (statements/s), ``memory.import_rss_1m`` (that
process's peak RSS), ``memory.disk_1m`` (the memory file and its index, against the float32
vectors alone), ``memory.search_process_rss_1m`` (a real ``aishell memory search``),
``memory.search_1m`` (hybrid top-10 median in a warm process, against exact float search over
the same embeddings) and ``memory.recall_at_10_1m`` (the vector channel against that exact search).
"""

from __future__ import annotations

import asyncio
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from aishell.engine.bench import BenchContext, BenchResult

NAME = "memory"
NEEDS_PG = False

_TABLES = ["orders", "customers", "order_items", "payments", "products", "reviews", "inventory_events",
           "suppliers", "categories", "shipments", "invoices", "refunds", "sessions", "events", "users"]
_COLUMNS = ["id", "name", "email", "status", "created_at", "amount", "total", "quantity", "price", "country",
            "city", "method", "rating", "customer_id", "order_id", "product_id", "updated_at", "kind", "note", "sku"]
_WORDS = ["alpha", "bravo", "cargo", "delta", "ember", "fjord", "gamma", "harbor", "iris", "jade", "kilo", "lumen",
          "mango", "nova", "orbit", "pixel", "quartz", "raven", "sierra", "tango", "umber", "vivid", "willow", "xenon",
          "yonder", "zephyr", "amber", "basil", "cedar", "dune", "echo", "flint", "grove", "haze", "ivory", "juniper"]


def _history(n: int, shapes: int, seed: int) -> list[str]:
    """Statements as a history holds them: ``shapes`` query shapes, literals varying per run."""
    rng = random.Random(seed)
    templates = []
    for _ in range(shapes):
        t = rng.choice(_TABLES)
        a, b, c = rng.sample(_COLUMNS, 3)
        kind = rng.randrange(5)
        if kind == 0:
            templates.append(f"SELECT {a}, {b} FROM {t} WHERE {c} = {{n}}")
        elif kind == 1:
            templates.append(f"SELECT {a}, count(*) FROM {t} WHERE {b} > {{n}} GROUP BY {a} ORDER BY 2 DESC LIMIT {{m}}")
        elif kind == 2:
            u = rng.choice(_TABLES)
            templates.append(f"SELECT x.{a}, y.{b} FROM {t} x JOIN {u} y ON y.{c} = x.id WHERE x.{b} = '{{s}}' LIMIT {{m}}")
        elif kind == 3:
            templates.append(f"UPDATE {t} SET {a} = '{{s}}' WHERE id = {{n}}")
        else:
            templates.append(f"INSERT INTO {t} ({a}, {b}) VALUES ({{n}}, '{{s}}')")
    return [rng.choice(templates).format(n=rng.randint(1, 10**6), m=rng.randint(1, 500), s=rng.choice(_WORDS)) for _ in range(n)]


def _distinct(n: int, seed: int) -> list[str]:
    """Statements that all differ in shape (identifiers vary): the worst case for recording."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        t = f"{rng.choice(_TABLES)}_{rng.choice(_WORDS)}_{i % 5000}"
        a, b = rng.sample(_COLUMNS, 2)
        w = rng.choice(_WORDS)
        out.append(f"SELECT {a}, {b}_{w} FROM {t} WHERE {a} = {rng.randint(1, 10**6)} ORDER BY {b} LIMIT {rng.randint(1, 100)}")
    return out


_QUERIES = ["orders by status", "customer email", "payments method amount", "count of products per country",
            "update invoices status", "join orders customers", "refunds total", "SELECT name FROM users WHERE id = 5",
            "sessions created_at", "insert into events", "shipments city", "top rated reviews", "price of products",
            "SELECT amount, count(*) FROM payments GROUP BY amount", "suppliers note", "quantity of order items"]


def _naive_insert_rate(path: Path, texts: list[str], vectors: np.ndarray) -> float:
    """Seconds per statement: default sqlite3 settings, INSERT + commit per statement."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE IF NOT EXISTS history (id INTEGER PRIMARY KEY, text TEXT, ts REAL, embedding BLOB)")
    conn.commit()
    start = time.perf_counter()
    for text, vector in zip(texts, vectors):
        conn.execute("INSERT INTO history (text, ts, embedding) VALUES (?, ?, ?)", (text, time.time(), vector.tobytes()))
        conn.commit()
    elapsed = time.perf_counter() - start
    conn.close()
    return elapsed / len(texts)


def _import_rate(work: Path, n: int, label: str) -> BenchResult:
    """``aishell memory import`` of a plain file of ``n`` distinct statements in a process of its
    own, end to end (start-up, reading, redaction, fingerprints, embeddings, SQLite, the vector
    index and its training), against a process putting the file's statements into a bare table."""
    history = work / f"import-{label}.sql"
    history.write_text("".join(t + ";\n" for t in _distinct(n, seed=5)))
    bare = (
        "import sqlite3, sys; c = sqlite3.connect(sys.argv[2]); c.execute('CREATE TABLE h (text TEXT)');"
        "c.executemany('INSERT INTO h VALUES (?)', [(s,) for s in open(sys.argv[1]).read().split(';\\n') if s]); c.commit()"
    )
    seconds = []
    with tempfile.TemporaryDirectory() as home:
        env = dict(os.environ, AISHELL_HOME=home)
        for argv in ([sys.executable, "-c", _CLI, "memory", "import", str(history)],
                     [sys.executable, "-c", bare, str(history), str(Path(home) / "bare.db")]):
            start = time.perf_counter()
            subprocess.run(argv, env=env, capture_output=True, check=True, timeout=1800)
            seconds.append(time.perf_counter() - start)
    history.unlink()
    return BenchResult(
        f"memory.import_{label}", f"statements/s of `aishell memory import` of {n:,} distinct statements, end to end (a process)",
        n / seconds[0], "rows/s", "a process putting the file's statements into a bare sqlite3 table", n / seconds[1],
        higher_is_better=True, target=">= 20,000 rows/s",
    )


def _rss_child(path: str, naive: bool) -> float:
    code = f"""
import asyncio, json, sqlite3, sys
import numpy as np
def rss():
    with open('/proc/self/status') as fh:
        for line in fh:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
if {naive!r}:
    conn = sqlite3.connect({path!r})
    from aishell.engine.memory.embed import HashingEmbedder
    rows = [dict(id=r[0], text=r[1], fingerprint=r[2]) for r in conn.execute('SELECT id, text, fingerprint FROM statements')]
    for r, v in zip(rows, HashingEmbedder().embed([r['text'] for r in rows])):
        r['vector'] = v.copy()
    matrix = np.vstack([r['vector'] for r in rows])
    q = matrix[0]
    top = np.argsort(-(matrix @ q))[:10]
    print(rss())
else:
    from aishell.engine.config import MemorySettings
    from aishell.engine.memory import Memory
    async def main():
        m = await Memory.open(MemorySettings(prune_interval=0), path={path!r})
        await m.wait_ready()
        await m.search('orders by status')
        print(rss())
        await m.close()
    asyncio.run(main())
"""
    root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONPATH=root)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True, timeout=600)
    return float(out.stdout.strip().splitlines()[-1])


async def run(ctx: BenchContext) -> list[BenchResult]:
    from aishell.engine.config import MemorySettings
    from aishell.engine.memory import Entry, Memory
    from aishell.engine.memory.embed import HashingEmbedder

    quick = ctx.quick
    n_search = 20_000 if quick else 100_000
    n_ivf = 100_000 if quick else 1_000_000
    label_search = "20k" if quick else "100k"
    label_ivf = "100k" if quick else "1m"
    work = Path(ctx.workdir) / "memory-bench"
    work.mkdir(parents=True, exist_ok=True)
    for old in work.iterdir():
        old.unlink()
    results: list[BenchResult] = []
    embedder = HashingEmbedder()
    settings = MemorySettings(prune_interval=0, ivf_threshold=10**9)  # IVF measured on its own below

    # -- single insert ----------------------------------------------------------------------------
    singles = _distinct(400 if quick else 1500, seed=1)
    memory = await Memory.open(settings, path=work / "single.db")
    await memory.wait_ready()
    samples = []
    for text in singles:
        start = time.perf_counter()
        await memory.record(Entry(text, database="postgresql://bench@db/shop", duration_ms=1.0, rows=1, tables=("t",)))
        samples.append(time.perf_counter() - start)
    await memory.close()
    naive_vectors = embedder.embed(singles[:300])
    naive_single = _naive_insert_rate(work / "naive-single.db", singles[:300], naive_vectors)
    results.append(BenchResult(
        "memory.insert_single", "median latency of one recorded statement (committed)", statistics.median(samples) * 1e3,
        "ms", "sqlite3 default journal, INSERT + commit per statement", naive_single * 1e3, target="<= 2 ms",
    ))

    # -- batch insert -----------------------------------------------------------------------------
    history = _history(n_search, shapes=3000, seed=2)
    memory = await Memory.open(settings, path=work / "search.db")
    await memory.wait_ready()
    entries = [Entry(t, database="postgresql://bench@db/shop", started_at=time.time() - (n_search - i), duration_ms=2.0, rows=1)
               for i, t in enumerate(history)]
    start = time.perf_counter()
    await memory.record_many(entries)
    rate_history = n_search / (time.perf_counter() - start)
    results.append(BenchResult(
        "memory.insert_batch", f"entries/s recording {label_search} history-like statements (3,000 shapes)", rate_history,
        "rows/s", "sqlite3 default journal, INSERT + commit per statement", 1.0 / naive_single, higher_is_better=True,
        target=">= 20,000 rows/s",
    ))
    distinct = _distinct(10_000 if quick else 30_000, seed=3)
    scratch = await Memory.open(settings, path=work / "distinct.db")
    await scratch.wait_ready()
    start = time.perf_counter()
    await scratch.record_many([Entry(t, database="x") for t in distinct])
    rate_distinct = len(distinct) / (time.perf_counter() - start)
    await scratch.close()
    results.append(BenchResult(
        "memory.insert_batch_distinct", "entries/s recording statements that all differ in shape (worst case)", rate_distinct,
        "rows/s", "sqlite3 default journal, INSERT + commit per statement", 1.0 / naive_single, higher_is_better=True,
    ))

    # -- import, end to end ---------------------------------------------------------------------
    results.append(await asyncio.to_thread(_import_rate, work, n_search, label_search))

    # -- search over 100k -------------------------------------------------------------------------
    await memory.close()  # reopen as a new session would, with default settings (IVF from 50,000)
    memory = await Memory.open(MemorySettings(prune_interval=0), path=work / "search.db")
    await memory.wait_ready()
    await asyncio.to_thread(memory.index.wait_trained, 600)
    kind = f"{memory.index.kind}{f', nprobe {memory.index.nprobe}' if memory.index.kind == 'ivf' else ''}"
    queries = _QUERIES * (4 if quick else 12)
    for q in _QUERIES:
        await memory.search(q)  # warm caches
    ours = []
    for q in queries:
        start = time.perf_counter()
        await memory.search(q, limit=10, database="postgresql://bench@db/shop")
        ours.append(time.perf_counter() - start)
    stats = await memory.stats()
    await memory.close()
    raw = sqlite3.connect(work / "search.db")
    rows = raw.execute("SELECT id, text FROM statements ORDER BY id").fetchall()  # the file keeps no vectors (schema v3)
    raw.close()
    texts = [r[1] for r in rows]
    matrix = embedder.embed(texts)
    naive = []
    flat_s = []
    import faiss

    flat = faiss.IndexFlatIP(matrix.shape[1])
    flat.add(matrix)
    for q in queries:
        start = time.perf_counter()
        qv = embedder.embed([q])[0]
        scores = matrix @ qv
        top = np.argpartition(-scores, 10)[:10]
        words = [w for w in q.lower().split() if len(w) > 2]
        _ = [i for i, t in enumerate(texts) if any(w in t.lower() for w in words)][:50]
        naive.append(time.perf_counter() - start + 0 * len(top))
        start = time.perf_counter()
        flat.search(qv[None, :], 10)
        flat_s.append(time.perf_counter() - start)
    numpy_only = []
    for q in queries[: len(_QUERIES)]:
        qv = embedder.embed([q])[0]
        start = time.perf_counter()
        np.argpartition(-(matrix @ qv), 10)[:10]
        numpy_only.append(time.perf_counter() - start)
    results.append(BenchResult(
        f"memory.search_{label_search}", f"median hybrid search top-10 over {stats['statements']:,} statements ({n_search:,} runs; {kind} index)",
        statistics.median(ours) * 1e3, "ms", "numpy brute-force cosine + LIKE scan over the same entries",
        statistics.median(naive) * 1e3, target="<= 10 ms (100k)",
    ))
    results.append(BenchResult(
        f"memory.vector_search_{label_search}", "median FAISS exact top-10, vector part alone", statistics.median(flat_s) * 1e3,
        "ms", "numpy matmul + argpartition", statistics.median(numpy_only) * 1e3,
    ))

    # -- RSS with 100k loaded ---------------------------------------------------------------------
    try:
        rss_ours = _rss_child(str(work / "search.db"), naive=False)
        rss_naive = _rss_child(str(work / "search.db"), naive=True)
        results.append(BenchResult(
            f"memory.rss_{label_search}", f"RSS of a process with {stats['statements']:,} statements open and searched", rss_ours,
            "MB", "rows as Python objects with numpy vectors", rss_naive, target="<= 250 MB (100k)",
        ))
    except (subprocess.SubprocessError, ValueError, OSError) as exc:
        print(f"memory bench: RSS measurement failed: {exc}", file=sys.stderr)
    del matrix, flat, texts, rows

    # -- IVF over 1M --------------------------------------------------------------------------------
    results.extend(await asyncio.to_thread(_ivf_bench, n_ivf, label_ivf, embedder, quick))
    if "memory-1m" in ctx.cases:
        results.extend(await end_to_end(ctx, 1_000_000, "1m"))
    return results


def write_history(path: Path, n: int, *, block: int = 100_000) -> int:
    """A plain history file of ``n`` distinct statements (:func:`_distinct`, a seed a block),
    written a block at a time. Returns its size in bytes."""
    with open(path, "w", encoding="utf-8") as fh:
        for start in range(0, n, block):
            fh.write("".join(f"{t};\n" for t in _distinct(min(block, n - start), seed=1000 + start)))
    return path.stat().st_size


# ``aishell ARGS...`` as a user runs it: the installed ``aishell`` command's entry point, in a
# fresh interpreter (the engine names no module of the UI above it).
_CLI = (
    "import sys\n"
    "from importlib.metadata import entry_points\n"
    "sys.argv = ['aishell', *sys.argv[1:]]\n"
    "sys.exit(next(iter(entry_points(group='console_scripts', name='aishell'))).load()())\n"
)

# The same, writing its own peak RSS (VmHWM, in kB) to the file named by AISHELL_BENCH_PEAK as it
# exits. Not wait4's ru_maxrss: Linux carries a parent's RSS at the fork into its child's maxrss,
# and the benchmark process holds hundreds of MB.
_PEAK = (
    "import atexit, os\n"
    "def peak():\n"
    "    with open('/proc/self/status') as fh:\n"
    "        kb = next(line.split()[1] for line in fh if line.startswith('VmHWM:'))\n"
    "    with open(os.environ['AISHELL_BENCH_PEAK'], 'w') as out:\n"
    "        out.write(kb)\n"
    "atexit.register(peak)\n"
) + _CLI


def _peak_run(args: list[str], env: dict[str, str]) -> tuple[str, float, float]:
    """Run ``aishell ARGS`` in a process of its own to its end: its stdout, wall seconds and
    peak RSS in MB (that process's own high-water mark)."""
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        peak = Path(scratch) / "peak"
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, "-c", _PEAK, *args], env=dict(env, AISHELL_BENCH_PEAK=str(peak)), capture_output=True)
        elapsed = time.perf_counter() - started
        if proc.returncode != 0:
            raise RuntimeError(f"aishell {' '.join(args[:2])} failed: {proc.stderr.decode(errors='replace').strip()[-300:]}")
        return proc.stdout.decode(), elapsed, int(peak.read_text()) / 1024


async def end_to_end(ctx: BenchContext, n: int, label: str) -> list[BenchResult]:
    """A memory of ``n`` statements built through the real import path, then searched."""
    import json
    import tempfile

    from aishell.engine.config import MemorySettings
    from aishell.engine.memory import Memory
    from aishell.engine.memory.embed import HashingEmbedder
    from aishell.engine.memory.vectors import recall_at_k

    with tempfile.TemporaryDirectory(prefix="memory-e2e-", dir=ctx.workdir) as scratch:
        root = Path(scratch)
        history = root / "history.sql"
        size = await asyncio.to_thread(write_history, history, n)
        env = dict(os.environ, AISHELL_HOME=str(root / "home"))
        out, import_s, import_peak = await asyncio.to_thread(_peak_run, ["memory", "import", str(history), "--format", "json"], env)
        recorded = json.loads(out)["recorded"]
        data = root / "home" / "data"
        disk = sum(f.stat().st_size for f in data.iterdir() if f.name.startswith("memory."))
        out, search_s, search_peak = await asyncio.to_thread(_peak_run, ["memory", "search", "orders by status", "--format", "json"], env)

        memory = await Memory.open(MemorySettings(prune_interval=0), path=data / "memory.db")
        try:
            await memory.wait_ready()
            for q in _QUERIES:
                await memory.search(q)  # warm caches
            hybrid = []
            for q in _QUERIES * 6:
                start = time.perf_counter()
                await memory.search(q, limit=10)
                hybrid.append(time.perf_counter() - start)
            queries = _distinct(200, seed=99) + _QUERIES
            found = [[s for _, s in await memory.nearest(q, 10)] for q in queries]
        finally:
            await memory.close()
        exact_scores, exact_s = await asyncio.to_thread(_exact_search, data / "memory.db", queries, HashingEmbedder())
    found_scores = np.array([f + [-np.inf] * (10 - len(f)) for f in found], dtype=np.float32)
    recall = recall_at_k(found_scores, exact_scores)
    return [
        BenchResult(
            f"memory.import_{label}", f"statements/s of 'aishell memory import' of {recorded:,} distinct statements ({size / 1e6:.0f} MB plain file) into an empty memory, end to end ({import_s:.0f} s)",
            recorded / import_s, "rows/s", "", None, higher_is_better=True, target=">= 20,000 rows/s",
        ),
        BenchResult(
            f"memory.import_rss_{label}", "peak RSS of that import process", import_peak, "MB", "", None, target="<= 400 MB",
        ),
        BenchResult(
            f"memory.disk_{label}", "memory file and vector index on disk after the import", disk / 1e6, "MB",
            "the float32 vectors alone (384 dimensions)", n * 384 * 4 / 1e6, target="<= 600 MB",
        ),
        BenchResult(
            f"memory.search_process_rss_{label}", f"peak RSS of one 'aishell memory search' process ({search_s:.2f} s end to end)", search_peak, "MB", "", None,
            target="<= 200 MB",
        ),
        BenchResult(
            f"memory.search_{label}", f"median hybrid search top-10 over {recorded:,} statements in a warm process",
            statistics.median(hybrid) * 1e3, "ms", "exact float search (numpy) over the same embeddings, vector part alone",
            exact_s * 1e3, target="<= 20 ms",
        ),
        BenchResult(
            f"memory.recall_at_10_{label}", f"recall@10 of memory's vector channel against exact float search ({len(queries)} queries)",
            recall, "ratio", "exact float search (recall 1.0)", 1.0, higher_is_better=True, target=">= 0.95",
        ),
    ]


def _exact_search(path: Path, queries: list[str], embedder) -> tuple[np.ndarray, float]:
    """Exact top-10 scores of each query over every statement's embedding (computed from the
    file's texts a block at a time), and the median seconds of one query over all of them."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        count = conn.execute("SELECT count(*) FROM statements").fetchone()[0]
        matrix = np.empty((count, embedder.dim), dtype=np.float32)
        at = 0
        cursor = conn.execute("SELECT text FROM statements ORDER BY id")
        while rows := cursor.fetchmany(50_000):
            matrix[at : at + len(rows)] = embedder.embed([r[0] for r in rows])
            at += len(rows)
    finally:
        conn.close()
    vectors = embedder.embed(queries)
    best = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    times = []
    for i, q in enumerate(vectors):
        start = time.perf_counter()
        scores = matrix[:at] @ q
        top = np.argpartition(-scores, 10)[:10]
        times.append(time.perf_counter() - start)
        best[i] = -np.sort(-scores[top])
    return best, statistics.median(times)


def _ivf_bench(n: int, label: str, embedder, quick: bool) -> list[BenchResult]:
    import faiss

    from aishell.engine.memory.vectors import RERANK, VectorIndex, recall_at_k

    texts = _distinct(n + 300, seed=11)
    held_out = texts[n:]
    vectors = np.empty((n, embedder.dim), dtype=np.float32)
    for start in range(0, n, 20_000):
        vectors[start : start + 20_000] = embedder.embed(texts[start : min(start + 20_000, n)])
    del texts
    index = VectorIndex(embedder.dim, ivf_threshold=10**12, background=False)
    index.add(np.arange(1, n + 1, dtype=np.int64), vectors)
    started = time.perf_counter()
    index.train_now()
    train_s = time.perf_counter() - started
    if index.kind != "ivf":
        raise RuntimeError(index.last_error or "IVF training did not happen")
    exact = faiss.IndexFlatIP(embedder.dim)
    exact.add(vectors)
    del vectors
    stored = faiss.rev_swig_ptr(exact.get_xb(), n * embedder.dim).reshape(n, embedder.dim)  # a view, no copy
    queries = np.vstack([embedder.embed(held_out), embedder.embed(_QUERIES)])
    ours, theirs = [], []
    found_all = []
    for q in queries:
        # As memory searches: the compact tier's candidates, then an exact re-score of them
        # (memory re-embeds the candidates' texts; here their vectors are at hand).
        start = time.perf_counter()
        _, candidates = index.search(q[None, :], RERANK)
        rows = candidates[0][candidates[0] >= 0] - 1
        scores = stored[rows] @ q
        got = np.sort(scores)[::-1][:10]
        ours.append(time.perf_counter() - start)
        found_all.append(got)
    for q in queries[:: max(1, len(queries) // 40)]:  # exact single-query latency: a sample is enough
        start = time.perf_counter()
        exact.search(q[None, :], 10)
        theirs.append(time.perf_counter() - start)
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    exact_all, _ = exact.search(queries, 10)  # ground truth in one batched call
    faiss.omp_set_num_threads(1)
    recall = recall_at_k(np.array(found_all), exact_all)
    return [
        BenchResult(
            f"memory.search_{label}_ivf", f"median top-10 over {n:,} vectors, IVF-PQ ({index._compact.nlist} lists, nprobe {index.nprobe}, trained in {train_s:.0f} s), {RERANK} candidates re-scored exactly",
            statistics.median(ours) * 1e3, "ms", "exact IndexFlatIP search on the same vectors", statistics.median(theirs) * 1e3,
            target="<= 25 ms (1M)",
        ),
        BenchResult(
            f"memory.recall_at_10_ivf_{label}", f"recall@10 of IVF-PQ + exact re-score against exact search ({len(queries)} held-out queries)",
            recall, "ratio", "exact IndexFlatIP (recall 1.0)", 1.0, higher_is_better=True, target=">= 0.95",
        ),
    ]
