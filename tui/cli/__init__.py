"""`aishell` entry point: the command line, one module a sub-command.

Each sub-command is ``tui/cli/<name>.py``: a docstring (its help), ``add_arguments(parser)`` and
``main(args) -> int``; their heavy imports happen inside ``main`` so ``aishell --version`` stays
fast. Textual is imported only when the app starts. Errors the engine raises on purpose print one
line on stderr and exit 2; the settings are loaded before any command runs, so one that cannot be
used stops every command that way before it does anything.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from aishell.engine import __version__

COMMANDS = ("run", "analyze", "memory", "bench", "backup", "restore", "migrate", "top", "connections", "advise")
EXIT_USAGE = 2


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in COMMANDS:
        command = _command(argv[0])
        parser = argparse.ArgumentParser(prog=f"aishell {argv[0]}", description=command.__doc__.splitlines()[0])
        command.add_arguments(parser)
        args = parser.parse_args(argv[1:])
        _private_process(argv)
        return _guarded(lambda: command.main(args))
    parser = _app_parser()
    args = parser.parse_args(argv)
    _private_process(argv)
    from aishell.tui.cli import app as app_command

    return _guarded(lambda: app_command.main(args))


def _app_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aishell",
        description="A terminal workbench for PostgreSQL, SQLite and MongoDB.",
        epilog="commands: " + ", ".join(COMMANDS) + " (aishell COMMAND --help)",
    )
    from aishell.tui.cli.target import TARGET_HELP, add_ssh

    parser.add_argument("--version", action="version", version=f"aishell {__version__}")
    parser.add_argument("target", nargs="?", help=TARGET_HELP + " (default: the picker when connections are saved, else the demo database)")
    add_ssh(parser)
    parser.add_argument("--read-only", action="store_true", help="open the session read-only: the server's read-only session, statements that would escape it refused, and a check after each (see README)")
    parser.add_argument("--create", action="store_true", help="create the SQLite file if it does not exist")
    parser.add_argument("--theme", help="theme name (built-in or from the config dir's themes/)")
    return parser


def _private_process(argv: list[str]) -> None:
    """Files this process creates are 0600 (directories 0700), its data dirs are narrowed, and
    every log record goes through one redacting handler that also masks the passwords given on
    the command line (or in PGPASSWORD) wherever they stand as a whole word."""
    import os

    from aishell.engine import logs
    from aishell.engine.config import private_dirs
    from aishell.engine.redact import passwords_in

    os.umask(0o077)
    secrets = [password for arg in argv for password in passwords_in(arg)]
    logs.setup(secrets=secrets + [os.environ.get("PGPASSWORD", "")])
    try:
        private_dirs()
    except OSError:
        pass  # a directory we cannot narrow is not a reason to refuse the command


def _command(name: str):
    """The module ``aishell.tui.cli.<name>``: docstring, ``add_arguments(parser)``, ``main(args)``."""
    return importlib.import_module(f"aishell.tui.cli.{name}")


def _guarded(fn) -> int:
    from aishell.engine.errors import AishellError

    try:
        _check_settings()
        return int(fn() or 0)
    except AishellError as exc:
        print(f"aishell: {_one_line(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("aishell: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0


def _check_settings() -> None:
    """Load the settings once before any command runs: a value that cannot be used (file,
    environment) stops every command the same way, with one line, before it does anything,
    including the commands that read no settings themselves."""
    from aishell.engine.config import Settings

    Settings.load()


def _one_line(exc: Exception) -> str:
    one_line = getattr(exc, "one_line", None)
    return one_line() if callable(one_line) else str(exc).replace("\n", " ")
