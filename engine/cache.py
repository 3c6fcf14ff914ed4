"""Query-result cache: repeated read-only statements served from memory, invalidated on writes.

Keyed by SQL text and parameters (with their types: ``1`` and ``True`` are different keys),
bounded by entries and by approximate bytes, least recently used evicted first. Each entry has
its own time to live, adaptive within the settings' bounds: slow queries on tables that are
rarely written live longer; tables written often cap the TTL near their write interval.

What may be cached is decided by :func:`engine.statements.plan` (from the sqlglot AST): one
read-only statement, no volatile function (``now()``, ``random()``, ``nextval``, SQLite's
``'now'``...), no unknown function (it could be volatile or write), no locking clause, no
temporary or system table, no TABLESAMPLE. The Session invalidates on writes
(:meth:`QueryCache.invalidate`), clears on statements it cannot classify, never stores reads
made inside a transaction, and a :class:`SchemaWatcher` notices schema changes made by other
clients.

>>> plan("SELECT * FROM orders WHERE id = $1").cacheable
True
>>> plan("SELECT now()").reason
'volatile function CurrentTimestamp'
>>> sorted(plan("UPDATE orders SET total = 0 WHERE id = 1").writes)
['orders']
"""

from __future__ import annotations

import math
import sys
import time
import weakref
from collections import OrderedDict
from typing import Any, Iterable

from aishell.engine.config import CacheSettings
from aishell.engine.metrics import CacheSnapshot
from aishell.engine.statements import Plan, plan, planner
from aishell.engine.types import QueryResult

_mono = time.monotonic

_SHARED: dict[str, "weakref.WeakSet[QueryCache]"] = {}
"""This process's caches by the database they hold results of (:meth:`QueryCache.share`)."""


class _Entry:
    __slots__ = ("columns", "rows", "rowcount", "status", "expires", "size", "tables", "prefetched")

    def __init__(self, result: QueryResult, expires: float, size: int, tables: frozenset[str], prefetched: bool = False) -> None:
        self.columns = result.columns
        self.rows = tuple(result.rows)
        self.rowcount = result.rowcount
        self.status = result.status
        self.expires = expires
        self.size = size
        self.tables = tables
        self.prefetched: float | None = result.elapsed if prefetched else None
        """Stored by prefetch and not served yet: the seconds it took to run (what a hit saves)."""


