"""PostgreSQL values asyncpg would change on the way in: an interval keeps its months, days and time.

asyncpg reads an interval into a ``timedelta``, folding a month into 30 days and a year into 365,
and hours into days: ``1 mon 2 days`` arrives as ``32 days``, ``25:00:00`` as ``1 day 01:00:00``,
``-1 day +02:00`` as ``-22:00:00``, and the grid and the exports could not show what psql shows.
:func:`install` gives each connection a codec that reads an interval into
:class:`engine.types.Interval`: a ``timedelta`` of the same length asyncpg would give (so sorting,
arithmetic and every reader of a timedelta work as before) that also keeps the three fields as
stored, for the text forms (:func:`engine.encode.pg_text`). Setting a codec on a built-in type
costs no round trip.

>>> span = Interval(14, 3, 14_706_500_000)
>>> span.parts, span == _dt.timedelta(days=3 + 60 + 365, seconds=14_706.5)
((14, 3, 14706500000), True)
>>> encode_interval(span), encode_interval(_dt.timedelta(hours=-1))
((14, 3, 14706500000), (0, -1, 82800000000))
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from aishell.engine.types import Interval

__all__ = ["decode_interval", "encode_interval", "install"]


def decode_interval(parts: tuple[int, int, int]) -> Interval:
    """asyncpg's tuple form of an interval (months, days, microseconds) as an :class:`Interval`."""
    return Interval(*parts)


def encode_interval(value: _dt.timedelta) -> tuple[int, int, int]:
    """An interval parameter: an :class:`Interval` as it was read, a timedelta as asyncpg sends it."""
    parts = getattr(value, "parts", None)
    if parts is not None:
        return parts
    return (0, value.days, value.seconds * 1_000_000 + value.microseconds)


async def install(raw: Any) -> None:
    """Give an asyncpg connection the codecs of this module (at connect, before any statement)."""
    await raw.set_type_codec("interval", schema="pg_catalog", encoder=encode_interval, decoder=decode_interval, format="tuple")
