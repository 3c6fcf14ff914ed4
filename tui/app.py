"""The AIShell workbench: the Textual App. It opens the Sessions (each open connection has its
own main screen, in a Textual mode of its own: :mod:`tui.open_connections`), and owns the
settings, themes and key map; a main screen lays out the panes and runs statements in workers.

    run_app("sqlite:///shop.db", settings=Settings.load(), read_only=False, create=False, theme=None)
"""

from __future__ import annotations

import asyncio
import gc
import select
import sys
from pathlib import Path
from typing import Any

from textual import events, work
from textual.app import App
from textual.binding import Binding
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from aishell.engine.config import Settings
from aishell.engine.errors import AishellError
from aishell.tui.compat import textual as compat
from aishell.tui.cursor_rest import CursorRest
from aishell.tui.messages import ConnectRequested, Reconnected
from aishell.tui.open_connections import OpenConnections
from aishell.tui.themes import choose_theme, load_themes

CSS = Path(__file__).with_name("app.tcss")


class AishellApp(App[int]):
    """The workbench: one main screen an open connection; ``session`` is the one in front's
    (None while it connects)."""

    CSS_PATH = str(CSS)
    TITLE = "AIShell"
    ENABLE_COMMAND_PALETTE = True
    DEFAULT_MODE = "connection-1"
    """The first connection's mode (Textual's own default name cannot be switched back to)."""
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="app.quit", tooltip="Leave AIShell (buffers are saved)", priority=True),
        Binding("f1", "help", "Help", id="app.help", tooltip="Show every key and what it does"),
        Binding("ctrl+t", "cycle_theme", "Theme", show=False, id="app.cycle_theme", tooltip="Switch to the next theme"),
        Binding("ctrl+o", "connect", "Connect", show=False, id="app.connect", tooltip="Connect to another database (like \\c); in the picker Ctrl-N opens it beside this one"),
        Binding("f12", "next_connection(1)", "Next connection", show=False, id="app.next_connection", tooltip="Go to the next open connection (each keeps its buffers, results and transaction)"),
        Binding("shift+f12", "next_connection(-1)", "Previous connection", show=False, id="app.previous_connection", tooltip="Go to the previous open connection"),
        Binding("alt+l", "connections", "Connections", show=False, id="app.connections", tooltip="List the open connections and go to one"),
        Binding("alt+x", "close_connection", "Close connection", show=False, id="app.close_connection", tooltip="Close the connection in front (asks first with a transaction open; the last one quits)"),
    ]

    def __init__(
        self,
        target: str,
        *,
        settings: Settings | None = None,
        read_only: bool = False,
        create: bool = False,
        theme: str | None = None,
        session: Any = None,
        ssh: str = "",
    ) -> None:
        super().__init__()
        self.settings = settings or Settings.load()
        self.target = target
        """What to open: a URL, a path or a saved connection's name ("" asks with the picker)."""
        self.ssh = ssh
        """``--ssh``: the hop every connection of this run goes through ("" direct, or a profile's)."""
        self.read_only_requested = read_only or self.settings.read_only
        self.create = create
        self._given_session: Any = session
        """A session opened by the caller (tests): the first screen's, once it exists."""
        self.connections = OpenConnections(self)
        """The open connections' screens, and which is in front."""
        self.theme_errors: list[str] = []
        themes, self.theme_errors = load_themes(self.settings.config_dir)
        for item in themes:
            self.register_theme(item)
        self.theme = choose_theme(theme, self.settings.ui.theme, set(self.available_themes))
        if theme and theme != self.theme:
            self.theme_errors.append(f"unknown theme {theme!r}; available: {', '.join(sorted(n for n in self.available_themes if n.startswith('aishell')))}")
        if self.settings.keys:
            compat.set_keymap(self, self.settings.keys)
        self.cursor_rest = CursorRest(self, self.settings.ui.cursor_rest)
        """Stops the cursor blinking while nobody types (an idle workbench writes nothing)."""

    # -- lifecycle --------------------------------------------------------------------------------

    @property
    def session(self) -> Any:
        """The Session of the connection in front (None while it connects)."""
        main = self._main_screen()
        return getattr(main, "session", None)

    def get_default_screen(self) -> "Screen":
        from aishell.tui.screens.main import NARROW_WIDTH, MainScreen

        screen = MainScreen(narrow=self.size.width < NARROW_WIDTH)
        screen.session = self._given_session
        self.connections.add(screen)
        return screen

    def on_mount(self) -> None:
        self.call_after_refresh(_after_first_frame)
        self.cursor_rest.start()
        if not self.is_headless and sys.__stdin__ is not None and sys.__stdin__.isatty():
            self.set_interval(1.0, self._exit_if_terminal_gone, name="terminal-watch")
        for error in self.theme_errors:
            self.notify(error, title="Theme file skipped", severity="warning")
        if self.session is None and not self.target:
            # connections are saved and none was named: ask once the side panes are in
            self.call_after_refresh(self.call_after_refresh, self.action_connect)
        elif self.session is None:
            # After the first frame and the one that brings the side panes: connecting imports
            # the engine (sqlglot, drivers, FAISS) in a thread that would slow those frames down.
            self.call_after_refresh(self.call_after_refresh, self.open_session, self.target)
        else:
            self.connections.follow(self._main_screen(), self.session)
            self._main_screen().post_message(Reconnected(self.session.display_url, self.session.read_only))

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.Paste)) and not event.is_forwarded:
            self.cursor_rest.input_seen()
        await super().on_event(event)

    def _exit_if_terminal_gone(self) -> None:
        """Quit when the terminal hung up (SSH dropped, tmux killed) but no SIGHUP reached us,
        e.g. when started through ``make run``: Textual's input thread would otherwise spin on
        the dead tty forever."""
        if terminal_hung_up(sys.__stdin__.fileno()):
            self.exit(1)

    @work(exclusive=True, group="connect", exit_on_error=False)
    async def open_session(
        self, target: str, *, replace: bool = False, beside: bool = False, password: str = "", ssh: str | None = None, screen: Any = None,
    ) -> None:
        """Connect to ``target``; on success the new session replaces the one of ``screen`` (the
        connection in front when None), or with ``beside`` it opens on a screen of its own next
        to the others. A server that wants a password the target lacks gets one asked for
        (masked), once."""
        into = None if beside else (screen or self._main_screen())
        await asyncio.to_thread(_warm_imports)
        from aishell.engine.connections import remember
        from aishell.engine.errors import AuthenticationFailed
        from aishell.engine.session import Session

        try:
            session = await Session.open(
                target, settings=self.settings, read_only=self.read_only_requested, create=self.create,
                ssh=self.ssh if ssh is None else ssh, password=password, ask_host_key=self._ask_host_key,
            )
        except AuthenticationFailed as exc:
            if password:
                self._connect_failed(target, exc, replace or beside)
            else:
                self._ask_password(target, exc, replace, ssh, beside=beside, screen=into)
            return
        except AishellError as exc:
            self._connect_failed(target, exc, replace or beside)
            return
        if into is None:
            into = await self._open_beside(session)
            old = None
        elif into not in self.connections.screens:  # closed while this connected
            await _close(session)
            return
        else:
            old, into.session = into.session, session
        self.target = target
        self.connections.follow(into, session)
        if old is not None:
            try:
                await old.close()
            except AishellError:
                pass
        await asyncio.to_thread(remember, self.settings, target)
        profile = session.profile
        label, colour = (profile.title, profile.colour) if profile is not None else ("", "none")
        into.post_message(Reconnected(session.display_url, session.read_only, label=label, colour=colour, tunnel=session.tunnel_hop))

    async def _open_beside(self, session: Any) -> Any:
        """A main screen of its own for ``session``, brought to the front; its buffers are kept
        under its saved connection's name (or its URL), so opening it again brings them back."""
        from aishell.tui.buffers import BufferFile
        from aishell.tui.screens.main import NARROW_WIDTH, MainScreen

        path = self.connections.buffers_for(session.profile.name if session.profile is not None else session.display_url)
        screen = MainScreen(narrow=self.size.width < NARROW_WIDTH, buffers=BufferFile(path))
        screen.session = session
        mode = self.connections.add(screen, buffers=path)
        await self.switch_mode(mode)
        self.connections.show_positions()
        return screen

    async def _ask_host_key(self, host: str, fingerprint: str) -> bool:
        """Whether to trust an SSH host seen for the first time (asked inside the connect worker)."""
        from aishell.tui.screens.prompts import QuestionScreen

        question = QuestionScreen(
            "Unknown SSH host",
            f"{host} has never been seen before. Its key's fingerprint is\n\n    {fingerprint}\n\n"
            "Trust it only if that is the fingerprint the server's administrator gave you. Trusted, it is added to known_hosts.",
            yes="Trust it", no="Don't connect",
        )
        return bool(await self.push_screen_wait(question))

    def _ask_password(self, target: str, exc: AishellError, replace: bool, ssh: str | None = None, *, beside: bool = False, screen: Any = None) -> None:
        """The masked prompt for a password the passfile and the keyring did not have."""
        from aishell.tui.screens.prompts import PromptScreen

        def answered(password: str | None) -> None:
            if password:
                self.open_session(target, replace=replace, beside=beside, password=password, ssh=ssh, screen=screen)
            else:
                self._connect_failed(target, exc, replace or beside)

        where = exc.args[0] if exc.args else str(exc)
        self.push_screen(PromptScreen("Password", f"{where}\n\nThe password is used for this connection only, never saved.", action="Connect", password=True), answered)

    def _main_screen(self) -> Any:
        """The main screen of the connection in front (under any dialog); None before start."""
        stack = self.screen_stack
        return stack[0] if stack else None

    def _connect_failed(self, target: str, exc: AishellError, replace: bool) -> None:
        from aishell.engine.drivers.url import redact_url
        from aishell.tui.screens.dialogs import ErrorScreen

        where = redact_url(target)
        if replace and self.session is not None:
            self.notify(f"{exc}", title=f"Could not connect to {where}", severity="error", timeout=8)
            return

        def chosen(choice: str | None) -> None:
            if choice == "retry":
                self.open_session(target)
            elif choice == "connect":
                self.action_connect()
            else:
                self.exit(2, return_code=2)

        self.push_screen(
            ErrorScreen(exc.title, f"{where}\n\n{exc}", buttons=(("retry", "Retry"), ("connect", "Connect to…"), ("quit", "Quit"))),
            chosen,
        )

    async def action_quit(self) -> None:
        """Quit; with transactions open, ask about each first: commit, roll back or stay."""
        from aishell.tui.screens.dialogs import TransactionScreen

        if not isinstance(self.screen, TransactionScreen):  # else already asking
            self._settle_all(self._quit)

    def _settle_all(self, then: Any) -> None:
        """Call ``then`` once no open connection has a transaction open: each one that has is
        brought to the front and asked about in turn; "stay" on one ends it there."""
        from aishell.tui.screens.main import MainScreen

        waiting = [s for s in self.connections.screens if s.session is not None and s.session.transaction.open]
        if not waiting:
            then()
            return
        screen = waiting[0]
        self.connections.go(screen)
        if isinstance(screen, MainScreen):
            screen.transactions.leave(lambda: self._settle_all(then))

    def _settle_transaction(self, then: Any) -> None:
        """Call ``then`` once the session has no transaction open (the main screen asks)."""
        from aishell.tui.screens.dialogs import TransactionScreen
        from aishell.tui.screens.main import MainScreen

        main = self._main_screen()
        if isinstance(self.screen, TransactionScreen):
            return  # already asking
        if isinstance(main, MainScreen):
            main.transactions.leave(then)
        else:
            then()

    def _quit(self) -> None:
        for screen in self.connections.screens:
            screen.save_buffers()
        self.exit(0)

    async def on_unmount(self) -> None:
        sessions = [screen.session for screen in self.connections.screens if screen.session is not None]
        for screen in self.connections.screens:
            screen.session = None
        await asyncio.gather(*(_close(session) for session in sessions))

    # -- actions ----------------------------------------------------------------------------------

    def action_help(self) -> None:
        from textual.lazy import Lazy

        from aishell.tui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        if self.screen.query(Lazy):  # the help lists the panes' keys: wait the frame they arrive in
            self.call_after_refresh(self.action_help)
            return
        self.push_screen(HelpScreen())

    def action_cycle_theme(self) -> None:
        names = sorted(n for n in self.available_themes if n.startswith("aishell-")) or sorted(self.available_themes)
        index = names.index(self.theme) + 1 if self.theme in names else 0
        self.theme = names[index % len(names)]
        self.notify(f"Theme: {self.theme}", timeout=2)

    def action_connect(self, url: str | None = None) -> None:
        """Open ``url``, or ask with the picker (saved connections, recent ones, a URL)."""
        from aishell.tui.screens.picker import ConnectionPicker

        if url:
            self._switch_session(url)
            return
        if isinstance(self.screen, ConnectionPicker):
            return
        starting = self.session is None and not self.target

        def chosen(pick: Any) -> None:
            if pick is not None and pick.beside and self.session is not None:
                self.open_session(pick.target, beside=True)
            elif pick is not None:
                self._switch_session(pick.target)
            elif starting:
                self.exit(0)
            elif self.session is None:
                self.exit(2, return_code=2)

        self.push_screen(ConnectionPicker(self.settings, starting=starting, beside=self.session is not None), chosen)

    def _switch_session(self, target: str, *, ssh: str | None = None) -> None:
        """Connect to ``target``, replacing the session in front (as psql's ``\\c`` does); with a
        transaction open, ask first. ``ssh``: the hop to go through (None: ``--ssh``, or the
        saved connection's own)."""
        screen = self._main_screen()
        if self.session is None:
            self.open_session(target, ssh=ssh, screen=screen)
        else:
            self._settle_transaction(lambda: self.open_session(target, replace=True, ssh=ssh, screen=screen))

    # -- several connections ----------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Going to another connection, or closing one, only from a main screen (not from
        under a dialog, whose answer belongs to the connection it was asked on)."""
        if action in ("next_connection", "connections", "close_connection"):
            return self.screen is self._main_screen()
        return True

    def action_next_connection(self, by: int) -> None:
        if self.connections.step(by) is None:
            self.notify("Only one connection is open: Ctrl-O, then Ctrl-N, opens another beside it.", title="Connections", timeout=4)

    def action_connections(self) -> None:
        """The list of open connections; the one chosen comes to the front."""
        from aishell.tui.screens.switcher import ConnectionSwitcher

        screens = self.connections.screens

        def chosen(index: int | None) -> None:
            if index is not None and 0 <= index < len(screens) and screens[index] in self.connections.screens:
                self.connections.go(screens[index])

        self.push_screen(ConnectionSwitcher(self.connections.describe()), chosen)

    def action_close_connection(self) -> None:
        """Close the connection in front; with its transaction open, ask first. Closing the last
        one quits, as Ctrl-Q does."""
        screen = self._main_screen()
        if len(self.connections) <= 1:
            self._settle_all(self._quit)
            return
        screen.transactions.leave(lambda: self._close_connection(screen))

    def _close_connection(self, screen: Any) -> None:
        """Its buffers saved, its screen gone (a neighbour in front), its session closed."""
        screen.save_buffers()
        session, screen.session = screen.session, None
        self.connections.remove(screen)
        if session is not None:
            self.run_worker(_close(session), name="close_connection", group="close", exit_on_error=False)
        self.notify(f"Closed {session.display_url if session is not None else 'the connection'}.", title="Connections", timeout=3)

    def on_connect_requested(self, message: ConnectRequested) -> None:
        """``\\c …`` typed in the editor: another database on the same server goes through the
        same SSH hop as the session it replaces."""
        hop = self.session.tunnel_hop if self.session is not None else ""
        self._switch_session(message.target, ssh=hop or None)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place unexpected worker failures end up: shown, never fatal."""
        if event.state is WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            title = getattr(error, "title", "Unexpected error")
            self.notify(f"{type(error).__name__}: {error}", title=title, severity="error", timeout=10)


