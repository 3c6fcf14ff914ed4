"""The editor's buffers on disk: a private file (0600 in a 0700 directory) that never holds a
password.

Before saving, each statement of a buffer is redacted as memory redacts it (``ALTER ROLE …
PASSWORD``, secrets inside literals). Backslash commands lose their passwords (``\\c`` URLs and
conninfo strings): run again after a reload, they take it from libpq's passfile, PGPASSWORD or
the user. Text being typed is never cut: a statement that does not tokenize yet is masked only
where a password's structure shows.

    >>> print(redact_buffer("\\\\c postgresql://bob:s3cret@db/shop\\nALTER ROLE bob PASSWORD 'n3w';\\nSELECT 1"))
    \\c postgresql://bob@db/shop
    ALTER ROLE bob PASSWORD '***';
    SELECT 1
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aishell.engine.files import write_private
from aishell.engine.redact import without_passwords
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
            clean = without_passwords(statement.text)
        else:
            clean = redact_statement(statement.text, dialect or "postgres", partial=True)
        if clean != statement.text:
            text = text[: statement.start] + clean + text[statement.end :]
    return text


__all__ = ["BufferFile", "redact_buffer"]
