"""What backslash commands read and change besides the database: psql's variables, display
settings and the like. A front end keeps one :class:`Context` for as long as it runs (it
outlives a ``\\c`` to another database) and hands it to every command.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass(slots=True)
class Context:
    """The Session commands run against and the client-side state they share."""

    session: Any
    """The :class:`~aishell.engine.session.Session` (replaced on ``\\c``)."""
    variables: dict[str, str] = field(default_factory=dict)
    """psql's variables (``\\set NAME value``), interpolated as ``:NAME``, ``:'NAME'``, ``:"NAME"``."""
    null_text: str = "NULL"
    """How NULL shows (``\\pset null TEXT``)."""
    output: str | None = None
    """``\\o FILE``: the file results are appended to instead of shown (None: shown)."""
    last_statement: str = ""
    """The statement run last (not a backslash command): what ``\\watch`` runs again."""
    progress: Callable[[int, int, int | None], None] | None = None
    """Told how far a long command (``\\copy``) is: rows, bytes, the file's size when known."""
