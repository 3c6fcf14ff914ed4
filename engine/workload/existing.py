"""Existing indexes worth a second look: those no scan has used since the statistics were last
reset, and those that repeat another index of the same table (same definition, or a plain
B-tree whose keys start another one's). Unique and primary-key indexes and those behind a
constraint are never proposed for removal: they enforce something.

The catalog is read in one query; nothing is dropped (the notes carry a ``DROP INDEX`` for the
user).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from aishell.engine.analyzer.identifiers import quote_ident

_CATALOG = """
SELECT n.nspname, t.relname, i.relname, pg_get_indexdef(ix.indexrelid),
       ix.indisunique OR ix.indisprimary OR EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid),
       coalesce(s.idx_scan, 0), pg_relation_size(ix.indexrelid),
       ix.indpred IS NOT NULL OR ix.indexprs IS NOT NULL, am.amname,
       (SELECT array_agg(a.attname ORDER BY k.ord) FROM unnest(ix.indkey::int2[]) WITH ORDINALITY k(attnum, ord)
          JOIN pg_attribute a ON a.attrelid = ix.indrelid AND a.attnum = k.attnum)
FROM pg_index ix
JOIN pg_class i ON i.oid = ix.indexrelid
JOIN pg_class t ON t.oid = ix.indrelid
JOIN pg_namespace n ON n.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
LEFT JOIN pg_stat_user_indexes s ON s.indexrelid = ix.indexrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND ix.indisvalid
ORDER BY n.nspname, t.relname, i.relname
"""


@dataclass(frozen=True, slots=True)
class IndexNote:
    """An existing index and why it may go: ``kind`` is ``unused`` or ``duplicate``."""

    kind: str
    schema: str
    table: str
    index: str
    definition: str
    reason: str
    size_bytes: int = 0

    @property
    def drop_statement(self) -> str:
        return f"DROP INDEX CONCURRENTLY {quote_ident(self.schema)}.{quote_ident(self.index)};"


def _shape(definition: str) -> str:
    """The definition without the index's own name, so two copies compare equal."""
    return re.sub(r"^CREATE (UNIQUE )?INDEX \S+ ON ", "CREATE INDEX ON ", definition)


async def existing_index_notes(conn) -> list[IndexNote]:
    """Unused and duplicate indexes of the connection's database, duplicates first."""
    rows = (await conn.execute(_CATALOG)).rows
    notes: list[IndexNote] = []
    by_table: dict[tuple[str, str], list] = {}
    for row in rows:
        by_table.setdefault((row[0], row[1]), []).append(row)
    duplicated: set[tuple[str, str]] = set()
    for (schema, table), indexes in by_table.items():
        for row in indexes:
            _, _, name, definition, enforces, _, size, special, method, columns = row
            if enforces:
                continue
            for other in indexes:
                if other is row:
                    continue
                same = _shape(other[3]) == _shape(definition)
                if same and (other[4] or other[2] < name):  # keep the one that enforces, else the first by name
                    reason = f"the same index as {other[2]}"
                elif not same and not special and method == "btree" and other[8] == "btree" and not other[7] \
                        and columns and other[9] and len(other[9]) > len(columns) and list(other[9][: len(columns)]) == list(columns):
                    reason = f"its keys ({', '.join(columns)}) start {other[2]} ({', '.join(other[9])}), which serves the same lookups"
                else:
                    continue
                notes.append(IndexNote("duplicate", schema, table, name, definition, reason, int(size or 0)))
                duplicated.add((schema, name))
                break
    for row in rows:
        schema, table, name, definition, enforces, scans, size = row[:7]
        if enforces or scans or (schema, name) in duplicated:
            continue
        notes.append(IndexNote("unused", schema, table, name, definition, "no scan has used it since the statistics were last reset", int(size or 0)))
    return notes
