"""Bulk recording: what the batched write stores, and what it changes in the interpreter meanwhile."""

from __future__ import annotations

import gc
import sqlite3
import sys

import msgpack
import numpy as np
import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.memory import Entry, Memory
from aishell.engine.memory import service as memory_service

DB = "postgresql://bob:***@db:5432/shop"


async def test_absent_run_fields_are_stored_as_null_and_present_ones_as_given(tmp_path):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "m.db")
    await memory.wait_ready()
    entries = [
        Entry("SELECT 1", database=DB, started_at=100.0, success=None, duration_ms=None, rows=None, source="import:psql"),
        Entry("SELECT 2", database=DB, started_at=200.0, success=False, duration_ms=12.5, rows=0, error="boom",
              schema="public", tables=("orders",), kind="select"),
    ] * 300  # more than one batch's first chunk: the pipelined path
    assert await memory.record_many(entries) == 600
    await memory.close()
    raw = sqlite3.connect(tmp_path / "m.db")
    rows = raw.execute(
        "SELECT s.text, r.schema, r.ended_at, r.duration_ms, r.rows, r.success, r.error, r.info"
        " FROM runs r JOIN statements s ON s.id = r.statement_id GROUP BY s.text ORDER BY s.text"
    ).fetchall()
    raw.close()
    first, second = rows
    assert first[:7] == ("SELECT 1", None, None, None, None, None, None)
    assert msgpack.unpackb(first[7]) == {"tables": [], "kind": "", "source": "import:psql"}
    assert second[:7] == ("SELECT 2", "public", 200.0125, 12.5, 0, 0, "boom")
    assert msgpack.unpackb(second[7]) == {"tables": ["orders"], "kind": "select", "source": "session"}


async def test_bulk_write_shortens_the_switch_interval_only_while_it_runs(tmp_path, monkeypatch):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "m.db")
    await memory.wait_ready()
    seen: list[float] = []
    real_add_many = memory.store.add_many

    async def add_many(batch, **options):
        seen.append(sys.getswitchinterval())
        return await real_add_many(batch, **options)

    monkeypatch.setattr(memory.store, "add_many", add_many)
    before = sys.getswitchinterval()
    entries = [Entry(f"SELECT {i} FROM orders WHERE id = {i}", database=DB) for i in range(memory_service.FIRST_BATCH + 10)]
    assert await memory.record_many(entries) == len(entries)
    assert len(seen) == 2 and all(s == min(before, memory_service.BULK_SWITCH_INTERVAL) for s in seen)
    assert sys.getswitchinterval() == before
    await memory.close()


@pytest.mark.parametrize("enabled_before", [True, False])
async def test_bulk_write_turns_the_cyclic_collector_off_only_while_it_runs(tmp_path, monkeypatch, enabled_before):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "m.db")
    await memory.wait_ready()
    seen: list[bool] = []
    real_add_many = memory.store.add_many

    async def add_many(batch, **options):
        seen.append(gc.isenabled())
        return await real_add_many(batch, **options)

    monkeypatch.setattr(memory.store, "add_many", add_many)
    entries = [Entry(f"SELECT {i} FROM orders WHERE id = {i}", database=DB) for i in range(memory_service.FIRST_BATCH + 10)]
    was = gc.isenabled()
    (gc.enable if enabled_before else gc.disable)()
    try:
        assert await memory.record_many(entries) == len(entries)
        assert seen == [False, False]
        assert gc.isenabled() is enabled_before  # as it was, also when the caller had it off
    finally:
        (gc.enable if was else gc.disable)()
        await memory.close()


async def test_statements_of_one_shape_share_one_embedding_and_the_file_keeps_none(tmp_path):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "m.db")
    await memory.wait_ready()
    await memory.record_many([Entry(f"SELECT name FROM customers WHERE id = {i}", database=DB) for i in range(50)])
    await memory.record(Entry("SELECT name FROM customers WHERE id = 1000", database=DB))
    await memory.record(Entry("SELECT sku FROM products WHERE price > 3", database=DB))
    stats = await memory.stats()
    assert stats["statements"] == 52 and stats["index"]["vectors"] == 52
    scores, ids = memory.index.search(memory.embedder.embed(["SELECT name FROM customers WHERE id = 7"]), 52)
    assert set(ids[0][:51].tolist()) == set(range(1, 52)) and len(set(scores[0][:51].round(6))) == 1
    assert scores[0][51] < scores[0][0]
    await memory.close()
    raw = sqlite3.connect(tmp_path / "m.db")
    columns = {r[1] for r in raw.execute("PRAGMA table_info(statements)")}
    tables = {r[0] for r in raw.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    raw.close()
    assert "vector_id" not in columns and "embedding" not in columns and "vectors" not in tables
