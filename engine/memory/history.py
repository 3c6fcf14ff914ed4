r"""Reading other tools' history files into memory entries, a block at a time.

- ``psql``: one entry a line. libedit writes ``_HiStOrY_V2_`` first and escapes characters as
  octal (``\040`` space, ``\012`` newline, ``\134`` backslash); psql with readline marks the
  newlines of a multi-line query with ``\x01``. Meta-commands (``\d``, ``\timing``) are skipped.
- ``pgcli``: prompt_toolkit's file history: ``# <timestamp>`` then the entry's lines prefixed ``+``.
- ``plain``: statements separated by ``;`` (outside quotes and comments), or one a line when the
  file has no ``;``.

A file is read :data:`BLOCK` bytes at a time and its entries come out as they are read
(:func:`read_history`), so importing a file of any size holds one block and one statement
window, never the file or a list of its entries. :class:`Progress` and :func:`resume_at` let a
later import of the same file take up where the last one stopped.

>>> [e.text for e in parse_psql("_HiStOrY_V2_\nSELECT\\040*\\040FROM\\040t;\n\\dt\n")]
['SELECT * FROM t;']
"""

from __future__ import annotations

import codecs
import collections
import datetime as dt
import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

from aishell.engine.errors import ConfigurationError

KINDS = ("psql", "pgcli", "plain")
IMPORT_WINDOW = 32
"""How many of the last entries read an import remembers, to find its place again."""
BLOCK = 1 << 20
"""Bytes read from a history file at once."""
HEAD = 1 << 16
"""Bytes at a history file's start that its kind is guessed from."""
_OCTAL = re.compile(r"\\([0-7]{3})")


@dataclass(slots=True)
class HistoryItem:
    text: str
    started_at: float | None = None
    position: int = 0
    """Characters of the file up to this entry's end (the order of entries without a time)."""
    fingerprint: str | None = None
    """The shape fingerprint of ``text`` read as PostgreSQL, when the splitter's tokens gave it
    (plain files): an import need not tokenize the statement again."""


def parse(text: str, kind: str) -> list[HistoryItem]:
    """Entries of a history file's ``text`` read as ``kind`` (psql, pgcli or plain)."""
    return list(entries_of([text], _check(kind), semicolons=";" in text))


def read_history(path: str | os.PathLike[str], kind: str | None = None) -> tuple[str, Iterator[HistoryItem]]:
    """The kind of the history file at ``path`` (``kind``, else guessed from its name and first
    block) and an iterator of its entries, read a block at a time. Raises OSError when the file
    cannot be read (also later, from the iterator)."""
    path = Path(path)
    with open(path, "rb") as fh:
        head = codecs.decode(fh.read(HEAD), "utf-8", errors="replace")
    kind = _check(kind) if kind else guess_kind(path, head)
    semicolons = kind == "plain" and _holds(path, b";")
    return kind, entries_of(_blocks(path), kind, semicolons=semicolons)


def entries_of(blocks: Iterable[str], kind: str, *, semicolons: bool = True) -> Iterator[HistoryItem]:
    """Entries of the text made of ``blocks`` (cut anywhere) read as ``kind``; a plain text is
    split one statement a line when it holds no ``;`` (``semicolons`` False)."""
    if kind == "psql":
        return _psql(_lines(blocks))
    if kind == "pgcli":
        return _pgcli(_lines(blocks))
    if semicolons:
        return _plain_statements(blocks)
    return _plain_lines(_lines(blocks))


def guess_kind(path: str | os.PathLike[str], text: str) -> str:
    """psql for ``_HiStOrY_V2_`` or ``.psql_history``; pgcli for ``# <date>`` + ``+line`` blocks; else plain."""
    name = Path(path).name
    if text.startswith("_HiStOrY_V2_") or "psql_history" in name:
        return "psql"
    if re.search(r"^# \d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d.*\n\+", text, re.M) or name == "history" and "\n+" in text:
        return "pgcli"
    return "plain"


def parse_psql(text: str) -> list[HistoryItem]:
    return list(_psql(_lines([text])))


def parse_pgcli(text: str) -> list[HistoryItem]:
    return list(_pgcli(_lines([text])))


def parse_plain(text: str) -> list[HistoryItem]:
    r"""Statements of a plain file; a psql meta-command (``\c db``) ends at its line's end, so a
    statement on the lines after it is kept.

    >>> [i.text for i in parse_plain("\\c shop\nSELECT 1;\n\\dt\nSELECT 2;")]
    ['SELECT 1;', 'SELECT 2;']
    """
    return parse(text, "plain")


def _check(kind: str) -> str:
    if kind not in KINDS:
        raise ConfigurationError(f"unknown history kind {kind!r}: use one of {', '.join(KINDS)}")
    return kind


def _blocks(path: Path) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            yield decoder.decode(block)
    yield decoder.decode(b"", final=True)


def _holds(path: Path, needle: bytes) -> bool:
    with open(path, "rb") as fh:
        while block := fh.read(BLOCK):
            if needle in block:
                return True
    return False


def _lines(blocks: Iterable[str]) -> Iterator[tuple[str, int]]:
    """Each line (without its ``\\n``) with the position of its end."""
    carry, position = "", 0
    for block in blocks:
        if not block:
            continue
        lines = (carry + block).split("\n")
        carry = lines.pop()
        for line in lines:
            position += len(line) + 1
            yield line, position
    yield carry, position + len(carry)


