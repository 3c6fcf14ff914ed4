"""Scan findings checked against the plan: on a real SQLite file, a finding the plan confirms
says what it showed and one it contradicts (an index serves the OR) is dropped; on PostgreSQL
plans (as the server returns them), an index scan drops a missing-index finding and a Seq Scan
is named with its rows."""

from __future__ import annotations

import sqlite3

import pytest

from aishell.engine.analyzer import analyze
from aishell.engine.analyzer.findings import Finding, IndexCandidate
from aishell.engine.analyzer.plan import explain, read_postgres_plan
from aishell.engine.analyzer.plan_check import check_against_plan
from aishell.engine.drivers import driver_for


@pytest.mark.parametrize(
    ("sql", "code", "kept"),
    [
        ("SELECT id FROM orders WHERE email LIKE '%x'", "AS005", "The plan shows a full scan on orders."),
        ("SELECT id FROM orders WHERE id = 1 OR note = 'x'", "AS006", "The plan shows a full scan on orders."),
        ("SELECT id FROM orders WHERE lower(email) = 'x'", "AS004", "The plan shows a full scan on orders."),
        ("SELECT id FROM orders WHERE id = 1 OR email = 'x'", "AS006", None),  # MULTI-INDEX OR: both indexed
        ("SELECT id FROM orders WHERE lower(note) = 'x'", "AS004", None),  # an index on lower(note) serves it
    ],
)
async def test_sqlite(tmp_path, sql, code, kept):
    path = tmp_path / "shop.db"
    with sqlite3.connect(path) as db:
        db.executescript(
            "CREATE TABLE orders (id INTEGER PRIMARY KEY, email TEXT, note TEXT);"
            "CREATE INDEX orders_email ON orders (email); CREATE INDEX orders_note ON orders (lower(note));"
        )
    findings = analyze(sql, dialect="sqlite").findings
    assert code in [f.code for f in findings]
    conn = await driver_for(str(path)).connect()
    try:
        checked = check_against_plan(findings, await explain(conn, sql))
    finally:
        await conn.close()
    found = [f for f in checked if f.code == code]
    if kept is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].message.endswith(kept)
    assert [f for f in checked if f.code not in {"AS004", "AS005", "AS006"}] == [f for f in findings if f.code not in {"AS004", "AS005", "AS006"}]


def _missing_index(table: str = "orders") -> Finding:
    return Finding("AS014", "missing-index", "warning", "Filter on orders.customer_id, which no index serves.", 1, 1,
                   candidate=IndexCandidate(table, ("customer_id",)))


def _plan(node_type: str, **extra):
    node = {"Node Type": node_type, "Relation Name": "orders", "Alias": "orders", "Total Cost": 500.0, "Plan Rows": 26000,
            "Filter": "(customer_id = 7)", **extra}
    return read_postgres_plan([{"Plan": node}])


def test_postgres_seq_scan_is_named_with_its_rows():
    (finding,) = check_against_plan([_missing_index()], _plan("Seq Scan"))
    assert finding.message == "Filter on orders.customer_id, which no index serves. The plan shows a Seq Scan on orders (26,000 rows)."
    (finding,) = check_against_plan([_missing_index('public."orders"')], _plan("Seq Scan"))
    assert "Seq Scan on orders" in finding.message


def test_postgres_index_scan_drops_the_finding():
    assert check_against_plan([_missing_index()], _plan("Index Scan", **{"Index Name": "orders_customer"})) == []
    assert check_against_plan([_missing_index()], _plan("Bitmap Heap Scan")) == []


def test_nothing_to_check():
    finding = _missing_index("invoices")  # the plan never names the table (a view): kept as it was
    assert check_against_plan([finding], _plan("Seq Scan")) == [finding]
    empty = read_postgres_plan([{"Plan": {"Node Type": "Result", "Total Cost": 0.01, "Plan Rows": 1}}])
    assert check_against_plan([_missing_index()], empty) == [_missing_index()]
