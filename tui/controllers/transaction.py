"""Transactions for the main screen: the manual-commit toggle, the commit and rollback keys, and
the question before quitting or switching databases with a transaction open (commit, roll back,
stay). Reports with :class:`tui.messages.TransactionChanged`; failures are notifications.
"""

from __future__ import annotations

from typing import Any, Callable

from aishell.engine.errors import AishellError
from aishell.tui.controllers import Controller
from aishell.tui.messages import TransactionChanged


class TransactionController(Controller):
    """Commit mode, COMMIT/ROLLBACK on a key, and settling an open transaction before leaving."""

    def __init__(self, screen: Any, *, stop_result: Callable[[], bool]) -> None:
        super().__init__(screen)
        self._stop_result = stop_result
        """Closes a result still being read (it holds the transaction's connection); False
        while a statement runs."""

    def changed(self) -> None:
        """Tell the screen what the session's transaction state is now."""
        session = self.session
        if session is not None:
            self.post(TransactionChanged(session.transaction))

    def toggle_manual(self) -> None:
        """Switch between auto-commit and manual-commit mode (an open transaction stays open)."""
        session = self.session
        if session is None:
            return
        if not session.driver.MANUAL_COMMIT:
            self.screen.notify("This database has no BEGIN/COMMIT transactions.", severity="warning", timeout=4)
            return
        session.manual_commit = not session.manual_commit
        if session.manual_commit:
            self.screen.notify("Manual commit: the next statement opens a transaction; Alt-C commits, Alt-Z rolls back.", timeout=4)
        else:
            note = " The open transaction stays open until you commit or roll back." if session.transaction.open else ""
            self.screen.notify("Auto-commit: each statement commits on its own." + note, timeout=4)
        self.changed()

    def commit(self, then: Callable[[], None] | None = None) -> None:
        """COMMIT the open transaction, then call ``then`` (not when the commit failed)."""
        self._end("commit", then)

    def rollback(self, then: Callable[[], None] | None = None) -> None:
        """ROLLBACK the open transaction, then call ``then`` (not when it failed)."""
        self._end("rollback", then)

    def leave(self, then: Callable[[], None]) -> None:
        """Call ``then`` (quit, switch databases) once no transaction is open: with one open, ask
        first whether to commit it, roll it back or stay."""
        session = self.session
        if session is None or not session.transaction.open:
            then()
            return
        from aishell.tui.screens.dialogs import TransactionScreen

        def chosen(choice: str | None) -> None:
            if choice == "commit":
                self.commit(then)
            elif choice == "rollback":
                self.rollback(then)

        self.screen.app.push_screen(TransactionScreen(session.transaction.needs_rollback), chosen)

    # -- workers ----------------------------------------------------------------------------------

    def _end(self, verb: str, then: Callable[[], None] | None) -> None:
        session = self.session
        if session is None:
            return
        if not session.transaction.open:
            self.screen.notify(f"No transaction is open: nothing to {verb}.", timeout=3)
            if then is not None:
                then()
            return
        if not self._stop_result():  # a result being read in the transaction holds its connection
            self.screen.notify(f"A statement is running: cancel it (Esc) or let it finish, then {verb}.", severity="warning", timeout=4)
            return
        self.start(self._finish(verb, then), group="transaction", name=f"tx_{verb}")

    async def _finish(self, verb: str, then: Callable[[], None] | None) -> None:
        session = self.session
        failed = session.transaction.needs_rollback
        try:
            await (session.commit() if verb == "commit" else session.rollback())
        except AishellError as exc:
            self.screen.notify(str(exc), title=f"{verb.capitalize()} failed", severity="error", timeout=8)
            self.changed()
            return
        self.changed()
        if verb == "commit" and failed:
            self.screen.notify("The transaction had failed: the server rolled it back.", severity="warning", timeout=5)
        else:
            self.screen.notify("Committed." if verb == "commit" else "Rolled back.", timeout=2)
        if then is not None:
            then()


__all__ = ["TransactionController"]
