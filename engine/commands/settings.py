"""The commands that change how the front end shows things or where it is connected:
``\\x``, ``\\timing``, ``\\c`` and ``\\?``. They answer with an action, not a table."""

from __future__ import annotations

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import COMMANDS, CommandError, Outcome, command, toggle


@command("\\x", "[on|off]", "Toggle the expanded record view")
async def _x(context: Context, name: str, argument: str) -> Outcome:
    return Outcome(action="expanded", value=toggle(argument))


@command("\\timing", "[on|off]", "Toggle showing the elapsed time of each statement")
async def _timing(context: Context, name: str, argument: str) -> Outcome:
    return Outcome(action="timing", value=toggle(argument))


@command("\\c", "URL", "Connect to another database (\\connect)", aliases=("\\connect",))
async def _c(context: Context, name: str, argument: str) -> Outcome:
    if not argument:
        raise CommandError("\\c needs a URL or path: \\c postgresql://user@host/db")
    return Outcome(action="connect", argument=argument)


@command("\\?", "", "List the backslash commands", aliases=("\\h", "\\help"))
async def _help(context: Context, name: str, argument: str) -> Outcome:
    return help_outcome()


def help_outcome() -> Outcome:
    rows = [(f"{c.name} {c.usage}".strip(), c.summary) for c in COMMANDS.values()]
    return Outcome([("command", "text"), ("description", "text")], rows, f"{len(rows)} commands")
