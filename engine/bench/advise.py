"""`aishell bench advise`: workload advice over 200 statement shapes on TPC-H tables, timed, against
the per-statement advisor run on the same statements one by one in the same run.

A database of its own (``aishell_bench_advise_<pid>``, dropped after) on the server of ``--db`` or
the throwaway cluster gets the eight TPC-H tables with generated rows (lineitem 120,000) and
their primary keys, and HypoPG (``--quick``: a sixth of the rows, 60 shapes). The workload is the 22 TPC-H queries (those PostgreSQL cannot
plan are skipped by both sides alike) and lookups, ranges, sorts and updates over the tables'
columns, up to 200 distinct fingerprints, each with calls and a mean time drawn from a fixed seed.

Figures:
- ``advise.workload_200``: :func:`engine.workload.advise_workload` over the 200 shapes (plan each
  once, try each candidate index once as a hypothetical index across the statements that could
  use it), against the per-statement advisor (:func:`engine.analyzer.advisor.advise`, each
  statement's candidates tried alone, as Dexter does a query at a time); each side's best of
  :data:`ROUNDS` alternating runs. Target: ≤ 30 s.
- ``advise.agreement``: the share of the indexes the per-statement advisor recommends that the
  workload advice recommends too (the same table and keys, or a wider index starting with them).
"""

from __future__ import annotations

import random
import time

from aishell.engine.bench import BenchContext, BenchResult

NAME = "advise"
SHAPES = 200
SEED = 7
ORDERS = 30_000
ROUNDS = 2
"""Each side is timed this many times, alternating, and its best run kept (timeit's convention)."""
"""Rows of orders (lineitem has four times as many); ``--quick``: 5,000 and 60 shapes."""

TABLES = """
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE region (r_regionkey int PRIMARY KEY, r_name text NOT NULL, r_comment text);
CREATE TABLE nation (n_nationkey int PRIMARY KEY, n_name text NOT NULL, n_regionkey int NOT NULL, n_comment text);
CREATE TABLE part (p_partkey int PRIMARY KEY, p_name text, p_mfgr text, p_brand text, p_type text, p_size int,
  p_container text, p_retailprice numeric, p_comment text);
CREATE TABLE supplier (s_suppkey int PRIMARY KEY, s_name text, s_address text, s_nationkey int, s_phone text,
  s_acctbal numeric, s_comment text);
CREATE TABLE partsupp (ps_partkey int, ps_suppkey int, ps_availqty int, ps_supplycost numeric, ps_comment text,
  PRIMARY KEY (ps_partkey, ps_suppkey));
CREATE TABLE customer (c_custkey int PRIMARY KEY, c_name text, c_address text, c_nationkey int, c_phone text,
  c_acctbal numeric, c_mktsegment text, c_comment text);
CREATE TABLE orders (o_orderkey int PRIMARY KEY, o_custkey int, o_orderstatus text, o_totalprice numeric,
  o_orderdate date, o_orderpriority text, o_clerk text, o_shippriority int, o_comment text);
CREATE TABLE lineitem (l_orderkey int, l_partkey int, l_suppkey int, l_linenumber int, l_quantity numeric,
  l_extendedprice numeric, l_discount numeric, l_tax numeric, l_returnflag text, l_linestatus text, l_shipdate date,
  l_commitdate date, l_receiptdate date, l_shipinstruct text, l_shipmode text, l_comment text,
  PRIMARY KEY (l_orderkey, l_linenumber));
INSERT INTO region SELECT g, 'REGION' || g, md5(g::text) FROM generate_series(0, 4) g;
INSERT INTO nation SELECT g, 'NATION' || g, g % 5, md5(g::text) FROM generate_series(0, 24) g;
INSERT INTO part SELECT g, 'part ' || md5(g::text), 'Manufacturer#' || (g % 5), 'Brand#' || (g % 25), 'TYPE ' || (g % 150),
  1 + g % 50, 'CONTAINER' || (g % 40), 900 + g % 1000, md5(g::text) FROM generate_series(1, 4000) g;
INSERT INTO supplier SELECT g, 'Supplier#' || g, md5(g::text), g % 25, '10-' || g, g % 10000, md5(g::text)
  FROM generate_series(1, 200) g;
INSERT INTO partsupp SELECT p, s, (p * s) % 10000, (p + s) % 1000, md5((p * s)::text)
  FROM generate_series(1, 4000) p, generate_series(1, 4) k, LATERAL (SELECT 1 + (p + k * 50) % 200 AS s) x;
INSERT INTO customer SELECT g, 'Customer#' || g, md5(g::text), g % 25, '20-' || g, g % 10000,
  (ARRAY['BUILDING','AUTOMOBILE','MACHINERY','HOUSEHOLD','FURNITURE'])[1 + g % 5], md5(g::text) FROM generate_series(1, 3000) g;
INSERT INTO orders SELECT g, 1 + g % 3000, (ARRAY['F','O','P'])[1 + g % 3], g % 500000, date '1992-01-01' + g % 2400,
  (g % 5 + 1) || '-PRIORITY', 'Clerk#' || (g % 1000), 0, md5(g::text) FROM generate_series(1, {orders}) g;
INSERT INTO lineitem SELECT o, 1 + o % 4000, 1 + o % 200, n, 1 + (o * n) % 50, (o * n) % 100000, ((o + n) % 11) / 100.0,
  ((o + n) % 9) / 100.0, (ARRAY['R','A','N'])[1 + o % 3], (ARRAY['O','F'])[1 + n % 2], date '1992-01-02' + (o + n) % 2500,
  date '1992-01-30' + (o + n) % 2500, date '1992-02-01' + (o + n) % 2500, 'DELIVER IN PERSON', (ARRAY['AIR','MAIL','SHIP','TRUCK'])[1 + n % 4],
  md5((o * n)::text) FROM generate_series(1, {orders}) o, generate_series(1, 4) n;
ANALYZE;
"""

