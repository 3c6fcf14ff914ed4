r"""Scripts: a text run statement by statement, with psql's backslash lines among the SQL, and
``\i FILE`` (``\include``) / ``\ir FILE`` (relative to the script that includes it) to run
another file in place, nested at most :data:`MAX_DEPTH` deep.

:func:`steps` reads a text into :class:`Step`\ s with the one splitter
(:func:`aishell.engine.statements.split.split`, psql lines on); the front end runs each step as
it comes, SQL through the Session, a backslash line through :func:`aishell.engine.commands.run`,
storing its :class:`~aishell.engine.commands.Outcome` on the step. An outcome that includes a
file is expanded by :func:`steps` itself when it resumes, so the workbench's Run all and
``aishell run -f`` nest files the same way. Positions are 1-based in the step's own file
(``source``; None for the text typed in the workbench).

>>> import asyncio
>>> async def texts(text):
...     return [(s.text, s.line, s.command) async for s in steps(text, "sqlite")]
>>> asyncio.run(texts("select 1;\n\\timing off\nselect 2"))
[('select 1', 1, False), ('\\timing off', 2, True), ('select 2', 3, False)]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import AsyncIterator

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command
from aishell.engine.statements.split import split

MAX_DEPTH = 16
"""Files included inside included files at most (a file that includes itself stops here)."""
INCLUDE = "include"
"""The :attr:`Outcome.action` of ``\\i``: ``argument`` is the path as typed, ``value`` True for
``\\ir`` (relative to the including file)."""


@dataclass(slots=True)
class Step:
    """One statement or backslash line of a script, where it stands in its file."""

    text: str
    line: int
    """1-based line of its first character in ``source``."""
    column: int
    command: bool
    """A backslash line (``\\dt``, ``\\i FILE``), run by the command table, not the server."""
    source: str | None = None
    """The file it was read from; None for the text handed to :func:`steps`."""
    depth: int = 0
    """How many ``\\i`` deep its file is (0: the text itself)."""
    outcome: Outcome | None = None
    """A backslash line's result, stored by the front end that ran it."""

    @property
    def where(self) -> str:
        """``file:line`` (or ``line N``) for messages."""
        return f"{self.source}:{self.line}" if self.source else f"line {self.line}"


@command("\\i", "FILE", "Run the statements of a file (\\include)", aliases=("\\include",))
async def _include(context: Context, name: str, argument: str) -> Outcome:
    if not argument:
        raise CommandError(f"{name} needs a file name: {name} setup.sql")
    return Outcome(action=INCLUDE, argument=argument, value=False)


@command("\\ir", "FILE", "Run a file named relative to the script that includes it", aliases=("\\include_relative",))
async def _include_relative(context: Context, name: str, argument: str) -> Outcome:
    if not argument:
        raise CommandError(f"{name} needs a file name: {name} setup.sql")
    return Outcome(action=INCLUDE, argument=argument, value=True)


def load(outcome: Outcome, source: str | None = None, depth: int = 0) -> tuple[str, str]:
    """``(path, text)`` of the file an include ``outcome`` names, met at ``depth`` in ``source``.

    A relative path is relative to the current directory (``\\ir``: to ``source``'s directory).
    Raises CommandError, one line, when the file cannot be read or the nesting is too deep.
    """
    raw = _unquote(outcome.argument)
    path = Path(os.path.expanduser(raw))
    if outcome.value and source and not path.is_absolute():
        path = Path(source).parent / path
    if depth >= MAX_DEPTH:
        raise CommandError(f"{raw}: files nested more than {MAX_DEPTH} deep (does a file include itself?)")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise CommandError(f"{raw}: no such file") from None
    except IsADirectoryError:
        raise CommandError(f"{raw}: is a directory") from None
    except UnicodeDecodeError:
        raise CommandError(f"{raw}: not a UTF-8 text file") from None
    except OSError as exc:
        raise CommandError(f"{raw}: {exc.strerror or exc}") from None
    return str(path), text


async def steps(text: str, dialect: str, *, source: str | None = None, depth: int = 0) -> AsyncIterator[Step]:
    """The steps of ``text`` in order, an included file's in place of its ``\\i`` line.

    Nothing runs here: the caller runs each step before asking for the next, so an include is
    expanded when the step that asked for it comes back with its outcome. Raises CommandError
    (from :func:`load`) when an included file cannot be read.
    """
    for statement in split(text, dialect, psql=True):
        step = Step(statement.text, statement.line, statement.column, statement.psql, source, depth)
        yield step
        outcome = step.outcome
        if outcome is not None and outcome.action == INCLUDE:
            path, inner = load(outcome, source, depth)
            async for inner_step in steps(inner, dialect, source=path, depth=depth + 1):
                yield inner_step


def _unquote(argument: str) -> str:
    """psql's quoting of a file name: ``'my file.sql'`` is ``my file.sql``."""
    if len(argument) >= 2 and argument[0] == argument[-1] and argument[0] in "'\"":
        return argument[1:-1]
    return argument


__all__ = ["INCLUDE", "MAX_DEPTH", "Step", "load", "steps"]
