"""SQL text as the editor sees it: a forgiving lexer, statement splitting, comment toggling.

The editor works on half-typed SQL all the time (an unclosed quote, a dangling ``JOIN``), so
this lexer never fails: an unterminated string or comment simply runs to the end of the text.
Where statements begin and end is the engine's one splitter's answer
(:mod:`aishell.engine.statements.split`), re-read per keystroke only from the statement an edit
touched. Pure functions, no Textual.

>>> [s.text for s in split_statements("select 1; select ';' ;\\n\\nselect 3")]
['select 1', "select ';'", 'select 3']
>>> statement_at("select 1;\\nselect 2", 12).text
'select 2'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_TOKEN = re.compile(
    r"""
    (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))
  | (?P<string>'(?:[^']|'')*(?:'|\Z)|\$(?P<tag>[A-Za-z_]\w*)?\$.*?(?:\$(?P=tag)?\$|\Z))
  | (?P<quoted>"(?:[^"]|"")*(?:"|\Z)|`[^`]*(?:`|\Z)|\[[^\]\n]*\])
  | (?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
  | (?P<word>[A-Za-z_][A-Za-z0-9_$]*)
  | (?P<backslash>\\[A-Za-z?+]*)
  | (?P<param>[$:?]\d+|:[A-Za-z_]\w*)
  | (?P<op>::|<=|>=|<>|!=|\|\||->>|->|[-+*/%<>=~!|&^#@])
  | (?P<punct>[(),;.\[\]{}])
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)


@dataclass(frozen=True, slots=True)
class Token:
    """A lexeme: ``kind`` is comment, string, quoted, number, word, backslash, param, op,
    punct or other; ``start``/``end`` are character offsets (end exclusive)."""

    kind: str
    text: str
    start: int
    end: int

    @property
    def upper(self) -> str:
        return self.text.upper()

    @property
    def name(self) -> str:
        """The identifier's value: unquoted, as typed otherwise."""
        if self.kind == "quoted" and len(self.text) >= 2:
            return self.text[1:-1].replace('""', '"')
        return self.text


def tokenize(text: str) -> list[Token]:
    """Every token except whitespace, in order. Never raises."""
    tokens = []
    for match in _TOKEN.finditer(text):
        kind = match.lastgroup
        if kind == "tag":
            kind = "string"
        if kind == "space":
            continue
        tokens.append(Token(kind, match.group(), match.start(), match.end()))
    return tokens


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a buffer: its text (trimmed, without the ``;``) and where it starts."""

    text: str
    start: int
    end: int


def split_statements(text: str) -> list[Statement]:
    """The buffer's statements by :func:`aishell.engine.statements.split.split`'s rules (a psql
    backslash line is a statement of its own that ends at the end of its line), each with the
    comments around it. Per keystroke only the text from the first statement the edit can have
    changed is split again: the statements before it ended (a ``;``, or the line break after a
    psql line) before the first changed character, and where a statement ends depends only on
    the text before it."""
    last = _last[0]
    if last is not None and last[0] == text:
        return [statement for statement, _ in last[1]]
    kept: list[tuple[Statement, int]] = []
    resume = 0
    if last is not None:
        same = _common_prefix(last[0], text)
        for statement, end in last[1]:
            if end >= same:
                break
            kept.append((statement, end))
            resume = end
    pairs = kept + _split_from(text, resume)
    _last[0] = (text, pairs)
    return [statement for statement, _ in pairs]


_last: list = [None]
"""The last buffer split: its text and each statement with where its span ends (past the end
of the text when nothing closed it: such a statement is always split again)."""


def _split_from(text: str, begin: int) -> list[tuple[Statement, int]]:
    from aishell.engine.statements.split import split

    out = []
    for part in split(text[begin:], psql=True):
        end = begin + part.end
        closed = part.closed and (not part.psql or end < len(text))
        semicolon = closed and not part.psql
        chunk = text[begin + part.begin : end - 1 if semicolon else end if closed or part.psql else len(text)]
        stripped = chunk.strip()
        start = begin + part.begin + len(chunk) - len(chunk.lstrip())
        out.append((Statement(stripped, start, start + len(stripped)), end if closed else len(text) + 1))
    return out


def _common_prefix(a: str, b: str) -> int:
    """Length of the longest common prefix (slices compare in C: log n of them)."""
    low, high = 0, min(len(a), len(b))
    while low < high:
        middle = (low + high + 1) // 2
        if a[low:middle] == b[low:middle]:
            low = middle
        else:
            high = middle - 1
    return low


def statement_at(text: str, offset: int) -> Statement | None:
    """The statement the cursor at ``offset`` is in (or just after, on the same line)."""
    statements = split_statements(text)
    if not statements:
        return None
    for stmt in statements:
        if stmt.start <= offset <= stmt.end:
            return stmt
    # Between statements: the previous one when on its last line, else the next one.
    before = [s for s in statements if s.end <= offset]
    if before and "\n" not in text[before[-1].end : offset]:
        return before[-1]
    after = [s for s in statements if s.start >= offset]
    return after[0] if after else before[-1]


def offset_of(text: str, line: int, column: int) -> int:
    """Character offset of a 0-based (line, column) location."""
    lines = text.split("\n")
    line = max(0, min(line, len(lines) - 1))
    return sum(len(lines[i]) + 1 for i in range(line)) + min(column, len(lines[line]))


def location_of(text: str, offset: int) -> tuple[int, int]:
    """0-based (line, column) of a character offset."""
    before = text[:offset]
    line = before.count("\n")
    return line, offset - (before.rfind("\n") + 1)


def toggle_comment(lines: list[str]) -> list[str]:
    """Comment the lines out with ``-- ``, or uncomment them when all already are."""
    content = [ln for ln in lines if ln.strip()]
    if content and all(ln.lstrip().startswith("--") for ln in content):
        out = []
        for ln in lines:
            stripped = ln.lstrip()
            if stripped.startswith("--"):
                indent = ln[: len(ln) - len(stripped)]
                rest = stripped[2:]
                out.append(indent + (rest[1:] if rest.startswith(" ") else rest))
            else:
                out.append(ln)
        return out
    indent = min((len(ln) - len(ln.lstrip()) for ln in content), default=0)
    return [ln[:indent] + "-- " + ln[indent:] if ln.strip() else ln for ln in lines]


def format_sql(sql: str, dialect: str | None) -> str:
    """Pretty-print with sqlglot, keeping comments. Raises ValueError when it does not parse."""
    import sqlglot
    from sqlglot.errors import SqlglotError

    try:
        trees = sqlglot.parse(sql, read=dialect)
    except SqlglotError as exc:
        raise ValueError(str(exc).splitlines()[0]) from None
    parts = [t.sql(dialect=dialect, pretty=True) for t in trees if t is not None]
    return ";\n\n".join(parts) + (";" if sql.rstrip().endswith(";") else "")