COLUMNS = {
    "lineitem": {"l_partkey": "int", "l_suppkey": "int", "l_quantity": "num", "l_shipdate": "date", "l_commitdate": "date",
                 "l_receiptdate": "date", "l_returnflag": "text", "l_shipmode": "text", "l_extendedprice": "num"},
    "orders": {"o_custkey": "int", "o_orderdate": "date", "o_orderstatus": "text", "o_totalprice": "num", "o_clerk": "text",
               "o_orderpriority": "text"},
    "customer": {"c_nationkey": "int", "c_mktsegment": "text", "c_acctbal": "num", "c_phone": "text", "c_name": "text"},
    "part": {"p_brand": "text", "p_type": "text", "p_size": "int", "p_container": "text", "p_retailprice": "num", "p_name": "text"},
    "partsupp": {"ps_suppkey": "int", "ps_availqty": "int", "ps_supplycost": "num"},
    "supplier": {"s_nationkey": "int", "s_acctbal": "num", "s_name": "text"},
}
KEYS = {"lineitem": "l_orderkey", "orders": "o_orderkey", "customer": "c_custkey", "part": "p_partkey",
        "partsupp": "ps_partkey", "supplier": "s_suppkey"}


def _value(kind: str, rng: random.Random) -> str:
    if kind == "int":
        return str(rng.randint(1, 3000))
    if kind == "num":
        return str(rng.randint(1, 900))
    if kind == "date":
        return f"date '199{rng.randint(2, 7)}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}'"
    return f"'V{rng.randint(1, 40)}'"


