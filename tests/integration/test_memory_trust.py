"""The memory file against real processes: two starting at once on a fresh data directory, a
large file damaged in the middle, an import killed half way (issue 12, "Files that survive
crashes and races")."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aishell.engine.config import MemorySettings
from aishell.engine.memory import Entry, Memory
from aishell.engine.memory.store import QUICK_CHECK_MAX_BYTES

CLI = [sys.executable, "-m", "aishell.tui.cli"]
PAIRS = 50

# One long-lived process per side, so 50 starts cost 50 opens and not 100 interpreter starts:
# for each fresh path read on stdin, open the memory there with the real code (schema set-up,
# index load and save), record one statement, close, and say how it went.
OPENER = """
import asyncio, json, sys
from aishell.engine.config import MemorySettings
from aishell.engine.memory import Entry, Memory

async def main():
    while line := sys.stdin.readline():
        memory = await Memory.open(MemorySettings(prune_interval=0), path=line.strip())
        recorded = await memory.record(Entry("SELECT 1", database="race"))
        await memory.close()
        print(json.dumps({"enabled": memory.enabled, "reason": memory.reason, "recorded": recorded}), flush=True)

asyncio.run(main())
"""


def _counts(path: Path) -> tuple[int, int]:
    """(statements, runs) read by a separate connection."""
    raw = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return raw.execute("SELECT count(*), coalesce(sum(runs), 0) FROM statements").fetchone()
    finally:
        raw.close()


def _sqlite_db(path: Path) -> Path:
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE t (a INTEGER)")
    raw.close()
    return path


# -- two processes, one fresh data directory ------------------------------------------------------


def test_fifty_pairs_of_processes_opening_a_fresh_memory_at_once_both_record(tmp_path):
    sides = [
        subprocess.Popen([sys.executable, "-c", OPENER], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    failures = []
    try:
        for n in range(PAIRS):
            path = tmp_path / f"home{n}" / "data" / "memory.db"  # not even the directory exists
            for side in sides:  # both go at once
                side.stdin.write(f"{path}\n")
            for side in sides:
                side.stdin.flush()
            outcomes = [json.loads(side.stdout.readline() or "null") for side in sides]
            if outcomes != [{"enabled": True, "reason": None, "recorded": True}] * 2 or _counts(path) != (1, 2):
                failures.append((n, outcomes))
    finally:
        for side in sides:
            side.stdin.close()
        errors = [side.stderr.read() for side in sides]
        for side in sides:
            side.wait(30)
    assert not failures, failures
    assert errors == ["", ""]  # no warning either (a clash over the saved vector index was one)


def test_two_aishell_runs_on_a_fresh_home_both_keep_memory_on(tmp_path):
    """The same race end to end, once: the CLI warns when memory goes off."""
    db = _sqlite_db(tmp_path / "t.db")
    env = dict(os.environ, AISHELL_HOME=str(tmp_path / "home"))
    pair = [subprocess.Popen([*CLI, "run", str(db), "-c", "SELECT 1"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    for proc in pair:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0 and err == "", err
    assert _counts(tmp_path / "home" / "data" / "memory.db") == (1, 2)


# -- a large file damaged in the middle -----------------------------------------------------------


@pytest.fixture(scope="module")
def damaged_memory(tmp_path_factory) -> Path:
    """A memory file over the quick_check size, its statements and runs overwritten with noise.

    Real content, cheaply: two large meta values around 5,000 recorded statements put the
    tables' pages in the middle of an 80 MB file; the header and the schema stay sound, so
    the file opens and only the queries that read those pages fail.
    """
    path = tmp_path_factory.mktemp("damaged") / "memory.db"

    async def build() -> None:
        memory = await Memory.open(MemorySettings(prune_interval=0), path=path)
        await memory.store.set_meta("padding-1", bytes(QUICK_CHECK_MAX_BYTES // 2))
        await memory.record_many([Entry(f"SELECT c{i % 7} FROM t{i % 30} WHERE id = {i}", database="db") for i in range(5000)])
        await memory.store.set_meta("padding-2", bytes(QUICK_CHECK_MAX_BYTES // 2))
        await memory.close()

    asyncio.run(build())
    assert path.stat().st_size > QUICK_CHECK_MAX_BYTES
    raw = sqlite3.connect(path)
    page_size = raw.execute("PRAGMA page_size").fetchone()[0]
    total = path.stat().st_size // page_size
    pages = [n for (n,) in raw.execute(
        "SELECT pageno FROM dbstat WHERE name IN ('statements', 'runs', 'runs_statement', 'statements_text_hash', 'fingerprints')"
    ) if total // 4 < n < total * 3 // 4]
    raw.close()
    assert len(pages) > 100
    with open(path, "r+b") as fh:
        for n in pages:
            fh.seek((n - 1) * page_size)
            fh.write(os.urandom(page_size))
    return path


def test_damage_in_the_middle_of_a_large_file_is_moved_aside_once_then_memory_works(damaged_memory, tmp_path):
    home = tmp_path / "home"
    data = home / "data"
    data.mkdir(parents=True)
    original = damaged_memory.read_bytes()
    (data / "memory.db").write_bytes(original)
    env = dict(os.environ, AISHELL_HOME=str(home))
    history = tmp_path / "history.sql"
    history.write_text("SELECT name FROM customers;\nSELECT total FROM orders;\n")
    db = _sqlite_db(tmp_path / "t.db")

    def aishell(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=60)

    stats = aishell("memory", "stats", "--format", "json")
    assert stats.returncode == 0, stats.stderr
    lines = stats.stderr.splitlines()
    assert len(lines) == 1 and "damaged" in lines[0] and "moved aside to memory.db.corrupt-" in lines[0], stats.stderr
    assert json.loads(stats.stdout)["statements"] == 0  # the fresh memory
    aside = [p for p in data.iterdir() if p.name.startswith("memory.db.corrupt-") and p.name.endswith("Z")]
    assert len(aside) == 1 and aside[0].read_bytes() == original  # kept, byte for byte

    imported = aishell("memory", "import", str(history))
    assert (imported.returncode, imported.stderr) == (0, ""), imported.stderr
    run = aishell("run", str(db), "-c", "SELECT count(*) FROM t")
    assert (run.returncode, run.stderr) == (0, ""), run.stderr
    assert _counts(data / "memory.db") == (3, 3)
    assert len([p for p in data.iterdir() if p.name.startswith("memory.db.corrupt-") and p.name.endswith("Z")]) == 1


# -- an import killed half way ---------------------------------------------------------------------


def test_import_killed_half_way_then_run_again_counts_each_statement_once(tmp_path):
    history = tmp_path / ".psql_history"
    count = 12_000  # batches of 2,500 then 5,000 then the rest
    lines = ["_HiStOrY_V2_"] + [f"SELECT\\040c{i % 7}\\040FROM\\040t{i % 5}\\040WHERE\\040id\\040=\\040{i};" for i in range(count)]
    history.write_text("\n".join(lines) + "\n")
    env = dict(os.environ, AISHELL_HOME=str(tmp_path / "home"))
    memory_path = tmp_path / "home" / "data" / "memory.db"
    proc = subprocess.Popen([*CLI, "memory", "import", str(history)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    runs = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                runs = _counts(memory_path)[1]
            except sqlite3.Error:  # not created yet
                runs = 0
            if runs:
                os.kill(proc.pid, signal.SIGKILL)  # after its first batch, in the middle of the rest
                break
            time.sleep(0.005)
    finally:
        proc.wait(30)
    assert proc.returncode == -signal.SIGKILL and 0 < runs < count, (proc.returncode, runs)

    again = subprocess.run([*CLI, "memory", "import", str(history), "--format", "json"], env=env, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    report = json.loads(again.stdout)
    assert report["already"] > 0 and report["already"] + report["recorded"] == count
    assert _counts(memory_path) == (count, count)
