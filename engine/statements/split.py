r"""The one statement splitter: where each statement of a SQL text starts and ends.

Built on sqlglot's tokenizer, so semicolons inside strings (``'a;b'``, ``E'it\'s;'``),
dollar quotes (``$fn$ … ; … $fn$``), quoted names and comments (``-- ;``, nested
``/* /* ; */ */`` in PostgreSQL) never split. A ``;`` token ends a statement, except inside
a body that holds statements of its own, which stays whole up to its ``END``:

- ``CREATE [OR REPLACE] [TEMP] TRIGGER … BEGIN … ; END`` (SQLite triggers),
- ``CREATE FUNCTION|PROCEDURE … BEGIN ATOMIC … ; END`` (SQL-standard PostgreSQL bodies).

A body ends at an ``END`` that follows its ``BEGIN`` (``ATOMIC``) or a ``;``, as SQLite's
``sqlite3_complete`` reads it, so ``CASE … END`` inside does not close it. With
``psql=True`` a statement that starts with a backslash (``\dt``, ``\set x 1``) is the rest of
its line, as psql reads it. Empty statements (``;;``, comments alone) are dropped; text the
tokenizer cannot read on (a quote never closed) is one last statement up to the end.

:func:`split` splits a whole text; :func:`split_stream` a text read in pieces (a file of any
size in bounded memory: it is tokenized :data:`WINDOW` characters at a time, exactly as if it
were read at once); :func:`scan` is the windowed core the analyzer reads tokens from.

>>> [s.text for s in split("SELECT ';'; CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END;;")]
["SELECT ';'", 'CREATE TRIGGER t AFTER INSERT ON a BEGIN DELETE FROM b; END']
>>> [(s.text, s.line, s.column, s.psql) for s in split("\\c shop\nSELECT 1; SELECT 'x", psql=True)]
[('\\c shop', 1, 1, True), ('SELECT 1', 2, 1, False), ("SELECT 'x", 2, 11, False)]
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Iterable, Iterator

from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, TokenType

from aishell.engine.statements.dialects import dialect_of, normalize_dialect, tools

WINDOW = 1 << 17
"""Characters tokenized at once (a window ends at its last statement's end; the rest is carried)."""
LOOKAHEAD = 2
"""Tokens at the end of a piece that the next characters could still change: one, and two for
the keywords made of two words (``ORDER BY``)."""

_SEMICOLON = TokenType.SEMICOLON
_CREATE = TokenType.CREATE
_BACKSLASH = TokenType.BACKSLASH
_OUTSIDE, _OPENED, _INSIDE, _AFTER_SEMICOLON = 0, 1, 2, 3


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a text: its 0-based ``index``, its ``text`` (first token to last, without
    the ``;``; a psql line without its line break), where that text starts (``offset``, 1-based
    ``line`` and ``column``) and the span it owns: from ``begin`` (just after the statement before
    it, leading comments included) to ``end`` (just after its ``;``, or its last character)."""

    index: int
    text: str
    offset: int
    line: int
    column: int
    begin: int = 0
    end: int = 0
    psql: bool = False
    """A psql backslash line (``\\dt``): a client command, not SQL."""
    closed: bool = True
    """Ended by its ``;`` (or a psql line by its line break); False for the text the input
    ends in, which more text could still extend."""


class Boundaries:
    """Which tokens end a statement: fed tokens in order, it keeps the state of the statement
    being read (a trigger or ``BEGIN ATOMIC`` body open, a psql line) across pieces."""

    __slots__ = ("psql", "psql_line", "_start", "_create", "_trigger", "_body", "_words", "_previous")

    def __init__(self, *, psql: bool = False) -> None:
        self.psql = psql
        self.psql_line: Token | None = None
        """The backslash token of the psql line being read (its statement ends with the line)."""
        self.reset()

    def reset(self) -> None:
        """At the start of a statement."""
        self.psql_line = None
        self._start = True
        self._create = False
        self._trigger = False
        self._body = _OUTSIDE
        self._words = 0
        self._previous = ""

    def ends(self, tokens: list[Token], first: int = 0) -> Iterator[int]:
        """Indices (in ``tokens``, from ``first``) of the last token of each statement: its ``;``,
        or the last token on a psql line (known when a token on a later line comes)."""
        n = len(tokens)
        i = first - 1
        while i + 1 < n:
            i += 1
            token = tokens[i]
            kind = token.token_type
            if not (self._start or self._create or self.psql_line is not None):
                # the common case, a statement with no body: only its ";" counts
                while kind is not _SEMICOLON and i + 1 < n:
                    i += 1
                    kind = tokens[i].token_type
                if kind is _SEMICOLON:
                    self.reset()
                    yield i
                continue
            if self.psql_line is not None:
                if token.line == self.psql_line.line:
                    continue
                self.reset()
                yield i - 1
            if self._start:
                self._start = False
                if kind is _BACKSLASH and self.psql:
                    self.psql_line = token
                    continue
                self._create = kind is _CREATE
                if kind is _SEMICOLON:
                    self.reset()
                    yield i
                continue
            if kind is _SEMICOLON:
                if self._body == _OUTSIDE:
                    self.reset()
                    yield i
                else:
                    self._body = _AFTER_SEMICOLON
                continue
            if self._create:
                self._read_create(token.text.upper())

    def _read_create(self, word: str) -> None:
        """One more word of a CREATE statement: does a body open or close here?"""
        self._words += 1
        body = self._body
        if body == _OUTSIDE:
            if word == "TRIGGER" and self._words <= 5:  # CREATE [OR REPLACE] [TEMP] TRIGGER
                self._trigger = True
            elif (word == "BEGIN" and self._trigger) or (word == "ATOMIC" and self._previous == "BEGIN"):
                self._body = _OPENED
        elif word == "END" and body in (_OPENED, _AFTER_SEMICOLON):
            self._body = _OUTSIDE
            self._create = False  # the body is closed: the statement ends at its next ";"
        elif not (word == "ATOMIC" and body == _OPENED):
            self._body = _INSIDE
        self._previous = word


# -- the windowed scanner --------------------------------------------------------------------------


@dataclass(slots=True)
class Window:
    """Whole statements of the input tokenized together: ``text`` starts at ``offset`` of the
    input, on ``line`` and ``column``; every position inside is relative to ``text``."""

    text: str
    tokens: list[Token]
    statements: list[list[Token]]
    """Each statement's tokens (not its ``;``); a psql line's tokens may stop short of its end."""
    spans: list[tuple[int, int, bool]]
    """Each statement's (begin, end, psql line), as in :class:`Statement`."""
    offset: int
    line: int
    column: int
    error: int | None = None
    """Where the tokenizer stopped (the input's last window only)."""
    trailing: bool = False
    """The last statement has no end: the input ends in it (the last window only)."""
    tail: int = 0
    """Where the text after the last statement's end begins."""
    final: bool = False
    """The input's last window."""

    @property
    def unterminated(self) -> bool:
        """The tokenizer stopped inside the last statement (no end before it)."""
        return self.error is not None and self.trailing


@dataclass(frozen=True, slots=True)
class Skipped:
    """A statement passed over, its tokens never kept: longer than the caller's limit, or
    (``rest``) a token longer than ``max_token_chars`` after which the input is not read."""

    offset: int
    line: int
    column: int
    length: int
    rest: bool = False


@contextmanager
def gc_paused():
    """The cyclic collector off while many new objects (tokens, trees) are built: each collection
    it would trigger walks all of them again (3× the tokenizing time at 1 MB). Turned back on
    after; threads that find it already off leave it to the one that turned it off."""
    was_enabled = gc.isenabled()
    if was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _tokenize(tokenizer, text: str) -> tuple[list[Token], int | None]:
    """The tokens of ``text`` and, when the tokenizer stopped early, where it stopped."""
    with gc_paused():
        try:
            return tokenizer.tokenize(text), None
        except (SqlglotError, ValueError, IndexError, RecursionError):
            tokens = list(tokenizer.tokens)
            offset = tokens[-1].end + 1 if tokens else 0
            while offset < len(text) and text[offset].isspace():
                offset += 1
            return tokens, min(offset, max(len(text) - 1, 0))


def _shift(tokens: list[Token], offset: int, lines: int, columns: int) -> None:
    """Move tokens read from ``text[offset:]`` to their place in ``text``: ``lines`` newlines
    come before ``offset``, which is ``columns`` characters into its line."""
    for token in tokens:
        token.start += offset
        token.end += offset
        if token.line == 1:
            token.col += columns
        token.line += lines


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return len(text) if end == -1 else end


def _grouped(
    text: str, tokens: list[Token], ends: list[int], at_end: bool, psql: bool
) -> tuple[list[list[Token]], list[tuple[int, int, bool]], bool, int]:
    """Statements and spans of ``tokens`` cut after ``ends``; at the end of the input the tokens
    after the last end are one more statement (the third value says there is one). Last, where
    the text after the last end begins."""
    statements: list[list[Token]] = []
    spans: list[tuple[int, int, bool]] = []
    begin = first = 0
    for i in ends:
        last = tokens[i]
        if last.token_type is _SEMICOLON:
            if i > first:
                statements.append(tokens[first:i])
                spans.append((begin, last.end + 1, False))
            begin = last.end + 1
        else:  # a psql line, to its line break
            stop = _line_end(text, tokens[first].start)
            statements.append(tokens[first : i + 1])
            spans.append((begin, stop, True))
            begin = stop
        first = i + 1
    trailing = at_end and first < len(tokens)
    if trailing:
        statements.append(tokens[first:])
        if psql and tokens[first].token_type is _BACKSLASH:
            spans.append((begin, _line_end(text, tokens[first].start), True))
        else:
            spans.append((begin, tokens[-1].end + 1, False))
    return statements, spans, trailing, begin


def scan(
    blocks: Iterable[str],
    tokenizer,
    *,
    psql: bool = False,
    window: int = WINDOW,
    max_statement_chars: int | None = None,
    max_statement_tokens: int | None = None,
    max_token_chars: int | None = None,
) -> Iterator[Window | Skipped]:
    """The input (``blocks``: a text in pieces, cut anywhere) as windows of whole statements,
    reading ``blocks`` only as far as needed: memory holds one window and its tokens.

    Text is tokenized ``window`` characters at a time, each piece from the end of the last
    complete token, and a window is cut after its last statement's end, so statements are split
    exactly as if the whole text were tokenized at once. A statement over
    ``max_statement_tokens`` tokens or ``max_statement_chars`` characters is skipped to its end
    without keeping its tokens; a token longer than ``max_token_chars`` ends the input."""
    max_chars = max_statement_chars if max_statement_chars is not None else float("inf")
    max_tokens = max_statement_tokens if max_statement_tokens is not None else float("inf")
    max_token = max_token_chars if max_token_chars is not None else float("inf")
    boundaries = Boundaries(psql=psql)
    source = iter(blocks)
    carry = ""  # from the start of the first unfinished statement
    tokens: list[Token] = []  # the complete tokens of carry[:done]
    done = 0
    done_lines = 0  # newlines in carry[:done]
    offset, line, column = 0, 1, 1  # where carry starts in the input
    want = window
    skipping: Skipped | None = None
    exhausted = False

    def advance(end: int) -> None:
        """Drop carry[:end] (a token boundary) and the tokens in it."""
        nonlocal carry, tokens, done, done_lines, offset, line, column
        text = carry[:end]
        offset += end
        newlines = text.count("\n")
        if newlines:
            line += newlines
            column = end - text.rfind("\n")
        else:
            column += end
        carry = carry[end:]
        tokens, done, done_lines = [], 0, 0
        boundaries.reset()

    while True:
        if not exhausted and len(carry) - done < want:
            parts = [carry]
            have = len(carry) - done
            while have < want:
                block = next(source, None)
                if block is None:
                    exhausted = True
                    break
                parts.append(block)
                have += len(block)
            carry = "".join(parts)
        if not carry:
            if skipping is not None:
                yield skipping
            return
        at_end = exhausted and len(carry) - done <= want
        piece, error = _tokenize(tokenizer, carry[done:] if at_end else carry[done : done + want])
        if error is not None:
            if not at_end and piece and piece[-1].text[:1] == "$" and not carry[done + piece[-1].end + 1 : done + piece[-1].end + 2].isspace():
                del piece[-1]  # a dollar-quote tag whose closing tag is not read yet, half-read
                error = piece[-1].end + 1 if piece else 0
            resume = stop = done + error
        elif at_end:
            resume, stop = len(carry), None
        else:  # the last tokens may be cut short by the end of the text read so far ("ORDER B…")
            redo = piece[-LOOKAHEAD:]
            del piece[-LOOKAHEAD:]
            resume, stop = done + (redo[0].start if piece else 0), None
        if done:
            _shift(piece, done, done_lines, done - (carry.rfind("\n", 0, done) + 1))
        done_lines += carry.count("\n", done, resume)
        progress = resume > done
        done = resume
        if skipping is not None:
            end = next(boundaries.ends(piece), None)
            if end is not None:
                token = piece[end]
                semicolon = token.token_type is _SEMICOLON
                upto = token.start if semicolon else token.end + 1
                yield replace(skipping, length=skipping.length + len(carry[:upto].rstrip()))
                skipping = None
                advance(token.end + 1 if semicolon else _line_end(carry, token.start))
            elif at_end:
                yield replace(skipping, length=skipping.length + len(carry))
                return
            elif done == 0:
                want *= 2  # one token longer than the piece: read a longer one
                if want > max_token:
                    yield skipping
                    yield Skipped(offset, line, column, len(carry), rest=True)
                    return
            else:
                skipping = replace(skipping, length=skipping.length + done)
                advance(done)
                want = window
            continue
        first_new = len(tokens)
        tokens.extend(piece)
        ends = list(boundaries.ends(tokens, first_new))  # tokens before this piece end no statement
        cut = _psql_cut(carry, tokens, ends, boundaries, stop) if psql else None
        if cut is None:
            if at_end:
                if psql and boundaries.psql_line is not None and stop is not None:
                    stop = None  # a psql line runs to the end whatever it holds
                statements, spans, trailing, tail = _grouped(carry, tokens, ends, True, psql)
                yield Window(carry, tokens, statements, spans, offset, line, column, stop, trailing, tail, True)
                return
            if ends:
                last = tokens[ends[-1]]
                if last.token_type is _SEMICOLON:
                    cut = last.end + 1
                else:
                    cut = _line_end(carry, tokens[ends[-2] + 1 if len(ends) > 1 else 0].start)
        if cut is not None:
            del tokens[ends[-1] + 1 :]
            text = carry[:cut]
            statements, spans, _, tail = _grouped(text, tokens, ends, False, psql)
            yield Window(text, tokens, statements, spans, offset, line, column, tail=tail)
            advance(cut)  # the rest of the statement after the cut is tokenized again with what follows
            want = window
        elif len(tokens) > max_tokens or done > max_chars:
            first, end = (tokens[0].start if tokens else 0), done
            advance(first)  # the statement starts at its first token, not after the previous ";"
            skipping = Skipped(offset, line, column, end - first)
            advance(end - first)
            want = window
        elif not progress:
            want *= 2  # one token longer than the piece: read a longer one
            if want > max_token:
                advance(done)
                yield Skipped(offset, line, column, len(carry), rest=True)
                return
        else:
            want = window


def _psql_cut(carry: str, tokens: list[Token], ends: list[int], boundaries: Boundaries, stop: int | None) -> int | None:
    """Where to cut after a psql line whose text the tokenizer read as more than that line (a
    quote never closed on it): the line ends there, what follows is tokenized again. ``ends``
    is cut back to that line."""
    first = 0
    for k, e in enumerate(ends):
        if tokens[e].token_type is not _SEMICOLON:
            line_end = _line_end(carry, tokens[first].start)
            if e + 1 < len(tokens) and tokens[e + 1].start < line_end:
                del ends[k + 1 :]
                return line_end
        first = e + 1
    open_line = boundaries.psql_line
    if open_line is not None and stop is not None:  # the tokenizer stopped on the line or after it
        line_end = carry.find("\n", open_line.start)
        if line_end != -1:
            ends.append(len(tokens) - 1)
            return line_end
    return None


# -- statements ------------------------------------------------------------------------------------


def split(text: str, dialect: str = "postgres", *, psql: bool = False) -> list[Statement]:
    """The statements of ``text`` (see the module's rules). Never raises for bad SQL;
    ValueError for an unknown dialect."""
    return list(split_stream([text], dialect, psql=psql))


def split_stream(blocks: Iterable[str], dialect: str = "postgres", *, psql: bool = False) -> Iterator[Statement]:
    """:func:`split` of the text made of ``blocks`` (a file read in pieces), statement by
    statement as they are read, in memory bounded by :data:`WINDOW` and the longest statement."""
    tokenizer = tools(dialect_of(normalize_dialect(dialect)))[0]
    index = 0
    for window in scan(blocks, tokenizer, psql=psql):
        if isinstance(window, Skipped):  # not without limits; kept for type checkers
            continue
        for statement in statements_of(window, index):
            index += 1
            yield statement


def statements_of(window: Window, first_index: int = 0) -> Iterator[Statement]:
    """The :class:`Statement` values of one window, positions in the whole input, numbered
    from ``first_index``; text after a tokenizer error is one last statement."""
    text = window.text
    locate = _Locator(window)
    index = first_index
    count = len(window.statements)
    if window.unterminated:
        count -= 1
    open_last = window.trailing and window.error is None
    for i, (tokens, (begin, end, psql)) in enumerate(zip(window.statements[:count], window.spans)):
        start = tokens[0].start
        body = text[start:end].rstrip() if psql else text[start : tokens[-1].end + 1]
        if psql:  # a psql line ends at its line break
            closed = not (window.final and end >= len(text))
        else:
            closed = not (open_last and i == count - 1)
        yield Statement(index, body, window.offset + start, *locate(start), window.offset + begin, window.offset + end, psql, closed)
        index += 1
    if window.error is not None:
        start = window.statements[-1][0].start if window.unterminated else window.error
        rest = text[start:].rstrip()
        if rest:
            begin = window.spans[count][0] if window.unterminated else window.tail
            yield Statement(
                index, rest, window.offset + start, *locate(start), window.offset + begin, window.offset + len(text), False, False
            )


class _Locator:
    """1-based (line, column) in the whole input of offsets into a window, asked in order."""

    __slots__ = ("text", "line", "column", "at")

    def __init__(self, window: Window) -> None:
        self.text = window.text
        self.line, self.column, self.at = window.line, window.column, 0

    def __call__(self, offset: int) -> tuple[int, int]:
        newlines = self.text.count("\n", self.at, offset)
        if newlines:
            self.line += newlines
            self.column = offset - self.text.rfind("\n", self.at, offset)
        else:
            self.column += offset - self.at
        self.at = offset
        return self.line, self.column


__all__ = ["Statement", "Boundaries", "Window", "Skipped", "WINDOW", "scan", "split", "split_stream", "statements_of", "gc_paused"]
