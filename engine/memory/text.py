"""Statement text as memory sees it: sqlglot tokens, secrets redacted.

One pass of sqlglot's tokenizer feeds the embedder (and, for Mongo statements, the shape memory
files group them by), so recording a statement lexes it once. SQL statements are grouped by
:func:`engine.statements.fingerprint.fingerprint`; :func:`fingerprint` here is memory's own
token normalization, which files of schema v2 hold for Mongo statements (changing it would split
their groups without a migration). Literals become ``?``, keywords upper case, identifiers
lower case, and lists of literals collapse, so runs that differ only in their constants share one:

>>> fingerprint("SELECT * FROM Orders WHERE id = 42") == fingerprint("select * from orders where id=7")
True
>>> normalize("SELECT name FROM t WHERE id IN (1, 2, 3) AND note = 'x'")
'SELECT name FROM t WHERE id IN (?) AND note = ?'
>>> redact_statement("ALTER ROLE bob WITH PASSWORD 'hunter2'")
"ALTER ROLE bob WITH PASSWORD '***'"
"""

from __future__ import annotations

import hashlib
import logging
import re
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Token, Tokenizer, TokenType

from aishell.engine.redact import redact_text, redact_urls
from aishell.engine.statements.fingerprint import LITERALS

NAMES = frozenset({TokenType.VAR, TokenType.IDENTIFIER})
_PARAM = re.compile(r"^\$\d+$")
_IN_LIST = re.compile(r"\?(?: , \?)+")
_WORDS = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*|\d+(?:\.\d+)?|'[^']*'?|\S")
_TOKENIZER = Tokenizer()


Lexeme = tuple
"""One token, normalized: ``(kind, text, raw)`` with ``kind`` ``k`` (keyword or symbol, upper
case), ``n`` (name, lower case; ``raw`` keeps its spelling for splitting ``camelCase``) or ``l``
(literal, text ``?``). Plain tuples: recording lexes every statement, so they must be cheap."""

_LITERAL = ("l", "?", "")


LEXEME_CACHE = 50_000
_NAMES: dict[str, Lexeme] = {}
_KEYWORDS: dict[str, Lexeme] = {}
"""Lexemes by token text, so each spelling is one tuple: lexing allocates little (an import lexes
millions of tokens), and the embedder's per-batch vocabulary compares them by identity. Bounded:
cleared when full."""


def lex(sql: str) -> list[Lexeme]:
    """sqlglot tokens of ``sql`` normalized; text that does not tokenize falls back to words."""
    try:
        tokens = _TOKENIZER.tokenize(sql)
    except (SqlglotError, RecursionError, ValueError, IndexError):
        return [_fallback(w) for w in _WORDS.findall(sql)]
    out: list[Lexeme] = []
    append = out.append
    name_of = _NAMES.get
    word_of = _KEYWORDS.get
    for tok in tokens:
        tt = tok.token_type
        if tt in LITERALS:
            append(_LITERAL)
        elif tt in NAMES:
            text = tok.text
            if text[:1] == "$" and tt is TokenType.VAR and (text[:2] == "$$" or _PARAM.match(text)):
                append(_LITERAL)
                continue
            lexeme = name_of(text)
            if lexeme is None:
                if len(_NAMES) >= LEXEME_CACHE:
                    _NAMES.clear()
                lexeme = _NAMES[text] = ("n", text.lower(), text)
            append(lexeme)
        else:
            text = tok.text
            lexeme = word_of(text)
            if lexeme is None:
                if len(_KEYWORDS) >= LEXEME_CACHE:
                    _KEYWORDS.clear()
                lexeme = _KEYWORDS[text] = ("k", text.upper(), "")
            append(lexeme)
    return out


def _fallback(word: str) -> Lexeme:
    if word[0] == "'" or word[0].isdigit():
        return _LITERAL
    if word[0].isalpha() or word[0] == "_":
        upper = word.upper()
        if upper in Tokenizer.KEYWORDS:
            return ("k", upper, "")
        return ("n", word.lower(), word)
    return ("k", word, "")


# the lookahead lets the regex engine skip to a quote or digit before trying the alternatives
_SIMPLE_LITERAL = re.compile(r"(?=['0-9])(?:'(?:[^'\\]|'')*'|(?<![\w$.])\d+(?:\.\d+)?(?![\w.]))")
_PREFIXED = re.compile(r"[A-Za-z_]\?")


