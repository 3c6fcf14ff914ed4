"""MongoDB: mongosh-syntax parsing and document flattening without a server, then streaming and
statements against a real one, each against a baseline measured in the same run.

- ``mongo.parse``: median time to parse a typical ``find`` statement with relaxed syntax
  (unquoted keys, sort, limit), against ``json.loads`` of the same arguments written as strict
  JSON — what accepting only strict JSON would cost. The ratio says what the shell syntax costs.
- ``mongo.flatten``: rows per second turning nested documents (subdocuments, an array of
  items, dates, decimals) into grid rows in pages of 500, against the usual recipe: flatten
  each document to a dict of dotted keys (arrays as JSON text), then pick the columns of the
  first page.
- ``mongo.stream``: documents per second of a whole collection (a million; 20,000 with
  ``--quick``) streamed through the driver into grid pages of 1,000 — parse, cursor, flatten —
  against raw PyMongo (``AsyncMongoClient``) reading the same cursor in batches of 1,000 and
  decoding only; passes in the order ours, raw, raw, ours, the best of each side kept (a first
  pass reads a cold server cache). ``mongo.first_page``: time to the first page, the same way.
- ``mongo.statement``: one small ``find`` typed in shell syntax through the driver, against the
  same call made with PyMongo: what the parser and the grid add to a statement's round trip.

The server: ``AISHELL_TEST_MONGO_URL`` when set, else a throwaway FerretDB 1.24
(:mod:`.mongotemp`; SQLite storage, so the server, not the client, sets most of the pace);
without either the server figures are left out and a note says why on stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import decimal
import json
import os
import statistics
import sys
import time
import uuid
from typing import Any

from aishell.engine.bench import BenchContext, BenchResult, median_time

NAME = "mongo"
NEEDS_PG = False

STATEMENT = (
    'db.orders.find({status: "paid", total: {$gt: 100}, "customer.city": {$in: ["Oslo", "Bergen"]}}, '
    "{total: 1, ts: 1}).sort({ts: -1}).limit(20)"
)
STRICT = (
    '[{"status": "paid", "total": {"$gt": 100}, "customer.city": {"$in": ["Oslo", "Bergen"]}}, '
    '{"total": 1, "ts": 1}, {"ts": -1}, 20]'
)
PAGE = 500


def documents(n: int) -> list[dict[str, Any]]:
    """Order-like documents as PyMongo decodes them (dicts, lists, datetimes, Decimals)."""
    start = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
    return [
        {
            "_id": f"{i:024x}",
            "status": ("paid", "open", "void")[i % 3],
            "total": decimal.Decimal(i % 997) / 4,
            "ts": start + dt.timedelta(minutes=i),
            "customer": {"name": f"c{i % 5000}", "address": {"city": ("Oslo", "Bergen")[i % 2], "zip": f"{i % 9999:04d}"}},
            "items": [{"sku": f"A{i % 7}", "qty": i % 4}, {"sku": f"B{i % 5}", "qty": 1}],
            "n": i,
        }
        for i in range(n)
    ]


def naive_rows(docs: list[dict[str, Any]]) -> int:
    """The baseline: dotted dicts per document, columns from the first page."""

    def flat(doc: dict[str, Any], prefix: str, out: dict[str, Any]) -> dict[str, Any]:
        for key, value in doc.items():
            if isinstance(value, dict):
                flat(value, f"{prefix}{key}.", out)
            elif isinstance(value, list):
                out[prefix + key] = json.dumps(value, default=str)
            else:
                out[prefix + key] = value
        return out

    columns: list[str] | None = None
    count = 0
    for start in range(0, len(docs), PAGE):
        page = [flat(d, "", {}) for d in docs[start : start + PAGE]]
        if columns is None:
            columns = list(dict.fromkeys(k for row in page for k in row))
        rows = [tuple(row.get(c) for c in columns) for row in page]
        count += len(rows)
    return count


def our_rows(docs: list[dict[str, Any]]) -> int:
    from aishell.engine.mongo.flatten import Flattener

    flattener = Flattener()
    count = 0
    for start in range(0, len(docs), PAGE):
        page = docs[start : start + PAGE]
        if start == 0:
            flattener.learn(page)
            flattener.freeze()
        count += len(flattener.rows(page))
    return count


def _rate(fn: Any, docs: list[dict[str, Any]], repeat: int) -> float:
    best = 0.0
    for _ in range(repeat):
        started = time.perf_counter()
        rows = fn(docs)
        best = max(best, rows / (time.perf_counter() - started))
    return best


async def run(ctx: BenchContext) -> list[BenchResult]:
    from aishell.engine.mongo.shell import parse

    repeat = 5 if ctx.quick else 15
    ours = median_time(lambda: parse(STATEMENT), repeat=repeat, number=200)
    baseline = median_time(lambda: json.loads(STRICT), repeat=repeat, number=200)
    docs = documents(5_000 if ctx.quick else 20_000)
    flat_ours = _rate(our_rows, docs, 3)
    flat_base = _rate(naive_rows, docs, 3)
    async with _server() as url:
        served = await _served(url, 20_000 if ctx.quick else 1_000_000) if url else []
    return served + [
        BenchResult(
            "mongo.parse", "find statement, relaxed mongosh syntax (median)", ours * 1e6, "us",
            "json.loads of the same arguments as strict JSON", baseline * 1e6,
        ),
        BenchResult(
            "mongo.flatten", "nested documents to grid rows, pages of 500", flat_ours, "rows/s",
            "dotted dict per document (arrays as JSON), columns of the first page", flat_base,
            higher_is_better=True,
        ),
    ]


# -- against a server ---------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def _server():
    """The server's URL: AISHELL_TEST_MONGO_URL, a throwaway FerretDB, or None (with a note)."""
    url = os.environ.get("AISHELL_TEST_MONGO_URL")
    if url:
        yield url
        return
    from aishell.engine.bench.mongotemp import FerretServer, ferretdb_binary, missing_reason

    reason = missing_reason()
    if reason:
        print(f"bench mongo: server figures left out: {reason}", file=sys.stderr)
        yield None
        return
    server = FerretServer(ferretdb_binary())
    try:
        await asyncio.to_thread(server.start)
        yield server.url
    finally:
        await asyncio.to_thread(server.stop)


