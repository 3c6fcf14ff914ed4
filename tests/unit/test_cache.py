"""The query-result cache on its own: cacheability from the AST, bounds, TTLs, invalidation."""

from __future__ import annotations

import time

import pytest

from aishell.engine.cache import QueryCache, approx_bytes, plan
from aishell.engine.config import CacheSettings
from aishell.engine.types import Column, QueryResult


def result(rows, elapsed: float = 0.001) -> QueryResult:
    return QueryResult((Column("a", "int4"),), [tuple(r) for r in rows], len(rows), f"SELECT {len(rows)}", elapsed)


def stored(cache: QueryCache, sql: str, rows, params=None, elapsed: float = 0.001) -> bool:
    p = cache.plan(sql)
    return cache.put(sql, params, result(rows, elapsed), p, cache.token(p))


@pytest.mark.parametrize(
    "sql, dialect",
    [
        ("SELECT * FROM orders WHERE id = $1", "postgres"),
        ("SELECT count(*) FROM orders o JOIN customers c ON c.id = o.customer_id", "postgres"),
        ("WITH x AS (SELECT id FROM orders) SELECT * FROM x", "postgres"),
        ("SELECT lower(name), coalesce(email, '') FROM customers WHERE id = ?", "sqlite"),
        ("SELECT 1", "postgres"),
        ("SELECT md5(name), pg_catalog.md5(email) FROM customers", "postgres"),
    ],
)
def test_read_only_statements_are_cacheable(sql, dialect):
    assert plan(sql, dialect).cacheable, plan(sql, dialect).reason


@pytest.mark.parametrize(
    "sql, dialect, reason",
    [
        ("SELECT now()", "postgres", "volatile"),
        ("SELECT * FROM t WHERE created < current_timestamp", "postgres", "volatile"),
        ("SELECT random()", "postgres", "volatile"),
        ("SELECT nextval('s')", "postgres", "may be volatile"),
        ("SELECT gen_random_uuid()", "postgres", "volatile"),
        ("SELECT clock_timestamp()", "postgres", "may be volatile"),
        ("SELECT my_function(id) FROM t", "postgres", "may be volatile"),
        ("SELECT date('now')", "sqlite", "time-dependent"),
        ("SELECT * FROM t WHERE at > datetime('now', '-1 day')", "sqlite", "time-dependent"),
        ("SELECT * FROM t FOR UPDATE", "postgres", "locking"),
        ("SELECT * FROM t FOR SHARE", "postgres", "locking"),
        ("SELECT * FROM pg_temp.scratch", "postgres", "temporary"),
        ("SELECT * FROM temp.scratch", "sqlite", "temporary"),
        ("SELECT * FROM pg_stat_activity", "postgres", "system catalog"),
        ("SELECT * FROM sqlite_master", "sqlite", "system catalog"),
        ("SELECT * FROM t TABLESAMPLE BERNOULLI (10)", "postgres", "volatile"),
        ("SELECT * FROM generate_series(1, 3)", "postgres", "table function"),
        ("INSERT INTO t VALUES (1)", "postgres", "writes"),
        ("SELECT * INTO t2 FROM t", "postgres", "writes"),  # creates t2: running it twice must fail twice
        ("SELECT id INTO TEMP scratch FROM t", "postgres", "writes"),
        ("SELECT public.md5(x) FROM t", "postgres", "may be volatile"),  # the user's function, not the built-in
        ("SELECT 1; SELECT 2", "postgres", "more than one"),
    ],
)
def test_uncacheable_statements_and_why(sql, dialect, reason):
    p = plan(sql, dialect)
    assert not p.cacheable
    assert reason in p.reason


def test_plans_name_what_writes_change():
    assert plan("UPDATE orders SET total = 0 WHERE id = 1").writes == {"orders"}
    ddl = plan("ALTER TABLE orders ADD COLUMN note text")
    assert ddl.ddl and ddl.writes == {"orders"}
    temp = plan("CREATE TEMP TABLE scratch (a int)")
    assert temp.temp_tables == {"scratch"}
    assert plan("this is not sql at all ((").clears_all
    assert plan("SET search_path TO app").clears_all
    assert not plan("SHOW search_path").clears_all
    assert not plan("BEGIN").clears_all


def test_hit_returns_a_copy_marked_cached():
    cache = QueryCache(CacheSettings())
    assert cache.get("SELECT a FROM t") is None
    assert stored(cache, "SELECT a FROM t", [(1,), (2,)])
    hit = cache.get("SELECT a FROM t")
    assert hit is not None and hit.cached and hit.rows == [(1,), (2,)]
    hit.rows.append((3,))
    assert cache.get("SELECT a FROM t").rows == [(1,), (2,)]
    m = cache.metrics()
    assert (m.hits, m.misses, m.entries) == (2, 1, 1)
    assert m.hit_rate == pytest.approx(2 / 3)


def test_parameters_are_part_of_the_key_with_their_types():
    cache = QueryCache(CacheSettings())
    sql = "SELECT a FROM t WHERE a = $1"
    assert stored(cache, sql, [(1,)], params=(1,))
    assert cache.get(sql, (1,)).rows == [(1,)]
    assert cache.get(sql, (2,)) is None
    assert cache.get(sql, (True,)) is None  # 1 == True in Python, not in SQL
    assert cache.get(sql, (1.0,)) is None
    assert not stored(cache, sql, [(1,)], params=([1, 2],))  # unhashable: never cached
    assert cache.get(sql, ([1, 2],)) is None


