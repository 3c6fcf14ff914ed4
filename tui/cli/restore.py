"""Restore an aishell backup into a database, after checking every file against the backup's manifest.

``aishell restore PATH URL`` verifies the backup (every file listed in the manifest, none
unlisted, sizes and checksums) before writing anything, refuses a target that already holds tables
(``--clean`` replaces what the backup holds) and runs pg_restore (parallel for directory
archives) or SQLite's backup API. ``aishell restore --verify-only PATH`` only checks.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from aishell.tui.cli.target import TARGET_HELP, add_ssh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="PATH", help="the backup directory (from aishell backup)")
    parser.add_argument("url", nargs="?", metavar="TARGET", help="the database to restore into (a PostgreSQL one must exist and be empty): " + TARGET_HELP)
    add_ssh(parser)
    parser.add_argument("--verify-only", action="store_true", help="check the backup against its manifest and stop")
    parser.add_argument("--no-verify", action="store_true", help="skip the checksums (not recommended; the file list, sizes and manifest are still checked)")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N", help="parallel pg_restore jobs (default: number of cores)")
    parser.add_argument("--clean", action="store_true", help="drop the objects the backup recreates before restoring them")
    parser.add_argument("--no-owner", action="store_true", help="do not restore object owners (restore as the connecting user)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress on stderr")


def main(args: argparse.Namespace) -> int:
    from aishell.tui.cli.backup import Stopped

    try:
        return asyncio.run(_run(args))
    except Stopped as stop:
        print(
            f"aishell: restore {stop}: pg_restore was stopped (a single-transaction restore is rolled back; "
            "a parallel one may have left part of the backup in the target)",
            file=sys.stderr,
        )
        return stop.exit_code


async def _run(args: argparse.Namespace) -> int:
    from aishell.engine.backup import restore, verify
    from aishell.engine.errors import ConfigurationError
    from aishell.tui.cli.backup import ProgressLine, human_bytes, stoppable

    if args.verify_only and args.no_verify:
        raise ConfigurationError("--verify-only and --no-verify contradict each other")
    if not args.verify_only and not args.url:
        raise ConfigurationError("restore needs a target URL: aishell restore PATH URL (or --verify-only PATH)")
    started = time.monotonic()
    line = ProgressLine(sys.stderr, quiet=args.quiet)
    try:
        if args.verify_only:
            manifest = await verify(args.path, progress=line)
        else:
            from aishell.engine.config import Settings
            from aishell.engine.connections import reach

            async with reach(args.url, Settings.load(), ssh=args.ssh) as route:
                shown = route.display_url
                manifest = await stoppable(restore(
                    args.path, route.url, verify_first=not args.no_verify, jobs=args.jobs,
                    clean=args.clean, no_owner=args.no_owner, progress=line,
                ))
    finally:
        line.close()
    source = manifest.database.get("url", "?")
    if args.verify_only:
        print(
            f"backup {args.path} is intact: {manifest.engine} {manifest.format} backup of {source} "
            f"from {manifest.created_at}, {len(manifest.tables)} tables, {len(manifest.files)} files, "
            f"{human_bytes(manifest.total_bytes)}"
        )
    else:
        print(
            f"restored {args.path} ({source}) into {shown}: {len(manifest.tables)} tables "
            f"in {time.monotonic() - started:.2f} s"
        )
    return 0
