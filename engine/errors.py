"""One error root with a subclass per area, so every front end shows one kind of error.

Drivers translate native exceptions (asyncpg, sqlite3, pymongo) into these; messages never
contain passwords.
"""

from __future__ import annotations


class AishellError(Exception):
    """Root of every error the engine raises on purpose.

    ``title`` is a short heading for dialogs; ``str(err)`` is the one-line message.
    """

    title = "Error"

    def __init__(self, message: str, *, title: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if title is not None:
            self.title = title

    def __str__(self) -> str:
        return self.message


class ConfigurationError(AishellError):
    """Settings or command-line values that cannot be used."""

    title = "Configuration error"


class UnsupportedURL(AishellError):
    """No driver handles this URL's scheme."""

    title = "Unsupported URL"


class ConnectionFailed(AishellError):
    """The database could not be reached or refused the connection."""

    title = "Connection failed"


class AuthenticationFailed(ConnectionFailed):
    """The server rejected the credentials."""

    title = "Authentication failed"


class DatabaseNotFound(ConnectionFailed):
    """The named database (or SQLite file) does not exist."""

    title = "Database not found"


class ConnectionLost(ConnectionFailed):
    """An open connection broke (server restart, terminated backend, network)."""

    title = "Connection lost"


class QueryError(AishellError):
    """The server rejected or failed a statement.

    ``position`` is the 1-based character offset in the statement when the server reports one;
    ``line``/``column`` are derived from it (1-based) by :meth:`locate`.
    """

    title = "Query error"

    def __init__(
        self,
        message: str,
        *,
        position: int | None = None,
        sqlstate: str | None = None,
        detail: str | None = None,
        hint: str | None = None,
        statement: str | None = None,
    ) -> None:
        super().__init__(message)
        self.position = position
        self.sqlstate = sqlstate
        self.detail = detail
        self.hint = hint
        self.statement = statement

    @property
    def line_column(self) -> tuple[int, int] | None:
        """(line, column), both 1-based, of ``position`` in ``statement``."""
        if self.position is None or self.statement is None:
            return None
        before = self.statement[: max(self.position - 1, 0)]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return line, column

    def one_line(self) -> str:
        """The message with its position, for CLIs and status bars."""
        where = self.line_column
        text = self.message.replace("\n", " ")
        if where:
            text += f" (line {where[0]}, column {where[1]})"
        return text


class QueryCancelled(QueryError):
    """The statement was cancelled on the server at the user's request."""

    title = "Cancelled"


class ReadOnlyViolation(QueryError):
    """The session is read-only and the server refused a write."""

    title = "Read-only session"


class PoolError(AishellError):
    """Pool-level failures."""

    title = "Pool error"


class PoolTimeout(PoolError):
    """No connection became free within the acquire timeout."""

    title = "Pool timeout"


class CircuitOpen(PoolError):
    """The circuit breaker is open after repeated connection failures: failing fast."""

    title = "Database unavailable"


class MemoryUnavailable(AishellError):
    """The memory store is off (corrupt file moved aside, full disk, read-only dir)."""

    title = "Memory off"
