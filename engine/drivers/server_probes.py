"""Which server probe answers for a connection: the one place that tells the backends apart
for the server pane (see :mod:`engine.drivers.server`)."""

from __future__ import annotations

from typing import Any

from aishell.engine.drivers.server import ServerProbe


def probe_for(conn: Any) -> ServerProbe:
    """The probe for ``conn``'s backend."""
    dialect = conn.dialect
    if dialect == "postgres":
        from aishell.engine.drivers.server_postgres import PostgresProbe

        return PostgresProbe()
    if dialect == "sqlite":
        from aishell.engine.drivers.server_sqlite import SQLiteProbe

        return SQLiteProbe()
    from aishell.engine.drivers.server_mongo import MongoProbe

    return MongoProbe()
