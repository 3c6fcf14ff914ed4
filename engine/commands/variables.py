"""psql's variables: ``\\set NAME value``, ``\\unset NAME`` and their interpolation into
statements: ``:NAME`` as is, ``:'NAME'`` as a quoted literal, ``:"NAME"`` as a quoted
identifier. As in psql, nothing is replaced inside string literals, quoted identifiers, comments
or dollar-quoted bodies, ``::`` stays a cast, and an unknown name is left as typed.

>>> v = {"x": "5", "who": "O'Brien", "t": "My T"}
>>> print(interpolate("select :x, :'who' from :\\"t\\" where a::int = :x -- :x", v))
select 5, 'O''Brien' from "My T" where a::int = 5 -- :x
>>> print(interpolate("select ':x', $$ :x $$, :nope", v))
select ':x', $$ :x $$, :nope
"""

from __future__ import annotations

import re

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command

_NAME = re.compile(r"[A-Za-z0-9_\u0080-\U0010ffff]+")
_DOLLAR_TAG = re.compile(r"\$(?:[A-Za-z_\u0080-\U0010ffff][A-Za-z0-9_\u0080-\U0010ffff]*)?\$")


def quote_literal(value: str) -> str:
    """``value`` as an SQL string literal, as psql's ``:'NAME'`` writes it (``E''`` when it
    holds a backslash)."""
    body = value.replace("'", "''")
    if "\\" in value:
        return " E'" + body.replace("\\", "\\\\") + "'"
    return f"'{body}'"


def quote_identifier(value: str) -> str:
    """``value`` as a quoted SQL identifier (``:"NAME"``)."""
    return '"' + value.replace('"', '""') + '"'


def interpolate(text: str, variables: dict[str, str]) -> str:
    """``text`` with psql's variable references replaced (see the module docstring).

    A small lexer for exactly the quoting rules that matter here, so a colon inside a literal,
    an identifier, a comment or a function body is never touched."""
    if ":" not in text or not variables:
        return text
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch == "'" or (ch in "eE" and text[i + 1:i + 2] == "'" and not _in_word(text, i)):
            end = _string_end(text, i + (1 if ch != "'" else 0), escapes=ch != "'")
            out.append(text[i:end])
            i = end
        elif ch == '"':
            end = text.find('"', i + 1)
            while end != -1 and text[end + 1:end + 2] == '"':
                end = text.find('"', end + 2)
            end = n if end == -1 else end + 1
            out.append(text[i:end])
            i = end
        elif ch == "-" and text[i + 1:i + 2] == "-":
            end = text.find("\n", i)
            end = n if end == -1 else end
            out.append(text[i:end])
            i = end
        elif ch == "/" and text[i + 1:i + 2] == "*":
            end = _comment_end(text, i)
            out.append(text[i:end])
            i = end
        elif ch == "$" and not _in_word(text, i) and (tag := _DOLLAR_TAG.match(text, i)):
            close = text.find(tag.group(), tag.end())
            end = n if close == -1 else close + len(tag.group())
            out.append(text[i:end])
            i = end
        elif ch == ":":
            if text[i + 1:i + 2] == ":":  # a cast: both colons stay
                out.append("::")
                i += 2
                continue
            replaced, i = _reference(text, i, variables)
            out.append(replaced)
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def _in_word(text: str, i: int) -> bool:
    """The character before ``i`` continues an identifier (``abc$`` and ``name'`` are no quote)."""
    return i > 0 and (text[i - 1].isalnum() or text[i - 1] in "_$")


def _string_end(text: str, quote: int, *, escapes: bool) -> int:
    """The index after the literal whose opening quote is at ``quote``."""
    i = quote + 1
    while i < len(text):
        if escapes and text[i] == "\\":
            i += 2
            continue
        if text[i] == "'":
            if text[i + 1:i + 2] == "'":
                i += 2
                continue
            return i + 1
        i += 1
    return len(text)


def _comment_end(text: str, start: int) -> int:
    """The index after a block comment (they nest in PostgreSQL)."""
    depth, i = 0, start
    while i < len(text):
        pair = text[i:i + 2]
        if pair == "/*":
            depth += 1
            i += 2
        elif pair == "*/":
            depth -= 1
            i += 2
            if depth == 0:
                return i
        else:
            i += 1
    return len(text)


def _reference(text: str, i: int, variables: dict[str, str]) -> tuple[str, int]:
    """The replacement for a ``:`` at ``i`` and where scanning goes on."""
    after = text[i + 1:i + 2]
    if after in ("'", '"'):
        close = text.find(after, i + 2)
        name = text[i + 2:close] if close != -1 else ""
        if close != -1 and _NAME.fullmatch(name) and name in variables:
            quote = quote_literal if after == "'" else quote_identifier
            return quote(variables[name]), close + 1
        return ":", i + 1
    found = _NAME.match(text, i + 1)
    if found and found.group() in variables:
        return variables[found.group()], found.end()
    return ":", i + 1


def set_arguments(argument: str) -> tuple[str, str]:
    """``\\set``'s name and value: psql joins the value's words without spaces, and a word in
    single quotes keeps its spaces (``''`` is a quote)."""
    words: list[str] = []
    i, text = 0, argument.strip()
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        word = []
        while i < len(text) and not text[i].isspace():
            if text[i] == "'":
                end = _string_end(text, i, escapes=False)
                word.append(text[i + 1:end - 1].replace("''", "'"))
                i = end
            else:
                word.append(text[i])
                i += 1
        words.append("".join(word))
    if not words:
        return "", ""
    return words[0], "".join(words[1:])


@command("\\set", "[NAME [VALUE]]", "Set a variable (:NAME, :'NAME', :\"NAME\" in statements); alone: list them")
async def _set(context: Context, name: str, argument: str) -> Outcome:
    key, value = set_arguments(argument)
    if not key:
        rows = sorted(context.variables.items())
        return Outcome([("name", "text"), ("value", "text")], rows, f"{len(rows)} variables")
    if not _NAME.fullmatch(key):
        raise CommandError(f"invalid variable name: {key!r}")
    context.variables[key] = value
    return Outcome(action="notice", argument=f"{key} = {value!r}")


@command("\\unset", "NAME", "Forget a variable")
async def _unset(context: Context, name: str, argument: str) -> Outcome:
    key, _ = set_arguments(argument)
    if not key:
        raise CommandError("\\unset needs a variable name")
    context.variables.pop(key, None)
    return Outcome(action="notice", argument=f"{key} unset")
