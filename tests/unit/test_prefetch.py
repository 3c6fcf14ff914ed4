"""Prefetch without a server: what follows what, what may run unasked, how the cache counts it."""

from __future__ import annotations

import doctest
import importlib
import sqlite3

import pytest

from aishell.engine.cache import QueryCache
from aishell.engine.config import CacheSettings
from aishell.engine.prefetch import Successors, refusal
from aishell.engine.prefetch.successors import MAX_GAP
from aishell.engine.types import Column, QueryResult


@pytest.mark.parametrize(
    "name",
    ["aishell.engine.prefetch", "aishell.engine.prefetch.successors", "aishell.engine.prefetch.safety", "aishell.engine.prefetch.rows", "aishell.engine.analyzer.plan_cost"],
)
def test_doctests(name):
    result = doctest.testmod(importlib.import_module(name))
    assert result.attempted and result.failed == 0


A, B, C = "SELECT * FROM orders WHERE id = 1", "SELECT * FROM order_items WHERE order_id = 1", "SELECT count(*) FROM customers"


def pairs(model: Successors, *texts: str, gap: float = 1.0, start: float = 0.0) -> None:
    for number, text in enumerate(texts):
        model.ran(text, at=start + number * gap)


def test_a_successor_is_usual_only_when_seen_twice_and_in_most_pairs():
    model = Successors("postgres")
    pairs(model, A, B)
    assert model.next_of(A) is None  # once is not usual
    pairs(model, A, B, start=100)
    assert model.next_of(A) == B
    pairs(model, A, C, start=200)
    pairs(model, A, C, start=300)
    pairs(model, A, C, start=400)
    assert model.next_of(A) == C  # 3 of 5
    pairs(model, A, B, start=500)
    assert model.next_of(A) is None  # 3 of 6 each: neither is usual
    assert model.next_of("SELECT * FROM orders WHERE id = 99") == model.next_of(A)  # by shape


def test_a_long_gap_or_a_failure_breaks_the_chain():
    model = Successors("postgres")
    for start in (0, 1000):
        model.ran(A, at=start)
        model.ran(B, at=start + MAX_GAP + 1)
    assert model.next_of(A) is None
    for start in (5000, 6000):
        model.ran(A, at=start)
        model.ran("SELECT broken(", at=start + 1, ok=False)
        model.ran(B, at=start + 2)
    assert model.next_of(A) is None


def test_memory_runs_teach_pairs_and_repeats(tmp_path):
    path = tmp_path / "memory.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        "CREATE TABLE statements (id INTEGER PRIMARY KEY, text TEXT, fingerprint TEXT);"
        "CREATE TABLE runs (id INTEGER PRIMARY KEY, statement_id INTEGER, database TEXT, started_at REAL, success INTEGER);"
    )
    model = Successors("postgres")
    conn.executemany("INSERT INTO statements VALUES (?, ?, ?)", [(1, A, model.shape(A)), (2, B, model.shape(B)), (3, C, model.shape(C))])
    runs = [(1, "db1", 0), (2, "db1", 1), (1, "db1", 10), (3, "db2", 10.5), (2, "db1", 11), (3, "db1", 12), (3, "db1", 13), (3, "db1", 14)]
    conn.executemany("INSERT INTO runs (statement_id, database, started_at, success) VALUES (?, ?, ?, 1)", runs)
    conn.commit()
    conn.close()

    import asyncio

    asyncio.run(model.load(path, "db1"))
    assert model.next_of(A) == B  # db2's run in between belongs to another database
    assert model.most_repeated(1) == [C]
    assert sorted(model.most_repeated(5)) == sorted([A, B, C])
    empty = Successors("postgres")
    asyncio.run(empty.load(tmp_path / "missing.db", "db1"))
    assert len(empty) == 0 and empty.most_repeated(3) == []


