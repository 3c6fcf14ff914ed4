"""``aishell top URL``: the server pane full-screen, for sessions that only watch the server.

The same widget and controller as the workbench's Server tab; no editor, so ``o`` shows the
statement in a notice instead of opening a buffer.
"""

from __future__ import annotations

from typing import Any

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Header

from aishell.engine.config import Settings
from aishell.engine.errors import AishellError
from aishell.tui.controllers.server import ServerController
from aishell.tui.screens.server_routes import ServerRoutes
from aishell.tui.widgets.server import ServerPane


class TopScreen(ServerRoutes, Screen):
    """The server pane over the whole terminal, sampling while it is shown."""

    def __init__(self) -> None:
        super().__init__()
        self.server = ServerController(self, shown=lambda: self.app.screen is self)

    @property
    def session(self) -> Any:
        """The app's one Session (``aishell top`` watches a single server)."""
        return self.app.session  # type: ignore[attr-defined]

    def compose(self) -> ComposeResult:
        yield Header()
        yield ServerPane(id="server")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#server-table").focus()

    def start(self) -> None:
        self.server.watch(True)

    @on(ServerPane.OpenRequested)
    def _open(self, event: ServerPane.OpenRequested) -> None:
        event.stop()
        self.notify(event.statement, title="Statement (open it in the workbench to explain it)", timeout=15)


class TopApp(App[int]):
    """Connects, then shows :class:`TopScreen`; ``session`` may be given (tests)."""

    TITLE = "AIShell top"
    BINDINGS = [
        Binding("ctrl+q,q", "quit", "Quit", id="top.quit", tooltip="Leave aishell top"),
    ]

    def __init__(self, target: str, *, settings: Settings, read_only: bool = False, session: Any = None, ssh: str = "") -> None:
        super().__init__()
        self.target = target
        self.ssh = ssh
        """``--ssh``: the hop to tunnel through ("" direct, or the saved connection's)."""
        self.settings = settings
        self.read_only = read_only
        self.session: Any = session

    def get_default_screen(self) -> Screen:
        return TopScreen()

    def on_mount(self) -> None:
        self.sub_title = ""
        if self.session is None:
            self.connect()
        else:
            self._connected()

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def connect(self) -> None:
        from aishell.engine.session import Session

        try:
            self.session = await Session.open(self.target, settings=self.settings, read_only=self.read_only, ssh=self.ssh)
        except AishellError as exc:
            self.exit(2, message=f"aishell: {exc}")
            return
        self._connected()

    def _connected(self) -> None:
        self.sub_title = self.session.display_url + (" · read-only" if self.session.read_only else "")
        screen = self.screen
        if isinstance(screen, TopScreen):
            screen.start()

    async def on_unmount(self) -> None:
        screen = self.screen_stack[0] if self.screen_stack else None
        if isinstance(screen, TopScreen):
            await screen.server.close()
        if self.session is not None:
            await self.session.close()
