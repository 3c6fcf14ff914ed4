"""psql's ``\\copy``: a table or a query to a file, or a file into a table, streamed.

:func:`parse` reads the command's argument in both of psql's syntaxes, the ``WITH (FORMAT csv,
HEADER, DELIMITER ';')`` list and the old words (``csv header``, ``delimiter as ';'``,
``null 'x'``); :func:`copy` runs it through :meth:`Session.transfer` and the driver's COPY
(PostgreSQL's COPY protocol; SQLite: streamed reads, batched inserts in one transaction).

A file written appears complete or not at all (written beside it, renamed at the end; a cancel
or an error removes it), mode 0600. Reading a file that has a bad record fails naming its line
and leaves the table as it was. In a read-only session ``\\copy … FROM`` is refused before
anything is sent.

>>> spec = parse("orders (id, note) FROM '/tmp/o.csv' WITH (FORMAT csv, HEADER, DELIMITER ';')")
>>> spec.table, spec.columns, spec.direction, spec.path, spec.options
((None, 'orders'), ['id', 'note'], 'from', '/tmp/o.csv', {'format': 'csv', 'header': True, 'delimiter': ';'})
>>> parse('(SELECT 1) to out.csv csv header').statement
'COPY (SELECT 1) TO STDOUT'
>>> parse('public."Mixed Case" from x.txt').table
('public', 'Mixed Case')
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from aishell.engine.errors import AishellError
from aishell.engine.files import private_opener

if TYPE_CHECKING:
    from aishell.engine.session import Session

Progress = Callable[[int, int, "int | None"], None]
"""``progress(rows, bytes, total_bytes)``: how far a copy is (total: the file's size when
reading one, None when writing)."""

PROGRESS_INTERVAL = 0.2
"""Seconds between two progress reports."""


class CopyError(AishellError):
    """A ``\\copy`` that cannot run as typed: the message says what to type instead."""

    title = "Copy"


@dataclass(slots=True)
class CopySpec:
    """One ``\\copy`` as typed: what, which way, which file, which COPY options."""

    direction: str
    """``to`` (into the file) or ``from`` (into the table)."""
    path: str
    table: tuple[str | None, str] | None = None
    """(schema, name), unquoted, when the source or target is a table."""
    table_text: str = ""
    """The table as typed (quotes kept), for the statement sent."""
    columns: list[str] = field(default_factory=list)
    query: str | None = None
    """The query of ``\\copy (query) TO file``."""
    options: dict[str, Any] = field(default_factory=dict)
    """COPY options by asyncpg's names: format, header, delimiter, null, quote, escape, encoding."""

    @property
    def statement(self) -> str:
        """The COPY this stands for, as the Session checks it (read-only, cache)."""
        if self.query is not None:
            return f"COPY ({self.query}) TO STDOUT"
        columns = " (" + ", ".join(_quote(c) for c in self.columns) + ")" if self.columns else ""
        return f"COPY {self.table_text}{columns} {'FROM STDIN' if self.direction == 'from' else 'TO STDOUT'}"

    @property
    def source_query(self) -> str:
        """What ``TO`` reads: the query, or every row (the columns named) of the table."""
        if self.query is not None:
            return self.query
        columns = ", ".join(_quote(c) for c in self.columns) if self.columns else "*"
        return f"SELECT {columns} FROM {self.table_text}"


@dataclass(slots=True)
class CopyResult:
    rows: int
    path: str
    elapsed: float


async def copy(session: "Session", spec: CopySpec, progress: Progress | None = None) -> CopyResult:
    """Run ``spec`` on ``session``; returns how many rows moved.

    Raises CopyError (a database without COPY, a file that cannot be opened), ReadOnlyViolation, QueryError (its message names the file's line for a record the
    database refused), QueryCancelled, ConnectionLost.
    """
    if not session.driver.COPY:
        raise CopyError(f"\\copy needs a SQL database; {session.driver.display_url} has no COPY")
    started = time.perf_counter()
    path = Path(os.path.expanduser(spec.path))
    report = _Throttled(progress)
    if spec.direction == "from":
        try:
            source = open(path, "rb")
        except OSError as exc:
            raise CopyError(f"cannot read {spec.path}: {exc.strerror or exc}") from None
        with source:
            total = os.fstat(source.fileno()).st_size
            async with session.transfer(spec.statement) as conn:
                rows = await conn.copy_in(spec.table, spec.columns or None, source, spec.options,
                                          lambda r, b: report(r, b, total))
    else:
        partial = path.with_name(f".{path.name}.part")
        try:
            sink = open(partial, "wb", opener=private_opener)
        except OSError as exc:
            raise CopyError(f"cannot write {spec.path}: {exc.strerror or exc}") from None
        try:
            with sink:
                async with session.transfer(spec.statement) as conn:
                    rows = await conn.copy_out(spec.source_query, sink, spec.options, lambda r, b: report(r, b, None))
            os.replace(partial, path)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return CopyResult(rows, str(path), time.perf_counter() - started)