@pytest.mark.parametrize(
    ("sql", "dialect", "why"),
    [
        ("SELECT * FROM t WHERE id = 1", "postgres", ""),
        ("SELECT * FROM t WHERE id = ?", "sqlite", "parameters"),
        ("SELECT * FROM t WHERE id = :id", "sqlite", "parameters"),
        ("SELECT * FROM t WHERE id = $1", "postgres", "parameters"),
        ("SELECT * INTO t2 FROM t", "postgres", "writes"),  # it creates t2
        ("SELECT * FROM t FOR UPDATE", "postgres", "locking clause"),
        ("SELECT setseed(0.5)", "postgres", "setseed"),
        ("SELECT pg_sleep(10)", "postgres", "pg_sleep"),
        ("SELECT * FROM pg_stat_activity", "postgres", "system catalog"),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "postgres", "writes"),
        ("SELECT 1; SELECT 2", "postgres", "more than one statement"),
        ("BEGIN", "postgres", "writes"),
        ("SELECT * FROM big_view", "postgres", "view"),
        ("ALTER ROLE app PASSWORD '***'", "postgres", "password"),
    ],
)
def test_refusal_reads_the_tree(sql, dialect, why):
    reason = refusal(sql, dialect, views=frozenset({"big_view"}))
    assert (why in reason) if why else reason == ""


def _result(rows: int = 3, elapsed: float = 0.25) -> QueryResult:
    return QueryResult((Column("n", "int4"),), [(i,) for i in range(rows)], rows, f"SELECT {rows}", elapsed)


def test_the_cache_counts_a_prefetched_result_once():
    cache = QueryCache(CacheSettings())
    sql = "SELECT n FROM numbers"
    p = cache.plan(sql)
    assert cache.prefetched(sql) is None and cache.misses == 0  # nothing counted when absent
    assert cache.put(sql, None, _result(), p, cache.token(p), prefetched=True)
    assert cache.ahead(sql) and cache.hits == 0
    served = cache.prefetched(sql)
    assert served is not None and served.cached and served.rows == [(0,), (1,), (2,)]
    assert (cache.prefetch_hits, cache.prefetch_saved) == (1, 0.25)
    assert cache.prefetched(sql) is None  # served once: an ordinary entry now
    assert cache.get(sql) is not None and cache.prefetch_hits == 1


def test_a_write_after_the_token_keeps_a_prefetched_result_out():
    cache = QueryCache(CacheSettings())
    sql = "SELECT n FROM numbers"
    p = cache.plan(sql)
    token = cache.token(p)
    cache.applied(cache.plan("UPDATE numbers SET n = n + 1 WHERE n = 1"))
    assert not cache.put(sql, None, _result(), p, token, prefetched=True)
    assert not cache.ahead(sql)


def test_a_prefetched_result_waits_the_default_ttl_at_most():
    import time

    cache = QueryCache(CacheSettings(default_ttl=0.05, min_ttl=0.01))
    ahead, asked = "SELECT n FROM numbers", "SELECT n FROM numbers WHERE n > 0"
    for sql, prefetched in ((ahead, True), (asked, False)):
        p = cache.plan(sql)
        assert cache.put(sql, None, _result(elapsed=10.0), p, cache.token(p), prefetched=prefetched)  # slow: a long TTL
    time.sleep(0.1)
    assert not cache.ahead(ahead) and cache.prefetched(ahead) is None
    assert cache.get(asked) is not None


def test_a_successor_takes_the_literals_of_the_statement_just_run():
    from aishell.engine.prefetch.successors import fill, template

    model = Successors("postgres")
    for start, number in enumerate((5, 6, 7)):
        model.ran(f"SELECT * FROM orders WHERE id = {number} AND status = 'paid'", at=start * 10.0)
        model.ran(f"SELECT * FROM order_items WHERE order_id = {number} AND kind = 'paid' LIMIT 50", at=start * 10.0 + 1)
    assert model.next_of("SELECT * FROM orders WHERE id = 41 AND status = 'new'") == (
        "SELECT * FROM order_items WHERE order_id = 41 AND kind = 'new' LIMIT 50"
    )
    # a value written twice in the first statement is ambiguous: the successor keeps its own
    assert template("SELECT * FROM t WHERE a = 1 OR b = 1", "SELECT * FROM u WHERE c = 1", "postgres") == "SELECT * FROM u WHERE c = 1"
    assert fill(template("SELECT 1, 2", "SELECT * FROM u WHERE c = 2", "postgres"), "SELECT 1", "postgres") is None


def test_a_successor_whose_literal_varies_on_its_own_is_not_predicted():
    model = Successors("postgres")
    for start, (first, second) in enumerate(((1, 10), (2, 20), (3, 30))):
        model.ran(f"SELECT * FROM orders WHERE id = {first}", at=start * 10.0)
        model.ran(f"SELECT * FROM customers WHERE id = {second}", at=start * 10.0 + 1)
    assert model.next_of("SELECT * FROM orders WHERE id = 4") is None
