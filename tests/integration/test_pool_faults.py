"""Fault tests on a cluster of their own: server stopped and started mid-load, backends killed.

The cluster is private to this module (stopping the session-wide one would break tests running
in parallel). Every caller must get a result or a clear AishellError, nobody waits past the
acquire timeout, the breaker opens while the server is gone and closes once it is back, and
the pool serves again within 2 s of the server coming back.
"""

from __future__ import annotations

import asyncio
import os
import time

import asyncpg
import pytest

from aishell.engine.bench.pgtemp import PgCluster
from aishell.engine.config import Settings
from aishell.engine.errors import AishellError
from aishell.engine.session import Session

pytestmark = pytest.mark.slow

ACQUIRE_TIMEOUT = 2.0
SLACK = 1.0  # scheduling on a loaded 2-core machine


@pytest.fixture(scope="module")
def own_cluster():
    if os.environ.get("AISHELL_TEST_PG_URL"):
        pytest.skip("fault tests stop the server: they need the throwaway cluster, not AISHELL_TEST_PG_URL")
    cluster = PgCluster()
    try:
        cluster.init()
        cluster.start()
        cluster.setup_database()
        yield cluster
    finally:
        cluster.destroy()


def fault_settings() -> Settings:
    s = Settings.load(read_file=False)
    s.memory.enabled = False
    s.cache.enabled = False
    s.pool.min_size = 4
    s.pool.max_size = 8
    s.pool.acquire_timeout = ACQUIRE_TIMEOUT
    s.pool.breaker_threshold = 3
    s.pool.breaker_backoff = 0.5
    s.pool.health_check_interval = 0.5
    return s


class Load:
    """Workers running statements in a loop, recording (start, end, error) per call."""

    def __init__(self, session: Session, workers: int = 16) -> None:
        self.session = session
        self.outcomes: list[tuple[float, float, AishellError | None]] = []
        self.breaker_states: set[str] = set()
        self.max_waiters = 0
        self._stop = False
        self._tasks = [asyncio.create_task(self._worker()) for _ in range(workers)]
        self._tasks.append(asyncio.create_task(self._monitor()))

    async def _worker(self) -> None:
        while not self._stop:
            started = time.monotonic()
            try:
                await self.session.execute("SELECT 1 FROM pg_sleep(0.005)")
            except AishellError as exc:  # anything else escapes and fails the test
                self.outcomes.append((started, time.monotonic(), exc))
                await asyncio.sleep(0.02)
            else:
                self.outcomes.append((started, time.monotonic(), None))

    async def _monitor(self) -> None:
        while not self._stop:
            snap = self.session.metrics()["pool"]
            self.breaker_states.add(snap.breaker)
            self.max_waiters = max(self.max_waiters, snap.waiters)
            await asyncio.sleep(0.01)

    def successes_after(self, moment: float) -> list[float]:
        return [end for start, end, err in self.outcomes if err is None and start >= moment]

    async def wait_for_success_after(self, moment: float, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.successes_after(moment):
            await asyncio.sleep(0.02)

    async def stop(self) -> None:
        self._stop = True
        done, pending = await asyncio.wait(self._tasks, timeout=ACQUIRE_TIMEOUT + 5)
        assert not pending, "a worker hung"
        for task in done:
            task.result()  # re-raise anything that was not an AishellError

    def check_outcomes(self) -> None:
        assert self.outcomes
        longest = max(end - start for start, end, _ in self.outcomes)
        assert longest < ACQUIRE_TIMEOUT + SLACK, f"a call took {longest:.2f}s"
        for _, _, err in self.outcomes:
            if err is not None:
                assert str(err) and "\n" not in str(err).strip()


async def test_server_stopped_and_started_under_load(own_cluster):
    session = await Session.open(own_cluster.url, settings=fault_settings())
    try:
        load = Load(session)
        await asyncio.sleep(0.5)
        before = len(load.successes_after(0))
        assert before > 0, load.outcomes[:5]
        await asyncio.to_thread(own_cluster.stop, "immediate")
        down = time.monotonic()
        await asyncio.sleep(1.5)
        assert "open" in load.breaker_states, load.breaker_states
        errors_while_down = [err for start, _, err in load.outcomes if start >= down + 0.2]
        assert errors_while_down and all(err is not None for err in errors_while_down)
        kinds = {type(err).__name__ for err in errors_while_down}
        assert "CircuitOpen" in kinds  # failing fast, not hammering the dead server
        await asyncio.to_thread(own_cluster.start)
        back = time.monotonic()
        await load.wait_for_success_after(back, 5.0)
        await asyncio.sleep(0.3)
        await load.stop()
        first = min(load.successes_after(back))
        assert first - back < 2.0, f"served again {first - back:.2f}s after the server came back"
        load.check_outcomes()
        snap = session.metrics()["pool"]
        assert snap.breaker == "closed" and snap.errors > 0 and snap.in_use == 0
        assert load.max_waiters <= 16
        assert (await session.execute("SELECT 1")).rows == [(1,)]
    finally:
        await session.close()


async def test_backends_terminated_under_load(own_cluster):
    session = await Session.open(own_cluster.url, settings=fault_settings())
    admin = await asyncpg.connect(own_cluster.url, server_settings={"application_name": "fault-admin"})
    try:
        load = Load(session)
        killed = 0
        for _ in range(3):
            await asyncio.sleep(0.4)
            killed += await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name = 'aishell' AND pid <> pg_backend_pid()"
            )
        last_kill = time.monotonic()
        await load.wait_for_success_after(last_kill, 5.0)
        await load.stop()
        assert killed >= 3
        assert load.successes_after(last_kill), "the pool did not recover"
        assert min(load.successes_after(last_kill)) - last_kill < 2.0
        load.check_outcomes()
        failures = [err for _, _, err in load.outcomes if err is not None]
        assert all(type(err).__name__ in ("ConnectionLost", "QueryError", "CircuitOpen", "ConnectionFailed") for err in failures), {
            type(e).__name__ for e in failures
        }
        snap = session.metrics()["pool"]
        assert snap.in_use == 0 and snap.breaker == "closed"
        assert snap.closed >= 3 and snap.opened > 4  # broken ones were replaced
        assert (await session.execute("SELECT 1")).rows == [(1,)]
    finally:
        await admin.close()
        await session.close()