async def _close(session: Any) -> None:
    """Close ``session``, giving up after 3 s (a dead server must not hold the app)."""
    try:
        await asyncio.wait_for(session.close(), 3)
    except (AishellError, asyncio.TimeoutError):
        pass


def _after_first_frame() -> None:
    """Collect garbage again (``aishell`` turns the collector off while starting); what start-up
    created lives as long as the app, so it is frozen out of future collections."""
    if not gc.isenabled():
        gc.freeze()
        gc.enable()


def _warm_imports() -> None:
    """Import the engine's heavy parts (sqlglot, drivers, numpy/FAISS for memory) and read
    Textual's version in a thread, so the event loop keeps drawing while they load."""
    import importlib

    for name in ("aishell.engine.session", "aishell.engine.statements", "aishell.engine.pool", "aishell.engine.cache", "aishell.engine.analyzer", "aishell.engine.memory.service"):
        try:
            importlib.import_module(name)
        except ImportError:
            pass
    compat.internals()  # reads package metadata: slow the first time


def run_app(target: str, *, settings: Settings, read_only: bool = False, create: bool = False, theme: str | None = None, ssh: str = "") -> int:
    """Run the workbench until the user quits; the exit code (0, or 2 when it could not connect)."""
    from aishell.engine import logs
    from aishell.engine.redact import passwords_in

    app = AishellApp(target, settings=settings, read_only=read_only, create=create, theme=theme, ssh=ssh)
    logs.add_secrets(passwords_in(target))
    try:
        with logs.to_file(settings.data_dir / "aishell.log"):  # a line on the terminal would corrupt the screen
            app.run()
    finally:
        gc.enable()
    return int(app.return_code or 0)


__all__ = ["AishellApp", "run_app"]


def terminal_hung_up(fd: int) -> bool:
    """True when the tty behind ``fd`` has hung up (poll reports POLLHUP or the fd is invalid)."""
    poller = select.poll()
    poller.register(fd, select.POLLHUP | select.POLLERR | select.POLLNVAL)
    return any(mask & (select.POLLHUP | select.POLLERR | select.POLLNVAL) for _, mask in poller.poll(0))
