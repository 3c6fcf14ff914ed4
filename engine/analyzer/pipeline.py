"""The analysis pipeline: tokenize a window of text at a time, split it into statements, parse
each once, run every rule of :data:`engine.analyzer.rules.RULES` on the shared tree, cache by
fingerprint.

Never raises: text that does not tokenize or parse becomes an ``AS000`` error finding at the
place it stops making sense, and the next statement is analyzed as usual.

Bounded whatever the input: text is tokenized :data:`WINDOW` characters at a time and cut at
``;`` tokens (sqlglot's own split, so semicolons in strings and comments do not count); a
statement longer than :data:`MAX_STATEMENT_CHARS` or nested deeper than :data:`MAX_NESTING` is
reported instead of parsed; each rule lists at most :data:`MAX_FINDINGS` findings of a statement
and counts the rest. :func:`analyze_stream` reads a file in pieces with memory that does not
grow with its size.

>>> analysis = analyze("SELECT * FROM orders; DELETE FROM orders")
>>> [(f.code, f.statement, f.line, f.column) for f in analysis.findings]
[('AS001', 0, 1, 8), ('AS002', 1, 1, 23)]
>>> [(s.index, s.line, [f.code for f in found]) for s, found in analyze_stream(["SELECT 1;\\nSELECT * ", "FROM t"])]
[(0, 1, []), (1, 2, ['AS001'])]
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from dataclasses import dataclass, fields, replace
from operator import attrgetter
from typing import Iterable, Iterator

from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokens import Token, TokenType

from aishell.engine.analyzer.memo import LRU, statement_key
from aishell.engine.analyzer.context import Context, LineIndex
from aishell.engine.analyzer.findings import Analysis, Finding, Rule, severity_rank
from aishell.engine.analyzer.rules import RULES
from aishell.engine.config import AnalyzerSettings
from aishell.engine.statements.dialects import dialect_of, normalize_dialect, tools
from aishell.engine.statements.fingerprint import LITERALS
from aishell.engine.statements.split import Skipped, Statement, gc_paused, scan, statements_of
from aishell.engine.types import SchemaInfo

log = logging.getLogger(__name__)

PARSE_ERROR = Rule("AS000", "parse-error", "error", "The statement does not parse")
MAX_CACHED_TEXT = 100_000
"""Texts longer than this are not kept in the exact-text cache (their statements still are)."""
MAX_CACHED_TOKENS = 20_000
"""Statements with more tokens than this are analyzed but not cached."""
MAX_CHECKED_LITERALS = 1_000
"""Statements with more literals than this are reused for the same text only (checking whether
a finding quotes one of them would cost more than the analysis)."""
MAX_NESTING = 256
"""Parenthesis depth beyond which a statement is reported instead of parsed."""
MAX_FINDINGS = 25
"""Findings a rule lists for one statement; the rest are counted in one more finding."""
WINDOW = 1 << 17
"""Characters tokenized at once (a window ends at its last ``;`` token; the rest is carried)."""
MAX_STATEMENT_CHARS = 1 << 20
"""Statements longer than this are reported, not parsed."""
MAX_STATEMENT_TOKENS = 128_000
"""Statements with more tokens than this are reported, not parsed. sqlglot alone needs about
4 µs a token to tokenize and parse, and a token and its share of the tree about 1 KB at the
peak: up to this many, a statement (about 400 KB of dense SQL) analyzes in under a second and
150 MB; beyond it, it is skipped in a third of a second."""
MAX_TOKEN_CHARS = 1 << 23
"""A single token (string, comment) longer than this ends the analysis of the input: it is
either never closed or not SQL anyone runs."""

_DEFAULT_SETTINGS = AnalyzerSettings()
_SETTINGS_KEY = attrgetter(*(f.name for f in fields(AnalyzerSettings)))
"""The settings' values as a tuple: part of every cache key (settings objects are mutable)."""
_FINDING_WEIGHT = 300
"""Characters a cached finding counts for (message, suggestion, fields)."""
_TEXTS = LRU(_DEFAULT_SETTINGS.cache_size, max_weight=8_000_000)
"""Whole texts analyzed: at most ``cache_size`` and about 8 MB of text and findings."""
_SHAPES = LRU(_DEFAULT_SETTINGS.cache_size * 4, max_weight=16_000_000)
"""Statements by exact text and by shape: four times as many, about 16 MB."""
_TOKEN_REPR = re.compile(r"<Token token_type: TokenType\.(\w+), text: (.*?), line: \d+, col: \d+, start: \d+, end: \d+, comments: \[.*?\]>")
_MISSING = re.compile(r"Required keyword: '(\w+)' missing for <class '[\w.]+\.(\w+)'>")


