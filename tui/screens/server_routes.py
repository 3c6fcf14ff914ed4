"""What a screen showing the server pane does with its messages: the workbench's Server tab and
``aishell top`` route them alike (samples to the pane, views and actions to the controller,
cancel and terminate after a question). Each screen says what "open" means for it."""

from __future__ import annotations

from typing import Any

from aishell.tui.messages import ServerNotice, ServerSampled
from aishell.tui.widgets.server import ServerPane


class ServerRoutes:
    """Mixed into a Screen that has ``server`` (a ServerController). Handlers by name, not
    ``@on``: Textual collects ``@on`` handlers only from its own classes."""

    server: Any

    def on_server_sampled(self, message: ServerSampled) -> None:
        self.query_one(ServerPane).show(message.model)  # type: ignore[attr-defined]

    def on_server_notice(self, message: ServerNotice) -> None:
        self.notify(message.text, title="Server", severity=message.severity, timeout=5)  # type: ignore[attr-defined]

    def on_server_pane_view_changed(self, event: ServerPane.ViewChanged) -> None:
        event.stop()
        self.server.show(event.view, event.filter)

    def on_server_pane_action_requested(self, event: ServerPane.ActionRequested) -> None:
        event.stop()
        self.server.act(event.action)

    def on_server_pane_signal_requested(self, event: ServerPane.SignalRequested) -> None:
        """Cancel or terminate a backend: refused at once in a read-only session, else asked
        with its query shown."""
        event.stop()
        app = self.app  # type: ignore[attr-defined]
        verb = "Terminate the session of" if event.terminate else "Cancel the statement of"
        if self.session is not None and self.session.read_only:  # type: ignore[attr-defined]
            app.notify(f"read-only session: will not {verb.split()[0].lower()} backend {event.pid}", title="Server", severity="error")
            return
        from aishell.tui.screens.dialogs import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.server.signal(event.pid, terminate=event.terminate)

        reason = f"{verb} backend {event.pid}? It is running or last ran:"
        app.push_screen(ConfirmScreen(reason, event.query or "(no statement)", title=f"{verb} backend {event.pid}?"), confirmed)
