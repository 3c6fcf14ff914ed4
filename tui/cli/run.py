"""Run one SQL statement (or script) and print its result: streams, so big results start at once."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

FORMATS = ("table", "csv", "json", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help="postgresql://…, sqlite:///path, a .db path or mongodb://…")
    parser.add_argument("-c", "--command", dest="sql", required=True, help="the statement to run")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--read-only", action="store_true", help="refuse writes: the server's read-only session, statements that would escape it refused, and a check after each (see README)")
    parser.add_argument("--create", action="store_true", help="create the SQLite file if it does not exist")
    parser.add_argument("--page-size", type=int, default=2000, help="rows fetched a round trip")


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings
    from aishell.engine.errors import QueryCancelled
    from aishell.engine.session import Session
    from aishell.tui.output import writer_for

    settings = Settings.load()
    session = await Session.open(args.url, settings=settings, read_only=args.read_only, create=args.create)
    loop = asyncio.get_running_loop()
    cancelled = False

    def on_interrupt() -> None:
        nonlocal cancelled
        cancelled = True
        loop.create_task(session.cancel())

    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError):  # not on the main thread / platform
        pass
    started = time.perf_counter()
    out = sys.stdout
    try:
        async with session.stream(args.sql, page_size=args.page_size) as rows:
            writer = writer_for(args.format, out, rows.columns)
            writer.start()
            async for page in rows:
                writer.rows(page)
                out.flush()
            writer.finish(rows.rowcount, (time.perf_counter() - started) * 1000, rows.status)
            out.flush()
    except QueryCancelled:
        print("aishell: statement cancelled", file=sys.stderr)
        return 130
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass
        await session.close()
    return 130 if cancelled else 0
