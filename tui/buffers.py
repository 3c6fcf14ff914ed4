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

A buffer can also live in a ``.sql`` file the user opens or saves (:func:`read_sql_file`,
:func:`write_sql_file`): that file holds exactly what was typed, since the user chose to keep it.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import tempfile
from pathlib import Path
from typing import Any

from aishell.engine.errors import AishellError
from aishell.engine.files import FILE_MODE, write_private
from aishell.engine.redact import without_passwords
from aishell.tui.sqltext import split_statements

_HINTS = ("://", "ASSW", "IDENTIFIED")
MAX_SQL_FILE = 16 * 1024 * 1024
"""A larger file is not opened into a buffer (the editor would crawl): ``aishell run -f`` runs it."""


class SqlFileError(AishellError):
    """A .sql file that cannot be read or written: the message names the file and why."""

    title = "File"


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


def sql_file_path(text: str) -> Path:
    """The file a user typed: ``~`` expanded, relative to the working directory, absolute.

    >>> sql_file_path("/tmp/../tmp/q.sql")
    PosixPath('/tmp/q.sql')
    """
    return Path(os.path.abspath(os.path.expanduser(text.strip())))


def read_sql_file(path: Path) -> str:
    """The text of ``path`` (UTF-8; Windows line ends become newlines). Raises SqlFileError."""
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise SqlFileError(f"{path} is not a file")
        if size > MAX_SQL_FILE:
            raise SqlFileError(f"{path} is {size // (1024 * 1024)} MB, too large for a buffer: run it with aishell run -f")
        return path.read_text(encoding="utf-8").replace("\r\n", "\n")
    except UnicodeDecodeError:
        raise SqlFileError(f"{path} is not UTF-8 text") from None
    except OSError as exc:
        raise SqlFileError(f"cannot read {path}: {exc.strerror or exc}") from None


def write_sql_file(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically. A new file is private (0600); a file that
    exists keeps its mode, and the directory is the user's (left as it is). Raises SqlFileError."""
    target = path.resolve()  # through a symlink: the file it points at is the one replaced
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = FILE_MODE
    except OSError as exc:
        raise SqlFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    except OSError as exc:
        raise SqlFileError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with open(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise SqlFileError(f"cannot write {path}: {exc.strerror or exc}") from None


def unsaved(text: str, path: str | None) -> bool:
    """Whether closing a buffer holding ``text`` loses it: it has text, and no file of its own
    holds that text now (the buffers file goes with the buffer)."""
    if not text.strip():
        return False
    if path is None:
        return True
    try:
        return read_sql_file(Path(path)) != text
    except SqlFileError:
        return True


__all__ = ["BufferFile", "SqlFileError", "read_sql_file", "redact_buffer", "sql_file_path", "unsaved", "write_sql_file"]
