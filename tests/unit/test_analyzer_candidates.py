"""The index candidates the advisor tries for one statement (no server: the schema comes from
DDL). What the planner makes of them is tested in tests/integration/test_advice_cases.py."""

from __future__ import annotations

import pytest

from aishell.engine.analyzer.candidates import index_candidates
from aishell.engine.analyzer.findings import IndexCandidate
from aishell.engine.analyzer.schema import schema_from_ddl

DDL = """
CREATE TABLE orders (id int PRIMARY KEY, customer_id int, status text, created_at timestamptz, total numeric, note text);
CREATE INDEX ON orders (created_at);
CREATE SCHEMA "Bar";
CREATE TABLE "Bar"."Foo" ("Id" int, "Name" text);
CREATE VIEW paid AS SELECT * FROM orders WHERE status = 'paid';
"""


@pytest.fixture(scope="module")
def schema():
    info = schema_from_ddl(DDL)
    from aishell.engine.types import TableInfo

    info.add(TableInfo("public", "paid", kind="view"))
    return info


@pytest.mark.parametrize(
    "sql, expected",
    [
        ("SELECT id FROM orders WHERE customer_id = 1", ["CREATE INDEX ON orders (customer_id);"]),
        ("UPDATE orders SET note = 'x' WHERE customer_id = $1", ["CREATE INDEX ON orders (customer_id);"]),
        ("DELETE FROM orders WHERE status = 'void' AND total < 1",
         ["CREATE INDEX ON orders (status);", "CREATE INDEX ON orders (total);", "CREATE INDEX ON orders (status, total);"]),
        ('SELECT "Name" FROM "Bar"."Foo" WHERE "Id" = 1', ['CREATE INDEX ON "Bar"."Foo" ("Id");']),
        ('SELECT 1 FROM bar.foo WHERE "Id" = 1', ['CREATE INDEX ON "Bar"."Foo" ("Id");']),  # the catalog's spelling
        ("SELECT 1 FROM Unknown_T WHERE Some_Col = 1", ["CREATE INDEX ON unknown_t (some_col);"]),  # folded as PostgreSQL does
        ('SELECT 1 FROM "Unknown" WHERE "Col" = 1', ['CREATE INDEX ON "Unknown" ("Col");']),
        ('SELECT 1 FROM "order" WHERE "user" = 1', ['CREATE INDEX ON "order" ("user");']),  # keywords stay quoted
        ("SELECT id, total FROM orders ORDER BY 2 DESC LIMIT 5", ["CREATE INDEX ON orders (total);"]),
        ("SELECT id, total AS t FROM orders ORDER BY t LIMIT 5", ["CREATE INDEX ON orders (total);"]),
        ("SELECT id FROM orders ORDER BY status, total LIMIT 5", ["CREATE INDEX ON orders (status);", "CREATE INDEX ON orders (status, total);"]),
        ("SELECT id FROM orders ORDER BY status, total DESC LIMIT 5", ["CREATE INDEX ON orders (status);"]),  # mixed directions
        ("SELECT id FROM orders ORDER BY total", []),  # no LIMIT: the sort reads everything anyway
        ("SELECT id FROM orders WHERE status = 'paid' ORDER BY total LIMIT 9",
         ["CREATE INDEX ON orders (status);", "CREATE INDEX ON orders (total);", "CREATE INDEX ON orders (status, total);"]),
        ("SELECT id FROM orders WHERE lower(note) = 'a'", ["CREATE INDEX ON orders ((lower(note)));"]),
        ("SELECT id FROM orders WHERE created_at > now() - interval '1 day'", []),  # an index starts with it
        ("SELECT id FROM orders WHERE id = 5", []),  # the primary key
        ("SELECT id FROM orders WHERE status <> 'x' OR note IS NULL", []),
        ("SELECT * FROM paid WHERE customer_id = 3", []),  # a view cannot be indexed
        ("WITH o AS (SELECT * FROM orders) SELECT * FROM o WHERE o.total > 3", []),  # nor a CTE
        ("SELECT o.id FROM orders o, \"Bar\".\"Foo\" f WHERE f.\"Id\" = o.customer_id",
         ["CREATE INDEX ON \"Bar\".\"Foo\" (\"Id\");", "CREATE INDEX ON orders (customer_id);"]),
        ("SELECT nonsense FROM", []),
    ],
)
def test_candidates(schema, sql, expected):
    assert sorted(c.create_statement() for c in index_candidates(sql, schema)) == sorted(expected)


def test_candidates_without_a_schema_fold_names_and_keep_the_written_schema():
    (candidate,) = index_candidates('SELECT 1 FROM Sales."Big" b WHERE b.Region = $1')
    assert candidate == IndexCandidate("Big", ("region",), "sales")
    assert candidate.create_statement() == 'CREATE INDEX ON sales."Big" (region);'
