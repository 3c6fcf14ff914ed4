"""Statements that carry a password AIShell masked: running one would set the password to ``***``.

Memory and saved buffers never keep passwords: ``ALTER ROLE bob PASSWORD 's3cret'`` is stored
as ``ALTER ROLE bob PASSWORD '***'``, and a conninfo or URL inside a literal keeps ``***`` where
its password was. Recalled and run again as it stands, such a statement would set the
password to those three characters, or fail far from the cause. :func:`masked_password` finds
the mask by the same structures :mod:`aishell.engine.redact` masks (the literal after
``PASSWORD`` / ``IDENTIFIED BY``, a URL's or conninfo's password inside a literal), reading the
statement's tokens, so the Session refuses it and asks for the real password.

>>> from aishell.engine.statements.parsing import parse
>>> masked_password(parse("ALTER ROLE bob PASSWORD '***'"))
"PASSWORD '***' is the mask memory and buffers keep in place of a password: type the password in"
>>> masked_password(parse("SELECT dblink_connect('host=h password=***')")) is not None
True
>>> masked_password(parse("SELECT '***' AS stars, 'postgresql://u@h/db' AS url")) is None
True
"""

from __future__ import annotations

from sqlglot.tokens import Token, TokenType

from aishell.engine.redact import MASK, passwords_in
from aishell.engine.statements.parsing import Parsed

_KEYWORD_REASON = "{} '***' is the mask memory and buffers keep in place of a password: type the password in"
_LITERAL_REASON = "the connection string in this statement has '***' where its password was: type the password in"


def masked_password(statements: tuple[Parsed, ...] | None) -> str | None:
    """The one-line reason ``statements`` cannot run as they stand, or None."""
    for statement in statements or ():
        words = statement.words
        for index, token in enumerate(words):
            if token.token_type not in (TokenType.STRING, TokenType.NATIONAL_STRING) or MASK not in token.text:
                continue
            keyword = _keyword_before(words, index)
            if keyword and token.text == MASK:
                return _KEYWORD_REASON.format(keyword)
            if MASK in passwords_in(token.text):
                return _LITERAL_REASON
    return None


def _keyword_before(words: tuple[Token, ...], index: int) -> str:
    """``PASSWORD`` or ``IDENTIFIED BY`` when the literal at ``index`` follows one."""
    before = [t.text.upper() for t in words[max(index - 2, 0) : index]]
    if before[-1:] == ["PASSWORD"]:
        return "PASSWORD"
    if before == ["IDENTIFIED", "BY"]:
        return "IDENTIFIED BY"
    return ""


__all__ = ["masked_password"]