@dataclass(slots=True)
class _Entry:
    """A statement shape's findings with token-index positions."""

    templates: tuple[tuple[Finding, int, int], ...]
    tokens: int
    """Token count of the statement it was made from (a shape key match must agree)."""


@dataclass(slots=True)
class _Cached:
    analysis: Analysis
    schema: SchemaInfo | None


def analyze(
    sql: str,
    *,
    dialect: str = "postgres",
    schema: SchemaInfo | None = None,
    settings: AnalyzerSettings | None = None,
) -> Analysis:
    """Findings for every statement of ``sql`` (sync, pure, never raises).

    Results are cached by exact text and by statement fingerprint; ``schema`` is treated as an
    immutable snapshot (pass a new object after reloading the catalog).
    """
    try:
        if not isinstance(sql, str):
            sql = bytes(sql).decode("utf-8", "replace") if isinstance(sql, (bytes, bytearray, memoryview)) else str(sql)
        settings = settings or _DEFAULT_SETTINGS
        dialect = normalize_dialect(dialect)
        skey = _SETTINGS_KEY(settings)
        if settings.cache_size != _TEXTS.maxsize:
            _resize(settings.cache_size)
        key = (sql, dialect, id(schema), skey)
        cached = _TEXTS.get(key)
        if cached is not None and cached.schema is schema:
            return Analysis(list(cached.analysis.findings), cached.analysis.statements)
        analysis = _analyze(sql, dialect, schema, settings, skey)
        if len(sql) <= MAX_CACHED_TEXT:
            _TEXTS.put(key, _Cached(analysis, schema), len(sql) + _FINDING_WEIGHT * len(analysis.findings))
        return Analysis(list(analysis.findings), analysis.statements)
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        log.debug("analyzer failed", exc_info=True)
        return Analysis([Finding("AS000", PARSE_ERROR.name, "error", f"could not analyze: {type(exc).__name__}: {exc}", 1, 1)], 1)


def _resize(size: int) -> None:
    """Follow ``settings.cache_size`` (texts; statement shapes get four times as many)."""
    _TEXTS.maxsize = max(0, size)
    _SHAPES.maxsize = max(0, size) * 4
    if size <= 0:
        clear_cache()


def clear_cache() -> None:
    """Forget every cached analysis (tests and benchmarks use it for cold runs)."""
    _TEXTS.clear()
    _SHAPES.clear()


def cache_stats() -> dict[str, int]:
    return {
        "texts": len(_TEXTS), "text_hits": _TEXTS.hits, "text_misses": _TEXTS.misses,
        "shapes": len(_SHAPES), "shape_hits": _SHAPES.hits, "shape_misses": _SHAPES.misses,
        "text_weight": _TEXTS.weight, "shape_weight": _SHAPES.weight,
    }


def _analyze(sql: str, dialect_name: str, schema: SchemaInfo | None, settings: AnalyzerSettings, skey: tuple) -> Analysis:
    findings: list[Finding] = []
    statements = 0
    for _, found in _analyzed([sql], dialect_name, schema, settings, skey):
        statements += 1
        findings.extend(found)
    return Analysis(findings, statements)


