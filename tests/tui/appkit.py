"""Helpers for the workbench's Pilot tests: a demo database copy and waiting for conditions."""

from __future__ import annotations

import shutil
import time
from pathlib import Path
from typing import Callable

from aishell.engine.config import Settings


async def until(pilot, condition: Callable[[], bool], *, timeout: float = 15.0, what: str = "condition") -> None:
    """Let the app run until ``condition()`` holds; fail with ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await pilot.pause(0.05)


def make_app(target: str | Path, **kwargs):
    from aishell.tui.app import AishellApp

    settings = kwargs.pop("settings", None) or Settings.load()
    app = AishellApp(str(target), settings=settings, **kwargs)
    app.animation_level = "none"
    return app


async def connected(pilot) -> None:
    app = pilot.app
    await until(pilot, lambda: app.session is not None and getattr(app.screen, "connection_state", "") == "connected", what="connection")


def copy_db(master: Path, directory: Path) -> Path:
    target = directory / "demo.db"
    shutil.copy(master, target)
    return target


def type_sql(pilot, sql: str) -> None:
    editor = pilot.app.screen.query_one("#editor")
    editor.text_area.load_text(sql)
    editor.text_area.cursor_location = (0, 0)


def grid(pilot):
    return pilot.app.screen.query_one("#results")


async def run(pilot, sql: str, *, key: str = "f5", finished: bool = True) -> None:
    """Type ``sql`` into the editor, press the run key and wait for a result or error."""
    g = grid(pilot)
    type_sql(pilot, sql)
    await pilot.pause()
    g.clear()
    await pilot.press(key)
    if finished:
        await until(pilot, lambda: done(g), what=f"result of {sql!r}")


def done(g) -> bool:
    return g.finished or g.row_count > 0 or g.has_class("-error")


def dialog_ready(app, kind: type) -> bool:
    """``app.screen`` is a ``kind`` that has mounted (its widgets composed and its on_mount run):
    a screen is on top from its push, a frame before it can be queried."""
    return isinstance(app.screen, kind) and app.screen.is_mounted
