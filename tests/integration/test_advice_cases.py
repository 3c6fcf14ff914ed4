"""The index-advice cases we keep: one statement each against the real PostgreSQL 15 test cluster
with HypoPG, and the one index the advisor must recommend first (or none). Measured against
Dexter's behaviour: writes, quoted names, parameters, top-N sorts, and the narrowest index that
does the job.

The tables are made here with known distributions (200,000 orders over 5,000 customers and five
statuses, a mixed-case ``"Bar"."Foo"``, 200,000 events with ``a`` in 100,000 values and ``c`` in 1,000)."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from aishell.engine.analyzer.advisor import advise
from aishell.engine.analyzer.plan import explain
from aishell.engine.drivers import driver_for
from aishell.engine.errors import QueryError

SETUP = """
CREATE EXTENSION IF NOT EXISTS hypopg;
CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL,
  created_at timestamptz NOT NULL, total numeric NOT NULL, note text);
INSERT INTO orders SELECT g, g % 5000, (ARRAY['new','paid','shipped','done','void'])[1 + g % 5],
  timestamptz '2024-01-01' + g * interval '1 minute', (g * 7919 % 100000) / 10.0, md5(g::text)
  FROM generate_series(1, 200000) g;
CREATE SCHEMA "Bar";
CREATE TABLE "Bar"."Foo" ("Id" int NOT NULL, "Name" text, "CreatedAt" timestamptz);
INSERT INTO "Bar"."Foo" SELECT g, 'n' || g, timestamptz '2024-01-01' + g * interval '1 second'
  FROM generate_series(1, 100000) g;
CREATE TABLE events (id int PRIMARY KEY, a int NOT NULL, b int NOT NULL, c int NOT NULL, payload text);
INSERT INTO events SELECT g, g % 100000, (g * 7919) % 10000, g % 1000, md5(g::text) FROM generate_series(1, 200000) g;
ANALYZE;
"""

CASES = [
    # (id, statement, the first recommended CREATE INDEX or None)
    ("select-equality", "SELECT id FROM orders WHERE customer_id = 42", "CREATE INDEX ON orders (customer_id);"),
    ("select-in-list", "SELECT id FROM orders WHERE customer_id IN (1, 2, 3)", "CREATE INDEX ON orders (customer_id);"),
    ("select-range", "SELECT id FROM orders WHERE created_at BETWEEN '2024-02-01' AND '2024-02-02'", "CREATE INDEX ON orders (created_at);"),
    ("update-where", "UPDATE orders SET note = 'x' WHERE customer_id = 42", "CREATE INDEX ON orders (customer_id);"),
    ("delete-where", "DELETE FROM orders WHERE customer_id = 42", "CREATE INDEX ON orders (customer_id);"),
    ("quoted-names", 'SELECT "Name" FROM "Bar"."Foo" WHERE "Id" = 42', 'CREATE INDEX ON "Bar"."Foo" ("Id");'),
    ("quoted-update", 'UPDATE "Bar"."Foo" SET "Name" = \'y\' WHERE "Id" = 42', 'CREATE INDEX ON "Bar"."Foo" ("Id");'),
    ("unquoted-folds", "SELECT id FROM Orders WHERE Customer_Id = 5", "CREATE INDEX ON orders (customer_id);"),
    ("parameter", "SELECT id FROM orders WHERE customer_id = $1", "CREATE INDEX ON orders (customer_id);"),
    ("parameter-quoted", 'SELECT "Name" FROM "Bar"."Foo" WHERE "Id" = $1', 'CREATE INDEX ON "Bar"."Foo" ("Id");'),
    ("parameter-update", "UPDATE orders SET status = $1 WHERE customer_id = $2", "CREATE INDEX ON orders (customer_id);"),
    ("order-by-column", "SELECT id, total FROM orders ORDER BY total LIMIT 10", "CREATE INDEX ON orders (total);"),
    ("order-by-ordinal", "SELECT id, total FROM orders ORDER BY 2 DESC LIMIT 10", "CREATE INDEX ON orders (total);"),
    ("order-by-alias", "SELECT id, created_at AS c FROM orders ORDER BY c DESC LIMIT 10", "CREATE INDEX ON orders (created_at);"),
    ("order-by-two", "SELECT id FROM orders ORDER BY status, total LIMIT 10", "CREATE INDEX ON orders (status, total);"),
    ("equality-then-order", "SELECT id FROM orders WHERE status = 'paid' ORDER BY total LIMIT 500", "CREATE INDEX ON orders (status, total);"),
    ("narrow-wins", "SELECT id FROM events WHERE a = 1 AND b < 10", "CREATE INDEX ON events (a);"),
    ("wider-by-a-margin", "SELECT id FROM events WHERE c = 1 AND b < 10", "CREATE INDEX ON events (c, b);"),
    ("small-limit-narrow", "SELECT id FROM orders WHERE status = 'paid' ORDER BY total LIMIT 20", "CREATE INDEX ON orders (total);"),
    ("join-key", "SELECT o.id FROM orders o JOIN events e ON e.a = o.customer_id WHERE o.id < 50", "CREATE INDEX ON events (a);"),
    ("implicit-join-delete", "DELETE FROM events e USING orders o WHERE e.a = o.customer_id AND o.id < 50", "CREATE INDEX ON events (a);"),
    ("expression", "SELECT id FROM orders WHERE lower(note) = 'abc'", "CREATE INDEX ON orders ((lower(note)));"),
    ("unselective", "SELECT id FROM orders WHERE status <> 'void'", None),
    ("whole-table", "SELECT count(*) FROM orders", None),
    ("primary-key", "SELECT note FROM orders WHERE id = 5", None),
]


@pytest.fixture(scope="module")
async def cases_db(pg_cluster, pg_url):
    """One database with the case tables, shared by every case (they only read it)."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    url = pg_cluster.create_database(f"advice_{uuid.uuid4().hex[:10]}")
    pg_cluster.psql(SETUP, database=url.rsplit("/", 1)[1].split("?", 1)[0])
    conn = await driver_for(url).connect()
    try:
        yield conn, await conn.schema_info()
    finally:
        await conn.close()


