"""Clause-aware completion and the forgiving SQL text helpers (pure logic)."""

from __future__ import annotations

import pytest

from aishell.tui.completion import Catalog, complete, frequencies_from_statements
from aishell.tui.sqltext import format_sql, split_statements, statement_at, toggle_comment, tokenize

CATALOG = Catalog(
    {
        "orders": ["id", "customer_id", "status", "total"],
        "order_items": ["id", "order_id", "product_id", "quantity"],
        "customers": ["id", "email", "country"],
        "sales.invoices": ["id", "amount"],
    },
    schemas=["public", "sales"],
)


def names(sql: str, offset: int | None = None, **kw) -> list[str]:
    return [c.text for c in complete(sql, len(sql) if offset is None else offset, CATALOG, **kw).candidates]


def test_tables_after_from_and_join():
    assert names("SELECT * FROM ")[:3] == ["orders", "customers", "order_items"] or set(names("SELECT * FROM ")[:3]) == {"orders", "customers", "order_items"}
    assert names("SELECT * FROM cu")[0] == "customers"
    assert names("SELECT * FROM orders o JOIN order_")[0] == "order_items"
    assert "sales" in names("SELECT * FROM ")
    assert names("select * from orders, cus") == ["customers"]
    assert complete("SELECT * FROM ", 14, CATALOG).context == "table"


def test_columns_of_tables_in_scope_with_aliases():
    cols = names("SELECT  FROM orders o JOIN customers c ON c.id = o.customer_id", 7)
    assert {"status", "total", "email", "country"} <= set(cols[:10])
    assert "quantity" not in cols  # order_items is not in scope
    assert names("SELECT o. FROM orders o", 9) == ["id", "customer_id", "status", "total"]
    assert names("SELECT c.em FROM customers AS c", 11) == ["email"]
    assert names("SELECT * FROM orders WHERE sta") [0] == "status"
    assert names("SELECT * FROM sales.invoices i WHERE i.") == ["id", "amount"]


def test_ctes_and_subqueries_are_in_scope():
    sql = "WITH big AS (SELECT id, total AS amount FROM orders) SELECT big. FROM big"
    assert names(sql, sql.index("big. ") + 4) == ["id", "amount"]
    sql = "WITH big(x, y) AS (SELECT id, total FROM orders) SELECT  FROM big"
    assert names(sql, sql.index("SELECT  ") + 7)[:2] == ["x", "y"]
    sql = "SELECT s. FROM (SELECT email AS mail FROM customers) AS s"
    assert names(sql, sql.index("s. ") + 2) == ["mail"]
    assert "big" in names("WITH big AS (SELECT 1 AS n) SELECT * FROM b")


def test_keywords_and_functions_elsewhere():
    assert names("sel")[0] == "SELECT"
    assert "JOIN" in names("SELECT * FROM orders ")[:3]
    assert "count" in names("SELECT cou FROM orders", 10)
    assert complete("SELECT * FROM orders ", 21, CATALOG).context == "after_table"


def test_cursor_in_second_statement_and_prefix_span():
    text = "SELECT 1;\nSELECT * FROM ord"
    result = complete(text, len(text), CATALOG)
    assert result.prefix == "ord" and text[result.start:] == "ord"
    assert result.candidates[0].text == "orders"


def test_frequency_ranks_names_the_user_uses():
    plain = names("SELECT * FROM o")
    ranked = names("SELECT * FROM o", frequency={"order_items": 50})
    assert plain[0] == "orders" and ranked[0] == "order_items"
    freq = frequencies_from_statements(["select email from customers", "select email from customers where id = 1"])
    assert freq["email"] == 2 and freq["customers"] == 2


def test_names_needing_quotes_are_quoted():
    cat = Catalog({"Mixed Case": ["select", "ok_col"]})
    got = [c.text for c in complete("SELECT * FROM Mix", 17, cat).candidates]
    assert got == ['"Mixed Case"']
    got = [c.text for c in complete('SELECT  FROM "Mixed Case"', 7, cat).candidates][:2]
    assert got == ['"select"', "ok_col"]


@pytest.mark.parametrize(
    "text,offset,expected",
    [
        ("select 1; select 2", 3, "select 1"),
        ("select 1; select 2", 12, "select 2"),
        ("select 1;\nselect 2", 9, "select 1"),
        ("select ';' ; select 2", 5, "select ';'"),
        ("-- c;\nselect 1", 8, "-- c;\nselect 1"),
        ("\\dt\nselect 1", 1, "\\dt"),
        ("\\dt\nselect 1", 6, "select 1"),
    ],
)
def test_statement_at(text, offset, expected):
    assert statement_at(text, offset).text == expected


def test_split_and_lexer_never_fail_on_half_typed_text():
    assert [s.text for s in split_statements("select 'unterminated; still string")] == ["select 'unterminated; still string"]
    assert [t.kind for t in tokenize("/* open comment")] == ["comment"]
    assert [s.text for s in split_statements(";;  ;")] == []
    assert statement_at("", 0) is None


def test_toggle_comment_and_format():
    assert toggle_comment(["select 1", "  from t"]) == ["-- select 1", "--   from t"]
    assert toggle_comment(["-- select 1", "--   from t"]) == ["select 1", "  from t"]
    assert format_sql("select a,b from t where x=1", "postgres").startswith("SELECT\n  a,\n  b\nFROM t")
    with pytest.raises(ValueError):
        format_sql("select (", "postgres")
