"""Search, import into and describe the memory of every statement run.

    aishell memory search TEXT [--limit N] [--format text|json] [--db URL]
    aishell memory import FILE [--kind psql|pgcli|plain] [--db URL]
    aishell memory stats [--format json]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json

STOPPED = 143
"""Exit status of an import stopped by SIGTERM (128 + 15, as a shell reports it)."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True, metavar="{search,import,stats}")
    search = sub.add_parser("search", help="find statements by a few words or a similar query")
    search.add_argument("text", nargs="+", help="what to look for")
    search.add_argument("--limit", type=int, default=10, help="hits to show (default 10)")
    search.add_argument("--format", choices=("text", "json"), default="text")
    search.add_argument("--db", default="", help="rank runs on this database (URL, shown redacted) higher")
    imp = sub.add_parser("import", help="read a psql, pgcli or plain history file into memory")
    imp.add_argument("file", help="e.g. ~/.psql_history or ~/.config/pgcli/history")
    imp.add_argument("--kind", choices=("psql", "pgcli", "plain"), help="file format (default: guessed)")
    imp.add_argument("--db", default="", help="database the statements ran on (URL, stored redacted)")
    imp.add_argument("--format", choices=("text", "json"), default="text")
    stats = sub.add_parser("stats", help="what memory holds")
    stats.add_argument("--format", choices=("text", "json"), default="text")


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_main(args))


async def _main(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings
    from aishell.engine.drivers.url import redact_url
    from aishell.engine.errors import ConfigurationError, MemoryUnavailable
    from aishell.engine.memory import Memory

    settings = Settings.load()
    if not settings.memory.enabled:
        raise MemoryUnavailable("memory is disabled in settings (memory.enabled = false)")
    memory = await Memory.open(settings)  # a notice (damaged file moved aside) is logged: one line on stderr
    try:
        if not memory.enabled:
            raise MemoryUnavailable(memory.reason or "memory off")
        if args.action == "search":
            if args.limit < 1:
                raise ConfigurationError(f"--limit must be at least 1, got {args.limit}")
            hits = await memory.search(" ".join(args.text), limit=args.limit, database=redact_url(args.db) if args.db else "")
            if args.format == "json":
                print(json.dumps({"hits": [h.as_json() for h in hits]}, ensure_ascii=False))
            else:
                _print_hits(hits)
        elif args.action == "import":
            report = await _import(memory, args.file, kind=args.kind, database=redact_url(args.db) if args.db else "")
            if report is None:
                return STOPPED
            if args.format == "json":
                print(json.dumps(report.as_json()))
            else:
                already = f", {report.already} imported before" if report.already else ""
                print(
                    f"imported {report.recorded} statements from {args.file} ({report.kind}; "
                    f"{report.read} read{already}, {report.skipped} skipped, {report.redacted} redacted)"
                )
        else:
            data = await memory.stats()
            if args.format == "json":
                print(json.dumps(data, ensure_ascii=False))
            else:
                _print_stats(data)
    finally:
        await memory.close()
    return 0


async def _import(memory, path: str, *, kind: str | None, database: str):
    """``memory.import_file``; None when SIGTERM stopped it (said on stderr). Stopped by SIGTERM
    as by Ctrl-C: the batch being written commits or not at all, memory closes with its index
    saved, and the import, run again, continues where it stopped."""
    import signal
    import sys

    from aishell.engine.compat.glibc import return_large_blocks

    return_large_blocks()  # this process frees batch-sized arrays until it ends
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    terminated: list[bool] = []

    def terminate() -> None:
        terminated.append(True)
        task.cancel()

    loop.add_signal_handler(signal.SIGTERM, terminate)
    try:
        return await memory.import_file(path, kind=kind, database=database)
    except asyncio.CancelledError:
        if not terminated:
            raise
        print("aishell: memory import stopped (SIGTERM): what it recorded stays; run it again to continue", file=sys.stderr)
        return None
    finally:
        loop.remove_signal_handler(signal.SIGTERM)


def _when(epoch: float | None) -> str:
    if epoch is None:
        return "-"
    return dt.datetime.fromtimestamp(epoch).strftime("%Y-%m-%d %H:%M")


def _print_hits(hits: list) -> None:
    if not hits:
        print("no matches")
        return
    for n, h in enumerate(hits, 1):
        outcome = "ok" if h.success else ("error: " + (h.error or "")) if h.success is False else "imported"
        extra = []
        if h.duration_ms is not None:
            extra.append(f"{h.duration_ms:.1f} ms")
        if h.rows is not None:
            extra.append(f"{h.rows} rows")
        why = " ".join(f"{k}={v:.2f}" for k, v in h.signals.items() if v)
        print(f"{n:>2}. [{h.score:.3f}] {_when(h.started_at)}  {h.database or '-'}  {outcome}{'  ' + ', '.join(extra) if extra else ''}")
        for line in h.text.splitlines() or [""]:
            print(f"      {line}")
        print(f"      ({why})")


def _print_stats(data: dict) -> None:
    print(f"memory      {data['path']} ({data['bytes'] / 1e6:.1f} MB, schema v{data['schema_version']})")
    print(f"statements  {data['statements']} distinct, {data['runs']} runs ({data['failures']} failed), {data['fingerprints']} shapes")
    print(f"span        {_when(data['first_seen'])} .. {_when(data['last_seen'])}")
    idx = data["index"]
    print(f"index       {idx['kind']} ({idx['vectors']} vectors{', nprobe ' + str(idx['nprobe']) if idx['kind'] == 'ivf' else ''}), embedder {data['embedder']}")
    if data["databases"]:
        print("databases")
        for d in data["databases"]:
            print(f"  {d['runs']:>8}  {d['database'] or '(imported)'}")
    if data["top"]:
        print("most run")
        for t in data["top"]:
            example = (t["example"] or "").replace("\n", " ")
            print(f"  {t['runs']:>8}  {example[:100]}")