def test_lru_eviction_by_entries():
    cache = QueryCache(CacheSettings(max_entries=3))
    for i in range(3):
        stored(cache, f"SELECT {i} FROM t", [(i,)])
    assert cache.get("SELECT 0 FROM t") is not None  # 0 becomes most recent
    stored(cache, "SELECT 3 FROM t", [(3,)])
    assert cache.get("SELECT 1 FROM t") is None  # least recently used went
    assert cache.get("SELECT 0 FROM t") is not None
    assert len(cache) == 3 and cache.metrics().evictions == 1


def test_eviction_by_bytes_and_oversized_results():
    one = approx_bytes(result([(i,) for i in range(100)]))
    cache = QueryCache(CacheSettings(max_bytes=int(one * 2.5)))
    for i in range(3):
        assert stored(cache, f"SELECT {i} FROM t", [(j,) for j in range(100)])
    assert len(cache) == 2 and cache.bytes <= int(one * 2.5)
    assert not stored(cache, "SELECT big FROM t", [(j,) for j in range(1000)])
    small = QueryCache(CacheSettings(max_rows=5))
    assert not stored(small, "SELECT a FROM t", [(j,) for j in range(6)])


def test_entries_expire():
    cache = QueryCache(CacheSettings(default_ttl=0.05, min_ttl=0.05, max_ttl=0.05))
    stored(cache, "SELECT a FROM t", [(1,)])
    assert cache.get("SELECT a FROM t") is not None
    time.sleep(0.08)
    assert cache.get("SELECT a FROM t") is None
    assert len(cache) == 0 and cache.metrics().evictions == 1


def test_adaptive_ttl_within_bounds():
    s = CacheSettings(default_ttl=30, min_ttl=5, max_ttl=600)
    cache = QueryCache(s)
    fast = cache.ttl_for({"quiet"}, 0.001)
    slow = cache.ttl_for({"quiet"}, 2.0)
    assert s.min_ttl <= fast < slow <= s.max_ttl
    assert cache.ttl_for({"quiet"}, 10_000.0) == s.max_ttl
    cache.invalidate({"busy"})
    time.sleep(0.01)
    cache.invalidate({"busy"})  # written about every 10 ms: entries live the minimum
    assert cache.ttl_for({"busy"}, 2.0) == s.min_ttl


def test_writes_invalidate_readers_of_the_table_only():
    cache = QueryCache(CacheSettings())
    stored(cache, "SELECT * FROM orders", [(1,)])
    stored(cache, "SELECT * FROM orders o JOIN customers c ON c.id = o.cid", [(1,)])
    stored(cache, "SELECT * FROM products", [(1,)])
    cache.applied(plan("UPDATE customers SET name = 'x' WHERE id = 1"))
    assert cache.get("SELECT * FROM orders") is not None
    assert cache.get("SELECT * FROM orders o JOIN customers c ON c.id = o.cid") is None
    assert cache.get("SELECT * FROM products") is not None
    assert cache.metrics().invalidations == 1


def test_a_read_that_raced_a_write_is_not_stored():
    cache = QueryCache(CacheSettings())
    p = cache.plan("SELECT * FROM orders")
    token = cache.token(p)  # the read starts...
    cache.invalidate({"orders"})  # ...a write lands meanwhile...
    assert not cache.put("SELECT * FROM orders", None, result([(1,)]), p, token)  # ...old rows refused
    assert cache.put("SELECT * FROM orders", None, result([(1,)]), p, cache.token(p))


def test_statements_that_could_change_anything_clear_everything():
    cache = QueryCache(CacheSettings())
    stored(cache, "SELECT * FROM orders", [(1,)])
    cache.meta_put(("schema",), "catalog")
    cache.applied(plan("SET search_path TO other"))
    assert len(cache) == 0 and cache.meta_get(("schema",)) is None


def test_ddl_drops_entries_and_schema_metadata():
    cache = QueryCache(CacheSettings())
    stored(cache, "SELECT * FROM orders", [(1,)])
    stored(cache, "SELECT * FROM products", [(1,)])
    cache.meta_put(("columns", "orders", None), ["id"])
    cache.applied(plan("ALTER TABLE orders ADD COLUMN note text"))
    assert cache.get("SELECT * FROM orders") is None
    assert cache.get("SELECT * FROM products") is not None
    assert cache.meta_get(("columns", "orders", None)) is None


def test_temporary_tables_views_and_cascades():
    cache = QueryCache(CacheSettings())
    cache.applied(plan("CREATE TEMP TABLE scratch (a int)"))
    assert not stored(cache, "SELECT * FROM scratch", [(1,)])
    cache.views = frozenset({"order_totals"})
    assert not stored(cache, "SELECT * FROM order_totals", [(1,)])
    cache.cascades = {"customers": frozenset({("orders", "d")}), "audit_me": frozenset({("*", "")})}
    stored(cache, "SELECT * FROM orders", [(1,)])
    stored(cache, "SELECT * FROM products", [(1,)])
    cache.applied(plan("UPDATE customers SET name = 'x' WHERE id = 1"))  # updates do not cascade here
    assert cache.get("SELECT * FROM orders") is not None
    cache.applied(plan("DELETE FROM customers WHERE id = 1"))  # ON DELETE CASCADE reaches orders
    assert cache.get("SELECT * FROM orders") is None
    assert cache.get("SELECT * FROM products") is not None
    cache.invalidate({"audit_me"})  # a table with a trigger: anything may have changed
    assert len(cache) == 0


def test_uncacheable_lookups_are_counted_apart_from_misses():
    cache = QueryCache(CacheSettings())
    assert cache.get("SELECT now()") is None
    assert cache.get("INSERT INTO t VALUES (1)") is None
    m = cache.metrics()
    assert (m.misses, m.uncacheable, m.hit_rate) == (0, 2, 0.0)


def test_bad_bounds_are_refused():
    from aishell.engine.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="max_entries=0"):
        QueryCache(CacheSettings(max_entries=0))
