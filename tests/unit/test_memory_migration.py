"""Schema v3 of the memory file: v1 and v2 files migrated in place (every statement, run and id
kept; embeddings leave the file for the vector index), text-hash collisions, batched recording
agreeing with one-by-one recording. Real SQLite files and real FAISS."""

from __future__ import annotations

import hashlib
import sqlite3
import time
import uuid
from pathlib import Path

import msgpack
import numpy as np
import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.memory import Entry, Memory
from aishell.engine.memory import service
from aishell.engine.memory.embed import HashingEmbedder
from aishell.engine.memory.service import shape_fingerprint
from aishell.engine.memory.store import APPLICATION_ID, MIGRATIONS, SCHEMA_VERSION, _digest, _text_hash_sql
from aishell.engine.memory.text import lex, text_hash

DB = "postgresql://bob:***@db:5432/shop"
SETTINGS = MemorySettings(prune_interval=0)

# id -> text. Ids have gaps (deleted statements in the old file); 3, 7 and 8 are one shape, so
# the hashing embedder gives them the very same vector.
V1_TEXTS = {
    3: "SELECT * FROM orders WHERE id = 1",
    7: "SELECT * FROM orders WHERE id = 2",
    8: "SELECT * FROM orders WHERE id = 3",
    12: "SELECT name, email FROM customers WHERE country = 'NZ'",
    20: "UPDATE inventory SET stock = stock - 1 WHERE sku = 'X-1'",
}


