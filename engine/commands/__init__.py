"""psql's backslash commands, shared by the workbench and ``aishell run``.

:mod:`.registry` holds the table and the dispatcher; each module beside it registers the
commands of one concern (catalog listings in :mod:`.describe`, display and connection in
:mod:`.settings`). Importing the package registers them all.

>>> import asyncio
>>> asyncio.run(run(Context(session=None), "\\\\timing off")).action
'timing'
"""

from __future__ import annotations

from aishell.engine.commands import describe, edit, script, settings  # noqa: F401  (registers the commands)
from aishell.engine.commands import files  # noqa: F401  (registers \copy and \o)
from aishell.engine.commands import named, variables  # noqa: F401  (registers \set \unset \ns \n \nd \nl)
from aishell.engine.commands import watch  # noqa: F401  (registers \watch)
from aishell.engine.commands import advise  # noqa: F401  (registers \advise)
from aishell.engine.commands.context import Context
from aishell.engine.commands.describe import size_pretty
from aishell.engine.commands.registry import COMMANDS, Command, CommandError, Outcome, lookup, parse, run

__all__ = ["COMMANDS", "Context", "Command", "CommandError", "Outcome", "lookup", "parse", "run", "size_pretty"]
