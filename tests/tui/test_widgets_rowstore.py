"""RowStore: packed chunks that give back exactly the rows that went in."""

from __future__ import annotations

import datetime as dt
import decimal
import ipaddress
import uuid

import pytest

from aishell.tui.widgets.rowstore import CHUNK_ROWS, RowStore


def _row(i: int) -> tuple:
    return (
        i,
        f"name {i}",
        i / 3,
        None,
        i % 2 == 0,
        b"\x00\x01",
        decimal.Decimal(f"{i}.10"),
        dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))) + dt.timedelta(seconds=i),
        dt.date(2024, 2, 29),
        dt.time(23, 59, 59, 123456),
        uuid.UUID(int=i),
        dt.timedelta(days=1, microseconds=i),
        {"k": [1, "two"]},
    )


def test_round_trip_of_packed_chunks() -> None:
    rows = [_row(i) for i in range(CHUNK_ROWS * 3 + 10)]
    store = RowStore()
    for start in range(0, len(rows), 700):
        store.extend(rows[start : start + 700])
    assert len(store) == len(rows)
    assert store.packed_bytes > 0
    for index in (0, 1, CHUNK_ROWS - 1, CHUNK_ROWS, 2 * CHUNK_ROWS + 5, len(rows) - 1):
        got = store[index]
        assert got == rows[index]
        assert [type(value) for value in got] == [type(value) for value in rows[index]]
    assert store[-1] == rows[-1]
    assert store[5:8] == rows[5:8]
    assert list(store) == rows
    with pytest.raises(IndexError):
        store[len(rows)]


def test_datetimes_keep_their_zone() -> None:
    utc = dt.datetime(2024, 5, 1, 12, 30, 15, 999_999, tzinfo=dt.timezone.utc)
    paris = dt.datetime(2024, 5, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    naive = dt.datetime(9999, 12, 31, 23, 59, 59, 999_999)
    for rows in ([(utc, naive)] * CHUNK_ROWS, [(utc, paris)] * CHUNK_ROWS):
        store = RowStore()
        store.extend(rows)
        assert store.packed_bytes > 0
        back = store[CHUNK_ROWS - 1]
        assert back == rows[0]
        assert [value.tzinfo for value in back] == [value.tzinfo for value in rows[0]]
        assert [value.isoformat() for value in back] == [value.isoformat() for value in rows[0]]


def test_values_msgpack_cannot_carry_keep_their_chunk_raw() -> None:
    odd = [(1, ipaddress.ip_network("10.0.0.0/8")), (2, 2**70), (3, (1, 2))]
    store = RowStore()
    store.extend(odd + [(i, "x") for i in range(CHUNK_ROWS)])
    assert store.packed_bytes == 0  # the only full chunk holds the odd values: kept as is
    assert store[0][1] == ipaddress.ip_network("10.0.0.0/8") and store[1][1] == 2**70
    assert store[2] == (3, (1, 2))
    store.extend([(i, "y") for i in range(CHUNK_ROWS)])
    assert store.packed_bytes > 0 and store[len(store) - 1] == (CHUNK_ROWS - 1, "y")


def test_packed_is_much_smaller_than_tuples() -> None:
    store = RowStore()
    store.extend([(i, f"customer {i}", i * 0.5) for i in range(CHUNK_ROWS * 10)])
    # ~180 bytes a row as Python objects; packed well under 40.
    assert store.packed_bytes < 40 * CHUNK_ROWS * 10


def test_iter_from_and_frozen_copy() -> None:
    store = RowStore()
    store.extend([(i, f"r{i}") for i in range(CHUNK_ROWS * 2 + 10)])
    assert list(store.iter_from(CHUNK_ROWS - 2))[:3] == [(CHUNK_ROWS - 2, f"r{CHUNK_ROWS - 2}"), (CHUNK_ROWS - 1, f"r{CHUNK_ROWS - 1}"), (CHUNK_ROWS, f"r{CHUNK_ROWS}")]
    assert list(store.iter_from(len(store) - 1)) == [(len(store) - 1, f"r{len(store) - 1}")]
    assert list(store.iter_from(len(store))) == []
    frozen = store.frozen()
    store.extend([(i, "later") for i in range(CHUNK_ROWS)])  # packs the old tail into a chunk
    assert len(frozen) == CHUNK_ROWS * 2 + 10 and list(frozen) == [(i, f"r{i}") for i in range(CHUNK_ROWS * 2 + 10)]
    assert len(store) == CHUNK_ROWS * 3 + 10 and store[-1] == (CHUNK_ROWS - 1, "later")