def analyze_stream(
    blocks: Iterable[str],
    *,
    dialect: str = "postgres",
    schema: SchemaInfo | None = None,
    settings: AnalyzerSettings | None = None,
) -> Iterator[tuple[Statement, list[Finding]]]:
    """Each statement of the text made of ``blocks`` (a file read in pieces: any size, any
    cut) with its findings, in order, positions in the whole text. Memory stays bounded by
    :data:`WINDOW` and :data:`MAX_STATEMENT_TOKENS`, not by the length of the text. Never raises
    for bad SQL; a failure inside the analyzer becomes an ``AS000`` finding and ends the stream."""
    settings = settings or _DEFAULT_SETTINGS
    dialect = normalize_dialect(dialect)
    number = 0
    try:
        for statement, found in _analyzed(blocks, dialect, schema, settings, _SETTINGS_KEY(settings)):
            number = statement.index + 1
            yield statement, found
    except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
        log.debug("analyzer failed", exc_info=True)
        message = f"could not analyze: {type(exc).__name__}: {exc}"
        yield Statement(number, "", 0, 1, 1), [Finding("AS000", PARSE_ERROR.name, "error", message, 1, 1, None, number)]


def _analyzed(
    blocks: Iterable[str], dialect_name: str, schema: SchemaInfo | None, settings: AnalyzerSettings, skey: tuple
) -> Iterator[tuple[Statement, list[Finding]]]:
    try:
        dialect = dialect_of(dialect_name)
    except ValueError:
        yield Statement(0, "", 0, 1, 1), [Finding("AS000", PARSE_ERROR.name, "error", f"unknown SQL dialect {dialect_name!r}", 1, 1)]
        return
    tokenizer, parser = tools(dialect)
    disabled = {c.strip().upper() for c in settings.disabled_rules.split(",") if c.strip()} if settings.disabled_rules else set()
    number = 0
    deep_offset = settings.deep_offset
    for piece in _scan(blocks, tokenizer):
        if isinstance(piece, Skipped):
            yield Statement(number, "", piece.offset, piece.line, piece.column), [_skipped(piece, number)]
            number += 1
            continue
        window = _Window(piece)
        quiet = _quiet_lines(piece.tokens)
        last = len(piece.statements) - 1
        for i, chunk in enumerate(piece.statements):
            if piece.unterminated and i == last:
                break  # the statement the tokenizer stopped in: reported below
            shape = statement_key(chunk, deep_offset) if len(chunk) <= MAX_CACHED_TOKENS else ""
            found = _statement(window.text, chunk, shape, number, parser, dialect, dialect_name, schema, settings, skey, window.lines)
            if found and (disabled or quiet):
                found = _unsuppressed(found, quiet, disabled)
            found.sort(key=_ORDER)
            yield window.statement(number, chunk[0].start, chunk[-1].end + 1), window.shifted(found)
            number += 1
        if window.error is not None:
            start = piece.statements[-1][0].start if piece.unterminated else window.error
            error = window.located(window.error, number, _token_error_message(window.text, window.error))
            yield window.statement(number, start, len(window.text), rest=True), [error]
            number += 1


_ORDER = attrgetter("statement", "line", "column", "code")


def _quiet_lines(tokens: list[Token]) -> dict[int, set[str] | None]:
    """Lines silenced by ``-- noqa[: CODE, …]`` comments: the codes, or None for all."""
    quiet: dict[int, set[str] | None] = {}
    for token in tokens:
        for comment in token.comments or ():
            text = comment.strip()
            if text[:4].lower() != "noqa":
                continue
            rest = text[4:].lstrip()
            if rest.startswith(":"):
                codes = {c.strip().upper() for c in rest[1:].replace(" ", ",").split(",") if c.strip()}
                current = quiet.get(token.line, set())
                if current is not None:
                    quiet[token.line] = current | codes
            else:
                quiet[token.line] = None  # every code
    return quiet


def _unsuppressed(findings: list[Finding], quiet: dict[int, set[str] | None], disabled: set[str]) -> list[Finding]:
    """Findings left after ``settings.disabled_rules`` and ``-- noqa[: CODE, …]`` comments
    (a comment silences findings that start on its line; without codes, all but AS000)."""
    kept = []
    for finding in findings:
        if finding.code == "AS000":
            kept.append(finding)
            continue
        if finding.code in disabled:
            continue
        if finding.line in quiet:
            codes = quiet[finding.line]
            if codes is None or finding.code in codes:
                continue
        kept.append(finding)
    return kept


