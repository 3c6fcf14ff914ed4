"""A session's transaction state, as a front end shows it: idle, in a transaction, in a failed
transaction (the server ignores everything until ROLLBACK), and whether an open result holds a
server cursor and the snapshot it reads (PostgreSQL's ``backend_xmin``: vacuum cannot remove
rows that snapshot may still see).

:attr:`engine.session.Session.transaction` answers from the connection the session keeps for
an open transaction and from the results it streams; nothing here makes a round trip.

>>> state = TransactionState(FAILED, manual=True)
>>> state.open, state.needs_rollback
(True, True)
>>> TransactionState(IDLE).open
False
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from aishell.engine.drivers.base import Connection

IDLE = "idle"
"""No transaction is open: every statement commits on its own (or opens one in manual mode)."""
IN_TRANSACTION = "in transaction"
"""A transaction is open on the session's kept connection: COMMIT or ROLLBACK ends it."""
FAILED = "failed"
"""The open transaction is aborted: the server refuses every statement until ROLLBACK."""


@dataclass(frozen=True, slots=True)
class TransactionState:
    """What :attr:`Session.transaction` reports (cheap: attribute reads, no round trip)."""

    status: str = IDLE
    """:data:`IDLE`, :data:`IN_TRANSACTION` or :data:`FAILED`."""
    manual: bool = False
    """Manual-commit mode: the first statement opens a transaction that stays open until
    COMMIT or ROLLBACK (psql's ``AUTOCOMMIT off``, harlequin's ``Tx: Manual``)."""
    snapshot: bool = False
    """A result being read holds a cursor and its snapshot open on the server until it is read
    to the end or closed."""

    @property
    def open(self) -> bool:
        """A transaction is open (quitting or switching databases would end it)."""
        return self.status != IDLE

    @property
    def needs_rollback(self) -> bool:
        """The transaction failed: only ROLLBACK (or ROLLBACK TO a savepoint) is accepted."""
        return self.status == FAILED


def status_of(connection: "Connection | None") -> str:
    """The transaction status of the session's kept ``connection`` (None: nothing kept)."""
    if connection is None or connection.closed or not connection.in_transaction:
        return IDLE
    return FAILED if connection.transaction_failed else IN_TRANSACTION


__all__ = ["FAILED", "IDLE", "IN_TRANSACTION", "TransactionState", "status_of"]
