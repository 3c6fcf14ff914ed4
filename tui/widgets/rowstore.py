"""Compact storage for the rows of a big result, read back by index.

A million Python tuples of three values take about 180 MB; packed with msgpack in chunks of
1,024 rows they take a sixth of that. Only the chunks being looked at are unpacked (a small LRU
of them), so the grid renders a screen of rows at the cost of one or two unpacks. Values msgpack
cannot carry natively round-trip through extension types (Decimal, datetime, date, time, UUID,
timedelta). A chunk holding anything else (a Range, an IP network, an int beyond 64 bits, a
tuple value, a subclass…) is kept as it came, so no value is ever changed or lost.

    >>> store = RowStore()
    >>> store.extend([(i, f"row {i}") for i in range(3000)])
    >>> len(store), store[2999], store[-1] == store[2999]
    (3000, (2999, 'row 2999'), True)
"""

from __future__ import annotations

import datetime as _dt
import decimal
import uuid
from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, overload

import msgpack

__all__ = ["RowStore"]

CHUNK_ROWS = 1024
"""Rows per packed chunk."""

_CACHED_CHUNKS = 8
"""Unpacked chunks kept (a screen spans at most two; scrolling back and forth reuses them)."""

_DECIMAL, _DATETIME, _DATE, _TIME, _UUID, _TIMEDELTA = range(1, 7)


def _ext(code: int, data: bytes) -> msgpack.ExtType:
    # ExtType's own constructor re-validates in Python; the packer only reads the two fields.
    return tuple.__new__(msgpack.ExtType, (code, data))


_ENCODERS: dict[type, Any] = {
    decimal.Decimal: lambda value: _ext(_DECIMAL, str(value).encode()),
    _dt.datetime: lambda value: _ext(_DATETIME, value.isoformat().encode()),
    _dt.date: lambda value: _ext(_DATE, value.isoformat().encode()),
    _dt.time: lambda value: _ext(_TIME, value.isoformat().encode()),
    uuid.UUID: lambda value: _ext(_UUID, value.bytes),
    _dt.timedelta: lambda value: _ext(_TIMEDELTA, msgpack.packb((value.days, value.seconds, value.microseconds))),
}


def _encode(value: Any) -> Any:
    encoder = _ENCODERS.get(type(value))
    if encoder is not None:
        return encoder(value)
    if isinstance(value, uuid.UUID):  # asyncpg's own UUID class
        return _ext(_UUID, value.bytes)
    if type(value).__name__ == "Record":  # asyncpg rows: a tuple of their values
        return tuple(value)
    raise TypeError(f"cannot pack {type(value).__name__}")


def _decode(code: int, data: bytes) -> Any:
    if code == _DECIMAL:
        return decimal.Decimal(data.decode())
    if code == _DATETIME:
        return _dt.datetime.fromisoformat(data.decode())
    if code == _DATE:
        return _dt.date.fromisoformat(data.decode())
    if code == _TIME:
        return _dt.time.fromisoformat(data.decode())
    if code == _UUID:
        return uuid.UUID(bytes=data)
    if code == _TIMEDELTA:
        days, seconds, microseconds = msgpack.unpackb(data)
        return _dt.timedelta(days=days, seconds=seconds, microseconds=microseconds)
    return msgpack.ExtType(code, data)


_PLAIN = frozenset({type(None), bool, int, float, str, bytes, list, dict})
_EXTENDED = frozenset({decimal.Decimal, _dt.datetime, _dt.date, _dt.time, uuid.UUID, _dt.timedelta})


def _packable(rows: list[Sequence[Any]]) -> bool | None:
    """Whether msgpack gives every value back equal and of the same type.

    None: yes, and every aware datetime is in UTC, so msgpack's own (C) timestamps may carry
    them; True: yes, through our extension types only; False: keep the rows as they are.
    """
    for row_type in set(map(type, rows)):
        if row_type is not tuple and row_type.__name__ != "Record":
            return False
    value_types = {type(value) for row in rows for value in row}
    if not all(kind in _PLAIN or kind in _EXTENDED or issubclass(kind, uuid.UUID) for kind in value_types):
        return False
    if _dt.datetime in value_types:
        zones = {value.tzinfo for row in rows for value in row if type(value) is _dt.datetime}
        if not zones <= {None, _dt.timezone.utc}:
            return True
    return None