class _Window:
    """A window of :func:`engine.statements.split.scan` with its line index: positions inside
    are relative to its text, which starts at ``offset`` (``line``, ``column``) of the input."""

    __slots__ = ("text", "offset", "line", "column", "error", "lines")

    def __init__(self, window) -> None:
        self.text = window.text
        self.offset, self.line, self.column = window.offset, window.line, window.column
        self.error = window.error
        self.lines = LineIndex(window.text)

    def position(self, offset: int) -> tuple[int, int]:
        line, column = self.lines.locate(offset)
        return (self.line + line - 1, column + self.column - 1 if line == 1 else column)

    def statement(self, number: int, start: int, end: int, *, rest: bool = False) -> Statement:
        text = self.text[start:end].rstrip() if rest else self.text[start:end]
        return Statement(number, text, self.offset + start, *self.position(start))

    def located(self, offset: int, number: int, message: str) -> Finding:
        return Finding("AS000", PARSE_ERROR.name, "error", message, *self.position(offset), None, number)

    def shifted(self, found: list[Finding]) -> list[Finding]:
        """``found`` with positions in the whole input instead of the window."""
        if self.line == 1 and self.column == 1:
            return found
        out = []
        for f in found:
            line, column = self._shift(f.line, f.column)
            end_line, end_column = self._shift(f.end_line, f.end_column)
            out.append(replace(f, line=line, column=column, end_line=end_line, end_column=end_column))
        return out

    def _shift(self, line: int | None, column: int | None) -> tuple[int | None, int | None]:
        if line is None or column is None:
            return line, column
        return self.line + line - 1, column + self.column - 1 if line == 1 else column


def _skipped(skipped: Skipped, number: int) -> Finding:
    """The finding for a statement passed over: longer than :data:`MAX_STATEMENT_CHARS` or
    :data:`MAX_STATEMENT_TOKENS`, or (``rest``) after a token longer than
    :data:`MAX_TOKEN_CHARS`, after which the input is not read."""
    if skipped.rest:
        message = (
            f"a string, quoted name or comment here is never closed or longer than {MAX_TOKEN_CHARS:,} characters: "
            "the rest of the input is not analyzed"
        )
    else:
        message = (
            f"statement of {skipped.length:,} characters: too large to analyze "
            f"(limits: {MAX_STATEMENT_TOKENS:,} tokens, {MAX_STATEMENT_CHARS:,} characters)"
        )
    return Finding("AS000", PARSE_ERROR.name, "error", message, skipped.line, skipped.column, None, number)


def _scan(blocks: Iterable[str], tokenizer):
    """:func:`engine.statements.split.scan` within the analyzer's limits (read when called)."""
    return scan(
        blocks, tokenizer, window=WINDOW, max_statement_chars=MAX_STATEMENT_CHARS,
        max_statement_tokens=MAX_STATEMENT_TOKENS, max_token_chars=MAX_TOKEN_CHARS,
    )


def _statement(
    sql: str,
    chunk: list[Token],
    shape: str,
    number: int,
    parser,
    dialect,
    dialect_name: str,
    schema: SchemaInfo | None,
    settings: AnalyzerSettings,
    skey: tuple,
    lines: LineIndex,
) -> list[Finding]:
    cacheable = len(chunk) <= MAX_CACHED_TOKENS
    if cacheable:
        exact = (sql[chunk[0].start : chunk[-1].end + 1], dialect_name, id(schema), skey)
        key = (shape, dialect_name, id(schema), skey)
        entry = _SHAPES.get(exact) or _SHAPES.get(key)
        if entry is not None and entry[1] is schema and entry[0].tokens == len(chunk):
            return _relocate(entry[0], chunk, number, lines)
    found = _run(sql, chunk, number, parser, dialect, dialect_name, schema, settings, lines)
    if cacheable:
        remembered, reusable = _remember(found, chunk, lines)
        weight = _FINDING_WEIGHT * len(found)
        _SHAPES.put(exact, (remembered, schema), len(exact[0]) + weight)
        if reusable:
            _SHAPES.put(key, (remembered, schema), len(shape) + weight)
    return found