def _fill(url: str, database: str, n: int) -> None:
    import pymongo

    with pymongo.MongoClient(url) as client:
        for start in range(0, n, 10_000):
            batch = documents(min(10_000, n - start))
            for offset, doc in enumerate(batch):
                doc["_id"] = start + offset
                doc["total"] = float(doc["total"])  # FerretDB 1.24 has no Decimal128
            client[database].big.insert_many(batch, ordered=False)
        client[database].small.insert_many([{"_id": i, "status": ("paid", "open")[i % 2], "n": i} for i in range(200)])


async def _served(url: str, n: int) -> list[BenchResult]:
    from pymongo import AsyncMongoClient

    from aishell.engine.drivers.mongo import MongoDriver

    database = f"aishell_bench_{uuid.uuid4().hex[:8]}"
    await asyncio.to_thread(_fill, url, database, n)
    conn = await MongoDriver(url).connect()
    client: Any = AsyncMongoClient(url, tz_aware=True)
    try:
        await conn.execute(f"use {database}")

        async def ours() -> tuple[float, int]:
            started = time.perf_counter()
            first, count = 0.0, 0
            async with conn.stream("db.big.find({})", page_size=1000) as rows:
                async for page in rows:
                    first = first or time.perf_counter() - started
                    count += len(page)
            return first, count

        async def raw() -> tuple[float, int]:
            started = time.perf_counter()
            first, count = 0.0, 0
            cursor = client[database].big.find({}, batch_size=1000)
            while batch := await cursor.to_list(1000):
                first = first or time.perf_counter() - started
                count += len(batch)
            return first, count

        timings: dict[str, list[tuple[float, float]]] = {"ours": [], "raw": []}
        # ours, raw, raw, ours: the first pass reads a cold server cache, a later one a warm
        # one, and each side gets one of each; the best of its two is kept.
        for order in ((("ours", ours), ("raw", raw)), (("raw", raw), ("ours", ours))):
            for name, fn in order:
                started = time.perf_counter()
                first, count = await fn()
                if count != n:
                    raise RuntimeError(f"{name} read {count} documents of {n}")
                timings[name].append((first, n / (time.perf_counter() - started)))
        statement = "db.small.find({status: 'paid', n: {$gt: 50}}).sort({n: -1}).limit(20)"
        small = client[database].small

        samples: dict[str, list[float]] = {"typed": [], "direct": []}
        for _ in range(60):  # interleaved: both see the same moment of the server and the machine
            started = time.perf_counter()
            await conn.execute(statement)
            samples["typed"].append(time.perf_counter() - started)
            started = time.perf_counter()
            await small.find({"status": "paid", "n": {"$gt": 50}}, sort=[("n", -1)], limit=20).to_list(None)
            samples["direct"].append(time.perf_counter() - started)
        stmt_ours, stmt_base = (statistics.median(samples[k]) for k in ("typed", "direct"))
        await conn.execute("db.dropDatabase()")
    finally:
        await client.close()
        await conn.close()
    best = {name: (min(t[0] for t in runs), max(t[1] for t in runs)) for name, runs in timings.items()}
    where = "FerretDB 1.24" if not os.environ.get("AISHELL_TEST_MONGO_URL") else "server"
    return [
        BenchResult(
            "mongo.stream", f"{n:,} documents into grid pages of 1,000 ({where})", best["ours"][1], "rows/s",
            "raw PyMongo cursor, batches of 1,000, decoded only", best["raw"][1], higher_is_better=True, target="≥ 0.9×",
        ),
        BenchResult(
            "mongo.first_page", f"first page of {n:,} documents ({where})", best["ours"][0] * 1e3, "ms",
            "raw PyMongo's first batch", best["raw"][0] * 1e3, target="≤ 300 ms",
        ),
        BenchResult(
            "mongo.statement", "small find typed in shell syntax, round trip (median)", stmt_ours * 1e3, "ms",
            "the same find through PyMongo", stmt_base * 1e3,
        ),
    ]
