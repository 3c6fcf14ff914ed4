"""Whether the database can be reached right now: ``connected``, ``reconnecting`` or ``disconnected``.

The connection source (pool or single connection) reports what it sees: a connection the server
closed, a connect that failed, a connection that worked. :class:`Liveness` turns those into one
state and tells its listeners only when that state changes, so a front end shows it without
polling. After a loss it checks with a fresh connection at once (a connection closed on purpose,
e.g. recycled, changes nothing), then keeps probing with growing pauses while the server is away
and reports ``connected`` as soon as a probe gets through. ``reconnecting`` turns into
``disconnected`` after ``give_up_after`` seconds; probing goes on, slower.

>>> import asyncio
>>> async def demo():
...     up = False
...     async def probe():
...         if not up:
...             raise OSError("connection refused")
...     seen = []
...     liveness = Liveness(probe, first_wait=0.01)
...     liveness.listen(lambda state, detail: seen.append((state, detail)))
...     liveness.lost("server closed the connection")
...     await asyncio.sleep(0.05)
...     up = True
...     await asyncio.sleep(0.1)
...     await liveness.close()
...     return seen
>>> asyncio.run(demo())
[('reconnecting', 'connection refused'), ('connected', '')]
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Awaitable, Callable

CONNECTED = "connected"
RECONNECTING = "reconnecting"
DISCONNECTED = "disconnected"

Listener = Callable[[str, str], None]
"""Called with ``(state, detail)`` on every change; ``detail`` is the last failure, one line."""


class Liveness:
    """The reachability of one database, pushed to listeners when it changes."""

    __slots__ = ("state", "detail", "_probe", "_listeners", "_task", "_closed", "give_up_after", "first_wait", "max_wait", "answer_within", "probe_timeout")

    def __init__(
        self,
        probe: Callable[[], Awaitable[None]],
        *,
        give_up_after: float = 10.0,
        first_wait: float = 0.25,
        max_wait: float = 2.0,
        answer_within: float = 0.75,
        probe_timeout: float = 10.0,
    ) -> None:
        self.state = CONNECTED
        """The state listeners last heard (a session starts connected: it was just opened)."""
        self.detail = ""
        """Why the state is not ``connected``: the last probe's failure."""
        self._probe = probe
        self._listeners: list[Listener] = []
        self._task: asyncio.Task | None = None
        self._closed = False
        self.give_up_after = give_up_after
        """Seconds of failed probes after which ``reconnecting`` becomes ``disconnected``."""
        self.first_wait = first_wait
        """Pause after the first failed probe; it doubles up to ``max_wait``."""
        self.max_wait = max_wait
        self.answer_within = answer_within
        """A probe that has not answered by then counts as a failure for the state shown (it
        goes on until ``probe_timeout``): a server that stopped answering shows within a second."""
        self.probe_timeout = probe_timeout

    def listen(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener(state, detail)`` on every change; returns the function that stops it."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def lost(self, reason: str) -> None:
        """Something suggests the server is gone (a connection it closed, a connect that failed):
        check it in the background. Cheap and idempotent; needs a running event loop."""
        if self._closed or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._recover(reason), name="aishell-liveness")

    def reached(self) -> None:
        """A connection was just made or used: the server is there (probing stops)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
        self._set(CONNECTED, "")

    async def close(self) -> None:
        """Stop probing; listeners hear nothing more."""
        self._closed = True
        self._listeners.clear()
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(BaseException):
                await task

    async def _recover(self, reason: str) -> None:
        started = time.monotonic()
        wait = self.first_wait
        try:
            while not self._closed:
                failure = await self._check(reason)
                if failure is None:
                    self._set(CONNECTED, "")
                    return
                down_for = time.monotonic() - started
                self._set(RECONNECTING if down_for < self.give_up_after else DISCONNECTED, failure)
                await asyncio.sleep(wait)
                wait = min(wait * 2, self.max_wait)
        finally:
            if self._task is asyncio.current_task():
                self._task = None

    async def _check(self, reason: str) -> str | None:
        """One probe: None when it got through, else why not. A probe still waiting after
        ``answer_within`` seconds is shown as a failure while it goes on."""
        probe = asyncio.ensure_future(asyncio.wait_for(self._probe(), self.probe_timeout))
        try:
            done, _ = await asyncio.wait({probe}, timeout=self.answer_within)
            if not done:
                self._set(RECONNECTING, f"{reason}; no answer yet")
            await probe
        except asyncio.CancelledError:
            probe.cancel()
            raise
        except (asyncio.TimeoutError, TimeoutError):
            return f"no answer within {self.probe_timeout:g}s"
        except Exception as exc:  # noqa: BLE001 - any failure to connect is the answer
            return " ".join(str(exc).split()) or type(exc).__name__
        return None

    def _set(self, state: str, detail: str) -> None:
        if state == self.state and detail == self.detail:
            return
        changed = state != self.state
        self.state, self.detail = state, detail
        if changed:
            for listener in list(self._listeners):
                listener(state, detail)


__all__ = ["Liveness", "CONNECTED", "RECONNECTING", "DISCONNECTED"]