def _pack(rows: list[Sequence[Any]]) -> bytes | list[Sequence[Any]]:
    """The rows packed, or the list itself when some value would not come back the same."""
    verdict = _packable(rows)
    if verdict is False:
        return rows
    try:
        # UTC datetimes as msgpack timestamps (exact to the microsecond, packed in C); naive
        # ones and other zones go through _encode and keep their tzinfo.
        return msgpack.packb(rows, default=_encode, use_bin_type=True, datetime=verdict is None)
    except (TypeError, ValueError, OverflowError, UnicodeEncodeError):
        return rows


def _unpack(data: bytes) -> list[tuple[Any, ...]]:
    rows = msgpack.unpackb(data, use_list=True, raw=False, ext_hook=_decode, strict_map_key=False, timestamp=3)
    return [tuple(row) for row in rows]


class RowStore(Sequence[Sequence[Any]]):
    """An append-only sequence of rows stored packed in chunks (see the module docstring)."""

    __slots__ = ("_chunks", "_tail", "_count", "_cache")

    def __init__(self) -> None:
        self._chunks: list[bytes | list[Sequence[Any]]] = []
        self._tail: list[Sequence[Any]] = []
        self._count = 0
        self._cache: OrderedDict[int, Sequence[Sequence[Any]]] = OrderedDict()

    def __len__(self) -> int:
        return self._count

    def extend(self, rows: Sequence[Sequence[Any]]) -> None:
        """Append rows; every full chunk is packed."""
        tail = self._tail
        tail.extend(rows)
        self._count += len(rows)
        start = 0
        while len(tail) - start >= CHUNK_ROWS:
            self._chunks.append(_pack(tail[start : start + CHUNK_ROWS]))
            start += CHUNK_ROWS
        if start:
            del tail[:start]

    @overload
    def __getitem__(self, index: int) -> Sequence[Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[Sequence[Any]]: ...

    def __getitem__(self, index: int | slice) -> Sequence[Any] | list[Sequence[Any]]:
        if isinstance(index, slice):
            return [self[position] for position in range(*index.indices(self._count))]
        if index < 0:
            index += self._count
        if not 0 <= index < self._count:
            raise IndexError(f"row {index} out of range (0..{self._count - 1})")
        chunk, offset = divmod(index, CHUNK_ROWS)
        if chunk == len(self._chunks):
            return self._tail[offset]
        return self._chunk(chunk)[offset]

    def __iter__(self) -> Iterator[Sequence[Any]]:
        return self.iter_from(0)

    def frozen(self) -> RowStore:
        """The rows loaded so far as a store of their own (chunks shared, nothing copied but the
        last partial chunk): a worker thread reads it while this one keeps growing."""
        copy = RowStore()
        copy._chunks = list(self._chunks)
        copy._tail = list(self._tail)
        copy._count = self._count
        return copy

    def iter_from(self, start: int) -> Iterator[Sequence[Any]]:
        """The rows from position ``start`` on, in order (the unpacked-chunk cache is left alone)."""
        first_chunk, offset = divmod(max(start, 0), CHUNK_ROWS)
        chunks = self._chunks[first_chunk:]
        tail = list(self._tail)
        for chunk in chunks:
            rows = chunk if isinstance(chunk, list) else _unpack(chunk)
            yield from (rows[offset:] if offset else rows)
            offset = 0
        yield from (tail[offset:] if offset else tail)

    @property
    def packed_bytes(self) -> int:
        """Bytes held by the packed chunks (the raw ones are not counted)."""
        return sum(len(chunk) for chunk in self._chunks if isinstance(chunk, bytes))

    def _chunk(self, number: int, *, keep: bool = True) -> Sequence[Sequence[Any]]:
        chunk = self._chunks[number]
        if isinstance(chunk, list):
            return chunk
        cached = self._cache.get(number)
        if cached is not None:
            self._cache.move_to_end(number)
            return cached
        rows = _unpack(chunk)
        if keep:
            self._cache[number] = rows
            if len(self._cache) > _CACHED_CHUNKS:
                self._cache.popitem(last=False)
        return rows