def _relocate(entry: _Entry, chunk: list[Token], number: int, lines: LineIndex) -> list[Finding]:
    out = []
    for finding, first, last in entry.templates:
        line, column = lines.locate(chunk[first].start)
        end_line, end_column = lines.locate(chunk[last].end)
        out.append(
            Finding(
                finding.code, finding.rule, finding.severity, finding.message, line, column,
                finding.suggestion, number, end_line, end_column, finding.candidate,
            )
        )
    return out


def _remember(found: list[Finding], chunk: list[Token], lines: LineIndex) -> tuple[_Entry, bool]:
    """The findings as token-index templates, and whether they may be reused for other texts
    of the same shape: not when one quotes a literal of the statement (its message or
    suggestion then depends on the values). The same text can always reuse them."""
    starts = [t.start for t in chunk]
    literals = [t.text for t in chunk if t.token_type in LITERALS and t.text]
    templates = []
    reusable = len(literals) <= MAX_CHECKED_LITERALS
    for finding in found:
        if reusable and literals:
            text = finding.message + "\x00" + (finding.suggestion or "")
            reusable = not any(lit in text for lit in literals)
        start = lines.starts[finding.line - 1] + finding.column - 1
        end = lines.starts[(finding.end_line or finding.line) - 1] + (finding.end_column or finding.column) - 1
        first = max(bisect_right(starts, start) - 1, 0)
        last = max(bisect_right(starts, end) - 1, first)
        templates.append((finding, first, last))
    return _Entry(tuple(templates), len(chunk)), reusable


def _run(
    sql: str,
    chunk: list[Token],
    number: int,
    parser,
    dialect,
    dialect_name: str,
    schema: SchemaInfo | None,
    settings: AnalyzerSettings,
    lines: LineIndex,
) -> list[Finding]:
    length = chunk[-1].end + 1 - chunk[0].start
    if length > MAX_STATEMENT_CHARS or len(chunk) > MAX_STATEMENT_TOKENS:
        return [_at(chunk[0].start, lines, number, _skipped(Skipped(0, 1, 1, length), number).message)]
    depth = deepest = 0
    for token in chunk:
        if token.token_type is TokenType.L_PAREN:
            depth += 1
            if depth > deepest:
                deepest = depth
        elif token.token_type is TokenType.R_PAREN:
            depth -= 1
    if deepest > MAX_NESTING:
        return [_at(chunk[0].start, lines, number, f"statement nested {deepest} levels deep: too deep to analyze (limit {MAX_NESTING})")]
    with gc_paused():
        return _parsed_and_checked(sql, chunk, number, parser, dialect, dialect_name, schema, settings, lines)


def _parsed_and_checked(sql: str, chunk: list[Token], number: int, parser, dialect, dialect_name: str, schema, settings, lines: LineIndex) -> list[Finding]:
    try:
        trees = parser.parse(chunk, sql)
    except ParseError as exc:
        return [_parse_error(exc, chunk, lines, number)]
    except RecursionError:
        return [_at(chunk[0].start, lines, number, "statement nested too deeply to analyze")]
    except (SqlglotError, ValueError, TypeError, IndexError, KeyError, AttributeError) as exc:
        return [_at(chunk[0].start, lines, number, f"syntax error: {exc}".splitlines()[0])]
    found: list[Finding] = []
    for tree in trees:
        if tree is None:
            continue
        if _not_a_statement(tree):
            found.append(_at(chunk[0].start, lines, number, f"not a SQL statement: {chunk[0].text!r} does not start one"))
            continue
        found.extend(_checked(sql, tree, chunk, number, dialect, dialect_name, schema, settings, lines))
    return found


