"""The analysis pipeline: tokenize once, split into statements, parse each once, run every rule
of :data:`engine.analyzer.rules.RULES` on the shared tree, cache by fingerprint.

Never raises: text that does not tokenize or parse becomes an ``AS000`` error finding at the
place it stops making sense, and the next statement is analyzed as usual.

>>> analysis = analyze("SELECT * FROM orders; DELETE FROM orders")
>>> [(f.code, f.statement, f.line, f.column) for f in analysis.findings]
[('AS001', 0, 1, 8), ('AS002', 1, 1, 23)]
"""

from __future__ import annotations

import logging
import re
from bisect import bisect_right
from operator import attrgetter
from dataclasses import dataclass, fields

from sqlglot import exp
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokens import Token, TokenType

from aishell.engine.analyzer.cache import LRU, LITERALS, dialect_of, normalize_dialect, split_keyed, tools
from aishell.engine.analyzer.context import Context, LineIndex
from aishell.engine.analyzer.findings import Analysis, Finding, Rule
from aishell.engine.analyzer.rules import RULES
from aishell.engine.config import AnalyzerSettings
from aishell.engine.drivers.base import SchemaInfo

log = logging.getLogger(__name__)

PARSE_ERROR = Rule("AS000", "parse-error", "error", "The statement does not parse")
MAX_CACHED_TEXT = 100_000
"""Texts longer than this are not kept in the exact-text cache (their statements still are)."""
MAX_CACHED_TOKENS = 20_000
"""Statements with more tokens than this are analyzed but not cached."""
MAX_NESTING = 256
"""Parenthesis depth beyond which a statement is reported instead of parsed."""

_DEFAULT_SETTINGS = AnalyzerSettings()
_SETTINGS_KEY = attrgetter(*(f.name for f in fields(AnalyzerSettings)))
"""The settings' values as a tuple: part of every cache key (settings objects are mutable)."""
_TEXTS = LRU(_DEFAULT_SETTINGS.cache_size)
_SHAPES = LRU(_DEFAULT_SETTINGS.cache_size * 4)
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
            _TEXTS.put(key, _Cached(analysis, schema))
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
    }


def _analyze(sql: str, dialect_name: str, schema: SchemaInfo | None, settings: AnalyzerSettings, skey: tuple) -> Analysis:
    lines = LineIndex(sql)
    try:
        dialect = dialect_of(dialect_name)
    except ValueError:
        return Analysis([Finding("AS000", PARSE_ERROR.name, "error", f"unknown SQL dialect {dialect_name!r}", 1, 1)], 0)
    tokenizer, parser = tools(dialect)
    token_error: int | None = None
    try:
        tokens = tokenizer.tokenize(sql)
    except (SqlglotError, ValueError, IndexError, RecursionError):
        tokens = list(tokenizer.tokens)
        token_error = _resume_offset(sql, tokens)
    chunks = split_keyed(tokens, settings.deep_offset)
    unterminated = bool(token_error is not None and chunks and tokens and tokens[-1].token_type is not TokenType.SEMICOLON)
    findings: list[Finding] = []
    statements = 0
    for number, (chunk, shape) in enumerate(chunks):
        statements += 1
        if unterminated and number == len(chunks) - 1:
            break
        findings.extend(_statement(sql, chunk, shape, number, parser, dialect, dialect_name, schema, settings, skey, lines))
    if findings:
        findings = _unsuppressed(findings, tokens, settings)
    if token_error is not None:
        if not unterminated:
            statements += 1
        line, column = lines.locate(token_error)
        findings.append(
            Finding("AS000", PARSE_ERROR.name, "error", _token_error_message(sql, token_error), line, column, None, statements - 1)
        )
    findings.sort(key=lambda f: (f.statement, f.line, f.column, f.code))
    return Analysis(findings, statements)


def _unsuppressed(findings: list[Finding], tokens: list[Token], settings: AnalyzerSettings) -> list[Finding]:
    """Findings left after ``settings.disabled_rules`` and ``-- noqa[: CODE, …]`` comments
    (a comment silences findings that start on its line; without codes, all but AS000)."""
    disabled = {c.strip().upper() for c in settings.disabled_rules.split(",") if c.strip()} if settings.disabled_rules else set()
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
    if not disabled and not quiet:
        return findings
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


def _split(tokens: list[Token]) -> list[list[Token]]:
    chunks: list[list[Token]] = []
    current: list[Token] = []
    for token in tokens:
        if token.token_type is TokenType.SEMICOLON:
            if current:
                chunks.append(current)
                current = []
        else:
            current.append(token)
    if current:
        chunks.append(current)
    return chunks


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
        _SHAPES.put(exact, (remembered, schema))
        if reusable:
            _SHAPES.put(key, (remembered, schema))
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
    reusable = True
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
        ctx = Context(sql, tree, dialect=dialect_name, schema=schema, settings=settings, statement=number, lines=lines, start=chunk[0].start, generator_dialect=dialect, tokens=chunk)
        for rule in RULES:
            try:
                found.extend(rule.check(tree, ctx))
            except Exception:  # noqa: BLE001 - one rule's failure must not stop the others
                log.debug("rule %s failed", rule.RULE.code, exc_info=True)
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


def _resume_offset(sql: str, tokens: list[Token]) -> int:
    offset = tokens[-1].end + 1 if tokens else 0
    while offset < len(sql) and sql[offset].isspace():
        offset += 1
    return min(offset, max(len(sql) - 1, 0))


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


@dataclass(frozen=True, slots=True)
class Statement:
    """One statement of a script: its 0-based index, its text (without the ``;``) and where it
    starts in the script (offset, 1-based line and column)."""

    index: int
    text: str
    offset: int
    line: int
    column: int


def split_statements(sql: str, dialect: str = "postgres") -> list[Statement]:
    """The statements of ``sql`` as the analyzer numbers them (split on ``;`` tokens, so
    semicolons inside strings and comments do not count). Text after a tokenizer error is one
    last statement. Never raises for bad SQL; ValueError for an unknown dialect."""
    dialect = normalize_dialect(dialect)
    tokenizer = tools(dialect_of(dialect))[0]
    lines = LineIndex(sql)
    try:
        tokens = tokenizer.tokenize(sql)
        rest = None
    except (SqlglotError, ValueError, IndexError, RecursionError):
        tokens = list(tokenizer.tokens)
        rest = _resume_offset(sql, tokens)
    out: list[Statement] = []
    chunks = _split(tokens)
    if rest is not None and chunks and tokens and tokens[-1].token_type is not TokenType.SEMICOLON:
        last = chunks.pop()
        rest = last[0].start
    for chunk in chunks:
        start, end = chunk[0].start, chunk[-1].end + 1
        out.append(Statement(len(out), sql[start:end], start, *lines.locate(start)))
    if rest is not None and sql[rest:].strip():
        out.append(Statement(len(out), sql[rest:].rstrip(), rest, *lines.locate(rest)))
    return out
