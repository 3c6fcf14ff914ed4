"""An import stopped half way (SIGTERM, or SIGKILL) leaves memory whole: every batch it
committed stays, with its place in the file; run again, the import records the rest once, and the
index and search cover every statement. Real CLI subprocesses on a plain file of distinct
statements, read by the streaming reader; the compact index is trained from 3,000 vectors on.
Ctrl-C takes SIGTERM's path (the import's task cancelled), with asyncio's own handler."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from aishell.engine.bench.memory import _distinct

CLI = [sys.executable, "-m", "aishell.tui.cli"]
COUNT = 6_000  # a batch of 2,500, then the rest


def _runs(path: Path) -> int:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        conn.close()


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    proc = subprocess.run([*CLI, *args], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.mark.parametrize(
    ("signum", "status", "says"),
    [
        (signal.SIGTERM, 143, "memory import stopped (SIGTERM): what it recorded stays; run it again to continue"),
        (signal.SIGKILL, -signal.SIGKILL, ""),
    ],
    ids=["SIGTERM", "SIGKILL"],
)
def test_an_import_stopped_half_way_keeps_what_it_committed_and_a_rerun_records_the_rest_once(tmp_path, signum, status, says):
    texts = _distinct(COUNT, seed=17)
    history = tmp_path / "history.sql"
    history.write_text("".join(f"{t};\n" for t in texts))
    env = dict(os.environ, AISHELL_HOME=str(tmp_path / "home"), AISHELL_MEMORY__IVF_THRESHOLD="3000")
    memory_path = tmp_path / "home" / "data" / "memory.db"
    proc = subprocess.Popen([*CLI, "memory", "import", str(history)], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    committed = 0
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and proc.poll() is None and not committed:
            try:
                committed = _runs(memory_path)
            except sqlite3.Error:  # not created yet
                pass
            if committed:
                proc.send_signal(signum)  # after its first batch, in the middle of the rest
            else:
                time.sleep(0.005)
        _, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == status, stderr
    assert says in stderr and "Traceback" not in stderr
    kept = _runs(memory_path)
    assert 0 < committed <= kept < COUNT  # a batch under way when the signal came commits whole or not at all

    report = json.loads(_cli(env, "memory", "import", str(history), "--format", "json").stdout)
    assert (report["read"], report["already"], report["recorded"]) == (COUNT, kept, COUNT - kept)
    stats = json.loads(_cli(env, "memory", "stats", "--format", "json").stdout)
    assert (stats["statements"], stats["runs"], stats["index"]["vectors"]) == (COUNT, COUNT, COUNT)
    assert stats["index"]["kind"] == "ivf"
    hits = json.loads(_cli(env, "memory", "search", texts[-7], "--format", "json", "--limit", "1").stdout)["hits"]
    assert hits[0]["text"] == texts[-7] + ";"  # recorded after the stop, found through the index
