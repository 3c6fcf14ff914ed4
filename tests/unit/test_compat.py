"""The shims over libraries' private internals (engine/compat): on the pinned versions they use
the internals, and their public fallbacks give the same results against the real library.

asyncpg needs a server: tests/integration/test_compat_asyncpg.py.
"""

from __future__ import annotations

import doctest
import logging
import re
import sqlite3
from pathlib import Path

import aiosqlite
import numpy as np
import pytest

from aishell.engine.compat import _versions
from aishell.engine.compat import aiosqlite as compat_aiosqlite
from aishell.engine.compat import asyncpg as compat_asyncpg
from aishell.engine.memory.store import Entry, MemoryStore, Prepared, Vector
from aishell.engine.memory.text import text_hash

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"


@pytest.mark.parametrize("module", [_versions, compat_aiosqlite, compat_asyncpg])
def test_examples(module):
    assert doctest.testmod(module).failed == 0


@pytest.mark.parametrize("module, distribution", [(compat_asyncpg, "asyncpg"), (compat_aiosqlite, "aiosqlite")])
def test_pinned_versions_are_the_tested_ones_and_keep_the_internals(module, distribution):
    # An upgrade past the pin, or a release that renamed an internal, fails here, in one place.
    low, high = re.search(rf'"{distribution}>=([\d.]+),<([\d.]+)"', PYPROJECT.read_text()).groups()
    assert module.TESTED == (_versions.release(low), _versions.release(high))
    assert module.missing() == []
    assert _versions.in_range(_versions.installed(distribution), module.TESTED)
    assert module.internals() is True


@pytest.mark.parametrize("module, distribution", [(compat_asyncpg, "asyncpg"), (compat_aiosqlite, "aiosqlite")])
def test_an_untested_version_falls_back_and_says_so_once(module, distribution, monkeypatch, caplog):
    monkeypatch.setattr(_versions, "installed", lambda name: "9.1.0")
    monkeypatch.setattr(_versions, "_warned", set())
    with caplog.at_level(logging.WARNING, logger="aishell.engine.compat"):
        for _ in range(2):
            monkeypatch.setattr(module, "_fast", None)  # decide again, as a new process would
            assert module.internals() is False
    [record] = caplog.records
    assert record.getMessage().startswith(f"{distribution} 9.1.0 is outside the tested range")


def _work(db, rows):
    """What the memory store does inside one hop: writes, reads of what it wrote, a failure."""
    db.execute("BEGIN IMMEDIATE")
    ids = [db.execute("INSERT INTO t (name) VALUES (?) RETURNING id", (name,)).fetchone()[0] for name in rows]
    db.executemany("INSERT INTO t (name) VALUES (?)", [(f"{name}!",) for name in rows])
    listed = [tuple(r) for r in db.execute("SELECT id, name FROM t ORDER BY id")]
    missing = db.execute("SELECT name FROM t WHERE id = -1").fetchone()
    counted = db.execute("SELECT count(*) FROM t").fetchall()
    db.execute("COMMIT")
    return ids, listed, missing, [tuple(r) for r in counted]


def _fails(db):
    db.execute("SELECT * FROM no_such_table")


@pytest.mark.parametrize("runner", [compat_aiosqlite.run, compat_aiosqlite.run_public], ids=["internals", "public"])
async def test_aiosqlite_run_on_a_real_file(runner, tmp_path):
    path = tmp_path / "t.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
        result = await runner(conn, _work, ["a", "b"])
        with pytest.raises(sqlite3.OperationalError, match="no such table"):
            await runner(conn, _fails)
        assert not conn.in_transaction
    assert result == ([1, 2], [(1, "a"), (2, "b"), (3, "a!"), (4, "b!")], None, [(4,)])
    with sqlite3.connect(path) as check:
        assert check.execute("SELECT count(*) FROM t").fetchone() == (4,)


async def test_memory_store_gives_the_same_answers_on_the_public_fallback(tmp_path, monkeypatch):
    def prepared(i: int) -> Prepared:
        text = f"SELECT {i} FROM t"
        entry = Entry(text=text, database="sqlite:///x.db", started_at=1000.0 + i)
        return Prepared(entry, text_hash(text), text, Vector.of(np.full(8, float(i), dtype=np.float32)))

    async def record(path: Path) -> tuple[list, list]:
        store = await MemoryStore.open(path)
        try:
            added = [await store.add(prepared(i)) for i in (1, 2, 1)]
        finally:
            await store.close()
        with sqlite3.connect(path) as check:
            return added, check.execute("SELECT id, text, runs FROM statements ORDER BY id").fetchall()

    fast = await record(tmp_path / "fast.db")
    monkeypatch.setattr(compat_aiosqlite, "_fast", False)
    assert await record(tmp_path / "public.db") == fast
    assert fast == ([(1, True), (2, True), (1, False)], [(1, "SELECT 1 FROM t", 2), (2, "SELECT 2 FROM t", 1)])
