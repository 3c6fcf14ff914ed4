"""Start-up: ``aishell --version`` wall time and the time to the workbench's first frame.

Both run in fresh subprocesses (imports and all). The first frame is timed under a pseudo
terminal of 120×36: from spawning ``aishell`` on the demo database until the header's text
appears on the terminal. Harlequin is measured the same way in the same run when its
``harlequin`` command is installed (``--version``, and its first frame on an in-memory
DuckDB, until its "Data Catalog" pane title is drawn); without it the baseline is None and the metric says so.
Targets: ``--version`` ≤ 0.15 s, first frame ≤ 0.6 s. The workbench mounts its side columns
(schema, insights) right after its first frame, so a third figure, ``startup.all_panes``, times
the complete layout (the insights' "Suggestions" tab drawn) against harlequin's first frame,
which has all of its panes.

Both programs start as installed programs do after their first run: with Python's bytecode
cache (children get a private ``PYTHONPYCACHEPREFIX`` even when ``PYTHONDONTWRITEBYTECODE`` is
set here) and one untimed warm-up start each, so compiling sources is not counted as start-up.
Samples of the two programs alternate, so background load hits both alike.
"""

from __future__ import annotations

import asyncio
import os
import pty
import select
import shutil
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from aishell.engine.bench import BenchContext, BenchResult
from aishell.tui.cli.bench import CLI

NAME = "startup"
NEEDS_PG = False


OUR_MARKER = b"AIShell"
"""The header's brand label, drawn by the workbench's first frame."""
OUR_PANES_MARKER = b"Suggestions"
"""The insights column's first tab: the side columns are mounted right after the first frame,
so this marks the complete layout."""
HARLEQUIN_ARGS = [":memory:"]
HARLEQUIN_MARKER = b"Data Catalog"
"""The title of harlequin's first pane. Not b"Harlequin": under a C locale harlequin prints a
"System Locale Not Set" notice naming itself before its app even starts."""


def _aishell() -> list[str]:
    exe = Path(sys.executable).with_name("aishell")
    return [str(exe)] if exe.exists() else list(CLI)


def _harlequin() -> list[str] | None:
    exe = Path(sys.executable).with_name("harlequin")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("harlequin")
    return [found] if found else None


def time_version(cmd: list[str], *, repeat: int, env: dict[str, str]) -> float:
    """Median seconds of ``cmd --version`` to exit."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        subprocess.run(cmd + ["--version"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False, timeout=60)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def time_first_frame(cmd: list[str], marker: bytes, *, env: dict[str, str], timeout: float = 30.0, linger: float = 0.0) -> float | None:
    """Seconds from spawn until ``marker`` appears on the pty, or None on timeout. With ``linger``
    the program keeps running that many seconds after the marker (so a warm-up run also loads,
    and caches the bytecode of, what the program imports after its first frame)."""
    return time_frames(cmd, [marker], env=env, timeout=timeout, linger=linger)[0]


def time_frames(cmd: list[str], markers: list[bytes], *, env: dict[str, str], timeout: float = 30.0, linger: float = 0.0) -> list[float | None]:
    """Seconds from spawn until each of ``markers`` first appears on the pty (None: not seen
    before ``timeout``); ``linger`` as in :func:`time_first_frame`, after the last marker."""
    pid, fd = spawn(cmd, env)
    start = time.perf_counter()
    seen = b""
    found: list[float | None] = [None] * len(markers)
    try:
        while time.perf_counter() - start < timeout:
            ready, _, _ = select.select([fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                break
            if not chunk:
                break
            seen = (seen + chunk)[-200_000:]
            if b"\x1b[6n" in chunk:  # answer cursor-position queries like a terminal would
                os.write(fd, b"\x1b[1;1R")
            now = time.perf_counter() - start
            for index, marker in enumerate(markers):
                if found[index] is None and marker in seen:
                    found[index] = now
            if all(t is not None for t in found) and now < timeout:
                if linger <= 0:
                    break
                timeout = min(timeout, now + linger)
    finally:
        stop(pid, fd)
    return found


def spawn(cmd: list[str], env: dict[str, str]) -> tuple[int, int]:
    """Start ``cmd`` on a new 120×36 pseudo terminal with exactly ``env`` (keys removed from it
    stay removed); its pid and the terminal's file descriptor."""
    child_env = dict(env, TERM="xterm-256color", COLUMNS="120", LINES="36")
    pid, fd = pty.fork()
    if pid == 0:  # child
        try:
            os.execve(cmd[0], cmd, child_env)
        finally:
            os._exit(127)
    try:
        import fcntl
        import struct
        import termios

        fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", 36, 120, 0, 0))
    except OSError:
        pass
    return pid, fd


