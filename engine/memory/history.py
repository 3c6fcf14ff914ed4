r"""Reading other tools' history files into memory entries.

- ``psql``: one entry a line. libedit writes ``_HiStOrY_V2_`` first and escapes characters as
  octal (``\040`` space, ``\012`` newline, ``\134`` backslash); psql with readline marks the
  newlines of a multi-line query with ``\x01``. Meta-commands (``\d``, ``\timing``) are skipped.
- ``pgcli``: prompt_toolkit's file history: ``# <timestamp>`` then the entry's lines prefixed ``+``.
- ``plain``: statements separated by ``;`` (outside quotes and comments), or one a line when the
  file has no ``;``.

>>> [e.text for e in parse_psql("_HiStOrY_V2_\nSELECT\\040*\\040FROM\\040t;\n\\dt\n")]
['SELECT * FROM t;']
"""

from __future__ import annotations

import datetime as dt
import os
import re
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from aishell.engine.errors import ConfigurationError

KINDS = ("psql", "pgcli", "plain")
IMPORT_WINDOW = 32
"""How many of the last entries read an import remembers, to find its place again."""
_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(slots=True)
class HistoryItem:
    text: str
    started_at: float | None = None


def parse(text: str, kind: str) -> list[HistoryItem]:
    """Entries of a history file's ``text`` read as ``kind`` (psql, pgcli or plain)."""
    if kind == "psql":
        return parse_psql(text)
    if kind == "pgcli":
        return parse_pgcli(text)
    if kind == "plain":
        return parse_plain(text)
    raise ConfigurationError(f"unknown history kind {kind!r}: use one of {', '.join(KINDS)}")


def guess_kind(path: str | os.PathLike[str], text: str) -> str:
    """psql for ``_HiStOrY_V2_`` or ``.psql_history``; pgcli for ``# <date>`` + ``+line`` blocks; else plain."""
    name = Path(path).name
    if text.startswith("_HiStOrY_V2_") or "psql_history" in name:
        return "psql"
    if re.search(r"^# \d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d.*\n\+", text, re.M) or name == "history" and "\n+" in text:
        return "pgcli"
    return "plain"


def parse_psql(text: str) -> list[HistoryItem]:
    items: list[HistoryItem] = []
    lines = text.split("\n")
    if lines and lines[0].strip() == "_HiStOrY_V2_":
        lines = lines[1:]
        libedit = True
    else:
        libedit = False
    for line in lines:
        if not line.strip():
            continue
        entry = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line) if libedit or "\\0" in line else line
        entry = entry.replace("\x01", "\n")
        stripped = entry.strip()
        if not stripped or stripped.startswith("\\"):
            continue
        items.append(HistoryItem(entry.rstrip()))
    return items


def parse_pgcli(text: str) -> list[HistoryItem]:
    items: list[HistoryItem] = []
    stamp: float | None = None
    current: list[str] = []

    def flush() -> None:
        if current:
            entry = "\n".join(current)
            if entry.strip() and not entry.strip().startswith("\\"):
                items.append(HistoryItem(entry.rstrip(), stamp))
            current.clear()

    for line in text.split("\n"):
        if line.startswith("+"):
            current.append(line[1:])
        elif line.startswith("#"):
            flush()
            stamp = _timestamp(line[1:].strip())
        elif not line.strip():
            flush()
    flush()
    return items


def parse_plain(text: str) -> list[HistoryItem]:
    r"""Statements of a plain file; a psql meta-command (``\c db``) ends at its line's end, so a
    statement on the lines after it is kept.

    >>> [i.text for i in parse_plain("\\c shop\nSELECT 1;\n\\dt\nSELECT 2;")]
    ['SELECT 1;', 'SELECT 2;']
    """
    from aishell.engine.statements.split import split

    parts = [part for part in split(text, psql=True) if not part.psql]
    if len(parts) <= 1 and "\n" in text.strip() and ";" not in text:
        statements = [line for line in text.split("\n")]
    else:  # each with the comments before it and its ";"
        statements = [text[part.begin : part.end] for part in parts]
    items = []
    for statement in statements:
        lines = statement.strip().split("\n")
        while lines and (not lines[0].strip() or lines[0].lstrip().startswith("\\")):
            lines.pop(0)  # meta-commands before the statement
        body = "\n".join(lines).strip()
        if body:
            items.append(HistoryItem(body))
    return items


def _timestamp(text: str) -> float | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.astimezone()  # pgcli writes local time
    return value.timestamp()


# -- importing a file again -------------------------------------------------------------------------


def import_progress(texts: Sequence[str], end: int) -> dict[str, Any]:
    """What an import that has recorded ``texts[:end]`` keeps, to take up there next time (see
    :func:`already_imported`): the count and digests of the last entries."""
    return {"entries": end, "tail": [_entry_digest(t) for t in texts[max(0, end - IMPORT_WINDOW) : end]]}


def already_imported(texts: Sequence[str], progress: Mapping[str, Any] | None) -> int:
    """How many leading entries of ``texts`` an earlier import with this ``progress`` recorded.

    The file as it was: all of them. A file that grew: what it held before. A file trimmed at
    the start (psql keeps the last HISTSIZE lines): up to where the last entries read are now
    (the earliest such place). A file it never saw, or rewritten: 0.

    >>> first = import_progress(["a", "b", "c"], 3)
    >>> already_imported(["a", "b", "c"], first), already_imported(["a", "b", "c", "d"], first)
    (3, 3)
    >>> already_imported(["c", "d"], first), already_imported(["x", "y", "z"], first)
    (1, 0)
    """
    if not isinstance(progress, Mapping):
        return 0
    end, tail = progress.get("entries"), progress.get("tail")
    if not isinstance(end, int) or not isinstance(tail, list) or not tail or end < len(tail):
        return 0
    width = len(tail)
    if end <= len(texts) and [_entry_digest(t) for t in texts[end - width : end]] == tail:
        return end
    digests = [_entry_digest(t) for t in texts]
    for end in range(width, len(digests) + 1):  # the earliest place: never skip an entry not read
        if digests[end - 1] == tail[-1] and digests[end - width : end] == tail:
            return end
    for end in range(min(width - 1, len(digests)), 0, -1):  # trimmed into those last entries
        if digests[:end] == tail[-end:]:
            return end
    return 0


def _entry_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