class _Throttled:
    """Calls ``progress`` at most every PROGRESS_INTERVAL seconds."""

    __slots__ = ("_progress", "_next")

    def __init__(self, progress: Progress | None) -> None:
        self._progress = progress
        self._next = time.monotonic() + PROGRESS_INTERVAL

    def __call__(self, rows: int, size: int, total: int | None) -> None:
        if self._progress is None:
            return
        now = time.monotonic()
        if now >= self._next:
            self._next = now + PROGRESS_INTERVAL
            self._progress(rows, size, total)


# -- parsing ---------------------------------------------------------------------------------------


def parse(argument: str) -> CopySpec:
    """The ``\\copy`` argument as a :class:`CopySpec`. Raises CopyError with what to type."""
    scan = _Scanner(argument)
    scan.space()
    query = table = None
    table_text = ""
    columns: list[str] = []
    if scan.peek() == "(":
        query = scan.parenthesized().strip()
        if not query:
            raise CopyError("\\copy (QUERY) needs a query inside the parentheses")
    else:
        start = scan.pos
        table = scan.qualified_name()
        table_text = argument[start:scan.pos]
        scan.space()
        if scan.peek() == "(":
            columns = [_unquote(c.strip()) for c in _split_commas(scan.parenthesized())]
    scan.space()
    direction = scan.word().lower()
    if direction not in ("from", "to"):
        raise CopyError(f"\\copy needs FROM or TO after the table, found {direction or 'nothing'!r}: {USAGE}")
    if query is not None and direction == "from":
        raise CopyError("\\copy (QUERY) copies TO a file; FROM needs a table")
    scan.space()
    target = scan.literal_or_word()
    if not target:
        raise CopyError(f"\\copy needs a file name: {USAGE}")
    if target.lower() in ("program",):
        raise CopyError("\\copy … PROGRAM runs a shell command; AIShell copies to and from files only")
    if target.lower() in ("stdin", "stdout", "pstdin", "pstdout"):
        raise CopyError(f"\\copy … {target} is not supported here; give a file name")
    options = _options(scan)
    return CopySpec(direction, target, table, table_text, columns, query, options)


USAGE = "\\copy TABLE [(COLUMNS)] | (QUERY) TO|FROM FILE [WITH (FORMAT csv, HEADER, DELIMITER ',', NULL '')]"


def _options(scan: "_Scanner") -> dict[str, Any]:
    scan.space()
    if scan.peek_word().lower() == "with":
        scan.word()
        scan.space()
    raw: list[tuple[str, str | None]] = []
    if scan.peek() == "(":
        for item in _split_commas(scan.parenthesized()):
            words = _Scanner(item)
            words.space()
            name = words.word().lower()
            words.space()
            value = words.literal_or_word() if not words.done() else None
            if name:
                raw.append((name, value))
    else:  # psql's old syntax: binary, csv, header, delimiter [as] 'x', null [as] 'x', quote…
        while True:
            scan.space()
            if scan.done():
                break
            name = scan.word().lower()
            if not name:
                raise CopyError(f"\\copy: unexpected {scan.rest()!r}: {USAGE}")
            if name in ("binary", "csv", "text"):
                raw.append(("format", name))
            elif name == "header":
                raw.append(("header", None))
            elif name in ("delimiter", "null", "quote", "escape", "encoding"):
                scan.space()
                if scan.peek_word().lower() == "as":
                    scan.word()
                    scan.space()
                raw.append((name, scan.literal_or_word()))
            else:
                raise CopyError(f"\\copy: unknown option {name!r}: {USAGE}")
    scan.space()
    if not scan.done():
        raise CopyError(f"\\copy: unexpected {scan.rest()!r}: {USAGE}")
    options: dict[str, Any] = {}
    for name, value in raw:
        if name == "format":
            fmt = (value or "").lower()
            if fmt not in ("csv", "text", "binary"):
                raise CopyError(f"\\copy: FORMAT is csv, text or binary, not {value!r}")
            options["format"] = fmt
        elif name == "header":
            text = (value or "true").lower()
            if text not in ("true", "on", "1", "false", "off", "0"):
                raise CopyError(f"\\copy: HEADER is true or false, not {value!r}")
            options["header"] = text in ("true", "on", "1")
        elif name in ("delimiter", "quote", "escape"):
            if value is None or len(value) != 1:
                raise CopyError(f"\\copy: {name.upper()} must be one character, not {value!r}")
            options[name] = value
        elif name in ("null", "encoding"):
            if value is None:
                raise CopyError(f"\\copy: {name.upper()} needs a value")
            options[name] = value
        else:
            raise CopyError(f"\\copy: unknown option {name!r}: {USAGE}")
    if options.get("format", "text") != "csv" and ("quote" in options or "escape" in options):
        raise CopyError("\\copy: QUOTE and ESCAPE go with FORMAT csv")
    return options


