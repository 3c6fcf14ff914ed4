"""The commands that move results to and from files: ``\\copy`` (see :mod:`aishell.engine.copy`)
and ``\\o FILE`` (results go to the file until ``\\o`` alone; the front end reads
:attr:`Context.output` and appends each result there as ``aishell run`` would print it).

>>> import asyncio, os, tempfile
>>> context = Context(session=None)
>>> path = os.path.join(tempfile.mkdtemp(), "out.txt")
>>> asyncio.run(run(context, f"\\\\o {path}")).action, context.output == path
('output', True)
>>> asyncio.run(run(context, "\\\\o")).status, context.output
('results are shown again', None)
"""

from __future__ import annotations

import os

from aishell.engine import copy
from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command, run  # noqa: F401 - run: doctest
from aishell.engine.files import private_opener

OUTPUT = "output"
"""The :attr:`Outcome.action` of ``\\o``: ``argument`` is the file, empty when results are shown again."""


@command("\\copy", "TABLE [(COLUMNS)] | (QUERY) TO|FROM FILE [WITH (FORMAT csv, HEADER, …)]",
         "Copy a table or a query to a file, or a file into a table (COPY, streamed)")
async def _copy(context: Context, name: str, argument: str) -> Outcome:
    try:
        spec = copy.parse(argument)
    except copy.CopyError as exc:
        raise CommandError(str(exc)) from None
    if context.session is None:
        raise CommandError("\\copy needs a connection")
    try:
        result = await copy.copy(context.session, spec, context.progress)
    except copy.CopyError as exc:
        raise CommandError(str(exc)) from None
    return Outcome(status=f"COPY {result.rows}")


@command("\\o", "[FILE]", "Send query results to FILE (\\o alone: back to the screen)", aliases=("\\out",))
async def _o(context: Context, name: str, argument: str) -> Outcome:
    path = argument.strip()
    if len(path) >= 2 and path[0] == path[-1] == "'":
        path = path[1:-1].replace("''", "'")
    if not path:
        context.output = None
        return Outcome(action=OUTPUT, status="results are shown again")
    if path.startswith("|"):
        raise CommandError("\\o |COMMAND runs a shell command; AIShell writes to files only")
    path = os.path.expanduser(path)
    if path.lower().endswith(".parquet"):
        raise CommandError("\\o appends each result as text: use .csv, .json, .jsonl or any other name (a table)")
    try:
        open(path, "w", opener=private_opener).close()  # psql starts the file afresh
    except OSError as exc:
        raise CommandError(f"cannot write {argument.strip()}: {exc.strerror or exc}") from None
    context.output = path
    return Outcome(action=OUTPUT, argument=path, status=f"results go to {path}")
