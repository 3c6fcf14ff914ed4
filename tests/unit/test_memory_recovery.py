"""Damage found after open, imports that never count twice, vector index saves that never
cross: real SQLite files, real damage, real FAISS files."""

from __future__ import annotations

import asyncio
import doctest
import os
import shutil
import sqlite3
import threading
from pathlib import Path

import numpy as np
import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.memory import Entry, Memory
from aishell.engine.memory import store as store_module
from aishell.engine.memory import history
from aishell.engine.memory.history import parse_plain
from aishell.engine.memory.store import damaged, move_aside
from aishell.engine.memory.vectors import VectorIndex

DB = "sqlite:///shop.db"


def _aside(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.startswith("memory.db.corrupt-") and p.name.endswith("Z"))


def _damage(path: Path, tables: tuple[str, ...]) -> None:
    """Overwrite every page of ``tables`` and their indexes with noise (header and schema stay)."""
    raw = sqlite3.connect(path)
    names = [n for (n,) in raw.execute(f"SELECT name FROM sqlite_master WHERE tbl_name IN ({','.join('?' * len(tables))})", tables)]
    pages = [n for (n,) in raw.execute(f"SELECT pageno FROM dbstat WHERE name IN ({','.join('?' * len(names))})", names)]
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.close()
    with open(path, "r+b") as fh:
        for n in pages:
            fh.seek((n - 1) * page_size)
            fh.write(os.urandom(page_size))


@pytest.fixture
def damaged_later(tmp_path, monkeypatch) -> Path:
    """A memory whose runs are noise, and an open that does not look (as for a file over the
    quick_check size): the damage shows at the first query that reads a run."""
    path = tmp_path / "memory.db"

    async def build() -> None:
        memory = await Memory.open(MemorySettings(prune_interval=0), path=path)
        await memory.record_many([Entry(f"SELECT name FROM customers WHERE id = {i}", database=DB) for i in range(3000)])
        await memory.close()

    asyncio.run(build())
    _damage(path, ("runs",))
    monkeypatch.setattr(store_module, "QUICK_CHECK_MAX_BYTES", 0)
    return path


async def _stats(memory: Memory) -> tuple[int, int]:
    data = await memory.stats()
    return data["statements"], data["runs"]


async def _record(memory: Memory) -> tuple[int, int]:
    assert await memory.record(Entry("SELECT total FROM orders", database=DB))  # the run that met the damage is kept
    return await _stats(memory)


async def _record_many(memory: Memory) -> tuple[int, int]:
    assert await memory.record_many([Entry(f"SELECT total FROM orders WHERE id = {i}", database=DB) for i in range(3)]) == 3
    return await _stats(memory)


async def _search(memory: Memory) -> tuple[int, int]:
    assert await memory.search("customers") == []
    return await _stats(memory)


async def _import(memory: Memory) -> tuple[int, int]:
    history = memory.path.with_name("history.sql")
    history.write_text("SELECT 1;\nSELECT 2;\n")
    report = await memory.import_file(history)
    assert (report.recorded, report.already) == (2, 0)
    return await _stats(memory)


@pytest.mark.parametrize(
    ("operation", "after"),
    [(_stats, (0, 0)), (_record, (1, 1)), (_record_many, (3, 3)), (_search, (0, 0)), (_import, (2, 2))],
    ids=["stats", "record", "record_many", "search", "import"],
)
async def test_damage_found_by_a_later_query_moves_the_file_aside_once_and_memory_goes_on(damaged_later, operation, after):
    original = damaged_later.read_bytes()
    memory = await Memory.open(MemorySettings(prune_interval=0), path=damaged_later)
    heard: list[str] = []
    memory.subscribe(heard.append)
    try:
        assert memory.enabled and memory.notice is None  # the open did not see it
        assert await operation(memory) == after
        assert len(heard) == 1 and "damaged (database disk image is malformed)" in heard[0] and "moved aside" in heard[0]
        aside = _aside(damaged_later.parent)
        assert len(aside) == 1 and aside[0].read_bytes() == original
        assert (damaged_later.parent / f"{aside[0].name}.memory.faiss").exists()  # the index went with it
        assert await memory.record(Entry("SELECT 3", database=DB)) and len(heard) == 1
    finally:
        await memory.close()


