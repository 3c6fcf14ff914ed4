"""``\\e``: the front end opens the current buffer in ``$EDITOR`` and takes the text back.

Nothing to ask the database: the command answers with the ``edit`` action, which the workbench
performs itself (``aishell run`` has no buffer to edit).

>>> import asyncio
>>> asyncio.run(_e(Context(session=None), "\\\\e", "")).action
'edit'
"""

from __future__ import annotations

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command


@command("\\e", "", "Edit the buffer in $EDITOR (PSQL_EDITOR, EDITOR or VISUAL; vi otherwise)", aliases=("\\edit",))
async def _e(context: Context, name: str, argument: str) -> Outcome:
    if argument:
        raise CommandError("\\e edits the current buffer and takes no file: Alt-O opens a .sql file")
    return Outcome(action="edit")
