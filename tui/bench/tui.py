"""Idle traffic: what the workbench writes to its terminal while nothing changes.

Over SSH every byte a full-screen program writes crosses the network, and a program that
repaints while idle keeps a slow link busy and a laptop awake. Each figure starts the
workbench under a 120×36 pseudo terminal on the demo database, shows one pane (keys sent as a
user would), waits for the screen to settle, then counts the bytes written and the CPU time
used over an idle window. Idle starts once the text cursor has come to rest (``ui.cursor_rest``
seconds after the last key, as a terminal's own cursor stops blinking). Harlequin is measured
the same way in the same run when it is installed (its editor focused, on an in-memory DuckDB). Target: 0 B/s and < 0.5 % CPU idle;
the Metrics tab, which shows live figures, ≤ 1 KB/s.
"""

from __future__ import annotations

import asyncio
import os
import select
import time
from dataclasses import dataclass
from pathlib import Path

from aishell.engine.bench import BenchContext, BenchResult
from aishell.tui.bench.startup import HARLEQUIN_ARGS, HARLEQUIN_MARKER, OUR_PANES_MARKER, _aishell, _harlequin, spawn, stop

NAME = "tui"
NEEDS_PG = False

PANES: dict[str, tuple[bytes, ...]] = {
    "editor": (),
    "results": (b"\x1br",),  # Alt-R
    "schema": (b"\x1bd",),  # Alt-D
    "metrics": (b"\x1bm",),  # Alt-M
    "memory": (b"\x1bh",),  # Alt-H
}
"""Each pane measured, and the keys that focus it (the editor has the focus at start)."""


@dataclass(frozen=True, slots=True)
class Idle:
    """What one idle window cost: bytes written to the terminal and CPU seconds, per second."""

    bytes_per_s: float
    cpu_percent: float


def _cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid`` so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _drain(fd: int, seconds: float, on_chunk=None) -> int:
    """Read the pty for ``seconds``; answer cursor-position queries; return the bytes read."""
    total = 0
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], min(left, 0.05))
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        total += len(chunk)
        if b"\x1b[6n" in chunk:
            os.write(fd, b"\x1b[1;1R")
        if on_chunk is not None:
            on_chunk(chunk)
    return total


def measure_idle(cmd: list[str], marker: bytes, keys: tuple[bytes, ...], *, env: dict[str, str], settle: float, window: float) -> Idle | None:
    """Start ``cmd`` on a 120×36 pty, wait for ``marker``, send ``keys``, let it settle, then
    measure an idle ``window``. None when the marker never showed."""
    pid, fd = spawn(cmd, env)
    try:
        seen = bytearray()
        start = time.monotonic()
        while marker not in seen and time.monotonic() - start < 30:
            _drain(fd, 0.1, seen.extend)
            del seen[:-200_000]
        if marker not in seen:
            return None
        _drain(fd, 1.0)
        for key in keys:
            os.write(fd, key)
            _drain(fd, 0.3)
        _drain(fd, settle)
        cpu_before, t0 = _cpu_seconds(pid), time.monotonic()
        written = _drain(fd, window)
        elapsed = time.monotonic() - t0
        cpu = _cpu_seconds(pid) - cpu_before
        return Idle(written / elapsed, 100.0 * cpu / elapsed)
    finally:
        stop(pid, fd)


async def run(ctx: BenchContext) -> list[BenchResult]:
    return await asyncio.to_thread(_run, ctx)


def _run(ctx: BenchContext) -> list[BenchResult]:
    home = Path(ctx.workdir) / "tui-home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, AISHELL_HOME=str(home))
    env.pop("NO_COLOR", None)
    from aishell.engine.config import Settings
    from aishell.engine.demo import ensure_demo_database

    settings = Settings.load(env=env)
    ensure_demo_database(settings.demo_db_path)
    # Idle starts when the cursor has come to rest (it blinks while the user is typing).
    settle = settings.ui.cursor_rest + 2.0
    window = 5.0 if ctx.quick else 15.0
    harlequin = _harlequin()
    baseline = measure_idle(harlequin + HARLEQUIN_ARGS, HARLEQUIN_MARKER, (), env=env, settle=settle, window=window) if harlequin else None
    missing = "" if harlequin else " (harlequin not installed: no baseline)"
    results = []
    for pane, keys in PANES.items():
        idle = measure_idle(_aishell(), OUR_PANES_MARKER, keys, env=env, settle=settle, window=window)
        if idle is None:
            continue
        target = "<= 1024 B/s" if pane == "metrics" else "0 B/s"
        results.append(
            BenchResult(
                name=f"tui.idle_{pane}",
                metric=f"bytes/s written to the terminal, idle, {pane} focused (120x36 pty, {window:.0f} s; CPU {idle.cpu_percent:.2f}%)" + missing,
                value=idle.bytes_per_s,
                unit="B/s",
                baseline="harlequin idle, editor focused",
                baseline_value=None if baseline is None else baseline.bytes_per_s,
                target=target,
                higher_is_better=False,
            )
        )
    return results
