"""Shell values that JSON lacks (ObjectId, NumberLong, Timestamp, ...), without importing bson.

The parser produces these; :mod:`engine.drivers.mongo` turns them into bson types just before
a command is sent. Keeping them here lets parsing, fingerprints and tests run without PyMongo.
Dates are plain timezone-aware :class:`datetime.datetime`, NumberDecimal is
:class:`decimal.Decimal`, UUID() is :class:`uuid.UUID`, NumberInt() is a plain ``int``.

>>> ObjectIdValue("65a1b2c3d4e5f60718293a4b")
ObjectId('65a1b2c3d4e5f60718293a4b')
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ObjectIdValue:
    """``ObjectId("…")``: 24 lower-case hex digits."""

    hex: str

    def __repr__(self) -> str:
        return f"ObjectId({self.hex!r})"

    @classmethod
    def generate(cls) -> "ObjectIdValue":
        """A new id as mongosh's ``ObjectId()`` makes it: seconds, 5 random bytes, a counter."""
        global _counter
        with _lock:
            _counter = (_counter + 1) & 0xFFFFFF
            count = _counter
        raw = int(time.time()).to_bytes(4, "big") + _PROCESS_RANDOM + count.to_bytes(3, "big")
        return cls(raw.hex())


@dataclass(frozen=True, slots=True)
class Int64Value:
    """``NumberLong(…)``: a 64-bit integer kept distinct from a plain (int32/int64) number."""

    value: int

    def __repr__(self) -> str:
        return f"NumberLong({self.value})"


@dataclass(frozen=True, slots=True)
class RegexValue:
    """``/pattern/flags`` or ``RegExp("pattern", "flags")``."""

    pattern: str
    flags: str = ""

    def __repr__(self) -> str:
        return f"/{self.pattern}/{self.flags}"


@dataclass(frozen=True, slots=True)
class TimestampValue:
    """``Timestamp(t, i)``: seconds since the epoch and an ordinal."""

    time: int
    inc: int

    def __repr__(self) -> str:
        return f"Timestamp({self.time}, {self.inc})"


@dataclass(frozen=True, slots=True)
class BinaryValue:
    """``BinData(subtype, "base64")`` / ``HexData(subtype, "hex")``."""

    subtype: int
    data: bytes

    def __repr__(self) -> str:
        import base64

        return f"BinData({self.subtype}, {base64.b64encode(self.data).decode()!r})"


@dataclass(frozen=True, slots=True)
class KeyBound:
    """``MinKey()`` or ``MaxKey()``."""

    name: str  # "MinKey" or "MaxKey"

    def __repr__(self) -> str:
        return f"{self.name}()"


MIN_KEY = KeyBound("MinKey")
MAX_KEY = KeyBound("MaxKey")

_PROCESS_RANDOM = os.urandom(5)
_counter = int.from_bytes(os.urandom(3), "big")
_lock = threading.Lock()

__all__ = [
    "ObjectIdValue",
    "Int64Value",
    "RegexValue",
    "TimestampValue",
    "BinaryValue",
    "KeyBound",
    "MIN_KEY",
    "MAX_KEY",
]
