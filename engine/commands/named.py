"""Named queries as in pgcli: ``\\ns NAME QUERY`` saves, ``\\n NAME [ARGS…]`` runs (``$1``,
``$2``… take the arguments, ``$*`` all of them), ``\\nd NAME`` deletes, ``\\nl`` (or ``\\n``
alone) lists. They live in ``named_queries.json`` in the config directory, a private file
replaced atomically, so they outlive the session and are shared with ``aishell run``.

>>> fill("select * from t where id = $1 and kind = '$2'", ["7", "a"])
"select * from t where id = 7 and kind = 'a'"
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command

_POSITIONAL = re.compile(r"\$(\d+|\*)")


def store_path() -> Path:
    from aishell.engine.config import config_dir

    return config_dir() / "named_queries.json"


def load() -> dict[str, str]:
    """The saved queries by name (empty when none were saved or the file is unreadable)."""
    try:
        data = json.loads(store_path().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def save(queries: dict[str, str]) -> None:
    from aishell.engine.files import write_private

    write_private(store_path(), json.dumps(queries, indent=1, sort_keys=True) + "\n")


def fill(query: str, args: list[str]) -> str:
    """``query`` with ``$N`` replaced by the Nth argument and ``$*`` by all, comma-separated.
    Raises CommandError when it asks for more arguments than given."""
    def value(found: re.Match[str]) -> str:
        key = found.group(1)
        if key == "*":
            return ", ".join(args)
        index = int(key)
        if not 1 <= index <= len(args):
            raise CommandError(f"the query needs argument ${index}: {len(args)} given")
        return args[index - 1]

    return _POSITIONAL.sub(value, query)


@command("\\ns", "NAME QUERY", "Save a named query ($1… for arguments)")
async def _ns(context: Context, name: str, argument: str) -> Outcome:
    key, _, query = argument.partition(" ")
    if not key or not query.strip():
        raise CommandError("\\ns needs a name and a query: \\ns recent select * from orders limit $1")
    queries = load()
    queries[key] = query.strip()
    save(queries)
    return Outcome(action="notice", argument=f"saved the named query {key}")


@command("\\n", "[NAME [ARGS…]]", "Run a named query (alone: list them)")
async def _n(context: Context, name: str, argument: str) -> Outcome:
    if not argument:
        return _list()
    try:
        words = shlex.split(argument)
    except ValueError as exc:
        raise CommandError(f"\\n: {exc}") from None
    queries = load()
    if words[0] not in queries:
        raise CommandError(f"no named query {words[0]!r}: \\nl lists them")
    return Outcome(action="run", argument=fill(queries[words[0]], words[1:]), status=words[0])


@command("\\nd", "NAME", "Delete a named query")
async def _nd(context: Context, name: str, argument: str) -> Outcome:
    queries = load()
    if argument not in queries:
        raise CommandError(f"no named query {argument!r}: \\nl lists them")
    del queries[argument]
    save(queries)
    return Outcome(action="notice", argument=f"deleted the named query {argument}")


@command("\\nl", "", "List the named queries")
async def _nl(context: Context, name: str, argument: str) -> Outcome:
    return _list()


def _list() -> Outcome:
    rows = sorted(load().items())
    return Outcome([("name", "text"), ("query", "text")], rows, f"{len(rows)} named queries")