def literal_key(sql: str) -> str | None:
    """``sql`` with plain numbers and quoted strings replaced by ``?``, or None when the text has
    comments, dollar quotes, escapes or prefixed strings that only the real lexer reads right.

    Two texts with the same key lex to the same tokens apart from literal values, so callers may
    cache per-shape work (fingerprint, embedding) under it.
    """
    if "--" in sql or "/*" in sql or "$" in sql or "\\" in sql or "#" in sql or "?" in sql:
        return None
    key = _SIMPLE_LITERAL.sub("?", sql)
    if "'" in key or '"' in key and key.count('"') % 2:
        return None
    if _PREFIXED.search(key):  # E'..', B'..', x'..' prefixed literals
        return None
    return key


def normalize_lexemes(lexemes: list[Lexeme]) -> str:
    """The statement's shape: literals as ``?``, literal lists collapsed, one space between tokens."""
    text = " ".join([x[1] for x in lexemes])
    text = _IN_LIST.sub("?", text)
    text = text.replace("( ", "(").replace(" )", ")").replace(" ,", ",")
    return text.rstrip(" ;")


def normalize(sql: str) -> str:
    """``normalize_lexemes(lex(sql))``."""
    return normalize_lexemes(lex(sql))


def fingerprint_lexemes(lexemes: list[Lexeme]) -> str:
    """16 hex digits identifying the statement's shape (same for runs differing in literals)."""
    return hashlib.blake2b(normalize_lexemes(lexemes).encode(), digest_size=8).hexdigest()


@lru_cache(maxsize=8192)
def fingerprint(sql: str) -> str:
    """The normalized fingerprint of ``sql`` (literals stripped, case folded)."""
    return fingerprint_lexemes(lex(sql))


def text_hash(sql: str) -> int:
    """A signed 64-bit hash of the exact statement text: the store looks statements up by it and
    compares the text, so a collision costs a comparison, never a merged entry."""
    return int.from_bytes(hashlib.blake2b(sql.encode(), digest_size=8).digest(), "little", signed=True)


# -- secrets ----------------------------------------------------------------------------------------

_SECRET_WORDS = ("PASSWORD", "PASSWD", "IDENTIFIED")
_ROLE_OBJECTS = ("ROLE", "USER", "GROUP", "LOGIN")


def carries_password(sql: str, dialect: str = "postgres") -> bool:
    """True for statements that set a password: ``ALTER ROLE … PASSWORD``, ``CREATE USER …``,
    MySQL's ``IDENTIFIED BY``, ``SET PASSWORD``, user mappings with a password option.

    The statement kind comes from sqlglot's AST; PostgreSQL role statements parse as
    ``exp.Command``, whose text is then checked token by token.
    """
    upper = sql.upper()
    if not any(word in upper for word in _SECRET_WORDS):
        return False
    spans = _secret_spans(sql, dialect)
    return spans is None or bool(spans)


def redact_statement(sql: str, dialect: str = "postgres", *, partial: bool = False) -> str:
    """``sql`` with every password replaced by ``***``; other text unchanged, still a statement.

    Passwords set by a statement (``ALTER ROLE … PASSWORD '…'``) become ``'***'``; inside every
    string literal (quoted, ``E''``, dollar-quoted, quoted identifiers) and comment, conninfo
    ``password=`` values, URL passwords and ``PGPASSWORD=`` assignments are masked by their
    structure, and the literal is quoted again:

    >>> redact_statement("SELECT dblink_connect('host=db password=''a b'' dbname=shop')")
    "SELECT dblink_connect('host=db password=*** dbname=shop')"

    Text that does not tokenize but mentions a password is masked after the keyword, to be safe;
    ``partial`` text (being typed in the editor) is masked only where a password's structure
    shows, so the rest of it is kept.
    """
    return _redact(sql, dialect, 0, False, partial)