@pytest.mark.pg
@pytest.mark.parametrize("sql, expected", [pytest.param(sql, expected, id=name) for name, sql, expected in CASES])
async def test_index_advice_case(cases_db, sql, expected):
    conn, schema = cases_db
    advice = await advise(conn, sql, schema)
    assert advice.hypopg, advice.message
    first = advice.recommended[0].statement if advice.recommended else None
    assert first == expected, advice.message
    assert (await conn.execute("SELECT count(*) FROM hypopg_list_indexes")).rows[0][0] == 0


@pytest.mark.pg
@pytest.mark.parametrize("in_transaction", [False, True], ids=["autocommit", "inside-a-transaction"])
async def test_generic_plan_leaves_no_state_behind(cases_db, in_transaction):
    conn, _ = cases_db
    if in_transaction:
        await conn.execute("BEGIN")
    try:
        report = await explain(conn, "SELECT id FROM orders WHERE customer_id = $1 AND status = $2")
        assert "Seq Scan on orders" in report.summary
        assert any(f.code == "AS106" and "generic plan" in f.message for f in report.findings)
        assert conn.in_transaction is in_transaction
        prepared = await conn.execute("SELECT count(*) FROM pg_prepared_statements WHERE name LIKE 'aishell%'")
        assert prepared.rows[0][0] == 0
        assert (await conn.execute("SHOW plan_cache_mode")).rows[0][0] == "auto"
    finally:
        if in_transaction:
            await conn.execute("ROLLBACK")


@pytest.mark.pg
@pytest.mark.parametrize(
    "sql, line_column",
    [
        ("SELECT nope FROM orders", (1, 8)),
        ("  SELECT id FROM nowhere", (1, 18)),
        ("SELECT id\nFROM orders\nWHERE nope = 1", (3, 7)),
        ("SELECT id FROM orders WHERE nope = $1", (1, 29)),
        ("UPDATE orders SET nope = 1 WHERE id = $1", (1, 19)),
    ],
)
async def test_no_plan_errors_point_into_the_users_statement(cases_db, sql, line_column):
    conn, _ = cases_db
    with pytest.raises(QueryError) as caught:
        await explain(conn, sql)
    assert caught.value.statement == sql
    assert caught.value.line_column == line_column
    assert not conn.in_transaction


@pytest.mark.pg
async def test_analyze_cli_advises_writes_parameters_and_quoted_names(cases_db, pg_cluster, tmp_path):
    conn, _ = cases_db
    database = (await conn.execute("SELECT current_database()")).rows[0][0]
    path = tmp_path / "q.sql"
    path.write_text(
        "UPDATE orders SET note = 'x' WHERE customer_id = 42;\n"
        'SELECT "Name" FROM "Bar"."Foo" WHERE "Id" = $1;\n'
        "SELECT nope FROM orders;\n"
    )
    done = subprocess.run(
        [sys.executable, "-m", "aishell.tui.cli", "analyze", "--db", pg_cluster.url_for(database), "--format", "json", str(path)],
        capture_output=True, text=True, timeout=60,
    )
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)["findings"]
    advice = {(f["statement"], f["suggestion"]) for f in findings if f["code"] == "AS110"}
    assert advice == {(0, "CREATE INDEX ON orders (customer_id);"), (1, 'CREATE INDEX ON "Bar"."Foo" ("Id");')}
    scans = [f["suggestion"] for f in findings if f["code"] == "AS101" and f["statement"] == 1]
    assert scans == ['CREATE INDEX ON "Bar"."Foo" ("Id");']  # the plan's candidate keeps the schema
    (no_plan,) = [f["message"] for f in findings if f["statement"] == 2]
    assert no_plan == 'no plan: column "nope" does not exist (line 1, column 8)'