class _Scanner:
    """A cursor over the argument: words, quoted literals and identifiers, balanced parentheses."""

    __slots__ = ("text", "pos")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def done(self) -> bool:
        return self.pos >= len(self.text)

    def rest(self) -> str:
        return self.text[self.pos:]

    def peek(self) -> str:
        return self.text[self.pos:self.pos + 1]

    def space(self) -> None:
        while not self.done() and self.text[self.pos].isspace():
            self.pos += 1

    def peek_word(self) -> str:
        saved = self.pos
        word = self.word()
        self.pos = saved
        return word

    def word(self) -> str:
        start = self.pos
        while not self.done() and not self.text[self.pos].isspace() and self.text[self.pos] not in "(),;":
            self.pos += 1
        return self.text[start:self.pos]

    def quoted(self, quote: str) -> str:
        """A literal or identifier starting at ``quote``, doubled quotes undone."""
        out = []
        self.pos += 1
        while True:
            end = self.text.find(quote, self.pos)
            if end < 0:
                raise CopyError(f"\\copy: unterminated {quote} in {self.text!r}")
            out.append(self.text[self.pos:end])
            self.pos = end + 1
            if self.peek() == quote:
                out.append(quote)
                self.pos += 1
                continue
            return "".join(out)

    def literal_or_word(self) -> str:
        if self.peek() == "'":
            return self.quoted("'")
        return self.word()

    def qualified_name(self) -> tuple[str | None, str]:
        parts = []
        while True:
            if self.peek() == '"':
                parts.append(self.quoted('"'))
            else:
                start = self.pos
                while not self.done() and (self.text[self.pos].isalnum() or self.text[self.pos] in "_$"):
                    self.pos += 1
                if start == self.pos:
                    raise CopyError(f"\\copy needs a table or a (query): {USAGE}")
                parts.append(self.text[start:self.pos].lower())
            if self.peek() != ".":
                break
            self.pos += 1
        if len(parts) > 2:
            raise CopyError(f"\\copy: {'.'.join(parts)!r} is not a [schema.]table name")
        return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])

    def parenthesized(self) -> str:
        """The text inside balanced parentheses starting here (strings, quoted names, dollar
        quotes and comments inside do not count)."""
        depth = 0
        start = self.pos + 1
        text = self.text
        i = self.pos
        while i < len(text):
            ch = text[i]
            if ch in "'\"":
                end = i + 1
                while True:
                    end = text.find(ch, end)
                    if end < 0:
                        raise CopyError(f"\\copy: unterminated {ch} in {text!r}")
                    if text[end + 1:end + 2] == ch:
                        end += 2
                        continue
                    break
                i = end + 1
                continue
            if ch == "$":
                tag_end = text.find("$", i + 1)
                tag = text[i:tag_end + 1] if tag_end > 0 else ""
                if tag and (tag == "$$" or tag[1:-1].replace("_", "a").isalnum()):
                    close = text.find(tag, tag_end + 1)
                    if close < 0:
                        raise CopyError(f"\\copy: unterminated {tag} in {text!r}")
                    i = close + len(tag)
                    continue
            if ch == "-" and text[i:i + 2] == "--":
                newline = text.find("\n", i)
                i = len(text) if newline < 0 else newline + 1
                continue
            if ch == "(":
                depth += 1
            elif ch == ")":
                depth -= 1
                if depth == 0:
                    self.pos = i + 1
                    return text[start:i]
            i += 1
        raise CopyError(f"\\copy: unbalanced parentheses in {text!r}")


def _split_commas(text: str) -> list[str]:
    """Split at commas outside quotes."""
    parts, current, quote = [], [], ""
    for ch in text:
        if quote:
            current.append(ch)
            if ch == quote:
                quote = ""
        elif ch in "'\"":
            quote = ch
            current.append(ch)
        elif ch == ",":
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    if "".join(current).strip():
        parts.append("".join(current))
    return parts


def _unquote(name: str) -> str:
    if len(name) >= 2 and name[0] == name[-1] == '"':
        return name[1:-1].replace('""', '"')
    return name.lower()


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


__all__ = ["CopyError", "CopyResult", "CopySpec", "USAGE", "copy", "parse"]