def _psql(lines: Iterator[tuple[str, int]]) -> Iterator[HistoryItem]:
    libedit = False
    for number, (line, position) in enumerate(lines):
        if number == 0 and line.strip() == "_HiStOrY_V2_":
            libedit = True
            continue
        if not line.strip():
            continue
        entry = _OCTAL.sub(lambda m: chr(int(m.group(1), 8)), line) if libedit or "\\0" in line else line
        entry = entry.replace("\x01", "\n")
        stripped = entry.strip()
        if stripped and not stripped.startswith("\\"):
            yield HistoryItem(entry.rstrip(), position=position)


def _pgcli(lines: Iterator[tuple[str, int]]) -> Iterator[HistoryItem]:
    stamp: float | None = None
    current: list[str] = []
    end = 0

    def entry() -> HistoryItem | None:
        text = "\n".join(current)
        current.clear()
        if text.strip() and not text.strip().startswith("\\"):
            return HistoryItem(text.rstrip(), stamp, end)
        return None

    for line, position in lines:
        if line.startswith("+"):
            current.append(line[1:])
            end = position
            continue
        if current and (line.startswith("#") or not line.strip()):
            if (item := entry()) is not None:
                yield item
        if line.startswith("#"):
            stamp = _timestamp(line[1:].strip())
    if current and (item := entry()) is not None:
        yield item


def _plain_lines(lines: Iterator[tuple[str, int]]) -> Iterator[HistoryItem]:
    for line, position in lines:
        if (body := _statement_body(line)) is not None:
            yield HistoryItem(body, position=position)


def _plain_statements(blocks: Iterable[str]) -> Iterator[HistoryItem]:
    """Each statement with the comments before it and its ``;``, psql meta-commands left out,
    split by engine/statements' splitter a window at a time."""
    from aishell.engine.statements.dialects import dialect_of, normalize_dialect, tools
    from aishell.engine.statements.fingerprint import digest, normalize_tokens
    from aishell.engine.statements.split import Skipped, scan, statements_of

    tokenizer = tools(dialect_of(normalize_dialect("postgres")))[0]
    for window in scan(blocks, tokenizer, psql=True):
        if isinstance(window, Skipped):  # scan skips only with limits, which are not set here
            continue
        whole = len(window.statements) - (window.error is not None)  # the last one's tokens may stop short
        for statement in statements_of(window):
            if statement.psql:
                continue
            span = window.text[statement.begin - window.offset : statement.end - window.offset]
            if (body := _statement_body(span)) is not None:
                # the body is the statement's tokens and its ";": the same shape (comments before
                # them may be the end of one a psql line opened: "*/" would be part of the body)
                exact = statement.index < whole and (body == statement.text or body == statement.text + ";")
                shape = digest(normalize_tokens(window.statements[statement.index])) if exact else None
                yield HistoryItem(body, position=statement.end, fingerprint=shape)


def _statement_body(text: str) -> str | None:
    """``text`` without the meta-commands and blank lines before it; None when nothing is left."""
    lines = text.strip().split("\n")
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith("\\")):
        start += 1  # meta-commands before the statement
    body = "\n".join(lines[start:]).strip()
    return body or None


def _timestamp(text: str) -> float | None:
    try:
        value = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    if value.tzinfo is None:
        value = value.astimezone()  # pgcli writes local time
    return value.timestamp()


# -- importing a file again -------------------------------------------------------------------------


class Progress:
    """How far an import has read a file, as its transactions record it (see :func:`resume_at`):
    the count of entries read and digests of the last :data:`IMPORT_WINDOW` of them.

    >>> progress = Progress(); progress.read("a"); progress.read("b")
    >>> progress.record()["entries"], len(progress.record()["tail"])
    (2, 2)
    """

    __slots__ = ("entries", "_last")

    def __init__(self, entries: int = 0, last: Iterable[str] = ()) -> None:
        self.entries = entries
        self._last: collections.deque[str] = collections.deque(last, maxlen=IMPORT_WINDOW)

    def read(self, text: str) -> None:
        self.entries += 1
        self._last.append(text)

    def record(self) -> dict[str, Any]:
        return {"entries": self.entries, "tail": [_entry_digest(t) for t in self._last]}


def resume_at(texts: Iterable[str], progress: Mapping[str, Any] | None) -> int:
    """How many leading entries of ``texts`` (a file's entries, in order; read only as far as
    needed) an earlier import with this ``progress`` recorded.

    The file as it was: all of them. A file that grew: what it held before. A file trimmed at
    the start (psql keeps the last HISTSIZE lines): up to where the last entries read are now
    (the earliest such place). A file it never saw, or rewritten: 0.

    >>> first = Progress(3, ["a", "b", "c"]).record()
    >>> resume_at(["a", "b", "c"], first), resume_at(["a", "b", "c", "d"], first)
    (3, 3)
    >>> resume_at(["c", "d"], first), resume_at(["x", "y", "z"], first)
    (1, 0)
    """
    if not isinstance(progress, Mapping):
        return 0
    end, tail = progress.get("entries"), progress.get("tail")
    if not isinstance(end, int) or not isinstance(tail, list) or not tail or end < len(tail):
        return 0
    width = len(tail)
    window: collections.deque[bytes] = collections.deque(maxlen=width)
    head: list[bytes] = []  # the first entries, for a file trimmed into its last ones
    earliest = 0
    for count, text in enumerate(texts, 1):
        digest = _entry_digest(text)
        if count < width:
            head.append(digest)
        window.append(digest)
        if count >= width and digest == tail[-1] and list(window) == tail:
            if count == end:
                return end  # where it stopped, unchanged: preferred to an earlier place
            earliest = earliest or count
        if earliest and count >= end:
            return earliest  # the earliest place: never skip an entry not read
    if earliest:
        return earliest
    for end in range(len(head), 0, -1):  # trimmed into those last entries
        if head[:end] == tail[-end:]:
            return end
    return 0


def _entry_digest(text: str) -> bytes:
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest()
