"""One logging setup for the whole program: every record, ours or a library's, is redacted.

Library loggers (sqlglot, asyncpg, aiosqlite, pymongo, faiss, textual) and Python warnings all
reach one handler whose formatter masks passwords by structure (:mod:`aishell.engine.redact`)
and the passwords the program was given as whole tokens. On the terminal a record is one line
(``aishell: asyncpg.pool: Failed to restore the pool connection floor; retrying (OSError: …)``),
never a traceback; the workbench sends records to a private log file instead, since a line
written to the terminal would corrupt its screen::

    from aishell.engine import logs
    logs.setup(secrets=["s3cret"])                     # the CLI: WARNING and above on stderr
    with logs.to_file(settings.data_dir / "aishell.log"):  # the workbench: a 0600 file
        app.run()
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import time
from pathlib import Path
from typing import Iterable, Iterator

from aishell.engine.files import private_file
from aishell.engine.redact import redact_text

LIBRARY_LEVELS = {
    "sqlglot": logging.ERROR,  # "falling back to parsing as a Command": a parse note that quotes the statement
    "asyncpg": logging.WARNING,
    "aiosqlite": logging.WARNING,
    "pymongo": logging.WARNING,
    "faiss": logging.WARNING,
    "textual": logging.WARNING,
    "asyncio": logging.WARNING,
    "py.warnings": logging.WARNING,
}
LOG_FILE_LIMIT = 1 << 20
"""Bytes after which the workbench's log file is moved aside (to ``.1``) when it is opened."""

_SECRETS: list[str] = []


class RedactingFormatter(logging.Formatter):
    """Formats a record as redacted text: one line for the terminal, or a timestamped entry with
    its (redacted) traceback for a file."""

    def __init__(self, *, one_line: bool) -> None:
        super().__init__()
        self.one_line = one_line

    def format(self, record: logging.LogRecord) -> str:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a bad %-format must not hide the record
            message = f"{record.msg} {record.args}"
        name = record.name
        where = "" if name == "root" or name.startswith("aishell.") else f"{name}: "
        exc = record.exc_info[1] if record.exc_info else None
        if self.one_line:
            if exc is not None:
                text = str(exc)
                message += f" ({type(exc).__name__}: {text})" if text else f" ({type(exc).__name__})"
            line = " ".join(f"aishell: {where}{message}".split())
            return redact_text(line, _SECRETS)
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.created))
        entry = f"{stamp} {record.levelname} {name}: {message}"
        if exc is not None:
            entry += "\n" + self.formatException(record.exc_info)
        elif record.stack_info:
            entry += "\n" + self.formatStack(record.stack_info)
        return redact_text(entry, _SECRETS)


def setup(*, secrets: Iterable[str] = (), stream=None) -> None:
    """The program's logging: WARNING and above, redacted, one line each on ``stream`` (stderr).

    Replaces any handler on the root logger; sets the library loggers' levels
    (:data:`LIBRARY_LEVELS`); routes :mod:`warnings` through logging. Safe to call again.
    """
    add_secrets(secrets)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(RedactingFormatter(one_line=True))
    _install(handler)


def add_secrets(secrets: Iterable[str]) -> None:
    """Passwords to mask wherever they stand as a whole token (those of the URL connected to)."""
    for secret in secrets:
        if secret and secret not in _SECRETS:
            _SECRETS.append(secret)


@contextlib.contextmanager
def to_file(path: str | os.PathLike[str]) -> Iterator[None]:
    """Within the block, records go to ``path`` (0600, in a 0700 directory) and nothing reaches
    the terminal; the previous handlers come back afterwards. A file that cannot be opened drops
    the records instead."""
    root = logging.getLogger()
    previous = list(root.handlers)
    path = Path(path)
    handler: logging.Handler
    try:
        _move_aside_if_large(path)
        handler = logging.FileHandler(private_file(path), encoding="utf-8")
    except OSError:
        handler = logging.NullHandler()
    handler.setFormatter(RedactingFormatter(one_line=False))
    _install(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
        handler.close()
        for old in previous:
            root.addHandler(old)


def _install(handler: logging.Handler) -> None:
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    if root.level == logging.NOTSET or root.level < logging.WARNING:
        root.setLevel(logging.WARNING)
    for name, level in LIBRARY_LEVELS.items():
        logging.getLogger(name).setLevel(level)
    logging.captureWarnings(True)
    logging.lastResort = None  # a record with no handler is dropped, never printed raw
    sys.unraisablehook = _log_unraisable  # "Exception ignored in …" from a finalizer: one record too


def _log_unraisable(unraisable: "sys.UnraisableHookArgs") -> None:
    """An exception Python could not raise (in ``__del__``, a finalizer at exit) becomes one
    redacted record instead of a raw traceback on stderr."""
    what = unraisable.err_msg or "Exception ignored"
    where = f" in {unraisable.object!r}" if unraisable.object is not None else ""
    logging.getLogger("aishell.unraisable").warning(
        "%s%s", what, where, exc_info=(unraisable.exc_type, unraisable.exc_value, unraisable.exc_traceback)
    )


def _move_aside_if_large(path: Path) -> None:
    with contextlib.suppress(OSError):
        if path.stat().st_size > LOG_FILE_LIMIT:
            os.replace(path, path.with_name(path.name + ".1"))


__all__ = ["LIBRARY_LEVELS", "RedactingFormatter", "add_secrets", "setup", "to_file"]