async def test_operations_meeting_the_damage_together_move_it_once(damaged_later):
    memory = await Memory.open(MemorySettings(prune_interval=0), path=damaged_later)
    try:
        results = await asyncio.gather(
            memory.stats(), memory.record(Entry("SELECT a FROM x", database=DB)), memory.search("customers"),
            memory.record(Entry("SELECT b FROM y", database=DB)),
        )
        assert results[1] is True and results[3] is True
        assert len(_aside(damaged_later.parent)) == 1
        assert (await memory.stats())["runs"] == 2
    finally:
        await memory.close()


async def test_two_processes_meeting_the_damage_leave_the_fresh_file_of_the_first(damaged_later):
    """Two Memory objects on one file stand for two processes: the second to find the damage
    sees the file at the path is no longer the one it opened, and opens that one instead."""
    first = await Memory.open(MemorySettings(prune_interval=0), path=damaged_later)
    second = await Memory.open(MemorySettings(prune_interval=0), path=damaged_later)
    heard: list[str] = []
    second.subscribe(heard.append)
    try:
        assert await first.record(Entry("SELECT a FROM x", database=DB))
        assert await second.record(Entry("SELECT b FROM y", database=DB))
        assert len(_aside(damaged_later.parent)) == 1 and "another aishell moved it aside" in heard[0]
        assert (await first.stats())["runs"] == (await second.stats())["runs"] == 2  # one fresh file, shared
    finally:
        await first.close()
        await second.close()


def test_move_aside_leaves_a_file_that_is_not_the_one_opened(tmp_path):
    path = tmp_path / "memory.db"
    path.write_bytes(b"fresh")
    message = move_aside(path, (0, 0), (), "damaged (x)")
    assert "another aishell moved it aside" in message and path.read_bytes() == b"fresh" and not _aside(tmp_path)


def test_only_content_errors_count_as_damage(tmp_path):
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"not a database at all" * 300)
    with pytest.raises(sqlite3.DatabaseError) as not_a_db:
        sqlite3.connect(garbage).execute("SELECT * FROM sqlite_master").fetchall()
    assert damaged(not_a_db.value)
    with pytest.raises(sqlite3.OperationalError) as missing:
        sqlite3.connect(":memory:").execute("SELECT * FROM nowhere")
    assert not damaged(missing.value) and not damaged(sqlite3.OperationalError("database is locked"))


async def test_a_notice_before_anyone_listens_is_heard_once_by_the_first_listener(tmp_path):
    path = tmp_path / "memory.db"
    path.write_bytes(b"this is not sqlite at all" * 100)
    memory = await Memory.open(MemorySettings(prune_interval=0), path=path)
    try:
        first: list[str] = []
        memory.subscribe(first.append)
        memory.subscribe(first.append)  # again: nothing more
        later: list[str] = []
        memory.subscribe(later.append)
        assert len(first) == 1 and "not an SQLite database" in first[0] and later == []
    finally:
        await memory.close()


# -- importing again ----------------------------------------------------------------------------------


async def _counts(memory: Memory) -> tuple[int, int, int]:
    data = await memory.stats()
    return data["statements"], data["runs"], data["runs_stored"]