class QueryCache:
    """An LRU of query results bounded by entries and bytes, with adaptive TTLs.

    Not thread-safe; it lives on the Session's event loop. Reads never take a lock.
    """

    def __init__(self, settings: CacheSettings, *, dialect: str = "postgres") -> None:
        if settings.max_entries < 1 or settings.max_bytes < 1:
            from aishell.engine.errors import ConfigurationError

            raise ConfigurationError(
                f"cache bounds must be positive, got max_entries={settings.max_entries!r}, max_bytes={settings.max_bytes!r}"
            )
        self.settings = settings
        self.dialect = dialect
        self._plan = planner(dialect)
        self._data: OrderedDict[Any, _Entry] = OrderedDict()
        self._by_table: dict[str, set[Any]] = {}
        self._gen: dict[str, int] = {}
        self._epoch = 0
        self._churn: dict[str, tuple[float, float]] = {}  # table -> (last write, EWMA interval)
        self._temp: set[str] = set()
        self.views: frozenset[str] = frozenset()
        """Views (their base tables are unknown here: reads of them are not cached)."""
        self.cascades: dict[str, frozenset[tuple[str, str]]] = {}
        """Table -> (child, actions) a write to it can change too: ``actions`` holds ``d`` when a
        delete cascades (ON DELETE CASCADE/SET NULL/SET DEFAULT), ``u`` for updates; a child
        ``*`` (a user trigger, which may write anything) clears the whole cache."""
        self._meta: dict[Any, tuple[float, Any]] = {}
        self._bytes = 0
        self.hits = 0
        self.misses = 0
        self.uncacheable = 0
        self.evictions = 0
        self.invalidations = 0
        self.prefetch_hits = 0
        """Lookups served an entry prefetch stored (each entry counted once)."""
        self.prefetch_saved = 0.0
        """Seconds those entries took to run: what the hits saved the user."""
        self._database = ""

    # -- lookups --------------------------------------------------------------------------------

    def get(self, sql: str, params: Any = None) -> QueryResult | None:
        """The cached result (a fresh QueryResult with ``cached=True``), or None."""
        if params:
            try:
                values = tuple(params)
                key: Any = (sql, values, tuple(map(type, values)))
                entry = self._data.get(key)
            except TypeError:  # unhashable parameters: never cached
                key = entry = None
        else:
            key = sql
            entry = self._data.get(sql)
        if entry is not None:
            if entry.expires > _mono():
                self._data.move_to_end(key)
                self.hits += 1
                if entry.prefetched is not None:
                    self._prefetch_served(entry)
                return QueryResult(entry.columns, list(entry.rows), entry.rowcount, entry.status, 0.0, True)
            self._drop(key)
            self.evictions += 1
        if key is not None and self.plan(sql).cacheable:
            self.misses += 1
        else:
            self.uncacheable += 1
        return None

    def prefetched(self, sql: str, params: Any = None) -> QueryResult | None:
        """The result prefetch stored for ``sql`` and nobody was served yet (then it counts as a
        hit and becomes an ordinary entry), else None without counting a miss: a front end that
        streams results takes only these, so running a statement again still reads the server."""
        key = _key(sql, params)
        entry = self._data.get(key) if key is not None else None
        if entry is None or entry.prefetched is None or entry.expires <= _mono():
            return None
        return self.get(sql, params)

    def ahead(self, sql: str, params: Any = None) -> bool:
        """A result prefetch ran ahead waits for ``sql``, fresh and not served yet (nothing counted)."""
        key = _key(sql, params)
        entry = self._data.get(key) if key is not None else None
        return entry is not None and entry.prefetched is not None and entry.expires > _mono()

    def _prefetch_served(self, entry: _Entry) -> None:
        self.prefetch_hits += 1
        self.prefetch_saved += entry.prefetched or 0.0
        entry.prefetched = None

    def plan(self, sql: str) -> Plan:
        """:func:`engine.statements.plan` for this cache's dialect."""
        return self._plan(sql)

    def token(self, p: Plan) -> tuple:
        """Remember the tables' write generations before running a read (see :meth:`put`)."""
        gen = self._gen
        return (self._epoch, *(gen.get(t, 0) for t in p.reads)) if p.reads else (self._epoch,)

    def put(self, sql: str, params: Any, result: QueryResult, p: Plan, token: tuple, *, prefetched: bool = False) -> bool:
        """Store ``result`` unless a write touched its tables since ``token`` was taken.

        ``prefetched``: run ahead by :mod:`engine.prefetch`, not asked for yet (counted when
        served). Returns whether it was stored.
        """
        if not p.cacheable or token != self.token(p) or len(result.rows) > self.settings.max_rows:
            return False
        if self._temp and not self._temp.isdisjoint(p.reads):
            return False
        if self.views and not self.views.isdisjoint(p.reads):
            return False
        key = _key(sql, params)
        if key is None:
            return False
        size = approx_bytes(result)
        if size > self.settings.max_bytes:
            return False
        if key in self._data:
            self._drop(key)
        ttl = self.ttl_for(p.reads, result.elapsed)
        if prefetched:  # asked for by nobody yet: it waits the default TTL at most, however slow it was
            ttl = min(ttl, self.settings.default_ttl)
        entry = _Entry(result, _mono() + ttl, size, p.reads, prefetched)
        self._data[key] = entry
        self._bytes += size
        for t in p.reads:
            self._by_table.setdefault(t, set()).add(key)
        self._evict()
        return True

    def ttl_for(self, tables: Iterable[str], elapsed: float) -> float:
        """Adaptive TTL: longer for slow queries, capped by how often the tables are written."""
        s = self.settings
        ttl = s.default_ttl * max(1.0, math.sqrt(max(elapsed, 0.0) / 0.05))
        written = [self._churn[t][1] for t in tables if t in self._churn and self._churn[t][1] > 0]
        if written:
            ttl = min(ttl, min(written))
        elif tables:
            ttl *= 2  # never written while we watched
        return min(max(ttl, s.min_ttl), s.max_ttl)

    # -- invalidation ---------------------------------------------------------------------------

    def invalidate(self, tables: Iterable[str], kind: str = "") -> int:
        """Drop every entry that read one of ``tables``; later stores of older reads are refused.

        ``kind`` (``insert``, ``update``, ``delete``...) decides which foreign-key cascades to
        follow; empty follows them all.
        """
        action = {"insert": "-", "update": "u", "delete": "d"}.get(kind, "")
        dropped = 0
        now = _mono()
        todo = [t.lower() for t in tables]
        seen: set[str] = set()
        while todo:
            t = todo.pop()
            if t in seen:
                continue
            seen.add(t)
            for child, actions in self.cascades.get(t, ()):
                if child == "*":
                    self.clear()
                elif not action or action in actions:
                    todo.append(child)
            self._gen[t] = self._gen.get(t, 0) + 1
            last, interval = self._churn.get(t, (0.0, 0.0))
            if last:
                gap = now - last
                interval = gap if not interval else 0.7 * interval + 0.3 * gap
            self._churn[t] = (now, interval)
            for key in self._by_table.pop(t, ()):
                if key in self._data:
                    self._drop(key)
                    dropped += 1
        self.invalidations += dropped
        return dropped

    def clear(self) -> int:
        """Drop everything (a statement that could change anything, an external change)."""
        dropped = len(self._data)
        self._epoch += 1
        self._data.clear()
        self._by_table.clear()
        self._meta.clear()
        self._bytes = 0
        self.invalidations += dropped
        return dropped

    def note_temp_tables(self, names: Iterable[str]) -> None:
        """Temporary tables created in this session: reads of them are never cached."""
        self._temp.update(n.lower() for n in names)

    def share(self, database: str) -> None:
        """Hold results of ``database`` beside this process's other caches of it: what a statement
        of one session writes (:meth:`applied`) is dropped from them all, so a write in one of
        the workbench's connections is never answered from another's cache."""
        self._database = database
        _SHARED.setdefault(database, weakref.WeakSet()).add(self)

    def applied(self, p: Plan) -> None:
        """Account for a statement that ran (or may have run): invalidate what it changed, here
        and in the caches sharing this database."""
        self._applied(p, own=True)
        if self._database:
            for peer in list(_SHARED.get(self._database, ())):
                if peer is not self:
                    peer._applied(p, own=False)

    def _applied(self, p: Plan, *, own: bool) -> None:
        if p.clears_all:
            self.clear()
            return
        if p.temp_tables and own:  # another session's temporary tables are not this one's
            self.note_temp_tables(p.temp_tables)
        if p.writes:
            self.invalidate(p.writes, p.kind)
        if p.ddl:
            self._meta.clear()

    # -- schema metadata ------------------------------------------------------------------------

    def meta_get(self, key: Any) -> Any:
        """Cached schema metadata (``Session.schema()`` and friends), or None."""
        found = self._meta.get(key)
        if found is None or found[0] <= _mono():
            return None
        return found[1]

    def meta_put(self, key: Any, value: Any) -> None:
        self._meta[key] = (_mono() + self.settings.default_ttl, value)

    def drop_meta(self) -> None:
        self._meta.clear()

    # -- bookkeeping ----------------------------------------------------------------------------

    def _drop(self, key: Any) -> None:
        entry = self._data.pop(key)
        self._bytes -= entry.size
        for t in entry.tables:
            keys = self._by_table.get(t)
            if keys is not None:
                keys.discard(key)
                if not keys:
                    del self._by_table[t]

    def _evict(self) -> None:
        s = self.settings
        data = self._data
        while data and (len(data) > s.max_entries or self._bytes > s.max_bytes):
            self._drop(next(iter(data)))
            self.evictions += 1

    def __len__(self) -> int:
        return len(self._data)

    @property
    def bytes(self) -> int:
        return self._bytes

    def metrics(self) -> CacheSnapshot:
        lookups = self.hits + self.misses
        return CacheSnapshot(
            hits=self.hits,
            misses=self.misses,
            hit_rate=self.hits / lookups if lookups else 0.0,
            entries=len(self._data),
            bytes=self._bytes,
            max_entries=self.settings.max_entries,
            max_bytes=self.settings.max_bytes,
            evictions=self.evictions,
            invalidations=self.invalidations,
            uncacheable=self.uncacheable,
        )


