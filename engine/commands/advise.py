"""``\\advise``: index advice for the whole workload of the database connected to.

The workbench answers the ``advise`` action with its advice screen, which runs the advice in a
worker with progress shown (``aishell advise --db URL`` is the same advice on the command line).
Nothing is created here: the screen asks before it runs a CREATE INDEX.

>>> import asyncio
>>> asyncio.run(_advise(Context(session=None), "\\\\advise", "")).action
'advise'
"""

from __future__ import annotations

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command

ADVISE = "advise"
"""The action: show the workload advice of the current connection."""


@command("\\advise", "", "Index advice for the whole workload (memory and pg_stat_statements, HypoPG)")
async def _advise(context: Context, name: str, argument: str) -> Outcome:
    if argument:
        raise CommandError("\\advise takes no argument: it advises on this database's workload")
    session = context.session
    if session is not None and not session.driver.HYPOTHETICAL_INDEXES:
        raise CommandError(f"\\advise needs PostgreSQL with HypoPG (hypothetical indexes): this is {session.driver.name}")
    return Outcome(action=ADVISE, status="workload advice")
