"""The memory file, the vector index and the Memory facade, on real SQLite files and real FAISS."""

from __future__ import annotations

import os
import sqlite3
import stat
import time

import numpy as np
import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.errors import MemoryUnavailable
from aishell.engine.memory import Entry, Memory, MemoryStore
from aishell.engine.memory.store import APPLICATION_ID, SCHEMA_VERSION
from aishell.engine.memory.vectors import VectorIndex, recall_at_k

DB = "postgresql://bob:***@db:5432/shop"


def _clustered(n: int, dim: int = 64, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(40, dim)).astype(np.float32)
    x = centers[rng.integers(0, 40, n)] + rng.normal(0, 0.6, size=(n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


# -- vector index ------------------------------------------------------------------------------------

def test_flat_index_search_and_deletions():
    x = _clustered(500)
    index = VectorIndex(64, ivf_threshold=10_000)
    index.add(np.arange(1, 501), x)
    scores, ids = index.search(x[10], 5)
    assert ids[0][0] == 11 and scores[0][0] == pytest.approx(1.0, abs=1e-5)
    assert index.remove([11, 12, 9999]) == 2
    _, ids = index.search(x[10], 5)
    assert 11 not in ids[0] and index.ntotal == 498


def test_ivf_swap_replays_changes_made_while_training_and_keeps_recall():
    x = _clustered(4000, seed=1)
    index = VectorIndex(64, ivf_threshold=3000, background=True)
    index.add(np.arange(1, 3001), x[:3000])  # crosses the threshold: trains in a thread
    assert index.training or index.kind == "ivf"
    index.add(np.arange(3001, 4001), x[3000:])  # journalled while training
    index.remove([5, 3500])
    assert index.wait_trained(120)
    assert index.kind == "ivf" and index.nprobe >= 1 and index.swaps == 1, index.last_error
    assert index.ntotal == 3998
    assert sorted(index.ids()) == [i for i in range(1, 4001) if i not in (5, 3500)]  # no duplicates
    _, ids = index.exact_search(x[3600], 1)
    assert ids[0][0] == 3601  # added during training, present after the swap
    _, gone = index.exact_search(x[4], 10)
    assert 5 not in gone[0]
    _, gone = index.exact_search(x[3499], 10)
    assert 3500 not in gone[0]
    queries = x[::50]
    got, _ = index.search(queries, 10)
    exact, _ = index.exact_search(queries, 10)
    assert recall_at_k(got, exact) >= 0.95


def test_index_save_load_and_mismatch(tmp_path):
    x = _clustered(300)
    index = VectorIndex(64)
    index.add(np.arange(1, 301), x)
    path = tmp_path / "m.faiss"
    index.save(path, {"uid": "abc", "embedder": "e1"})
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    loaded = VectorIndex.load(path, expect={"uid": "abc", "embedder": "e1", "dim": 64}, ivf_threshold=10_000)
    assert loaded is not None and loaded.ntotal == 300 and loaded.max_id == 300
    assert VectorIndex.load(path, expect={"uid": "other"}, ivf_threshold=10_000) is None
    path.write_bytes(b"garbage")
    assert VectorIndex.load(path, expect={"uid": "abc"}, ivf_threshold=10_000) is None


def test_recall_counts_ties_at_the_kth_score():
    exact = np.array([[0.9, 0.8, 0.8]])
    assert recall_at_k(np.array([[0.9, 0.8, 0.8]]), exact) == 1.0
    assert recall_at_k(np.array([[0.9, 0.8, 0.1]]), exact) == pytest.approx(2 / 3)


# -- the store file ----------------------------------------------------------------------------------

async def test_new_store_file_mode_schema_and_identity(tmp_path):
    path = tmp_path / "data" / "memory.db"
    store = await MemoryStore.open(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert stat.S_IMODE(os.stat(path.parent).st_mode) == 0o700
        uid = store.uid
    finally:
        await store.close()
    raw = sqlite3.connect(path)
    assert raw.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID
    assert raw.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    raw.close()
    again = await MemoryStore.open(path)  # migrations are not re-run; identity is kept
    assert again.uid == uid and again.notice is None
    await again.close()


async def test_loose_permissions_are_tightened(tmp_path):
    path = tmp_path / "memory.db"
    await (await MemoryStore.open(path)).close()
    os.chmod(path, 0o644)
    store = await MemoryStore.open(path)
    await store.close()
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


@pytest.mark.parametrize("kind", ["garbage", "foreign", "truncated"])
async def test_corrupt_or_foreign_file_is_moved_aside_and_a_fresh_store_made(tmp_path, kind):
    path = tmp_path / "memory.db"
    if kind == "garbage":
        path.write_bytes(b"this is not sqlite at all" * 100)
    elif kind == "foreign":
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        other.execute("INSERT INTO invoices VALUES (1, 9.5)")
        other.commit()
        other.close()
    else:
        memory = await Memory.open(MemorySettings(), path=path)
        for i in range(200):
            await memory.record(Entry(f"SELECT {i} FROM t{i}", database=DB))
        await memory.close()
        data = path.read_bytes()
        path.write_bytes(data[:100] + b"\x00" * 50 + data[150:4096 * 3])
        for suffix in ("-wal", "-shm"):
            if os.path.exists(str(path) + suffix):
                os.remove(str(path) + suffix)
    original = path.read_bytes()
    memory = await Memory.open(MemorySettings(), path=path)
    try:
        assert memory.enabled, memory.reason
        assert memory.notice and "moved aside" in memory.notice
        aside = [p for p in tmp_path.iterdir() if p.name.startswith("memory.db.corrupt-") and p.name.endswith("Z")]
        assert len(aside) == 1 and aside[0].read_bytes() == original  # kept, byte for byte
        if kind == "truncated":  # its vector index went with it
            assert (tmp_path / f"{aside[0].name}.memory.faiss").exists() and not (tmp_path / "memory.faiss").exists()
        assert await memory.record(Entry("SELECT 1", database=DB))
        assert (await memory.stats())["statements"] == 1
    finally:
        await memory.close()


async def test_file_from_a_newer_aishell_turns_memory_off_without_touching_it(tmp_path):
    path = tmp_path / "memory.db"
    await (await MemoryStore.open(path)).close()
    raw = sqlite3.connect(path)
    raw.execute(f"PRAGMA user_version={SCHEMA_VERSION + 5}")
    raw.commit()
    raw.close()
    memory = await Memory.open(MemorySettings(), path=path)
    assert not memory.enabled and "newer" in (memory.reason or "")
    assert not await memory.record(Entry("SELECT 1"))  # off: no error, nothing written
    with pytest.raises(MemoryUnavailable):
        await memory.search("anything")
    await memory.close()
    assert not [p for p in tmp_path.iterdir() if "corrupt" in p.name]


async def test_unusable_data_dir_turns_memory_off(tmp_path):
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the data dir should be")
    memory = await Memory.open(MemorySettings(), path=blocker / "memory.db")
    assert not memory.enabled and "memory off" in (memory.reason or "")
    assert await memory.record(Entry("SELECT 1")) is False
    await memory.close()


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores directory permissions (see the integration test run as nobody)")
async def test_read_only_data_dir_turns_memory_off(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    os.chmod(ro, 0o500)
    try:
        memory = await Memory.open(MemorySettings(), path=ro / "memory.db")
        assert not memory.enabled
        await memory.close()
    finally:
        os.chmod(ro, 0o700)


# -- the Memory facade -------------------------------------------------------------------------------

async def test_record_counts_runs_per_statement_and_shape(tmp_path):
    memory = await Memory.open(MemorySettings(), path=tmp_path / "memory.db")
    try:
        t0 = time.time() - 100
        for i in range(3):
            assert await memory.record(Entry("SELECT * FROM orders WHERE id = 7", database=DB, started_at=t0 + i, rows=1, duration_ms=2.0))
        assert await memory.record(Entry("SELECT * FROM orders WHERE id = 8", database=DB, started_at=t0 + 5, success=False, error="boom"))
        assert await memory.record(Entry(" SELECT * FROM vault", database=DB)) is False  # leading space
        stats = await memory.stats()
        assert stats["statements"] == 2 and stats["runs"] == 4 and stats["failures"] == 1 and stats["fingerprints"] == 1
        hits = await memory.search("orders id", database=DB)
        assert len(hits) == 1  # one line a shape
        hit = hits[0]
        assert hit.text == "SELECT * FROM orders WHERE id = 8" and hit.success is False and hit.error == "boom"
        assert set(hit.signals) == {"vector", "text", "recency", "frequency", "success", "same_db"}
        assert hit.signals["success"] == pytest.approx(0.75) and hit.signals["same_db"] == 1.0
        assert hit.score == pytest.approx(sum(getattr(memory.settings, f"weight_{k}") * v for k, v in hit.signals.items()))
        assert not await memory.search("vault")
    finally:
        await memory.close()


async def test_passwords_never_reach_the_file(tmp_path):
    path = tmp_path / "memory.db"
    memory = await Memory.open(MemorySettings(), path=path)
    await memory.record(Entry("ALTER ROLE app WITH PASSWORD 'Sup3rS3cret!'", database=DB), dialect="postgres")
    hits = await memory.search("alter role app password")
    await memory.close()
    assert hits and "Sup3rS3cret" not in hits[0].text and "'***'" in hits[0].text
    for p in tmp_path.iterdir():
        if p.is_file():
            assert b"Sup3rS3cret" not in p.read_bytes(), p


async def test_same_database_runs_rank_first(tmp_path):
    memory = await Memory.open(MemorySettings(), path=tmp_path / "memory.db")
    try:
        now = time.time()
        await memory.record(Entry("SELECT name FROM products ORDER BY price DESC", database="sqlite:///a.db", started_at=now - 10))
        await memory.record(Entry("SELECT name FROM products ORDER BY price ASC", database="sqlite:///b.db", started_at=now - 5))
        first = (await memory.search("products by price", database="sqlite:///a.db"))[0]
        assert first.database == "sqlite:///a.db" and first.signals["same_db"] == 1.0
        first = (await memory.search("products by price", database="sqlite:///b.db"))[0]
        assert first.database == "sqlite:///b.db"
    finally:
        await memory.close()


async def test_index_is_saved_reloaded_and_caught_up_with_other_writers(tmp_path):
    path = tmp_path / "memory.db"
    settings = MemorySettings()
    memory = await Memory.open(settings, path=path)
    await memory.record_many([Entry(f"SELECT c{i} FROM table_{i}", database=DB) for i in range(50)])
    await memory.close()
    assert (tmp_path / "memory.faiss").exists()
    reader = await Memory.open(settings, path=path)
    writer = await Memory.open(settings, path=path)  # another process, in effect
    try:
        assert await reader.wait_ready(10) and reader.index.ntotal == 50
        assert await writer.record(Entry("SELECT zebra_count FROM safari_sightings", database=DB))
        hits = await reader.search("zebra sightings")
        assert hits and hits[0].text == "SELECT zebra_count FROM safari_sightings"
        assert reader.index.ntotal == 51
    finally:
        await writer.close()
        await reader.close()


async def test_stale_saved_index_is_rebuilt_after_deletions(tmp_path):
    path = tmp_path / "memory.db"
    memory = await Memory.open(MemorySettings(), path=path)
    await memory.record_many([Entry(f"SELECT col_{i} FROM tab_{i}", database=DB) for i in range(20)])
    await memory.close()
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA foreign_keys=ON")
    raw.execute("DELETE FROM statements WHERE id <= 5")
    raw.commit()
    raw.close()
    memory = await Memory.open(MemorySettings(), path=path)
    try:
        assert await memory.wait_ready(10)
        assert memory.index.ntotal == 15
        assert set(memory.index.ids()) == set(range(6, 21))
    finally:
        await memory.close()


async def test_forget_and_prune_honour_deletions_in_the_index(tmp_path):
    settings = MemorySettings(max_entries=30, max_runs_per_statement=2, prune_interval=0)
    memory = await Memory.open(settings, path=tmp_path / "memory.db")
    try:
        now = time.time()
        entries = [Entry(f"SELECT v FROM metric_{i}", database=DB, started_at=now - 1000 + i) for i in range(40)]
        entries += [Entry("SELECT v FROM metric_0", database=DB, started_at=now - 500 + i) for i in range(5)]
        await memory.record_many(entries)
        assert await memory.wait_ready(10)
        removed = await memory.maintain_once()
        assert len(removed) == 10
        stats = await memory.stats()
        assert stats["statements"] == 30 and memory.index.ntotal == 30
        assert stats["runs"] == 35 and stats["runs_stored"] == 2 + 29  # consolidated, totals kept
        texts = {h.text for h in await memory.search("metric_0 v", limit=50)}
        assert "SELECT v FROM metric_0" in texts  # ran often: kept though old
        hit = (await memory.search("metric_39"))[0]
        assert await memory.forget([hit.id]) == 1
        assert hit.id not in set(memory.index.ids())
        assert all(h.id != hit.id for h in await memory.search("metric_39", limit=50))
    finally:
        await memory.close()


async def test_import_psql_history_in_batches(tmp_path):
    history = tmp_path / ".psql_history"
    lines = ["_HiStOrY_V2_"] + [f"SELECT\\040*\\040FROM\\040t{i}\\040WHERE\\040id\\040=\\040{i};" for i in range(6_000)]
    lines += ["\\dt", "ALTER\\040ROLE\\040x\\040PASSWORD\\040'pw';"]
    history.write_text("\n".join(lines) + "\n")
    memory = await Memory.open(MemorySettings(), path=tmp_path / "memory.db")
    try:
        report = await memory.import_file(history)
        assert (report.kind, report.read, report.recorded, report.redacted) == ("psql", 6_001, 6_001, 1)
        hits = await memory.search("t5999")
        assert hits[0].text == "SELECT * FROM t5999 WHERE id = 5999;" and hits[0].success is None
        assert memory.index.ntotal == 6_001
    finally:
        await memory.close()


async def test_empty_query_lists_recent_statements(tmp_path):
    memory = await Memory.open(MemorySettings(), path=tmp_path / "memory.db")
    try:
        now = time.time()
        for i in range(5):
            await memory.record(Entry(f"SELECT {i} AS n, * FROM things_{i}", database=DB, started_at=now - 100 + i))
        hits = await memory.search("", limit=3)
        assert [h.text for h in hits] == [f"SELECT {i} AS n, * FROM things_{i}" for i in (4, 3, 2)]
    finally:
        await memory.close()


async def test_fingerprint_is_the_analyzers(tmp_path):
    """Memory and the analyzer agree on what "the same query" is."""
    import hashlib

    from aishell.engine.analyzer import fingerprint

    memory = await Memory.open(MemorySettings(), path=tmp_path / "memory.db")
    try:
        text = "SELECT name FROM products WHERE id IN (1, 2, 3) AND price > 10"
        await memory.record(Entry(text, database=DB), dialect="postgres")
        await memory.record(Entry("SELECT name FROM products WHERE id IN (7) AND price > 99", database=DB), dialect="postgres")
        stats = await memory.stats()
        assert stats["fingerprints"] == 1 and stats["top"][0]["runs"] == 2
        expected = hashlib.blake2b(fingerprint(text, "postgres").encode(), digest_size=8).hexdigest()
        assert stats["top"][0]["fingerprint"] == expected
    finally:
        await memory.close()
