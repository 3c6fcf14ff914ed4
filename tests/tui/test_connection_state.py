"""The header tells the truth about the server: stop it and the header says so within a second
(nothing running, nothing typed), start it and the header says connected again; meanwhile the
header is written only when what it says changes."""

from __future__ import annotations

import asyncio
import time

import pytest

from aishell.engine.config import Settings
from tests.tui.appkit import connected, make_app, run, until

pytestmark = pytest.mark.pg
SIZE = (120, 36)


def header_text(app) -> str:
    return str(app.screen.query_one("#conn-state").content)


async def test_header_follows_the_server(pg_stoppable):
    settings = Settings.load(overrides={"memory": {"enabled": False}})
    app = make_app(pg_stoppable.url, settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        assert header_text(app) == "connected"
        label = app.screen.query_one("#conn-state")
        updates: list[str] = []
        original = label.update
        label.update = lambda content="", **kw: (updates.append(str(content)), original(content, **kw))[1]
        await pilot.pause(0.5)
        assert updates == []  # idle: the header is not rewritten

        await asyncio.to_thread(pg_stoppable.stop)
        try:
            stopped = time.monotonic()
            await until(pilot, lambda: app.screen.connection_state in ("reconnecting…", "disconnected"), timeout=5, what="the header to show the loss")
            assert time.monotonic() - stopped <= 1.0
            assert header_text(app) in ("reconnecting…", "disconnected")
            assert app.screen.query_one("#conn-state").has_class("-bad")
        finally:
            await asyncio.to_thread(pg_stoppable.start)
        await until(pilot, lambda: header_text(app) == "connected", timeout=10, what="the header to show the server back")
        assert updates[0] in ("reconnecting…", "disconnected") and updates[-1] == "connected"
        assert all(a != b for a, b in zip(updates, updates[1:])), updates  # each change written once

        await run(pilot, "SELECT 7 AS seven")
        grid = app.screen.query_one("#results")
        assert [tuple(r) for r in grid.rows] == [(7,)] and header_text(app) == "connected"