def _checked(sql: str, tree, chunk: list[Token], number: int, dialect, dialect_name: str, schema, settings, lines: LineIndex) -> list[Finding]:
    """Every rule's findings on one tree, at most :data:`MAX_FINDINGS` a rule (the rest counted
    in one more finding at the end of the statement). A rule that fails is skipped; one that
    recurses too deep for this tree is named in an ``AS000`` finding."""
    try:
        ctx = Context(
            sql, tree, dialect=dialect_name, schema=schema, settings=settings, statement=number, lines=lines,
            start=chunk[0].start, generator_dialect=dialect, tokens=chunk,
        )
    except RecursionError:
        return [_at(chunk[0].start, lines, number, "statement nested too deeply to analyze")]
    found: list[Finding] = []
    too_deep: list[str] = []
    for rule in RULES:
        listed = more = 0
        worst = "info"
        ctx.brief = False
        try:
            for finding in rule.check(tree, ctx):
                if listed < MAX_FINDINGS:
                    found.append(finding)
                    listed += 1
                    ctx.brief = listed == MAX_FINDINGS
                else:
                    more += 1
                    if severity_rank(finding.severity) > severity_rank(worst):
                        worst = finding.severity
        except RecursionError:
            too_deep.append(rule.RULE.code)
        except Exception:  # noqa: BLE001 - one rule's failure must not stop the others
            log.debug("rule %s failed", rule.RULE.code, exc_info=True)
        if more:
            line, column = lines.locate(chunk[-1].start)
            message = f"… and {more:,} more {rule.RULE.code} finding{'s' if more != 1 else ''} in this statement (not listed)"
            found.append(Finding(rule.RULE.code, rule.RULE.name, worst, message, line, column, None, number))
    if too_deep:
        found.append(_at(chunk[0].start, lines, number, f"statement nested too deeply for {', '.join(too_deep)}: not fully analyzed"))
    return found


def _not_a_statement(tree: exp.Expression) -> bool:
    if isinstance(tree, (exp.Query, exp.DML, exp.DDL, exp.Command)):
        return False
    return isinstance(tree, (exp.Column, exp.Alias, exp.Literal, exp.Identifier, exp.Binary, exp.Unary, exp.Func, exp.Null, exp.Boolean, exp.Star, exp.Tuple, exp.Paren, exp.Var))


def _at(offset: int, lines: LineIndex, number: int, message: str) -> Finding:
    line, column = lines.locate(offset)
    return Finding("AS000", PARSE_ERROR.name, "error", message, line, column, None, number)


def _parse_error(exc: ParseError, chunk: list[Token], lines: LineIndex, number: int) -> Finding:
    info = exc.errors[0] if exc.errors else {}
    line, col = info.get("line"), info.get("col")
    offset = chunk[-1].start
    for token in chunk:
        if token.line == line and token.col == col:
            offset = token.start
            break
    description = str(info.get("description") or exc).splitlines()[0]
    description = _TOKEN_REPR.sub(lambda m: "the end of the statement" if m.group(1) == "SENTINEL" else repr(m.group(2)), description)
    missing = _MISSING.search(description)
    if missing:
        description = f"incomplete {missing.group(2).upper()} (missing its {missing.group(1)})"
    elif description.startswith("Invalid expression / Unexpected token"):
        description = f"unexpected {info.get('highlight', '')!r}"
    return _at(offset, lines, number, f"syntax error: {description}")


def _token_error_message(sql: str, offset: int) -> str:
    head = sql[offset : offset + 2]
    if head.startswith("'"):
        return "syntax error: unterminated string literal"
    if head.startswith('"') or head.startswith("`"):
        return "syntax error: unterminated quoted identifier"
    if head == "/*":
        return "syntax error: unterminated /* comment"
    if head.startswith("$"):
        return "syntax error: unterminated dollar-quoted string"
    return f"syntax error: cannot read {head[:1]!r} here"


def split_statements(sql: str, dialect: str = "postgres") -> list[Statement]:
    """The statements of ``sql`` as the analyzer numbers them (:mod:`engine.statements.split`'s
    rules). Text after a tokenizer error is one last statement; a statement too long to analyze
    has empty ``text``. Never raises for bad SQL; ValueError for an unknown dialect."""
    tokenizer = tools(dialect_of(normalize_dialect(dialect)))[0]
    out: list[Statement] = []
    for piece in _scan([sql], tokenizer):
        if isinstance(piece, Skipped):
            out.append(Statement(len(out), "", piece.offset, piece.line, piece.column))
        else:
            out.extend(statements_of(piece, len(out)))
    return out