def stop(pid: int, fd: int) -> None:
    """SIGTERM the program started by :func:`spawn` (SIGKILL after 3 s), then close its terminal."""
    try:
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            done, _ = os.waitpid(pid, os.WNOHANG)
            if done:
                break
            time.sleep(0.02)
        else:
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
    except (ProcessLookupError, ChildProcessError):
        pass
    os.close(fd)


async def run(ctx: BenchContext) -> list[BenchResult]:
    return await asyncio.to_thread(_run, ctx)


def _run(ctx: BenchContext) -> list[BenchResult]:
    repeat = 3 if ctx.quick else 7
    home = Path(ctx.workdir) / "startup-home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ, AISHELL_HOME=str(home), PYTHONPYCACHEPREFIX=str(Path(ctx.workdir) / "pycache"))
    env.pop("NO_COLOR", None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    ours = _aishell()
    # The demo database is built once before timing (first use builds it; that is not start-up).
    from aishell.engine.config import Settings
    from aishell.engine.demo import ensure_demo_database

    ensure_demo_database(Settings.load(env=env).demo_db_path)
    harlequin = _harlequin()

    programs = [("ours", ours, ours, [OUR_MARKER, OUR_PANES_MARKER])]
    if harlequin:
        programs.append(("harlequin", harlequin, harlequin + HARLEQUIN_ARGS, [HARLEQUIN_MARKER]))
    for _, version_cmd, frame_cmd, markers in programs:  # warm-up: bytecode cache, disk cache
        time_version(version_cmd, repeat=1, env=env)
        time_frames(frame_cmd, markers, env=env, linger=3.0)
    versions: dict[str, list[float]] = {name: [] for name, *_ in programs}
    frames: dict[str, list[float]] = {name: [] for name, *_ in programs}
    panes: list[float] = []
    for _ in range(repeat):
        for name, version_cmd, frame_cmd, markers in programs:
            versions[name].append(time_version(version_cmd, repeat=1, env=env))
            samples = time_frames(frame_cmd, markers, env=env)
            if samples[0] is not None:
                frames[name].append(samples[0])
            if name == "ours" and samples[1] is not None:
                panes.append(samples[1])
    median = lambda xs: statistics.median(xs) if xs else None  # noqa: E731
    version, frame, complete = median(versions["ours"]), median(frames["ours"]), median(panes)
    h_version = median(versions["harlequin"]) if harlequin else None
    h_frame = median(frames["harlequin"]) if harlequin else None
    missing = "" if harlequin else " (harlequin not installed: no baseline)"
    results = [
        BenchResult(
            name="startup.version",
            metric="aishell --version wall time" + missing,
            value=version,
            unit="s",
            baseline="harlequin --version",
            baseline_value=h_version,
            target="<= 0.15 s",
        )
    ]
    if frame is not None:
        results.append(
            BenchResult(
                name="startup.first_frame",
                metric="TUI first frame (120x36 pty, demo database)" + missing,
                value=frame,
                unit="s",
                baseline="harlequin first frame (:memory:)",
                baseline_value=h_frame,
                target="<= 0.6 s",
            )
        )
    if complete is not None:
        results.append(
            BenchResult(
                name="startup.all_panes",
                metric="TUI with every pane drawn (side columns mount after the first frame)" + missing,
                value=complete,
                unit="s",
                baseline="harlequin first frame (:memory:), all its panes",
                baseline_value=h_frame,
            )
        )
    return results
