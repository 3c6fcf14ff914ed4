"""PostgreSQL connection errors as users see them: one line, password-free."""

from __future__ import annotations

import asyncpg

from aishell.engine.drivers.postgres import PostgresDriver
from aishell.engine.errors import ConnectionFailed


def test_a_server_still_starting_reads_as_one_line_with_its_detail():
    driver = PostgresDriver("postgresql://ann:s3cret@db:5432/shop")
    exc = asyncpg.exceptions.CannotConnectNowError.new({
        "M": "the database system is not yet accepting connections",
        "D": "Consistent recovery state has not been yet reached.",
        "C": "57P03",
        "S": "FATAL",
    })
    error = driver.translate_connect_error(exc)
    assert isinstance(error, ConnectionFailed)
    assert str(error) == (
        "could not connect to postgresql://ann:***@db:5432/shop: the database system is not yet accepting"
        " connections DETAIL: Consistent recovery state has not been yet reached."
    )