_MAX_DEPTH = 4
"""Nested text (``DO $$ … $$`` bodies, the rest of ``EXECUTE '…'``) is redacted as statements
this many levels deep, then as free text."""
_ASSIGNED = frozenset({"PGPASSWORD", "PASSWORD", "SSLPASSWORD"})
_QUOTED = frozenset(
    {TokenType.STRING, TokenType.NATIONAL_STRING, TokenType.UNICODE_STRING, TokenType.BYTE_STRING, TokenType.RAW_STRING}
    & set(TokenType)
)
_COMMENT = re.compile(r"(--)([^\n]*)|(/\*)([\s\S]*?)(\*/)")


def _redact(sql: str, dialect: str, depth: int, body: bool, partial: bool = False) -> str:
    """``body``: text inside a dollar-quoted literal, where ``password='a b'`` is an assignment."""
    upper = sql.upper()
    keywords = any(word in upper for word in _SECRET_WORDS)
    if "://" not in sql and not keywords:
        return sql
    tokens = _tokenize(sql, dialect)
    if tokens is None:  # untokenizable: structure where it shows, then everything after the keyword
        sql = redact_text(sql)
        if partial:
            return sql
        for match in re.finditer(r"(?i)(password|passwd|identified\s+by)\s*(=\s*)?(?=\S)", sql):
            if not sql.startswith("***", match.end() + (sql[match.end()] in "'$")):
                return sql[: match.end()] + "***"
        return sql
    edits: dict[int, tuple[int, str]] = {}  # start -> (inclusive end, replacement)
    for tok in tokens:
        replacement = _redact_literal(sql, tok, dialect, depth, body)
        if replacement is not None:
            edits[tok.start] = (tok.end, replacement)
    if body:  # libpq and shell assignments spelled as tokens (password='a b')
        for i, tok in enumerate(tokens[:-2]):
            if tok.text.upper() in _ASSIGNED and tokens[i + 1].token_type is TokenType.EQ:
                value = tokens[i + 2]
                if value.token_type in LITERALS:
                    edits[value.start] = (value.end, "'***'")
                else:
                    edits[value.start] = (_word_end(sql, value.start) - 1, "***")
    if keywords:
        for start, end in _keyword_spans(sql, dialect, tokens):
            edits[start] = (end, "'***'")
    out: list[str] = []
    pos = 0
    for start in sorted(edits):
        end, replacement = edits[start]
        if start < pos:
            continue
        out.append(_redact_comments(sql[pos:start]))
        out.append(replacement)
        pos = end + 1
    out.append(_redact_comments(sql[pos:]))
    return redact_urls("".join(out))


def _redact_literal(sql: str, tok: Token, dialect: str, depth: int, body: bool) -> str | None:
    """The literal (or quoted identifier) with its secrets masked and quoted again, or None when
    it holds none."""
    kind = tok.token_type
    value = tok.text
    if "://" not in value and "assw" not in value.lower() and "identified" not in value.lower():
        return None
    raw = sql[tok.start : tok.end + 1]
    nested = depth < _MAX_DEPTH
    if kind is TokenType.STRING and value == raw:  # the unparsed rest of DO …, EXECUTE …: more SQL
        clean = _redact(raw, dialect, depth + 1, body) if nested else redact_urls(raw)
        return None if clean == raw else clean
    if kind is TokenType.HEREDOC_STRING:
        tag = raw[: raw.index("$", 1) + 1] if raw.startswith("$") else "$$"
        if "'" in value and nested:
            clean = _redact(value, dialect, depth + 1, True)
        else:
            clean = redact_text(value)
        return None if clean == value or tag in clean else f"{tag}{clean}{tag}"
    if kind is TokenType.IDENTIFIER:
        if not raw.startswith('"'):
            return None
        clean = redact_text(value)
        return None if clean == value else '"' + clean.replace('"', '""') + '"'
    if kind not in _QUOTED or "'" not in raw:
        return None
    prefix = raw[: raw.index("'")]
    if kind is TokenType.BYTE_STRING and prefix.upper() != "E":
        return None  # bit and hex strings carry no text
    clean = redact_text(value)
    if clean == value:
        return None
    if prefix.upper() == "E":
        clean = clean.replace("\\", "\\\\")
    elif kind is TokenType.RAW_STRING and "'" in clean:
        return None
    return prefix + "'" + clean.replace("'", "''") + "'"


