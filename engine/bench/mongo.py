"""Mongo without a server: mongosh-syntax parsing and document flattening, each against a
baseline measured in the same run.

- ``mongo.parse``: median time to parse a typical ``find`` statement with relaxed syntax
  (unquoted keys, sort, limit), against ``json.loads`` of the same arguments written as strict
  JSON — what accepting only strict JSON would cost. The ratio says what the shell syntax costs.
- ``mongo.flatten``: rows per second turning nested documents (subdocuments, an array of
  items, dates, decimals) into grid rows in pages of 500, against the usual recipe: flatten
  each document to a dict of dotted keys (arrays as JSON text), then pick the columns of the
  first page.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import time
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
    return [
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