async def test_importing_a_file_twice_counts_as_once_and_a_grown_file_adds_only_what_is_new(tmp_path):
    history = tmp_path / ".psql_history"
    lines = ["_HiStOrY_V2_"] + [f"SELECT\\040*\\040FROM\\040t{i % 7}\\040WHERE\\040id\\040=\\040{i % 700};" for i in range(6_000)]
    history.write_text("\n".join(lines) + "\n")
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "memory.db")
    try:
        first = await memory.import_file(history)
        once = await _counts(memory)
        assert (first.recorded, first.already) == (6_000, 0) and once == (700, 6_000, 6_000)
        again = await memory.import_file(history)
        assert (again.read, again.recorded, again.already) == (6_000, 0, 6_000) and await _counts(memory) == once
        history.write_text("\n".join(lines + ["SELECT\\0401;", "\\dt", "SELECT\\0402;"]) + "\n")  # psql appended
        grown = await memory.import_file(history)
        assert (grown.recorded, grown.already) == (2, 6_000) and await _counts(memory) == (702, 6_002, 6_002)
        trimmed = ["_HiStOrY_V2_"] + lines[1 + 1_000 :] + ["SELECT\\0401;", "\\dt", "SELECT\\0402;", "SELECT\\0403;"]
        history.write_text("\n".join(trimmed) + "\n")  # psql kept its last HISTSIZE lines, then one more
        cut = await memory.import_file(history)
        assert (cut.recorded, cut.already) == (1, 5_002) and await _counts(memory) == (703, 6_003, 6_003)
    finally:
        await memory.close()


async def test_a_file_of_another_kind_or_path_is_its_own_import(tmp_path):
    one = tmp_path / "a.sql"
    one.write_text("SELECT 1;\nSELECT 2;\n")
    two = tmp_path / "b.sql"
    two.write_text("SELECT 1;\nSELECT 2;\n")
    memory = await Memory.open(MemorySettings(prune_interval=0), path=tmp_path / "memory.db")
    try:
        assert (await memory.import_file(one)).recorded == 2
        assert (await memory.import_file(two)).recorded == 2  # another file: its runs count too
        assert (await memory.import_file(one)).recorded == 0
        assert (await _counts(memory))[1] == 4
    finally:
        await memory.close()


def test_a_plain_statement_right_after_a_meta_command_is_kept():
    text = "\\c shop\nSELECT name FROM customers;\n\\x\n\\timing on\nSELECT total\n  FROM orders;\n\\q\n"
    assert [i.text for i in parse_plain(text)] == ["SELECT name FROM customers;", "SELECT total\n  FROM orders;"]
    assert [i.text for i in parse_plain("\\c shop\nSELECT 1\nSELECT 2\n")] == ["SELECT 1", "SELECT 2"]  # one a line


# -- the saved vector index ---------------------------------------------------------------------------


def _index(ids: np.ndarray) -> VectorIndex:
    rng = np.random.default_rng(int(ids[0]))
    x = rng.normal(size=(len(ids), 16)).astype(np.float32)
    index = VectorIndex(16)
    index.add(ids, x / np.linalg.norm(x, axis=1, keepdims=True))
    return index


def test_saves_from_two_processes_at_once_each_write_whole_files(tmp_path):
    path = tmp_path / "memory.faiss"
    mine, theirs = _index(np.arange(1, 201)), _index(np.arange(1, 201))
    errors: list[BaseException] = []

    def save(index: VectorIndex) -> None:
        try:
            for _ in range(20):
                index.save(path, {"uid": "u"})
        except BaseException as exc:  # before: one shared temporary name, replaced under the other
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(i,)) for i in (mine, theirs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and sorted(p.name for p in tmp_path.glob("memory*")) == ["memory.faiss", "memory.faiss.meta"]
    assert VectorIndex.load(path, expect={"uid": "u"}, ivf_threshold=10_000).ntotal == 200


def test_an_index_file_paired_with_another_save_s_meta_is_not_loaded(tmp_path):
    path, other = tmp_path / "memory.faiss", tmp_path / "other.faiss"
    _index(np.arange(1, 101)).save(path, {"uid": "u"})
    _index(np.arange(501, 601)).save(other, {"uid": "u"})  # as many vectors, other ids
    shutil.copyfile(other, path)  # one process's index beside the other's meta
    assert VectorIndex.load(path, expect={"uid": "u"}, ivf_threshold=10_000) is None


def test_the_history_module_s_examples_hold():
    result = doctest.testmod(history)
    assert result.attempted >= 4 and result.failed == 0