def _redact_comments(text: str) -> str:
    """The comments in the text between tokens, their contents redacted as free text."""
    if "--" not in text and "/*" not in text:
        return text
    return _COMMENT.sub(
        lambda m: m.group(1) + redact_text(m.group(2)) if m.group(1) else m.group(3) + redact_text(m.group(4)) + m.group(5),
        text,
    )


def _word_end(sql: str, pos: int) -> int:
    """Index of the first white space at or after ``pos`` (or the end)."""
    match = re.compile(r"\s").search(sql, pos)
    return match.start() if match else len(sql)


def _tokenize(sql: str, dialect: str) -> list[Token] | None:
    try:
        tokenizer = sqlglot.Dialect.get_or_raise(dialect).tokenize if dialect else _TOKENIZER.tokenize
    except ValueError:  # not an SQL dialect (mongo): the generic tokenizer
        tokenizer = _TOKENIZER.tokenize
    try:
        return tokenizer(sql)
    except (SqlglotError, RecursionError, ValueError, IndexError):
        return None


def _secret_spans(sql: str, dialect: str) -> list[tuple[int, int]] | None:
    """Character spans (inclusive) of password literals, or None when the text does not tokenize."""
    tokens = _tokenize(sql, dialect)
    return None if tokens is None else _keyword_spans(sql, dialect, tokens)


def _keyword_spans(sql: str, dialect: str, tokens: list[Token]) -> list[tuple[int, int]]:
    """Spans (inclusive) of the literals a role statement sets as a password."""
    quiet = logging.getLogger("sqlglot")
    level = quiet.level
    quiet.setLevel(logging.ERROR)  # role statements fall back to exp.Command with a warning
    try:
        statements = sqlglot.parse(sql, read=dialect or None)
    except (SqlglotError, RecursionError, ValueError):
        statements = [None]
    finally:
        quiet.setLevel(level)
    if not any(_may_set_password(tree) for tree in statements):
        return []
    spans: list[tuple[int, int]] = []
    for i, tok in enumerate(tokens):
        if tok.token_type not in LITERALS and tok.token_type not in NAMES:
            continue
        if tok.token_type in NAMES and not tok.text.startswith("$$"):
            continue
        if _follows_secret_keyword(tokens, i):
            spans.append(_quoted_span(sql, tok))
    return spans


def _may_set_password(tree: exp.Expression | None) -> bool:
    if tree is None:  # did not parse: judge by tokens alone
        return True
    if isinstance(tree, exp.Command):
        head = (tree.this or "").upper()
        rest = str(tree.expression or "").lstrip().upper()
        if head in ("ALTER", "CREATE"):
            return rest.startswith(_ROLE_OBJECTS) or rest.startswith(("USER MAPPING", "SERVER"))
        return head in ("SET", "GRANT")
    if isinstance(tree, (exp.Create, exp.Alter)):
        return True
    if isinstance(tree, exp.Set):
        return True
    return False


def _follows_secret_keyword(tokens: list[Token], i: int) -> bool:
    j = i - 1
    while j >= 0 and (tokens[j].token_type is TokenType.EQ or tokens[j].text.upper() == "BY"):
        j -= 1
    if j < 0:
        return False
    word = tokens[j].text.upper()
    if word in ("PASSWORD", "PASSWD"):
        return True
    if word == "IDENTIFIED":
        return True
    # SET PASSWORD = PASSWORD('x') / FOR user = 'x'
    if word == "(" and j >= 1 and tokens[j - 1].text.upper() == "PASSWORD":
        return True
    return False


def _quoted_span(sql: str, tok: Token) -> tuple[int, int]:
    """The span of the literal including its quotes and prefix (E'', U&'')."""
    start, end = tok.start, tok.end
    while start > 0 and sql[start - 1] in "'$":
        start -= 1
    while start > 0 and sql[start - 1] in "EeNnUu&":
        start -= 1
    while end + 1 < len(sql) and sql[end + 1] in "'$":
        end += 1
    return start, end


def ignored(sql: str, *, ignore_space: bool = True) -> bool:
    """True when ``sql`` must stay out of memory: empty, or (``ignore_space``) starting with a space,
    like shells' ``HISTCONTROL=ignorespace``."""
    if not sql.strip():
        return True
    return ignore_space and sql[:1] in (" ", "\t")
