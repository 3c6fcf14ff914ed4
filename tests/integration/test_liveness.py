"""The engine's view of the server follows the server, with nothing running: an idle session hears
the server go within a second and come back, and listeners hear each change once. A backend
killed while the server is up (or a connection recycled) changes nothing."""

from __future__ import annotations

import asyncio
import time

import asyncpg
import pytest

from aishell.engine.config import Settings
from aishell.engine.session import Session

pytestmark = pytest.mark.pg


def quiet_settings() -> Settings:
    """No memory, cache or schema polling: nothing but the pool talks to the server."""
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}, "pool": {"health_check_interval": 0}})


async def wait_for(condition, timeout: float, what: str) -> float:
    """Poll ``condition`` until it holds; the time it took."""
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def test_idle_session_sees_the_server_stop_and_start(pg_stoppable):
    session = await Session.open(pg_stoppable.url, settings=quiet_settings())
    heard: list[tuple[str, str]] = []
    session.liveness.listen(lambda state, detail: heard.append((state, detail)))
    try:
        assert session.liveness.state == "connected"
        await asyncio.sleep(0.3)
        assert heard == []  # nothing happened, nothing said
        stopping = time.monotonic()
        await asyncio.to_thread(pg_stoppable.stop)
        stopped = time.monotonic()
        try:
            await wait_for(lambda: session.liveness.state != "connected", 1.0, "the loss to be seen")
            assert heard[0][0] == "reconnecting" and heard[0][1], heard
            print(f"loss seen {time.monotonic() - stopping:.3f}s after pg_ctl stop began ({stopped - stopping:.3f}s to stop)")
        finally:
            await asyncio.to_thread(pg_stoppable.start)
        took = await wait_for(lambda: session.liveness.state == "connected", 10.0, "the server to be seen again")
        print(f"return seen {took:.3f}s after pg_ctl start returned")
        assert heard[-1] == ("connected", "")
        states = [state for state, _ in heard]
        assert all(a != b for a, b in zip(states, states[1:])), states  # each change said once
        result = await session.execute("SELECT 1 AS one")
        assert result.rows == [(1,)]
    finally:
        await session.close()


async def test_killed_backend_on_a_live_server_changes_nothing(pg_url):
    session = await Session.open(pg_url, settings=quiet_settings())
    heard: list[tuple[str, str]] = []
    session.liveness.listen(lambda state, detail: heard.append((state, detail)))
    try:
        pid = (await session.execute("SELECT pg_backend_pid()")).rows[0][0]
        admin = await asyncpg.connect(pg_url)
        try:
            await admin.execute("SELECT pg_terminate_backend($1)", pid)
        finally:
            await admin.close()
        await asyncio.sleep(0.5)  # the pool saw the connection close and checked with a probe
        assert heard == [] and session.liveness.state == "connected"
        assert (await session.execute("SELECT 2 AS two")).rows == [(2,)]
    finally:
        await session.close()