def _key(sql: str, params: Any) -> Any:
    """The cache key (kept in step with :meth:`QueryCache.get`'s inlined copy)."""
    if not params:
        return sql
    try:
        values = tuple(params)
        key = (sql, values, tuple(map(type, values)))
        hash(key)
    except TypeError:
        return None  # unhashable parameters (lists, dicts): not cached
    return key


def approx_bytes(result: QueryResult) -> int:
    """Approximate memory of a result, from a sample of up to 16 rows."""
    rows = result.rows
    n = len(rows)
    base = 200 + 100 * len(result.columns)
    if not n:
        return base
    step = max(1, n // 16)
    sample = rows[::step][:16]
    getsize = sys.getsizeof
    per_row = sum(getsize(r) + sum(getsize(v) for v in r) for r in sample) / len(sample)
    return base + int(per_row * n) + 8 * n


# -- external schema changes --------------------------------------------------------------------


class SchemaWatcher:
    """Notices schema changes made by other clients, cheaply, and tells the cache.

    Each poll reads the connection's catalog change marker (``Connection.catalog_marker``:
    PostgreSQL's ``pg_class`` row versions, SQLite's schema and data versions); only when it
    moved are the relations read (``Connection.catalog_relations``), diffed with the last poll
    and the changed names invalidated. A write the server cannot attribute (SQLite's data
    version: another process committed) clears the whole cache. Connections without a marker
    (MongoDB) are not watched. The catalog queries live in the drivers.
    """

    def __init__(self, cache: QueryCache, dialect: str) -> None:
        self.cache = cache
        self.dialect = dialect
        self._epoch: Any = None
        self._relations: dict[str, str] | None = None
        self.changes = 0
        self.catalog_changes = 0
        """Polls that saw a relation created, altered or dropped (the catalog's readers reload)."""

    async def check(self, conn: Any) -> bool:
        """One poll on ``conn``; True when something changed (and was invalidated)."""
        epoch = await conn.catalog_marker()
        if epoch is None or epoch == self._epoch:
            return False
        first = self._epoch is None
        data_changed = not first and epoch[1] != self._epoch[1]
        self._epoch = epoch
        catalog = await conn.catalog_relations()
        self.cache.views = catalog.views
        self.cache.cascades = catalog.cascades
        relations = catalog.versions
        previous, self._relations = self._relations, relations
        if first or previous is None:
            return False
        self.changes += 1
        changed = {n for n in relations.keys() | previous.keys() if relations.get(n) != previous.get(n)}
        if changed:
            self.catalog_changes += 1
        if data_changed:
            self.cache.clear()
            return True
        if changed:
            self.cache.invalidate(changed)
            self.cache.drop_meta()
        return bool(changed)


__all__ = ["QueryCache", "plan", "approx_bytes", "SchemaWatcher", "CacheSnapshot"]
