"""The table of backslash commands and the one dispatcher every front end calls.

A command module registers its handlers with :func:`command`; :func:`run` parses a line and
calls the handler, which returns an :class:`Outcome`: a table to show (columns + rows), or an
``action`` the front end performs itself (``expanded``, ``timing``, ``connect``). The workbench
and ``aishell run`` share this table, so a script behaves the same in both.

>>> parse("\\\\d+ public.orders")
('\\\\d+', 'public.orders')
>>> parse("\\\\x")
('\\\\x', '')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from aishell.engine.commands.context import Context
from aishell.engine.errors import AishellError

Handler = Callable[["Context", str, str], Awaitable["Outcome"]]
"""``handler(context, command, argument)``: the session and client state, the command as typed
(``\\dt+``) and the rest of the line."""


@dataclass(frozen=True, slots=True)
class Command:
    """One entry of the table: its name, how to call it, what it does, who answers it."""

    name: str
    usage: str
    summary: str
    handler: Handler


COMMANDS: dict[str, Command] = {}
"""Every command by name (``\\dt``), in the order registered (``\\?`` lists them so)."""
ALIASES: dict[str, str] = {}
"""Other spellings (``\\connect``) and their command (``\\c``)."""


class CommandError(AishellError):
    """An unknown command or a bad argument: the message says which and what to type."""

    title = "Command"


@dataclass(slots=True)
class Outcome:
    """What a command produced: a table to show and/or an action for the front end."""

    columns: list[tuple[str, str]] = field(default_factory=list)
    rows: list[tuple] = field(default_factory=list)
    status: str = ""
    action: str | None = None
    """``expanded`` (``value`` True/False/None for toggle, or ``"auto"``), ``timing`` (True/False/None),
    ``connect`` (``argument``: URL), ``run`` (``argument``: the statement, from ``\\n NAME``),
    ``notice`` (``argument``: a line to show), ``null`` (``argument``: how NULL shows), ``watch``
    (``argument``: the statement, ``value``: its :class:`~aishell.engine.commands.watch.Watch`)."""
    value: Any = None
    argument: str = ""


def command(name: str, usage: str, summary: str, *, aliases: tuple[str, ...] = ()) -> Callable[[Handler], Handler]:
    """Register the decorated coroutine as ``name`` (and its ``aliases``)."""

    def register(handler: Handler) -> Handler:
        COMMANDS[name] = Command(name, usage, summary, handler)
        for alias in aliases:
            ALIASES[alias] = name
        return handler

    return register


def parse(line: str) -> tuple[str, str]:
    """``(command, argument)``: the command as typed, its argument stripped."""
    text = line.strip().rstrip(";").strip()
    if not text.startswith("\\"):
        raise CommandError(f"not a backslash command: {line!r}")
    head, _, rest = text.partition(" ")
    return head, rest.strip()


def lookup(name: str) -> Command:
    """The command ``name`` stands for; a trailing ``+`` (sizes and descriptions) is the
    handler's to read."""
    for candidate in (name, name.rstrip("+")):
        candidate = ALIASES.get(candidate, candidate)
        if candidate in COMMANDS:
            return COMMANDS[candidate]
    raise CommandError(f"unknown command {name}: \\? lists the commands")


async def run(context: Context, line: str) -> Outcome:
    """Execute one backslash command, recorded in memory as typed (``\\l``, not the queries
    run for it). Raises CommandError for bad input and the Session's errors (QueryError,
    ConnectionLost) for database failures."""
    name, argument = parse(line)
    handler = lookup(name).handler
    if context.session is None:
        return await handler(context, name, argument)
    async with context.session.typed(line.strip()):
        return await handler(context, name, argument)


def toggle(argument: str) -> bool | None:
    """``on``/``off`` (True/False), nothing for toggle (None)."""
    arg = argument.lower()
    if arg in ("on", "true", "1"):
        return True
    if arg in ("off", "false", "0"):
        return False
    if arg:
        raise CommandError(f"expected on or off, got {argument!r}")
    return None
