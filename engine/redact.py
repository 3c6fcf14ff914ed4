"""Passwords found by the structure that carries them, and masked as ``***``.

Three shapes carry a password: a URL (``scheme://user:PASSWORD@host`` and ``?password=``), a libpq
conninfo string (``host=db password='a b'``, quoting and backslash escapes as libpq reads them)
and an environment assignment (``PGPASSWORD=… psql``). Each is masked where its structure puts the
password, never by searching for the password's text, so a short password does not damage other
words. A password the caller knows (the one in the URL it connected with) is masked too, but only
as a whole token:

>>> redact_url("postgresql://bob:p@db:5432/notaport?sslmode=require&password=p")
'postgresql://bob:***@db:5432/notaport?sslmode=require&password=***'
>>> redact_conninfo(r"host=db password='a b\\' c' dbname=shop")
'host=db password=*** dbname=shop'
>>> redact_text('database "notaport" does not exist; "p" was refused', secrets=("p",))
'database "notaport" does not exist; "***" was refused'
>>> redact_text("COPY t TO PROGRAM 'PGPASSWORD=s3cret psql -h db'")
"COPY t TO PROGRAM 'PGPASSWORD=*** psql -h db'"

This module imports nothing heavy: the logging formatter and error messages use it at any time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import unquote

MASK = "***"
PASSWORD_KEYS = frozenset({"password", "sslpassword"})
"""libpq connection keywords (and URL query parameters) whose value is a secret."""
_QUERY_PASSWORD_KEYS = PASSWORD_KEYS | {"passwd", "pwd"}

_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")
_URL_START = re.compile(r"(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]*://")
_WHITESPACE = re.compile(r"\s")
_MASKED_USERINFO = re.compile(r"(://[^\s/@:]*):\*\*\*@")
_MASKED_QUERY = re.compile(r"([?&])(?:ssl)?password=\*\*\*(?:(&)|(?=[#\s]|$))", re.IGNORECASE)
_MASKED_CONNINFO = re.compile(r"[ \t]*(?<![\w.-])(?:ssl)?password[ \t]*=[ \t]*\*\*\*(?=\s|$)", re.IGNORECASE)
_START = re.compile(
    r"""(?P<url>(?<![\w+.-])[A-Za-z][A-Za-z0-9+.-]*://)
      | (?P<env>(?<![\w$])PGPASSWORD=)
      | (?P<conninfo>(?<![\w$.-])(?:ssl)?password[ \t]*=[ \t]*)
      | (?P<sql>(?<![\w$])(?:password|passwd|identified[ \t\n]+by)[ \t\n]+(?=(?:[EeNn]|[Uu]&)?'|\$[A-Za-z_]*\$))
    """,
    re.IGNORECASE | re.VERBOSE,
)
_DOLLAR_TAG = re.compile(r"\$[A-Za-z_]*\$")
_CONNINFO_KEY = re.compile(r"[ \t\n\r\f\v]*([A-Za-z_][A-Za-z0-9_]*)[ \t\n\r\f\v]*=[ \t\n\r\f\v]*")
_SPACE = " \t\n\r\f\v"


@dataclass(frozen=True, slots=True)
class ConninfoPair:
    """One ``key=value`` of a libpq connection string; ``start``/``end`` delimit the raw value
    (quotes included) in the text it came from."""

    key: str
    value: str
    start: int
    end: int


def conninfo_pairs(text: str) -> list[ConninfoPair] | None:
    """The ``key=value`` pairs of a libpq connection string, or None when ``text`` is not one.

    Values follow libpq's rules: single-quoted (``\\'`` and ``\\\\`` escapes) or bare up to the
    next white space (backslash escapes the next character).

    >>> [(p.key, p.value) for p in conninfo_pairs(r"host=db  password = 'it\\'s'")]
    [('host', 'db'), ('password', "it's")]
    >>> conninfo_pairs("postgresql://h/db") is None
    True
    """
    pairs: list[ConninfoPair] = []
    pos = 0
    while True:
        while pos < len(text) and text[pos] in _SPACE:
            pos += 1
        if pos == len(text):
            return pairs or None
        match = _CONNINFO_KEY.match(text, pos)
        if match is None:
            return None
        start = match.end()
        end, value, closed = _conninfo_value(text, start)
        if not closed:
            return None
        pairs.append(ConninfoPair(match.group(1), value, start, end))
        pos = end


def redact_conninfo(text: str) -> str:
    """A libpq connection string with its password values masked (text that is not one is
    masked as free text by :func:`redact_text`)."""
    pairs = conninfo_pairs(text)
    if pairs is None:
        return redact_text(text)
    for pair in reversed(pairs):
        if pair.key.lower() in PASSWORD_KEYS:
            text = text[: pair.start] + MASK + text[pair.end :]
    return text


def redact_url(url: str) -> str:
    """The URL with the userinfo password and ``password=`` query values masked.

    The userinfo ends at the last ``@`` before the first ``/``, ``?`` or ``#`` (as asyncpg and
    PyMongo read it), so ``@`` and ``:`` inside a password are masked with it.
    """
    match = _SCHEME.match(url)
    if match is None:
        return url
    return url[: match.end()] + _mask_url(url, match.end(), len(url))


def redact_text(text: str, secrets: tuple[str, ...] | list[str] = ()) -> str:
    """Free text (an error message, a log line, a statement's literal) with every password masked:
    URLs, conninfo ``password=`` values, ``PGPASSWORD=`` assignments, the literal after SQL's
    ``PASSWORD``/``IDENTIFIED BY``, and each of ``secrets`` where it stands as a whole token."""
    if text and ("://" in text or "assw" in text.lower() or "identified" in text.lower()):
        text = _mask_structures(text)
    for secret in secrets:
        if secret and secret in text:
            text = re.sub(rf"(?<![\w]){re.escape(secret)}(?![\w])", MASK, text)
    return text


def without_passwords(text: str) -> str:
    """``text`` with URL and conninfo passwords removed rather than masked, so a client can run it
    again and take the password from libpq's passfile, PGPASSWORD or a prompt (other secrets are
    masked as by :func:`redact_text`).

    >>> without_passwords("postgresql://bob:s3cret@db/shop?password=x&sslmode=require")
    'postgresql://bob@db/shop?sslmode=require'
    >>> without_passwords("host=db password='a b' dbname=shop")
    'host=db dbname=shop'
    """
    text = redact_text(text)
    if MASK not in text:
        return text
    text = _MASKED_USERINFO.sub(r"\1@", text)
    text = _MASKED_QUERY.sub(lambda m: m.group(1) if m.group(2) else "", text)
    return _MASKED_CONNINFO.sub("", text)


def redact_urls(text: str) -> str:
    """Only the URLs in ``text`` masked: safe inside any quoting, since a URL's password ends at
    its ``@``."""
    if "://" not in text:
        return text
    out: list[str] = []
    pos = 0
    for match in _URL_START.finditer(text):
        if match.start() < pos:
            continue
        end = _word_end(text, match.end())
        out.append(text[pos : match.end()])
        out.append(_mask_url(text, match.end(), end))
        pos = end
    out.append(text[pos:])
    return "".join(out)


def url_password(url: str) -> str | None:
    """The (decoded) password in a URL's userinfo, or None."""
    match = _SCHEME.match(url)
    if match is None:
        return None
    at = _userinfo_end(url, match.end(), len(url))
    if at is None:
        return None
    user, sep, password = url[match.end() : at].partition(":")
    return unquote(password) if sep else None


def passwords_in(text: str) -> list[str]:
    """The passwords a URL or conninfo string carries (to mask them elsewhere as whole tokens)."""
    found = []
    password = url_password(text)
    if password:
        found.append(password)
    for pair in conninfo_pairs(text) or ():
        if pair.key.lower() in PASSWORD_KEYS and pair.value:
            found.append(pair.value)
    return found


# -- scanning ---------------------------------------------------------------------------------------


def _mask_structures(text: str) -> str:
    out: list[str] = []
    pos = 0
    while True:
        match = _START.search(text, pos)
        if match is None:
            break
        kind = match.lastgroup
        if kind == "url":
            end = _word_end(text, match.end())
            out.append(text[pos : match.end()])
            out.append(_mask_url(text, match.end(), end))
        else:
            value_start = match.end()
            if kind == "env":
                end = _shell_word_end(text, value_start)
            elif kind == "conninfo":
                end = _conninfo_value(text, value_start)[0]
            else:
                end = _sql_literal_end(text, value_start)
            out.append(text[pos:value_start])
            if kind == "sql":
                out.append(_requote_mask(text[value_start:end]))
            elif end > value_start:
                out.append(MASK)
        pos = max(end, match.end())
    out.append(text[pos:])
    return "".join(out)


def _word_end(text: str, pos: int) -> int:
    """End of the URL starting before ``pos`` in free text: the next white space, less the
    punctuation that closes a sentence or a quotation (``…/db: refused``, ``'…/db'``)."""
    space = _WHITESPACE.search(text, pos)
    end = space.start() if space else len(text)
    while end > pos and text[end - 1] in ".,:;)]>'\"":
        end -= 1
    return end


def _mask_url(text: str, start: int, end: int) -> str:
    """``text[start:end]``, the rest of a URL after its ``scheme://``, with passwords masked."""
    url = text[start:end]
    at = _userinfo_end(text, start, end)
    if at is not None:
        user, sep, _ = text[start:at].partition(":")
        if sep:
            url = f"{user}:{MASK}" + text[at:end]
    query = url.find("?")
    if query >= 0:
        fragment = url.find("#", query)
        stop = fragment if fragment >= 0 else len(url)
        params = re.split(r"([&;])", url[query + 1 : stop])
        for i in range(0, len(params), 2):
            key, sep, _ = params[i].partition("=")
            if sep and unquote(key).strip().lower() in _QUERY_PASSWORD_KEYS:
                params[i] = f"{key}={MASK}"
        url = url[: query + 1] + "".join(params) + url[stop:]
    return url


def _userinfo_end(text: str, start: int, end: int) -> int | None:
    """Index of the ``@`` that ends the userinfo of the authority starting at ``start``, or None.

    A password holding a raw ``/`` (which no client accepts, but users type) still ends at its
    ``@`` when what comes before it reads as ``user:pass``, not ``host:port``.
    """
    stop = start
    while stop < end and text[stop] not in "/?#":
        stop += 1
    at = text.rfind("@", start, stop)
    if at >= 0:
        return at
    later = text.find("@", stop, end)
    if later < 0 or "?" in text[start:later] or "#" in text[start:later]:
        return None
    host, sep, port = text[start:stop].partition(":")
    if not sep or port.isdigit() or not port:
        return None
    return later


def _conninfo_value(text: str, pos: int) -> tuple[int, str, bool]:
    """(end, value, closed) of a libpq value starting at ``pos``."""
    chars: list[str] = []
    if pos < len(text) and text[pos] == "'":
        pos += 1
        while pos < len(text):
            ch = text[pos]
            if ch == "\\" and pos + 1 < len(text):
                chars.append(text[pos + 1])
                pos += 2
            elif ch == "'":
                return pos + 1, "".join(chars), True
            else:
                chars.append(ch)
                pos += 1
        return pos, "".join(chars), False
    while pos < len(text) and text[pos] not in _SPACE:
        if text[pos] == "\\" and pos + 1 < len(text):
            chars.append(text[pos + 1])
            pos += 2
        else:
            chars.append(text[pos])
            pos += 1
    return pos, "".join(chars), True


def _shell_word_end(text: str, pos: int) -> int:
    """End of a POSIX shell word starting at ``pos`` (quotes and backslashes as sh reads them)."""
    while pos < len(text):
        ch = text[pos]
        if ch in _SPACE or ch in ";&|<>()`":
            break
        if ch == "\\":
            pos += 2
        elif ch == "'":
            close = text.find("'", pos + 1)
            pos = len(text) if close < 0 else close + 1
        elif ch == '"':
            pos += 1
            while pos < len(text) and text[pos] != '"':
                pos += 2 if text[pos] == "\\" else 1
            pos += 1
        else:
            pos += 1
    return min(pos, len(text))


def _sql_literal_end(text: str, pos: int) -> int:
    """End of the SQL string literal (``'…'`` with ``''``, ``E'…'``, ``$tag$…$tag$``) at ``pos``."""
    tag = _DOLLAR_TAG.match(text, pos)
    if tag:
        close = text.find(tag.group(), tag.end())
        return len(text) if close < 0 else close + len(tag.group())
    quote = text.index("'", pos)
    escapes = text[pos:quote].upper() == "E"
    pos = quote + 1
    while pos < len(text):
        ch = text[pos]
        if ch == "\\" and escapes:
            pos += 2
        elif ch == "'":
            if text[pos + 1 : pos + 2] == "'":
                pos += 2
            else:
                return pos + 1
        else:
            pos += 1
    return len(text)


def _requote_mask(literal: str) -> str:
    """``'***'`` in the literal's own quoting (prefix or dollar tag kept)."""
    tag = _DOLLAR_TAG.match(literal)
    if tag:
        return f"{tag.group()}{MASK}{tag.group()}"
    return literal[: literal.index("'")] + f"'{MASK}'"


__all__ = [
    "MASK",
    "PASSWORD_KEYS",
    "ConninfoPair",
    "conninfo_pairs",
    "passwords_in",
    "redact_conninfo",
    "redact_text",
    "redact_url",
    "redact_urls",
    "url_password",
    "without_passwords",
]
