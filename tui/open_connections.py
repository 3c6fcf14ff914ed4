"""The connections open in the workbench: one main screen each, in a Textual mode of its own.

A mode is a screen stack, so each connection keeps its own buffers, results, transaction,
metrics and memory pane, and a dialog asked on one connection stays with it while another is in
front. The screen holds its Session (``MainScreen.session``); the app asks this registry which
screens are open and which one is in front.

Buffers: the first connection keeps ``buffers.json``, so one connection works as it always did.
A connection opened beside it keeps its buffers in a file named after its saved connection (or
its redacted URL), so opening it beside again brings them back:

>>> buffer_file_name("prod-db")
'buffers-prod-db-281172a7.json'
>>> buffer_file_name("sqlite:////home/ann/projects/shop/data/orders.db", copy=2)
'buffers-home-ann-projects-shop-data-orders.db-a7b5969d-2.json'
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from aishell.tui.messages import ConnectionChanged, TunnelChanged

if TYPE_CHECKING:
    from textual.app import App

    from aishell.tui.screens.main import MainScreen

FIRST_BUFFERS = "buffers.json"
"""The first connection's buffers file: the one a single-connection workbench always used."""


@dataclass(frozen=True)
class OpenConnection:
    """One line of the switcher: what an open connection is and what state it is in."""

    index: int
    """1 for the first one open."""
    label: str
    """The saved connection's label or name, else ""."""
    colour: str
    """The saved connection's colour ("none" without one)."""
    url: str
    """Its redacted URL ("connecting…" before it connects)."""
    transaction: str
    """"" with no transaction open, else "transaction open" or "transaction failed"."""
    active: bool
    """It is the one in front."""


def buffer_file_name(key: str, *, copy: int = 1) -> str:
    """The buffers file of the connection known as ``key`` (a saved connection's name or a
    redacted URL); ``copy`` numbers a second screen open on the same one."""
    words = [w for w in re.split(r"[^A-Za-z0-9._]+", key) if w.strip(".")]
    kept: list[str] = []
    for word in reversed(words):  # the tail names the database: keep whole words from the end
        if kept and len("-".join([word, *kept])) > 40:
            break
        kept.insert(0, word[-40:])
    slug = "-".join(kept) or "connection"
    digest = hashlib.sha256(key.encode()).hexdigest()[:8]
    return f"buffers-{slug}-{digest}" + (f"-{copy}" if copy > 1 else "") + ".json"


class OpenConnections:
    """The app's main screens in the order they were opened, each under its mode's name."""

    def __init__(self, app: "App[Any]") -> None:
        self._app = app
        self._modes: dict["MainScreen", str] = {}
        self._buffers: dict["MainScreen", Path] = {}
        self._unfollow: dict["MainScreen", Callable[[], None]] = {}
        self._opened = 0

    def __len__(self) -> int:
        return len(self._modes)

    @property
    def screens(self) -> list["MainScreen"]:
        """Every open connection's screen, the first opened first."""
        return list(self._modes)

    def add(self, screen: "MainScreen", *, buffers: Path | None = None) -> str:
        """Register ``screen`` under a new mode; the mode's name (the first one is the app's
        default mode, whose stack Textual built from ``get_default_screen``)."""
        self._opened += 1
        mode = self._app.DEFAULT_MODE if self._opened == 1 else f"connection-{self._opened}"
        self._app.add_mode(mode, lambda: screen)
        self._modes[screen] = mode
        self._buffers[screen] = buffers or Path(self._app.settings.data_dir) / FIRST_BUFFERS  # type: ignore[attr-defined]
        self.show_positions()
        return mode

    def buffers_for(self, key: str) -> Path:
        """A buffers file for a connection opened beside the others, named after ``key``; a
        second screen on the same connection gets a file of its own."""
        data_dir = Path(self._app.settings.data_dir)  # type: ignore[attr-defined]
        taken = set(self._buffers.values())
        copy = 1
        while (path := data_dir / buffer_file_name(key, copy=copy)) in taken:
            copy += 1
        return path

    def go(self, screen: "MainScreen") -> None:
        """Bring ``screen``'s connection to the front."""
        self._app.switch_mode(self._modes[screen])

    def step(self, by: int) -> "MainScreen | None":
        """The connection ``by`` places after the one in front (wrapping round), now in front."""
        screens = self.screens
        active = self.active
        if len(screens) < 2 or active is None:
            return None
        target = screens[(screens.index(active) + by) % len(screens)]
        self.go(target)
        return target

    @property
    def active(self) -> "MainScreen | None":
        """The screen of the connection in front."""
        mode = self._app.current_mode
        return next((screen for screen, name in self._modes.items() if name == mode), None)

    def remove(self, screen: "MainScreen") -> None:
        """Close ``screen``'s place: a neighbour comes to the front if it was there, its mode
        and screen go, and its listeners stop (the caller closes its Session)."""
        screens = self.screens
        if self.active is screen:
            index = screens.index(screen)
            self.go(screens[index + 1] if index + 1 < len(screens) else screens[index - 1])
        self.unfollow(screen)
        mode = self._modes.pop(screen)
        self._buffers.pop(screen, None)
        self._app.remove_mode(mode)
        self.show_positions()

    def show_positions(self) -> None:
        """Each header says which of how many its connection is (``2/3``)."""
        from aishell.tui.screens.main import Header

        count = len(self._modes)
        for index, screen in enumerate(self._modes, 1):
            found = screen.query(Header) if screen.is_mounted else ()
            for header in found:
                header.show_position(index, count)

    def describe(self) -> list[OpenConnection]:
        """What the switcher lists, one line a connection."""
        active = self.active
        lines = []
        for index, screen in enumerate(self._modes, 1):
            session = screen.session
            profile = session.profile if session is not None else None
            transaction = ""
            if session is not None and session.transaction.open:
                transaction = "transaction failed" if session.transaction.needs_rollback else "transaction open"
            lines.append(OpenConnection(
                index,
                (profile.title if profile is not None else ""),
                (profile.colour if profile is not None else "none"),
                session.display_url if session is not None else "connecting…",
                transaction,
                screen is active,
            ))
        return lines

    def follow(self, screen: "MainScreen", session: Any) -> None:
        """Tell ``screen`` whenever the engine's view of its server (or SSH tunnel) changes:
        its header shows the real state, pushed by the engine rather than polled."""
        self.unfollow(screen)

        def changed(state: str, detail: str) -> None:
            if screen.session is session:  # a replaced session's last word is not news
                screen.post_message(ConnectionChanged(state, detail))

        stops = [session.liveness.listen(changed)]
        if session.tunnel is not None:

            def tunnel(state: str) -> None:
                if screen.session is session:
                    screen.post_message(TunnelChanged(state))

            stops.append(session.tunnel.listen(tunnel))
        self._unfollow[screen] = lambda: [stop() for stop in stops]

    def unfollow(self, screen: "MainScreen") -> None:
        """Stop ``screen``'s listeners (its session is replaced or closed)."""
        stop = self._unfollow.pop(screen, None)
        if stop is not None:
            stop()


__all__ = ["FIRST_BUFFERS", "OpenConnection", "OpenConnections", "buffer_file_name"]
