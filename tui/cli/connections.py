"""Saved connections for scripts: list, add, remove and test ``[connections.NAME]`` in config.toml.

    aishell connections add shop --host db.internal --user bob --database shop --production \\
        --option search_path=app,public --ssh bastion
    aishell connections list --format json
    aishell connections test shop          # exit 0 when it connects, 2 with the reason when not
    aishell connections remove shop

Passwords never go into config.toml: ``~/.pgpass`` (or PGPASSFILE), the OS keyring (``--keyring``
stores one when the optional ``keyring`` package is installed) or a masked prompt supply them.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any

from aishell.engine.profiles import COLOURS
from aishell.tui.cli.target import add_ssh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", required=True, metavar="{list,add,remove,test}")
    listing = actions.add_parser("list", help="the saved connections")
    listing.add_argument("--format", choices=("text", "json"), default="text")
    add = actions.add_parser("add", help="save a connection in config.toml")
    add.add_argument("name")
    where = add.add_mutually_exclusive_group()
    where.add_argument("--url", help="postgresql://user@host:port/db (no password), sqlite:///path or mongodb://…")
    where.add_argument("--service", help="a service of pg_service.conf")
    where.add_argument("--path", help="a SQLite file")
    add.add_argument("--host")
    add.add_argument("--port", type=int)
    add.add_argument("--user")
    add.add_argument("--database")
    add.add_argument("--scheme", choices=("postgresql", "mongodb", "mongodb+srv"))
    add.add_argument("--ssh", help="[user@]host[:port] or a Host of ~/.ssh/config to tunnel through")
    add.add_argument("--read-only", action="store_true", help="always open it read-only")
    add.add_argument("--production", action="store_true", help="mark it production (shown in red)")
    add.add_argument("--label", help="what the header and the picker call it")
    add.add_argument("--colour", choices=COLOURS)
    add.add_argument("--option", action="append", default=[], metavar="KEY=VALUE", help="a server option: statement_timeout, search_path, application_name, sslmode, sslrootcert, … (repeatable)")
    add.add_argument("--keyring", action="store_true", help="ask for the password and keep it in the OS keyring (needs the keyring extra)")
    add.add_argument("--replace", action="store_true", help="replace a connection of that name")
    remove = actions.add_parser("remove", help="take a connection out of config.toml")
    remove.add_argument("name")
    test = actions.add_parser("test", help="connect once and report (exit 0 when it works, 2 when not)")
    test.add_argument("target", help="a saved connection's name, a URL or a path")
    add_ssh(test)


def main(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings

    settings = Settings.load()
    return {"list": _list, "add": _add, "remove": _remove, "test": _test}[args.action](args, settings)


def _list(args: argparse.Namespace, settings: Any) -> int:
    profiles = sorted(settings.connections.values(), key=lambda p: p.name)
    if args.format == "json":
        rows = [
            {"name": p.name, "url": p.display_url, "ssh": p.ssh, "read_only": p.read_only, "production": p.production, "label": p.label, "colour": p.colour}
            for p in profiles
        ]
        print(json.dumps({"connections": rows}))
        return 0
    if not profiles:
        print("no saved connections (aishell connections add NAME --url …)")
        return 0
    width = max(len(p.name) for p in profiles)
    for p in profiles:
        marks = [m for m, on in (("production", p.production), ("read-only", p.read_only)) if on]
        extra = (f"  via ssh {p.ssh}" if p.ssh else "") + (f"  [{', '.join(marks)}]" if marks else "") + (f"  {p.label}" if p.label else "")
        print(f"{p.name:<{width}}  {p.display_url}{extra}")
    return 0


def _add(args: argparse.Namespace, settings: Any) -> int:
    from aishell.engine.connections import KEYRING_SERVICE, add_profile
    from aishell.engine.errors import ConfigurationError

    values: dict[str, Any] = {}
    for key in ("url", "service", "path", "scheme", "host", "port", "user", "database", "ssh", "label", "colour"):
        value = getattr(args, key)
        if value is not None:
            values[key] = value
    for key in ("read_only", "production"):
        if getattr(args, key):
            values[key] = True
    options = {}
    for item in args.option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"--option {item!r}: write KEY=VALUE (e.g. search_path=app,public)")
        options[key.strip()] = value
    if options:
        values["options"] = options
    password = None
    if args.keyring:
        try:
            import keyring  # noqa: PLC0415 - optional extra
        except ImportError:
            raise ConfigurationError("--keyring needs the keyring package (pip install 'aishell[keyring]')") from None
        import getpass

        password = getpass.getpass(f"password for {args.name}: ")
    profile = add_profile(settings, args.name, values, replace=args.replace)
    if password:
        try:
            keyring.set_password(KEYRING_SERVICE, args.name, password)
        except Exception as exc:  # noqa: BLE001 - any keyring failure is one line
            raise ConfigurationError(f"saved {args.name}, but the keyring refused the password: {exc}") from None
    print(f"saved {profile.name}: {profile.display_url}" + (f" via ssh {profile.ssh}" if profile.ssh else ""))
    return 0


def _remove(args: argparse.Namespace, settings: Any) -> int:
    from aishell.engine.connections import remove_profile

    remove_profile(settings, args.name)
    print(f"removed {args.name}")
    return 0


def _test(args: argparse.Namespace, settings: Any) -> int:
    return asyncio.run(_test_async(args, settings))


async def _test_async(args: argparse.Namespace, settings: Any) -> int:
    settings.memory.enabled = False
    settings.cache.enabled = False
    settings.pool.enabled = False
    started = time.perf_counter()
    session = await open_session(args.target, settings, ssh=args.ssh)
    try:
        await session.execute("db.runCommand({ping: 1})" if session.driver.language == "mongosh" else "SELECT 1")
        elapsed = (time.perf_counter() - started) * 1000
        print(f"ok: {session.display_url}{' (read-only)' if session.read_only else ''} in {elapsed:.0f} ms")
    finally:
        await session.close()
    return 0


async def open_session(target: str, settings: Any, **kwargs: Any) -> Any:
    """``Session.open``, asking for the password once (masked) when the server wants one the
    target lacks and a terminal is there to ask on."""
    from aishell.engine.errors import AuthenticationFailed
    from aishell.engine.session import Session

    try:
        return await Session.open(target, settings=settings, **kwargs)
    except AuthenticationFailed:
        if not sys.stdin.isatty() or kwargs.get("password"):
            raise
        import getpass

        password = await asyncio.to_thread(getpass.getpass, "password: ")
        return await Session.open(target, settings=settings, password=password, **kwargs)
