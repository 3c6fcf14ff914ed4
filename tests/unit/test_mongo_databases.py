"""`databases()` of the Mongo driver without a server: what listDatabases' sizes become, and a
dead server fails loudly instead of listing only the current database."""

from __future__ import annotations

import time

import bson
import pytest

from aishell.engine.drivers.mongo import MongoDriver, _size_on_disk
from aishell.engine.errors import ConnectionFailed


@pytest.mark.parametrize(
    "doc, size",
    [({"sizeOnDisk": 8192}, 8192), ({"sizeOnDisk": bson.Int64(2**40)}, 2**40), ({"sizeOnDisk": 40960.0}, 40960),
     ({}, None), ({"sizeOnDisk": True}, None), ({"sizeOnDisk": "big"}, None)],
)
def test_size_on_disk(doc, size):
    assert _size_on_disk({"name": "shop", **doc}) == size


async def test_dead_server_is_an_error_not_a_short_list():
    driver = MongoDriver("mongodb://127.0.0.1:1/shop", connect_timeout=0.3)
    conn = await driver.connect(verify=False)
    try:
        started = time.monotonic()
        with pytest.raises(ConnectionFailed):
            await conn.databases()
        assert time.monotonic() - started < 5
    finally:
        await conn.close()
