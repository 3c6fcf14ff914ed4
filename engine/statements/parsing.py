"""Statements of a SQL text, each tokenized and parsed once by sqlglot.

:func:`parse` splits a text into statements by :mod:`.split`'s rules (``;`` tokens outside
trigger and ``BEGIN ATOMIC`` bodies) and parses each on its own, so one statement sqlglot
cannot read leaves the others readable. Results are cached by text and dialect: describing,
planning and the read-only check all read this one parse.

>>> [(s.head, type(s.tree).__name__) for s in parse("SELECT 1; BEGIN READ ONLY")]
[('SELECT', 'Select'), ('BEGIN', 'NoneType')]
>>> is_transaction_statement(parse("BEGIN READ ONLY")[0])
True
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ParseError, SqlglotError
from sqlglot.tokens import Token, TokenType

from aishell.engine.statements.split import Boundaries


@dataclass(frozen=True, slots=True)
class Parsed:
    """One statement of a text: its tokens and its tree (None: sqlglot could not parse it)."""

    tree: exp.Expression | None
    tokens: tuple[Token, ...]
    """The tokenizer's tokens. After a command word (EXPLAIN, PREPARE, VACUUM, EXECUTE, DO...)
    sqlglot keeps the rest of the statement as one string token: see :attr:`words`."""
    words: tuple[Token, ...]
    """:attr:`tokens` with that rest tokenized too (offsets still into the whole text), so a
    command's body is read token by token: ``EXPLAIN ANALYZE SELECT f()`` ends in ``f``, ``(``."""
    error: str = ""
    """Where parsing failed (``at line 1, column 7``) when ``tree`` is None."""

    @property
    def head(self) -> str:
        """The first word, upper-cased (``SELECT``, ``BEGIN``...)."""
        return self.tokens[0].text.upper() if self.tokens else ""


@lru_cache(maxsize=4096)
def parse(sql: str, dialect: str = "postgres") -> tuple[Parsed, ...] | None:
    """The statements of ``sql``, each parsed once; None when the text does not even tokenize."""
    try:
        language = Dialect.get_or_raise(dialect)
        tokens = language.tokenize(sql)
    except (SqlglotError, ValueError, RecursionError):
        return None
    parser = language.parser()
    statements: list[Parsed] = []
    first = 0
    for end in [*Boundaries().ends(tokens), len(tokens)]:
        chunk = tokens[first:end]
        if chunk:
            statements.append(_parse_chunk(language, parser, chunk, sql))
        first = end + 1
    return tuple(statements)


def parse_tokens(tokens: list[Token] | tuple[Token, ...], sql: str, dialect: str) -> Parsed:
    """One statement from tokens of ``sql`` (the statement inside EXPLAIN or PREPARE)."""
    language = Dialect.get_or_raise(dialect)
    return _parse_chunk(language, language.parser(), list(tokens), sql)


def _parse_chunk(language: Dialect, parser: object, chunk: list[Token], sql: str) -> Parsed:
    words = tuple(_words(language, chunk, sql))
    try:
        trees = parser.parse(chunk, sql)  # type: ignore[attr-defined]
    except ParseError as exc:
        where = exc.errors[0] if exc.errors else {}
        at = f"at line {where['line']}, column {where['col']}" if "line" in where else ""
        return Parsed(None, tuple(chunk), words, at)
    except (SqlglotError, RecursionError, ValueError):
        return Parsed(None, tuple(chunk), words)
    tree = next((t for t in trees if t is not None), None)
    return Parsed(tree, tuple(chunk), words)


def _words(language: Dialect, chunk: list[Token], sql: str) -> list[Token]:
    """``chunk`` with a command's body (one string token whose text is the raw rest of the
    statement, unlike a literal, whose raw text has quotes) tokenized in place."""
    if len(chunk) < 2 or chunk[-1].token_type != TokenType.STRING:
        return chunk
    body = chunk[-1]
    begin = body.end + 1 - len(body.text)
    if sql[begin : body.end + 1] != body.text:
        return chunk  # a string literal
    try:
        inner = language.tokenize(body.text)
    except (SqlglotError, ValueError, RecursionError):
        return chunk
    shifted = [
        Token(t.token_type, t.text, t.line + body.line - 1, t.col, t.start + begin, t.end + begin, t.comments)
        for t in inner
    ]
    return chunk[:-1] + _words(language, shifted, sql)


STATEMENT_TYPES = (
    exp.Query, exp.Values, exp.DML, exp.DDL, exp.Drop, exp.Alter, exp.TruncateTable, exp.Set, exp.Transaction,
    exp.Commit, exp.Rollback, exp.Pragma, exp.Attach, exp.Detach, exp.Analyze, exp.Command, exp.Show,
    exp.Describe, exp.Use, exp.Grant, exp.Revoke, exp.Kill,
)
"""Trees that are statements. Anything else is sqlglot reading unknown words as an expression
(``CHECKPOINT`` as a column, ``START TRANSACTION`` as an alias): classified by its first word."""
TRANSACTION_HEADS = frozenset({"BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT", "SAVEPOINT", "RELEASE"})
MODE_WORDS = frozenset({
    "TRANSACTION", "WORK", "ISOLATION", "LEVEL", "SERIALIZABLE", "REPEATABLE", "READ", "COMMITTED",
    "UNCOMMITTED", "ONLY", "WRITE", "NOT", "DEFERRABLE", ",",
})


def is_transaction_statement(statement: Parsed) -> bool:
    """BEGIN/START with only transaction modes, COMMIT, ROLLBACK...: read from the tokens, for
    the forms sqlglot does not parse (``BEGIN READ ONLY``, ``START TRANSACTION ISOLATION ...``)."""
    head = statement.head
    if head not in TRANSACTION_HEADS:
        return False
    if head in ("BEGIN", "START"):
        words = [t.text.upper() for t in statement.tokens[1:]]
        return (head == "BEGIN" or words[:1] == ["TRANSACTION"]) and all(w in MODE_WORDS for w in words)
    return all(t.token_type != TokenType.L_PAREN for t in statement.tokens) and "PREPARED" not in (
        t.text.upper() for t in statement.tokens[1:3]
    )



__all__ = ["Parsed", "parse", "parse_tokens", "is_transaction_statement", "STATEMENT_TYPES", "TRANSACTION_HEADS"]
