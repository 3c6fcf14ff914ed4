"""psql's catalog commands: ``\\d`` and ``\\d NAME``, ``\\dt \\dv \\dm \\ds \\di \\dn \\df \\dT
\\dD \\du \\dx \\db \\dp \\l``, each with ``S`` (system objects too) and ``+`` (sizes and
descriptions). The driver answers with psql's own queries where it can (PostgreSQL) and from its
catalog elsewhere; a command the database has no answer for says so in one line.

The answer is a table in the grid like any result. ``\\d NAME`` puts the columns first, then
one ``▸ Section`` row per footer psql prints (indexes, constraints, "Referenced by", triggers,
partitions, view definition), each followed by one row per object: its name, then the rest.

>>> _flags("\\\\dtS+")
('dt', True, True)
>>> _first_pattern('"Mixed Case" extra')
'"Mixed Case"'
"""

from __future__ import annotations

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import CommandError, Outcome, command
from aishell.engine.drivers.listing import Listing, PatternError, size_pretty

__all__ = ["size_pretty"]

_DATABASES = {"postgres": "PostgreSQL", "sqlite": "SQLite", "mongo": "MongoDB"}

_LISTINGS = (
    ("\\dt", "List tables"),
    ("\\dv", "List views"),
    ("\\dm", "List materialized views"),
    ("\\ds", "List sequences"),
    ("\\di", "List indexes"),
    ("\\dn", "List schemas"),
    ("\\df", "List functions"),
    ("\\dT", "List data types"),
    ("\\dD", "List domains"),
    ("\\du", "List roles"),
    ("\\dx", "List extensions"),
    ("\\db", "List tablespaces"),
    ("\\dp", "List access privileges"),
    ("\\l", "List databases"),
)


def _flags(name: str) -> tuple[str, bool, bool]:
    """(the command without its backslash and flags, S given, + given)."""
    verbose = name.endswith("+")
    base = name.lstrip("\\").rstrip("+")
    system = base.endswith("S") and len(base) > 1
    return (base[:-1] if system else base), system, verbose


def _first_pattern(argument: str) -> str | None:
    """The first pattern of the argument (psql ignores the rest); double quotes keep spaces."""
    text = argument.strip()
    if not text:
        return None
    in_quotes = False
    for i, ch in enumerate(text):
        if ch == '"':
            in_quotes = not in_quotes
        elif ch.isspace() and not in_quotes:
            return text[:i]
    return text


def _available(context: Context, key: str) -> None:
    session = context.session
    if key not in session.listings:
        where = _DATABASES.get(session.driver.name, session.driver.name)
        raise CommandError(f"\\{key} is not available on {where}")


def _outcome(listing: Listing) -> Outcome:
    kinds = []
    for i, _ in enumerate(listing.columns):
        values = [r[i] for r in listing.rows if r[i] is not None]
        kinds.append("int" if values and all(isinstance(v, int) and not isinstance(v, bool) for v in values) else "text")
    n = len(listing.rows)
    return Outcome(
        list(zip(listing.columns, kinds)), listing.rows, f"{listing.title} · {n} row{'s' if n != 1 else ''}",
    )


async def _list(context: Context, name: str, argument: str) -> Outcome:
    key, system, verbose = _flags(name)
    _available(context, key)
    try:
        return _outcome(await context.session.listing(key, _first_pattern(argument), system=system, verbose=verbose))
    except PatternError as exc:
        raise CommandError(str(exc)) from None


for _name, _summary in _LISTINGS:
    command(_name, "[PATTERN]", _summary, aliases=(_name + "S",) + (("\\list",) if _name == "\\l" else ()) + (("\\dg", "\\dgS") if _name == "\\du" else ()))(_list)


@command("\\d", "[NAME]", "Describe NAME (columns, indexes, constraints, triggers…); without NAME list relations", aliases=("\\dS",))
async def _d(context: Context, name: str, argument: str) -> Outcome:
    pattern = _first_pattern(argument)
    if pattern is None:
        return await _list(context, name, argument)
    key, system, verbose = _flags(name)
    _available(context, key)
    try:
        listings = await context.session.describe(pattern, system=system, verbose=verbose)
    except PatternError as exc:
        raise CommandError(str(exc)) from None
    return describe_outcome(listings)


def describe_outcome(listings: list[Listing]) -> Outcome:
    """One grid table for ``\\d NAME``: the first relation's columns, its footer sections as
    ``▸ Title`` rows followed by (name, rest) rows; further matches follow under their title."""
    width = max(len(listing.columns) for listing in listings)
    first = listings[0]
    columns = [(c, "text") for c in first.columns] + [("", "text")] * (width - len(first.columns))

    def pad(*cells: object) -> tuple:
        return tuple("" if c is None else c for c in cells) + ("",) * (width - len(cells))

    rows: list[tuple] = []
    for i, listing in enumerate(listings):
        if i:
            rows.append(pad(f"▸ {listing.title}"))
            rows.append(pad(*listing.columns))
        rows += [pad(*row) for row in listing.rows]
        for section in listing.sections:
            rows.append(pad(f"▸ {section.title}"))
            rows += [pad(name, rest) for name, rest in section.items]
    titles = ", ".join(listing.title for listing in listings)
    return Outcome(columns, rows, titles)
