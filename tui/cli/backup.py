"""Back up a database: PostgreSQL through pg_dump (parallel directory or compressed custom archive), SQLite through the online backup API.

The backup is a new directory holding the archive and ``aishell-manifest.json`` (database
identity without password, server version, tables, and the size and sha256 of every file), which
``aishell restore`` verifies before touching the target. It is written under a temporary name and
renamed when complete. Progress goes to stderr. SIGTERM or SIGHUP stops pg_dump and removes the
partial copy (exit 143 or 129); after SIGKILL a watchdog does the same.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time
from typing import Any, Awaitable, TextIO, TypeVar

from aishell.tui.cli.target import TARGET_HELP, add_ssh

T = TypeVar("T")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="TARGET", help="the database to back up: " + TARGET_HELP)
    add_ssh(parser)
    parser.add_argument("--out", required=True, metavar="PATH", help="new directory for the backup (must not exist or be empty)")
    parser.add_argument(
        "--format", choices=("directory", "custom"), default=None,
        help="PostgreSQL archive: directory (parallel pg_dump, parallel restore; default) or custom (one compressed file)",
    )
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="parallel pg_dump jobs (default: number of cores)")
    parser.add_argument(
        "--compress", choices=("zstd", "gzip", "none"), default=None,
        help="compression (default: zstd where available, else gzip)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def main(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args))
    except Stopped as stop:
        print(f"aishell: backup {stop}: the partial backup was removed and no tool of it still runs", file=sys.stderr)
        return stop.exit_code


async def _run(args: argparse.Namespace) -> int:
    from aishell.engine.backup import backup
    from aishell.engine.config import Settings
    from aishell.engine.connections import reach

    started = time.monotonic()
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    try:
        async with reach(args.url, Settings.load(), ssh=args.ssh) as route:
            manifest = await stoppable(
                backup(route.url, args.out, format=args.format, jobs=args.jobs, compress=args.compress, progress=line)
            )
    finally:
        line.close()
    kind = manifest.format if manifest.engine == "postgres" else "SQLite"
    compression = "" if manifest.compression == "none" else f", {manifest.compression}"
    print(
        f"backed up {route.display_url} to {args.out} ({kind}{compression}): "
        f"{len(manifest.tables)} tables, {len(manifest.files)} files, {human_bytes(manifest.total_bytes)} "
        f"in {time.monotonic() - started:.2f} s"
    )
    return 0


class Stopped(Exception):
    """The operation was cancelled by SIGTERM or SIGHUP; its own cleanup has run."""

    def __init__(self, signum: int) -> None:
        super().__init__(f"stopped by {signal.Signals(signum).name}")
        self.exit_code = 128 + signum


async def stoppable(operation: Awaitable[T]) -> T:
    """Await ``operation``; SIGTERM or SIGHUP cancel it (so it kills its tools and removes its
    partial output, as on Ctrl-C) and raise Stopped instead of dying mid-write."""
    loop = asyncio.get_running_loop()
    task = asyncio.ensure_future(operation)
    received: list[int] = []

    def stop(signum: int) -> None:
        received.append(signum)
        task.cancel()

    handled = []
    for signum in (signal.SIGTERM, signal.SIGHUP):
        try:
            loop.add_signal_handler(signum, stop, signum)
            handled.append(signum)
        except (NotImplementedError, RuntimeError):  # not on the main thread / platform
            pass
    try:
        return await task
    except asyncio.CancelledError:
        if received and task.cancelled():
            raise Stopped(received[0]) from None
        raise
    finally:
        for signum in handled:
            loop.remove_signal_handler(signum)


class ProgressLine:
    """Progress on stderr: one line rewritten in place on a terminal, plain lines otherwise."""

    def __init__(self, stream: TextIO, *, quiet: bool = False, interval: float = 2.0) -> None:
        self.stream = stream
        self.quiet = quiet
        self.tty = stream.isatty()
        self.interval = interval
        self._dirty = False
        self._last_time = 0.0
        self._last_key: Any = None

    def __call__(self, progress: Any) -> None:
        if self.quiet:
            return
        text = self.describe(progress)
        if self.tty:
            self.stream.write("\r" + text + "\x1b[K")
            self._dirty = True
            if progress.finished:
                self.stream.write("\n")
                self._dirty = False
            self.stream.flush()
            return
        key = (progress.phase, progress.tables_done, progress.finished)
        now = time.monotonic()
        if key != self._last_key or now - self._last_time >= self.interval:
            self._last_key, self._last_time = key, now
            self.stream.write(text + "\n")
            self.stream.flush()

    @staticmethod
    def describe(progress: Any) -> str:
        size = human_bytes(progress.bytes_done)
        if progress.bytes_total:
            size += f" of {human_bytes(progress.bytes_total)}"
        text = f"{progress.phase}: {size}"
        if progress.dumped and not progress.finished:
            text += f" ({human_bytes(progress.dumped)} dumped)"
        if progress.tables_total:
            text += f", tables {progress.tables_done}/{progress.tables_total}"
        if progress.finished:
            text += ", done"
        elif progress.table:
            text += f" ({progress.table})"
        return text

    def close(self) -> None:
        if self._dirty:
            self.stream.write("\n")
            self.stream.flush()
            self._dirty = False


def human_bytes(n: int | None) -> str:
    value = float(n or 0)
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if value < 1000 or unit == "TB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} TB"
