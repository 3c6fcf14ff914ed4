"""``\\watch``: run the last statement again every few seconds, as psql does, until stopped.

psql's forms: ``\\watch`` (every 2 s), ``\\watch 5``, and psql 16's ``\\watch i=5 c=3`` (every
5 s, three times). The front end runs the loop (the workbench until Escape, ``aishell run``
until the count or Ctrl-C); this module reads the argument and names the statement.

>>> parse_watch("")
Watch(seconds=2.0, count=None)
>>> parse_watch("i=0.5 c=3")
Watch(seconds=0.5, count=3)
"""

from __future__ import annotations

from dataclasses import dataclass

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command

WATCH = "watch"
"""The action: run ``Outcome.argument`` every ``Outcome.value`` (a :class:`Watch`)."""


@dataclass(frozen=True, slots=True)
class Watch:
    """How often and how many times."""

    seconds: float = 2.0
    count: int | None = None
    """None: until stopped."""


def parse_watch(argument: str) -> Watch:
    """``[SECONDS] [i=SECONDS] [c=COUNT]`` (psql's ``interval=`` and ``count=`` too)."""
    seconds, count = 2.0, None
    for word in argument.split():
        key, eq, value = word.partition("=")
        key = key.lower() if eq else "i"
        value = value if eq else word
        try:
            if key in ("i", "interval"):
                seconds = float(value)
                if not 0 < seconds <= 86_400:
                    raise ValueError
            elif key in ("c", "count"):
                count = int(value)
                if count < 1:
                    raise ValueError
            else:
                raise CommandError(f"\\watch: unknown option {word!r} (i=SECONDS, c=COUNT)")
        except ValueError:
            raise CommandError(f"\\watch: {word!r} is not a positive number of seconds or runs") from None
    return Watch(seconds, count)


@command("\\watch", "[SECONDS] [c=COUNT]", "Run the last statement again every SECONDS (2) until Escape")
async def _watch(context: Context, name: str, argument: str) -> Outcome:
    watch = parse_watch(argument)
    if not context.last_statement.strip():
        raise CommandError("\\watch runs the last statement again: run one first")
    every = f"every {watch.seconds:g} s" + (f", {watch.count} times" if watch.count else "")
    return Outcome(action=WATCH, argument=context.last_statement, value=watch, status=every)  # type: ignore[arg-type]
