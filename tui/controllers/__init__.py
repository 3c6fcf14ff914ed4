"""What the main screen delegates: running statements (:mod:`.query`), the insights beside them
(:mod:`.insights`) and the schema tree's loads (:mod:`.catalog`).

A controller is a plain object owned by the screen, not a widget: it has no place in the layout,
nothing to mount and no focus or style to take part in. Textual workers belong to a DOM node, so a
controller starts its workers on the screen (``screen.run_worker``: they are cancelled with it)
and they report through :mod:`tui.messages` posted to the screen; only the screen's handlers
update widgets. Controllers read the Session from their screen and never touch a widget.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Coroutine

from textual.message import Message
from textual.screen import Screen

if TYPE_CHECKING:
    from aishell.engine.session import Session


class Controller:
    """The plumbing every controller shares: its screen, the Session, workers and messages."""

    def __init__(self, screen: Screen) -> None:
        self.screen = screen

    @property
    def session(self) -> "Session | None":
        """The screen's Session (None while connecting): each open connection has its own
        screen, and a controller works for the connection of the screen that owns it."""
        return self.screen.session  # type: ignore[attr-defined]

    def post(self, message: Message) -> None:
        """Report to the screen (thread-safe)."""
        self.screen.post_message(message)

    def start(self, work: Coroutine[Any, Any, None] | Any, *, group: str, name: str, thread: bool = False) -> None:
        """Run ``work`` as the screen's worker, replacing the one of ``group`` still running;
        an unexpected error goes to the app's worker-failure handler, never ends the app."""
        self.screen.run_worker(work, name=name, group=group, exclusive=True, exit_on_error=False, thread=thread)


__all__ = ["Controller"]
