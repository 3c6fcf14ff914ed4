"""Schema migrations from a directory of numbered .sql files (-- up / -- down), state kept in the target database.

``status`` lists every migration (applied, pending, changed: edited after it was applied,
missing: applied but its file is gone); ``up [N]`` applies pending ones, each in its own
transaction; ``down [N]`` reverts the newest applied ones (default one); ``new NAME`` writes the
next numbered file. Concurrent runs on PostgreSQL wait for each other (advisory lock). A
migration holding BEGIN/COMMIT/ROLLBACK/SAVEPOINT… is refused before anything runs, unless its
header says ``-- aishell: no-transaction`` (its statements then run one by one).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from aishell.tui.cli.target import TARGET_HELP, add_ssh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    # --db/--dir are accepted before or after the action; SUPPRESS keeps one from erasing the other.
    common = argparse.ArgumentParser(add_help=False)
    for target in (parser, common):
        target.add_argument("--db", default=argparse.SUPPRESS, metavar="TARGET", help=TARGET_HELP)
        add_ssh(target, default=argparse.SUPPRESS)
        target.add_argument("--dir", default=argparse.SUPPRESS, metavar="DIR",
                            help="the migrations directory (default: ./migrations)")
    locking = argparse.ArgumentParser(add_help=False)
    locking.add_argument("--lock-timeout", type=float, default=60.0, metavar="S",
                         help="seconds to wait for another run to finish (PostgreSQL; default 60)")
    actions = parser.add_subparsers(dest="action", required=True, metavar="{status,up,down,new}")
    status = actions.add_parser("status", parents=[common], help="list migrations and their state")
    status.add_argument("--format", choices=("text", "json"), default="text")
    up = actions.add_parser("up", parents=[common, locking], help="apply pending migrations")
    up.add_argument("count", nargs="?", type=_count, metavar="N", help="apply at most N (default: all)")
    up.add_argument("--out-of-order", action="store_true", help="also apply pending migrations older than the newest applied one")
    up.add_argument("--create", action="store_true", help="create the SQLite file if it does not exist")
    down = actions.add_parser("down", parents=[common, locking], help="revert the newest applied migrations")
    down.add_argument("count", nargs="?", type=_count, default=1, metavar="N", help="revert N (default: 1)")
    new = actions.add_parser("new", parents=[common], help="create the next numbered migration file")
    new.add_argument("name", help="what the migration does, e.g. add_orders_index")


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def main(args: argparse.Namespace) -> int:
    from aishell.engine.errors import ConfigurationError
    from aishell.engine.migrate import new_migration

    args.db = getattr(args, "db", None)
    args.ssh = getattr(args, "ssh", "")
    args.dir = getattr(args, "dir", "migrations")
    if args.action == "new":
        path = new_migration(args.dir, args.name)
        print(path)
        return 0
    if not args.db:
        raise ConfigurationError(f"aishell migrate {args.action} needs --db URL")
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings
    from aishell.engine.connections import reach

    async with reach(args.db, Settings.load(), ssh=args.ssh) as route:
        return await _run_on(args, route.url)


async def _run_on(args: argparse.Namespace, url: str) -> int:
    from aishell.engine.migrate import Migrator

    options = {"lock_timeout": args.lock_timeout} if hasattr(args, "lock_timeout") else {}
    async with await Migrator.open(url, args.dir, create=getattr(args, "create", False), **options) as migrator:
        if args.action == "status":
            states = await migrator.status()
            if args.format == "json":
                json.dump({"migrations": [_state_json(s) for s in states]}, sys.stdout)
                sys.stdout.write("\n")
            else:
                _print_status(states)
            return 0
        if args.action == "up":
            done = await migrator.up(args.count, out_of_order=args.out_of_order, on_applied=_reporter("applied"))
            print(f"{len(done)} migration{'s' if len(done) != 1 else ''} applied" if done else "nothing to apply: up to date")
            return 0
        done = await migrator.down(args.count, on_reverted=_reporter("reverted"))
        print(f"{len(done)} migration{'s' if len(done) != 1 else ''} reverted" if done else "nothing to revert")
        return 0


def _reporter(verb: str):
    def report(migration, seconds: float) -> None:
        print(f"{verb} {migration.label} ({seconds * 1000:.0f} ms)", flush=True)

    return report


def _state_json(state) -> dict:
    return {
        "version": state.version,
        "name": state.name,
        "state": state.state,
        "applied_at": None if state.applied_at is None else str(state.applied_at),
        "file": None if state.migration is None else str(state.migration.path),
    }


def _print_status(states) -> None:
    if not states:
        print("no migrations")
        return
    rows = [("version", "name", "state", "applied at")]
    for s in states:
        applied = "" if s.applied_at is None else str(s.applied_at)[:19].replace("T", " ")
        rows.append((str(s.version), s.name, s.state, applied))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip())
    counts: dict[str, int] = {}
    for s in states:
        counts[s.state] = counts.get(s.state, 0) + 1
    print(", ".join(f"{n} {state}" for state, n in counts.items()))
    if counts.get("changed") or counts.get("missing"):
        print("aishell: warning: applied migrations were changed or removed since they ran", file=sys.stderr)
