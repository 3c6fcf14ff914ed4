"""Start the workbench on a database (the demo database when none is named)."""

from __future__ import annotations

import argparse
import gc
import sys


def main(args: argparse.Namespace) -> int:
    # Start-up allocates many long-lived objects (modules, classes, styles): no collection
    # passes until the first frame is on screen; the app turns the collector back on then.
    gc.disable()
    from aishell.engine.config import Settings
    from aishell.engine.demo import ensure_demo_database
    from aishell.engine.drivers import check_target

    settings = Settings.load()
    target = args.target
    if target is None:
        target = str(ensure_demo_database(settings.demo_db_path))
    else:
        check_target(target, create=args.create)  # a usage error ends here, before the screen is taken
    from aishell.tui.app import run_app  # noqa: PLC0415 - Textual only when the app starts

    return run_app(target, settings=settings, read_only=args.read_only, create=args.create, theme=args.theme)
