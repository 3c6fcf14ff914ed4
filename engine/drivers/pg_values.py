"""PostgreSQL values asyncpg would change on the way in: an interval keeps its months, days and
time, and a date of 9999-12-31 stays itself rather than reading as ``infinity``.

asyncpg reads an interval into a ``timedelta``, folding a month into 30 days and a year into 365,
and hours into days: ``1 mon 2 days`` arrives as ``32 days``, ``25:00:00`` as ``1 day 01:00:00``,
``-1 day +02:00`` as ``-22:00:00``, and the grid and the exports could not show what psql shows.
:func:`install` gives each connection a codec that reads an interval into
:class:`engine.types.Interval`: a ``timedelta`` of the same length asyncpg would give (so sorting,
arithmetic and every reader of a timedelta work as before) that also keeps the three fields as
stored, for the text forms (:func:`engine.encode.pg_text`).

asyncpg also reads the dates ``infinity`` and ``-infinity`` as ``date.max`` and ``date.min`` and
writes those two dates back as infinities, so ``9999-12-31``, a common "valid until" mark, could
not be told from ``infinity`` (and a parameter of that date was stored as ``infinity``). The date
codec reads the infinities as :class:`engine.types.InfiniteDate` and every other day as a plain
date, both ways. Setting a codec on a built-in type costs no round trip.

>>> span = Interval(14, 3, 14_706_500_000)
>>> span.parts, span == _dt.timedelta(days=3 + 60 + 365, seconds=14_706.5)
((14, 3, 14706500000), True)
>>> encode_interval(span), encode_interval(_dt.timedelta(hours=-1))
((14, 3, 14706500000), (0, -1, 82800000000))
>>> decode_date((0x7FFFFFFF,)), decode_date((2_921_939,)), encode_date(_dt.date(9999, 12, 31))
(INFINITY, datetime.date(9999, 12, 31), (2921939,))
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from aishell.engine.types import INFINITY, NEGATIVE_INFINITY, InfiniteDate, Interval

__all__ = ["decode_date", "decode_interval", "encode_date", "encode_interval", "install"]

_DATE_INFINITY = 0x7FFFFFFF
_DATE_NEGATIVE_INFINITY = -0x80000000
_EPOCH = _dt.date(2000, 1, 1).toordinal()  # PostgreSQL counts days from 2000-01-01


def decode_interval(parts: tuple[int, int, int]) -> Interval:
    """asyncpg's tuple form of an interval (months, days, microseconds) as an :class:`Interval`."""
    return Interval(*parts)


def encode_interval(value: _dt.timedelta) -> tuple[int, int, int]:
    """An interval parameter: an :class:`Interval` as it was read, a timedelta as asyncpg sends it."""
    parts = getattr(value, "parts", None)
    if parts is not None:
        return parts
    return (0, value.days, value.seconds * 1_000_000 + value.microseconds)


def decode_date(parts: tuple[int]) -> _dt.date:
    """asyncpg's tuple form of a date (days since 2000-01-01, or an infinity)."""
    days = parts[0]
    if days == _DATE_INFINITY:
        return INFINITY
    if days == _DATE_NEGATIVE_INFINITY:
        return NEGATIVE_INFINITY
    return _dt.date.fromordinal(days + _EPOCH)


def encode_date(value: _dt.date) -> tuple[int]:
    """A date parameter: an :class:`InfiniteDate` as an infinity, every other date as itself."""
    if isinstance(value, InfiniteDate):
        return (_DATE_INFINITY if value.infinite > 0 else _DATE_NEGATIVE_INFINITY,)
    return (value.toordinal() - _EPOCH,)


async def install(raw: Any) -> None:
    """Give an asyncpg connection the codecs of this module (at connect, before any statement)."""
    await raw.set_type_codec("interval", schema="pg_catalog", encoder=encode_interval, decoder=decode_interval, format="tuple")
    await raw.set_type_codec("date", schema="pg_catalog", encoder=encode_date, decoder=decode_date, format="tuple")
