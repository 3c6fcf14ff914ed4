"""Watch a server full-screen: sessions, locks, top statements and health (aishell top URL).

The same view as the workbench's Server tab: ``a`` activity, ``l`` locks, ``t`` top statements,
``h`` health, ``f`` filter, ``x``/``X`` cancel or terminate a session after a confirmation
(refused with ``--read-only``), ``q`` quits.
"""

from __future__ import annotations

import argparse

from aishell.tui.cli.target import TARGET_HELP, add_ssh


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", help=TARGET_HELP)
    add_ssh(parser)
    parser.add_argument("--read-only", action="store_true", help="watch only: cancel and terminate are refused")


def main(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings
    from aishell.engine.drivers import check_target

    from aishell.engine.connections import resolve

    settings = Settings.load()
    check_target(resolve(args.target, settings, ssh=args.ssh).url)  # a usage error ends here, before the screen is taken
    settings.memory.enabled = False  # top runs no statements of the user's: nothing to remember
    from aishell.engine import logs
    from aishell.engine.redact import passwords_in
    from aishell.tui.screens.top import TopApp

    app = TopApp(args.target, settings=settings, read_only=args.read_only or settings.read_only, ssh=args.ssh)
    logs.add_secrets(passwords_in(args.target))
    with logs.to_file(settings.data_dir / "aishell.log"):
        app.run()
    return int(app.return_code or 0)