def workload(queries: list[str], shapes: int = SHAPES, seed: int = SEED) -> list:
    """``shapes`` statements of distinct fingerprints: the TPC-H ``queries``, then generated
    lookups, ranges, sorts and updates; calls and mean times from ``seed``."""
    from aishell.engine.statements.fingerprint import fingerprint
    from aishell.engine.workload import WorkloadStatement

    rng = random.Random(seed)
    out: dict[str, WorkloadStatement] = {}

    def add(text: str, calls: int, mean_ms: float) -> None:
        key = fingerprint(text)
        if key not in out and len(out) < shapes:
            out[key] = WorkloadStatement(key, text, calls, mean_ms, ("bench",))

    for text in queries:
        add(text.strip().rstrip(";"), rng.randint(1, 20), rng.uniform(50, 2000))
    pairs = [(t, c, k) for t, cols in COLUMNS.items() for c, k in cols.items()]
    templates = (
        lambda t, c, k, v: f"SELECT * FROM {t} WHERE {c} = {v}",
        lambda t, c, k, v: f"SELECT count(*) FROM {t} WHERE {c} = {v}",
        lambda t, c, k, v: f"SELECT {KEYS[t]} FROM {t} WHERE {c} > {v} ORDER BY {c} LIMIT 20",
        lambda t, c, k, v: f"SELECT {KEYS[t]}, {c} FROM {t} WHERE {c} < {v}",
        lambda t, c, k, v: f"UPDATE {t} SET {c} = {c} WHERE {KEYS[t]} = {rng.randint(1, 3000)}",
        lambda t, c, k, v: f"SELECT * FROM {t} ORDER BY {c} DESC LIMIT 10",
    )
    for template in templates:
        for table, column, kind in pairs:
            add(template(table, column, kind, _value(kind, rng)), rng.randint(1, 500), rng.uniform(0.5, 80))
    while len(out) < shapes:  # two-column conditions until the count is reached
        table = rng.choice(sorted(COLUMNS))
        (a, ka), (b, kb) = rng.sample(sorted(COLUMNS[table].items()), 2)
        add(f"SELECT * FROM {table} WHERE {a} = {_value(ka, rng)} AND {b} < {_value(kb, rng)}", rng.randint(1, 200), rng.uniform(1, 60))
    return sorted(out.values(), key=lambda s: s.weight, reverse=True)


async def run(ctx: BenchContext) -> list[BenchResult]:
    if not ctx.pg_url:
        raise RuntimeError("the advise benchmark needs PostgreSQL with HypoPG (--db URL)")
    import os

    from aishell.engine.drivers import driver_for

    name = f"aishell_bench_advise_{os.getpid()}"
    admin = await driver_for(ctx.pg_url).connect()
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = _with_database(ctx.pg_url, name)
    try:
        return await _measure(url, ctx.quick)
    finally:
        admin = await driver_for(ctx.pg_url).connect()
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


async def _measure(url: str, quick: bool) -> list[BenchResult]:
    from aishell.engine.analyzer.advisor import advise
    from aishell.engine.bench.analyzer import load_queries
    from aishell.engine.drivers import driver_for
    from aishell.engine.errors import QueryError
    from aishell.engine.workload import advise_workload

    conn = await driver_for(url).connect()
    try:
        for statement in TABLES.format(orders=5000 if quick else ORDERS).split(";\n"):
            if statement.strip():
                await conn.execute(statement)
        statements = workload([text for _, text in load_queries()], 60 if quick else SHAPES)
        schema = await conn.schema_info()

        ours = baseline = float("inf")
        for _ in range(ROUNDS):  # alternating, the best of each (the first pays for cold caches)
            started = time.perf_counter()
            advice = await advise_workload(conn, statements, schema=schema)
            ours = min(ours, time.perf_counter() - started)

            started = time.perf_counter()
            alone: set[tuple[str, tuple[str, ...]]] = set()
            for statement in statements:
                try:
                    result = await advise(conn, statement.text, schema)
                except QueryError:
                    continue
                alone.update((item.candidate.table, item.candidate.columns) for item in result.recommended)
            baseline = min(baseline, time.perf_counter() - started)
    finally:
        await conn.close()

    found = [(r.candidate.table, r.candidate.columns) for r in advice.recommendations]
    agreed = sum(1 for table, columns in alone if any(t == table and c[: len(columns)] == columns for t, c in found))
    shapes = len(statements)
    return [
        BenchResult(
            f"advise.workload_{shapes}", f"workload advice, {shapes} shapes ({advice.statements} planned, {advice.candidates} candidates, "
            f"{len(advice.recommendations)} indexes)", ours, "s",
            f"per-statement advisor, {shapes} statements one by one ({len(alone)} indexes)", baseline, target="≤ 30 s",
        ),
        BenchResult(
            "advise.agreement", "share of the per-statement advisor's indexes the workload advice also recommends",
            agreed / len(alone) if alone else 1.0, "ratio", "", None, higher_is_better=True,
        ),
    ]


def _with_database(url: str, database: str) -> str:
    """``url`` with its path (the database) replaced."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + database))


__all__ = ["NAME", "SHAPES", "workload", "run"]
