"""The workbench tells the user when a damaged memory file was moved aside: found at open, or
later by a query (the terminal shows no log line there)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.demo import ensure_demo_database
from aishell.engine.memory import Entry, Memory
from aishell.engine.memory import store as store_module
from tests.tui.appkit import connected, copy_db, make_app, until

SIZE = (120, 36)


@pytest.fixture(scope="module")
def demo_master(tmp_path_factory) -> Path:
    return ensure_demo_database(tmp_path_factory.mktemp("demo") / "demo.db")


async def _runs_damaged(path: Path) -> None:
    """A memory whose runs are noise: the memory pane's first search reads them."""
    memory = await Memory.open(MemorySettings(prune_interval=0), path=path)
    await memory.record_many([Entry(f"SELECT name FROM customers WHERE id = {i}", database="x") for i in range(2000)])
    await memory.close()
    raw = sqlite3.connect(path)
    pages = [n for (n,) in raw.execute(
        "SELECT pageno FROM dbstat WHERE name IN (SELECT name FROM sqlite_master WHERE tbl_name = 'runs')"
    )]
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    raw.close()
    with open(path, "r+b") as fh:
        for n in pages:
            fh.seek((n - 1) * page_size)
            fh.write(os.urandom(page_size))


@pytest.mark.parametrize("when", ["at open", "by a later query"])
async def test_a_damaged_memory_file_moved_aside_is_announced_once(demo_master, tmp_path, aishell_home, monkeypatch, when):
    data = aishell_home / "data"
    data.mkdir(parents=True, exist_ok=True)
    memory_file = data / "memory.db"
    if when == "at open":
        memory_file.write_bytes(b"this is not sqlite at all" * 200)
    else:
        await _runs_damaged(memory_file)
        monkeypatch.setattr(store_module, "QUICK_CHECK_MAX_BYTES", 0)  # as for a file too large to check on open
    notices = []

    def hook(message) -> None:
        if type(message).__name__ == "Notify" and "moved aside" in message.notification.message:
            notices.append(message.notification)

    app = make_app(copy_db(demo_master, tmp_path))
    async with app.run_test(size=SIZE, message_hook=hook) as pilot:
        await connected(pilot)
        await until(pilot, lambda: notices, what="the memory notice")
        await pilot.pause(0.2)
        assert len(notices) == 1 and notices[0].title == "Memory" and notices[0].severity == "warning"
        assert app.session.memory.enabled
    assert len([p for p in data.iterdir() if p.name.startswith("memory.db.corrupt-") and p.name.endswith("Z")]) == 1
