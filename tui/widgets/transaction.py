"""The header's transaction badge: commit mode (auto or manual) and what the session holds open on
the server: a transaction, a failed one that needs ROLLBACK, a result's cursor and snapshot.

The screen hands it plain values (:meth:`TransactionBadge.show`); it writes only when what it
says changes, so an idle header stays silent.

>>> badge_text("in transaction", manual=True, snapshot=False)
'Tx: Manual · in transaction'
>>> badge_text("failed", manual=False, snapshot=False)
'Tx: Auto · failed: ROLLBACK needed'
"""

from __future__ import annotations

from textual.widgets import Label

_STATUS_TEXT = {"idle": "", "in transaction": "in transaction", "failed": "failed: ROLLBACK needed"}


def badge_text(status: str, *, manual: bool, snapshot: bool) -> str:
    """The badge's words for a transaction ``status`` (idle, in transaction, failed)."""
    parts = ["Tx: Manual" if manual else "Tx: Auto"]
    if _STATUS_TEXT.get(status, status):
        parts.append(_STATUS_TEXT.get(status, status))
    if snapshot:
        parts.append("snapshot held")
    return " · ".join(parts)


class TransactionBadge(Label):
    """``Tx: Auto`` or ``Tx: Manual``, then the open transaction's state and a held snapshot.

    Styled by class: ``-open`` (a transaction is open), ``-failed`` (it needs ROLLBACK),
    ``-snapshot`` (a result holds a cursor and snapshot).
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__("", id=id)
        self.status = "idle"
        """What the badge shows: idle, in transaction or failed."""
        self.manual = False
        """Manual-commit mode is on."""
        self.snapshot = False
        """A result holds a cursor and its snapshot open on the server."""
        self.display = False  # until connected

    def show(self, status: str, *, manual: bool, snapshot: bool) -> None:
        """Say ``status`` (idle, in transaction, failed), the commit mode and a held snapshot."""
        if self.display and (status, manual, snapshot) == (self.status, self.manual, self.snapshot):
            return
        self.status, self.manual, self.snapshot = status, manual, snapshot
        self.display = True
        self.update(badge_text(status, manual=manual, snapshot=snapshot))
        self.set_class(status == "in transaction", "-open")
        self.set_class(status == "failed", "-failed")
        self.set_class(snapshot, "-snapshot")
        if status == "failed":
            self.tooltip = "The transaction failed: the server ignores every statement until ROLLBACK"
        elif snapshot:
            self.tooltip = "A partly read result keeps a cursor and snapshot open (vacuum waits); it is released when idle"
        elif status == "in transaction":
            self.tooltip = "A transaction is open: COMMIT or ROLLBACK ends it"
        else:
            self.tooltip = "Commit mode: Auto commits each statement; Manual keeps a transaction open until you commit"


__all__ = ["TransactionBadge", "badge_text"]
