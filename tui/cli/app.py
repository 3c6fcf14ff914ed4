"""Start the workbench on a database (the picker when connections are saved and none is named,
else the demo database)."""

from __future__ import annotations

import argparse
import gc


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
        target = "" if settings.connections else str(ensure_demo_database(settings.demo_db_path))
    else:
        from aishell.engine.connections import resolve

        # a usage error (an unknown name, a bad URL) ends here, before the screen is taken
        check_target(resolve(target, settings, ssh=args.ssh).url, create=args.create)
    from aishell.tui.app import run_app  # noqa: PLC0415 - Textual only when the app starts

    return run_app(target, settings=settings, read_only=args.read_only, create=args.create, theme=args.theme, ssh=args.ssh)
