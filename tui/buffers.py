"""The editor's buffers on disk: a private file (0600 in a 0700 directory) that never holds a
password.

Before saving, each statement of a buffer is redacted as memory redacts it (``ALTER ROLE …
PASSWORD``, secrets inside literals) and each backslash command by structure (``\\c`` URLs and
conninfo strings); on reload the user types the password again, or libpq's passfile or
PGPASSWORD supplies it. Text being typed is never cut: a statement that does not tokenize yet is
masked only where a password's structure shows.

    >>> redact_buffer("\\\\c postgresql://bob:s3cret@db/shop\\nALTER ROLE bob PASSWORD 'n3w';\\nSELECT 1")
    "\\\\c postgresql://bob:***@db/shop\\nALTER ROLE bob PASSWORD '***';\\nSELECT 1"
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aishell.engine.files import write_private
from aishell.engine.redact import redact_text
from aishell.tui.sqltext import split_statements

_HINTS = ("://", "ASSW", "IDENTIFIED")


class BufferFile:
    """Where the editor keeps its buffers between runs (see ``EditorPane(buffers=…)``)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)

    def load(self) -> dict[str, Any] | None:
        """The saved buffers (``{"active": int, "buffers": [{"name", "text", "cursor"}]}``), or
        None when there are none or the file cannot be read."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def save(self, data: dict[str, Any], dialect: str | None = None) -> None:
        """Write ``data`` atomically with every buffer's text redacted. Raises OSError."""
        buffers = [dict(b, text=redact_buffer(b.get("text", ""), dialect)) for b in data.get("buffers", [])]
        write_private(self.path, json.dumps(dict(data, buffers=buffers)))


def redact_buffer(text: str, dialect: str | None = None) -> str:
    """``text`` with the passwords in its statements and backslash commands masked."""
    upper = text.upper()
    if dialect == "mongo":
        from aishell.engine.mongo.shell import redact_secrets  # noqa: PLC0415 - only for MongoDB buffers

        return redact_secrets(text)
    if not any(hint in upper for hint in _HINTS):
        return text
    from aishell.engine.memory.text import redact_statement  # noqa: PLC0415 - sqlglot only when needed

    for statement in reversed(split_statements(text)):
        if statement.text.startswith("\\"):
            clean = redact_text(statement.text)
        else:
            clean = redact_statement(statement.text, dialect or "postgres", partial=True)
        if clean != statement.text:
            text = text[: statement.start] + clean + text[statement.end :]
    return text


__all__ = ["BufferFile", "redact_buffer"]