def _query(path: Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Rows of ``sql`` read by a separate connection (what another process would see)."""
    raw = sqlite3.connect(path)
    try:
        return raw.execute(sql, params).fetchall()
    finally:
        raw.close()


def _fingerprint(text: str) -> str:
    return shape_fingerprint(text, "postgres", lex(text))


def _v1_file(path: Path, now: float) -> dict:
    """A schema-1 memory file as the previous aishell wrote it; returns what went in."""
    vectors = HashingEmbedder().embed(list(V1_TEXTS.values()))
    blobs = {sid: vectors[i].tobytes() for i, sid in enumerate(V1_TEXTS)}
    uid = uuid.uuid4().hex
    statements, runs, shapes = [], [], {}
    run_id = 100
    for n, (sid, text) in enumerate(V1_TEXTS.items()):
        fp = _fingerprint(text)
        outcomes = [True] * (n + 1) + [False] * (n % 2) + [None]
        times = [now - 5000 + sid * 100 + k for k in range(len(outcomes))]
        for k, (ok, at) in enumerate(zip(outcomes, times)):
            info = msgpack.packb({"tables": [f"t{sid}"], "kind": "select", "source": "session"}, use_bin_type=True)
            runs.append((run_id, sid, DB, None, at, at + 0.002, 2.0, k, None if ok is None else int(ok), None if ok is not False else "boom", info))
            run_id += 3
        ok_count, bad_count = outcomes.count(True), outcomes.count(False)
        statements.append((sid, text, fp, times[0], times[-1], len(outcomes), ok_count, bad_count, blobs[sid]))
        shape = shapes.setdefault(fp, [0, 0, 0, 0.0, 0.0])
        shape[0] += len(outcomes)
        shape[1] += ok_count
        shape[2] += bad_count
        shape[3] += 2.0 * len(outcomes)
        shape[4] = max(shape[4], times[-1])
    raw = sqlite3.connect(path)
    raw.execute("PRAGMA journal_mode=WAL")
    for statement in MIGRATIONS[1]:
        raw.execute(statement)
    raw.execute(f"PRAGMA application_id={APPLICATION_ID}")
    raw.execute("INSERT INTO meta (key, value) VALUES ('uid', ?), ('created', ?)", (msgpack.packb(uid), msgpack.packb(now - 9000)))
    for sid, text, fp, first, last, total, ok_count, bad_count, blob in statements:
        raw.execute(
            "INSERT INTO statements (id, text, text_hash, fingerprint, embedding, first_seen, last_seen, runs, successes, failures)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, text, hashlib.blake2b(text.encode(), digest_size=16).digest(), fp, blob, first, last, total, ok_count, bad_count),
        )
        raw.execute("INSERT INTO statements_fts (rowid, text) VALUES (?, ?)", (sid, text))
    raw.executemany("INSERT INTO runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", runs)
    raw.executemany("INSERT INTO fingerprints VALUES (?, ?, ?, ?, ?, ?)", [(fp, *v) for fp, v in shapes.items()])
    raw.execute("PRAGMA user_version=1")
    raw.commit()
    raw.close()
    return {"uid": uid, "blobs": blobs, "statements": statements, "runs": runs, "shapes": shapes}


def _v2_file(path: Path, now: float) -> dict:
    """A schema-2 memory file as aishell wrote it before v3 (the v1 file taken through
    migration 2 with that version's own statements): float32 embeddings in ``vectors``."""
    v1 = _v1_file(path, now)
    raw = sqlite3.connect(path, isolation_level=None)
    raw.create_function("aishell_digest", 1, _digest, deterministic=True)
    raw.create_function("aishell_text_hash", 1, _text_hash_sql, deterministic=True)
    raw.execute("BEGIN")
    for statement in MIGRATIONS[2]:
        raw.execute(statement)
    raw.execute("PRAGMA user_version=2")
    raw.execute("COMMIT")
    raw.close()
    assert _query(path, "SELECT count(*) FROM vectors") == [(3,)]
    return v1


def _assert_kept(path: Path, v1: dict) -> None:
    """Every statement (id, text, counters, times, shape), run and shape of ``v1`` is there."""
    rows = _query(path, "SELECT id, text, fingerprint, first_seen, last_seen, runs, successes, failures FROM statements ORDER BY id")
    assert rows == [tuple(s[:8]) for s in v1["statements"]]
    assert _query(path, "SELECT * FROM runs ORDER BY id") == v1["runs"]
    assert _query(path, "SELECT fingerprint, runs, successes, failures, total_ms, last_run FROM fingerprints ORDER BY 1") == sorted(
        (fp, *v) for fp, v in v1["shapes"].items()
    )


# -- migration v2 -> v3 ------------------------------------------------------------------------------

async def test_v2_file_is_migrated_keeping_every_statement_run_and_id_with_its_vectors_out_of_the_file(tmp_path):
    path = tmp_path / "memory.db"
    now = time.time()
    v2 = _v2_file(path, now)
    with sqlite3.connect(path) as raw:  # a heavy v2 file: most of it is vectors
        raw.executemany("INSERT INTO vectors (digest, embedding) VALUES (?, ?)", [(bytes([i % 256, i // 256]) * 8, bytes(1536)) for i in range(2000)])
    raw.close()
    size_v2 = path.stat().st_size
    memory = await Memory.open(SETTINGS, path=path)
    try:
        assert memory.enabled and memory.notice is None, memory.reason
        assert await memory.wait_ready(10)
        assert memory.store.uid == v2["uid"]
        assert _query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)] and SCHEMA_VERSION == 3
        _assert_kept(path, v2)
        tables = {r[0] for r in _query(path, "SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert "vectors" not in tables and "vector_id" not in {r[1] for r in _query(path, "PRAGMA table_info(statements)")}
        assert _query(path, "PRAGMA freelist_count") == [(0,)] and path.stat().st_size < size_v2 / 2  # vacuumed
        assert _query(path, "PRAGMA integrity_check") == [("ok",)] and _query(path, "PRAGMA foreign_key_check") == []
        # the index is rebuilt from the texts: each statement's own vector, found by it
        embedder = HashingEmbedder()
        for sid, text in V1_TEXTS.items():
            scores, ids = memory.index.search(embedder.embed([text]), 3)
            assert sid in ids[0].tolist() and scores[0][0] == pytest.approx(1.0, abs=1e-5)
        hit = (await memory.search("customers email by country", database=DB))[0]
        assert (hit.id, hit.runs, hit.tables) == (12, v2["statements"][3][5], ("t12",))
    finally:
        await memory.close()
    again = await Memory.open(SETTINGS, path=path)  # reopened: nothing migrates again, the saved index fits
    try:
        assert await again.wait_ready(10) and again.index.ntotal == len(V1_TEXTS)
        _assert_kept(path, v2)
    finally:
        await again.close()


# -- migration v1 -> v3 ------------------------------------------------------------------------------

async def test_v1_file_is_migrated_keeping_ids_counters_embeddings_runs_and_identity(tmp_path):
    path = tmp_path / "memory.db"
    now = time.time()
    v1 = _v1_file(path, now)
    memory = await Memory.open(SETTINGS, path=path)
    try:
        assert memory.enabled, memory.reason
        assert memory.notice is None  # migrated, not moved aside
        assert not [p for p in tmp_path.iterdir() if "corrupt" in p.name]
        assert await memory.wait_ready(10)
        assert memory.store.uid == v1["uid"]
        assert _query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
        assert _query(path, "PRAGMA application_id") == [(APPLICATION_ID,)]

        # every statement keeps id, text, counters, times and shape; its embedding is the index's
        rows = _query(path, "SELECT id, text, fingerprint, first_seen, last_seen, runs, successes, failures FROM statements ORDER BY id")
        assert rows == [tuple(s[:8]) for s in v1["statements"]]
        hashes = _query(path, "SELECT text, text_hash FROM statements")
        assert all(h == text_hash(text) for text, h in hashes)
        for sid, blob in v1["blobs"].items():
            scores, ids = memory.index.search(np.frombuffer(blob, dtype=np.float32), 3)
            assert sid in ids[0].tolist() and scores[0][0] == pytest.approx(1.0, abs=1e-5)

        # runs and shapes untouched, foreign keys intact, runs_started gone
        assert _query(path, "SELECT * FROM runs ORDER BY id") == v1["runs"]
        assert _query(path, "SELECT fingerprint, runs, successes, failures, total_ms, last_run FROM fingerprints ORDER BY 1") == sorted(
            (fp, *v) for fp, v in v1["shapes"].items()
        )
        assert _query(path, "PRAGMA foreign_key_check") == []
        assert [r[2] for r in _query(path, "PRAGMA foreign_key_list(runs)")] == ["statements"]
        indexes = {r[0] for r in _query(path, "SELECT name FROM sqlite_master WHERE type = 'index' AND name NOT LIKE 'sqlite_%'")}
        assert "runs_started" not in indexes
        assert {"statements_text_hash", "runs_statement", "runs_database", "runs_failed"} <= indexes
        assert _query(path, "PRAGMA integrity_check") == [("ok",)]

        # the word index covers every migrated statement
        assert sorted(await memory.store.text_matches('"orders"', 10)) == [3, 7, 8]
        assert await memory.store.text_matches('"inventory"', 10) == [20]
        assert await memory.store.term_counts(["customers", "stock", "nothing"], 100) == {"customers": 1, "stock": 1, "nothing": 0}

        # the index is built from the migrated texts; search finds a statement by words and meaning
        assert memory.index.ntotal == len(V1_TEXTS)
        assert sorted(int(i) for i in memory.index.ids()) == sorted(V1_TEXTS)
        hit = (await memory.search("customers email by country", database=DB))[0]
        assert (hit.id, hit.text) == (12, V1_TEXTS[12])
        assert hit.signals["vector"] > 0.2 and hit.signals["text"] > 0
        assert hit.runs == v1["statements"][3][5] and hit.tables == ("t12",)
        stats = await memory.stats()
        assert (stats["statements"], stats["index"]["vectors"], stats["runs_stored"]) == (5, 5, len(v1["runs"]))
    finally:
        await memory.close()


async def test_migrated_statements_are_found_again_by_record_and_forget(tmp_path):
    path = tmp_path / "memory.db"
    now = time.time()
    v1 = _v1_file(path, now)
    before = {s[0]: s for s in v1["statements"]}
    memory = await Memory.open(SETTINGS, path=path)
    try:
        assert await memory.wait_ready(10)
        # the same text again: one more run of the migrated statement, no new row
        assert await memory.record(Entry(V1_TEXTS[7], database=DB, started_at=now, success=False, error="x"))
        got = _query(path, "SELECT runs, successes, failures, first_seen, last_seen FROM statements WHERE id = 7")
        assert got == [(before[7][5] + 1, before[7][6], before[7][7] + 1, before[7][3], now)]
        # a batch finds migrated texts too
        batch = [Entry(V1_TEXTS[12], database=DB, started_at=now + 1), Entry("SELECT * FROM orders WHERE id = 99", database=DB, started_at=now + 2)]
        batch.append(Entry(V1_TEXTS[12], database=DB, started_at=now + 3))
        assert await memory.record_many(batch) == 3
        assert _query(path, "SELECT runs, successes, last_seen FROM statements WHERE id = 12") == [(before[12][5] + 2, before[12][6] + 2, now + 3)]
        assert _query(path, "SELECT id, runs FROM statements WHERE text = 'SELECT * FROM orders WHERE id = 99'") == [(21, 1)]
        assert _query(path, "SELECT count(*) FROM statements") == [(6,)]
        assert memory.index.ntotal == 6

        # forgetting takes statements out of the file, the word index and the vector index
        assert _query(path, "SELECT rowid FROM statements_fts WHERE statements_fts MATCH 'inventory'") == [(20,)]
        assert await memory.forget([20, 3]) == 2
        assert _query(path, "SELECT count(*) FROM runs WHERE statement_id IN (3, 20)") == [(0,)]  # cascaded
        assert _query(path, "SELECT rowid FROM statements_fts WHERE statements_fts MATCH 'inventory'") == []  # delete trigger
        assert _query(path, "PRAGMA foreign_key_check") == []
        assert sorted(int(i) for i in memory.index.ids()) == [7, 8, 12, 21]
        assert all(h.id not in (3, 20) for h in await memory.search("inventory stock sku", limit=50))
    finally:
        await memory.close()
    # reopened: no migration runs again, the saved index matches the store
    again = await Memory.open(SETTINGS, path=path)
    try:
        assert await again.wait_ready(10)
        assert again.store.uid == v1["uid"] and again.index.ntotal == 4
        assert _query(path, "PRAGMA user_version") == [(SCHEMA_VERSION,)]
    finally:
        await again.close()


# -- text hash collisions ----------------------------------------------------------------------------

async def test_text_hash_collisions_never_merge_statements(tmp_path, monkeypatch):
    monkeypatch.setattr(service, "text_hash", lambda text: 42)  # every text collides
    path = tmp_path / "memory.db"
    memory = await Memory.open(SETTINGS, path=path)
    try:
        assert await memory.wait_ready(10)
        now = time.time()
        one = [
            "SELECT total FROM invoices WHERE id = 1",
            "SELECT total FROM invoices WHERE id = 2",  # same shape and vector as the first
            "DELETE FROM sessions WHERE expired",
            "SELECT total FROM invoices WHERE id = 1",  # repeated
        ]
        for i, text in enumerate(one):
            assert await memory.record(Entry(text, database=DB, started_at=now + i))
        batch = [
            "SELECT total FROM invoices WHERE id = 2",  # stored already
            "INSERT INTO audit_log (who) VALUES ('me')",  # new
            "INSERT INTO audit_log (who) VALUES ('me')",  # repeated in the batch
            "SELECT total FROM invoices WHERE id = 3",  # new, shape of stored ones
            "DELETE FROM sessions WHERE expired",  # stored already
        ]
        assert await memory.record_many([Entry(t, database=DB, started_at=now + 10 + i) for i, t in enumerate(batch)]) == 5
        expected = {
            "SELECT total FROM invoices WHERE id = 1": 2,
            "SELECT total FROM invoices WHERE id = 2": 2,
            "DELETE FROM sessions WHERE expired": 2,
            "INSERT INTO audit_log (who) VALUES ('me')": 2,
            "SELECT total FROM invoices WHERE id = 3": 1,
        }
        rows = _query(path, "SELECT text, runs, successes, text_hash FROM statements")
        assert {t: n for t, n, _, _ in rows} == expected and len(rows) == len(expected)
        assert all(ok == n and h == 42 for _, n, ok, h in rows)
        assert _query(path, "SELECT count(*) FROM runs") == [(9,)]
        by_text = dict(_query(path, "SELECT s.text, count(*) FROM runs r JOIN statements s ON s.id = r.statement_id GROUP BY s.id"))
        assert by_text == expected
        # FTS and search see each statement on its own
        ids = dict(_query(path, "SELECT text, id FROM statements"))
        assert _query(path, "SELECT rowid FROM statements_fts WHERE statements_fts MATCH 'audit'") == [(ids["INSERT INTO audit_log (who) VALUES ('me')"],)]
        assert sorted(_query(path, "SELECT rowid FROM statements_fts WHERE statements_fts MATCH 'invoices'")) == sorted(
            (ids[t],) for t in expected if "invoices" in t
        )
        assert memory.index.ntotal == len(expected)
        hit = (await memory.search("audit log who"))[0]
        assert hit.text == "INSERT INTO audit_log (who) VALUES ('me')" and hit.runs == 2
        hit = (await memory.search("expired sessions"))[0]
        assert hit.text == "DELETE FROM sessions WHERE expired" and hit.runs == 2
    finally:
        await memory.close()


# -- batches agree with one-by-one recording ---------------------------------------------------------

def _entries(now: float) -> tuple[list[Entry], list[Entry]]:
    """Entries recorded first, then a batch mixing new texts, stored texts and repeats (times
    ascending, as a session or a history file records them, but for one older run reported late)."""
    first = [
        Entry("SELECT * FROM orders WHERE id = 1", database=DB, started_at=now, duration_ms=3.0, rows=1),
        Entry("SELECT count(*) FROM customers", database=DB, started_at=now + 1, duration_ms=9.0, success=False, error="timeout"),
        Entry("SELECT * FROM orders WHERE id = 1", database="sqlite:///b.db", started_at=now + 2, duration_ms=1.0, rows=1),
    ]
    batch = [
        Entry("SELECT * FROM orders WHERE id = 1", database=DB, started_at=now + 10, duration_ms=2.0, rows=0),  # stored
        Entry("SELECT * FROM orders WHERE id = 2", database=DB, started_at=now + 11, duration_ms=4.0, rows=1),  # new, stored shape
        Entry("VACUUM ANALYZE orders", database=DB, started_at=now + 12, success=None),  # new
        Entry("SELECT count(*) FROM customers", database=DB, started_at=now + 13, duration_ms=5.0),  # stored
        Entry("SELECT * FROM orders WHERE id = 2", database=DB, started_at=now + 14, success=False, error="gone"),  # repeat
        Entry("VACUUM ANALYZE orders", database=DB, started_at=now + 15, duration_ms=800.0),  # repeat
        Entry("SELECT * FROM orders WHERE id = 1", database=DB, started_at=now + 16, success=None),  # stored, again
        Entry("SELECT count(*) FROM customers", database=DB, started_at=now + 17, success=False, error="timeout"),
        Entry("SELECT count(*) FROM customers", database=DB, started_at=now + 5, duration_ms=1.0),  # late report of an older run
    ]
    return first, batch


def _state(path: Path) -> dict[str, list[tuple]]:
    return {
        "statements": _query(
            path, "SELECT id, text, fingerprint, first_seen, last_seen, runs, successes, failures, text_hash FROM statements ORDER BY id"
        ),
        "fingerprints": _query(path, "SELECT fingerprint, runs, successes, failures, total_ms, last_run FROM fingerprints ORDER BY 1"),
        "runs": _query(
            path,
            "SELECT s.text, r.database, r.schema, r.started_at, r.ended_at, r.duration_ms, r.rows, r.success, r.error, r.info"
            " FROM runs r JOIN statements s ON s.id = r.statement_id ORDER BY r.id",
        ),
    }


async def test_record_many_agrees_with_recording_one_by_one(tmp_path):
    now = time.time() - 1000
    batched, single = tmp_path / "batched.db", tmp_path / "single.db"
    a = await Memory.open(SETTINGS, path=batched)
    b = await Memory.open(SETTINGS, path=single)
    try:
        # the vector index first: rows recorded while it loads reach it only at the next search
        assert await a.wait_ready(10) and await b.wait_ready(10)
        first, batch = _entries(now)
        for e in first:
            assert await a.record(e)
        assert await a.record_many(batch) == len(batch)
        first, batch = _entries(now)
        for e in first + batch:
            assert await b.record(e)
        got, want = _state(batched), _state(single)
        assert got == want

        # and both are right, not merely equal
        rows = {r[1]: r[3:8] for r in got["statements"]}
        assert rows["SELECT * FROM orders WHERE id = 1"] == (now, now + 16, 4, 3, 0)
        assert rows["SELECT * FROM orders WHERE id = 2"] == (now + 11, now + 14, 2, 1, 1)
        assert rows["VACUUM ANALYZE orders"] == (now + 12, now + 15, 2, 1, 0)
        assert rows["SELECT count(*) FROM customers"] == (now + 1, now + 17, 4, 2, 2)
        shapes = {r[0]: r[1:] for r in got["fingerprints"]}
        orders = _fingerprint("SELECT * FROM orders WHERE id = 1")
        assert _fingerprint("SELECT * FROM orders WHERE id = 2") == orders
        assert shapes[orders] == (6, 4, 1, 3.0 + 1.0 + 2.0 + 4.0, now + 16)
        assert shapes[_fingerprint("SELECT count(*) FROM customers")] == (4, 2, 2, 15.0, now + 17)
        assert shapes[_fingerprint("VACUUM ANALYZE orders")] == (2, 1, 0, 800.0, now + 15)
        assert len(got["runs"]) == len(first) + len(batch)
        assert [r[0] for r in got["statements"]] == [1, 2, 3, 4]
        assert a.index.ntotal == b.index.ntotal == 4
        assert sorted(int(i) for i in a.index.ids()) == [1, 2, 3, 4]
    finally:
        await a.close()
        await b.close()


async def test_record_many_of_texts_all_stored_already_adds_their_runs(tmp_path):
    path = tmp_path / "memory.db"
    memory = await Memory.open(SETTINGS, path=path)
    try:
        now = time.time() - 100
        assert await memory.record(Entry("SELECT * FROM orders WHERE id = 1", database=DB, started_at=now))
        again = [Entry("SELECT * FROM orders WHERE id = 1", database=DB, started_at=now + 1 + i) for i in range(3)]
        assert await memory.record_many(again) == 3  # e.g. importing the same history file twice
        assert _query(path, "SELECT runs, successes, first_seen, last_seen FROM statements") == [(4, 4, now, now + 3)]
        assert _query(path, "SELECT count(*) FROM runs") == [(4,)]
    finally:
        await memory.close()
