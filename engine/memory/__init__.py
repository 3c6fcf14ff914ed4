"""Memory: every statement run, remembered, searchable by meaning, ranked.

    memory = await Memory.open(settings)
    await memory.record(Entry("SELECT * FROM orders WHERE id = 3", database="sqlite:///shop.db"))
    hits = await memory.search("orders by id")
    await memory.close()

Parts: :mod:`.store` (the SQLite file), :mod:`.text` (tokens, fingerprint, redaction),
:mod:`.embed` (embedders), :mod:`.vectors` (FAISS), :mod:`.search` (ranking),
:mod:`.history` (import of psql/pgcli/plain history files), :mod:`.service` (the facade).
"""

from aishell.engine.memory.search import SIGNALS, SearchHit
from aishell.engine.memory.service import ImportReport, Memory
from aishell.engine.memory.store import Entry, MemoryStore
from aishell.engine.memory.text import fingerprint, ignored, normalize, redact_statement

__all__ = [
    "SIGNALS",
    "Entry",
    "ImportReport",
    "Memory",
    "MemoryStore",
    "SearchHit",
    "fingerprint",
    "ignored",
    "normalize",
    "redact_statement",
]
