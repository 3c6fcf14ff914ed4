"""The two answers about a statement: what it is (:class:`StatementInfo`) and how it must run
(:class:`Plan`). Plain values, the same for every dialect family; built by
:mod:`.sql` and :mod:`.mongo`, consumed by the cache, the pool, the Session and memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class StatementInfo:
    """What a statement (or a script: the union of its statements) is."""

    kind: str
    """``select``, ``insert``, ``update``, ``delete``, ``merge``, ``copy``, ``ddl``,
    ``transaction``, ``other`` or ``unknown`` (did not parse)."""
    reads: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased table names read (unqualified)."""
    writes: frozenset[str] = field(default_factory=frozenset)
    """Lower-cased table names written or altered."""
    destructive: bool = False
    """DROP, TRUNCATE, DELETE/UPDATE without WHERE: confirm before running."""
    reason: str = ""
    """Why it is destructive, for the confirmation prompt."""
    read_only_escape: str | None = None
    """None when a read-only session may send it; else the one-line reason it would escape
    read-only (a transaction made writable, a shell command on the server...)."""
    masked_password: str | None = None
    """None, or why it cannot run as it stands: it carries a password AIShell masked as ``***``
    (recalled from memory or a saved buffer), see :mod:`.masked`."""

    @property
    def is_read_only(self) -> bool:
        return self.kind == "select" and not self.writes

    @property
    def is_write(self) -> bool:
        return self.kind not in ("select", "transaction", "other") or bool(self.writes)

    @property
    def transaction_control(self) -> bool:
        """BEGIN, COMMIT, ROLLBACK, SAVEPOINT...: the connection's transaction state changes."""
        return self.kind == "transaction"


@dataclass(frozen=True, slots=True)
class Plan:
    """How one statement (or script) must run: cache, connection choice, session state,
    read-only verdict."""

    cacheable: bool
    kind: str
    """:attr:`StatementInfo.kind`."""
    reads: frozenset[str] = field(default_factory=frozenset)
    writes: frozenset[str] = field(default_factory=frozenset)
    ddl: bool = False
    """Changes the schema: its tables' entries and the schema metadata go."""
    clears_all: bool = False
    """Could change anything (unparseable, SET, CALL, DO...): everything cached goes."""
    temp_tables: frozenset[str] = field(default_factory=frozenset)
    """Temporary tables it creates (reads of them are never cached)."""
    reason: str = ""
    """Why it may not be cached."""
    writer: bool = True
    """Needs a connection that can write (SQLite pools give readers to plain SELECTs)."""
    sticky: bool = False
    """Leaves session state on its connection (SET, temp tables...): a pooled Session keeps it."""
    stateless: bool = True
    """Known to leave no session state (not sticky, not an unclassified statement such as DO or
    CALL): its pooled connection needs no reset afterwards."""
    read_only_escape: str | None = None
    """:attr:`StatementInfo.read_only_escape`: a read-only session refuses to send it."""
    masked_password: str | None = None
    """:attr:`StatementInfo.masked_password`: no session sends it."""

    @property
    def transaction_control(self) -> bool:
        return self.kind == "transaction"


__all__ = ["StatementInfo", "Plan"]
