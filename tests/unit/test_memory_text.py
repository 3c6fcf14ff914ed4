"""Statement text for memory: fingerprints, secrets, the leading-space rule, history files."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from aishell.engine.memory.embed import HashingEmbedder, split_identifier, stem
from aishell.engine.memory.history import guess_kind, parse_pgcli, parse_plain, parse_psql
from aishell.engine.memory.text import carries_password, fingerprint, ignored, literal_key, normalize, redact_statement


# -- fingerprint ------------------------------------------------------------------------------------

def test_fingerprint_ignores_literals_case_and_spacing():
    a = fingerprint("SELECT * FROM Orders WHERE id = 42 AND note = 'x'")
    b = fingerprint("select *\n  from orders where id=7 and note='it''s'")
    assert a == b
    assert fingerprint("SELECT * FROM orders WHERE id = 42") != fingerprint("SELECT * FROM orders WHERE customer_id = 42")


def test_in_lists_of_any_length_share_a_shape():
    assert normalize("SELECT 1 FROM t WHERE id IN (1, 2, 3)") == normalize("SELECT 1 FROM t WHERE id IN (9)")


def test_postgres_parameters_and_dollar_quotes_are_literals():
    assert fingerprint("SELECT * FROM t WHERE a = $1") == fingerprint("SELECT * FROM t WHERE a = 5")


def test_untokenizable_text_still_has_a_fingerprint():
    assert fingerprint("SELECT 'unterminated FROM t") == fingerprint("SELECT 'unterminated FROM t")
    assert len(fingerprint("SELECT 'unterminated")) == 16


_ident = st.sampled_from(["orders", "customers", "t1", "order_items", "x"])
_literal = st.one_of(st.integers(0, 10**9).map(str), st.text("abc xyz'", max_size=8).map(lambda s: "'" + s.replace("'", "''") + "'"))


@settings(max_examples=80, deadline=None)
@given(_ident, _ident, _literal, _literal)
def test_literal_key_never_merges_different_shapes(table, column, lit_a, lit_b):
    """The shape cache is keyed by literal_key: equal keys must mean equal fingerprints."""
    a = f"SELECT {column} FROM {table} WHERE {column} = {lit_a}"
    b = f"SELECT {column} FROM {table} WHERE {column} = {lit_b}"
    ka, kb = literal_key(a), literal_key(b)
    if ka is not None and ka == kb:
        assert fingerprint(a) == fingerprint(b)
    assert literal_key(f"SELECT 1 FROM {table} -- {lit_a}") is None


def test_literal_key_refuses_text_only_the_lexer_reads_right():
    assert literal_key("SELECT E'a\\'b' FROM t") is None
    assert literal_key("SELECT $$x$$") is None
    assert literal_key("SELECT x'ff'") is None
    assert literal_key("SELECT 1 /* c */") is None
    assert literal_key("SELECT a FROM t WHERE b = 1") == "SELECT a FROM t WHERE b = ?"


# -- secrets -----------------------------------------------------------------------------------------

@pytest.mark.parametrize(
    "sql, secret",
    [
        ("ALTER ROLE bob WITH PASSWORD 'hunter2'", "hunter2"),
        ("alter user bob password 'hunter2' valid until '2030-01-01'", "hunter2"),
        ("CREATE USER alice WITH LOGIN ENCRYPTED PASSWORD 'md5abcdef'", "md5abcdef"),
        ("CREATE ROLE app LOGIN PASSWORD $$pa ss$$", "pa ss"),
        ("CREATE USER MAPPING FOR bob SERVER remote OPTIONS (user 'bob', password 'pw1')", "pw1"),
        ("CREATE USER u IDENTIFIED BY 'tiger'", "tiger"),
        ("ALTER ROLE a PASSWORD 'unterminated", "unterminated"),
    ],
)
def test_password_statements_are_redacted(sql, secret):
    clean = redact_statement(sql)
    assert secret not in clean
    assert "***" in clean
    assert carries_password(sql)


def test_redaction_keeps_the_rest_of_the_statement():
    assert redact_statement("CREATE USER alice WITH LOGIN PASSWORD 'x' VALID UNTIL '2030-01-01'") == (
        "CREATE USER alice WITH LOGIN PASSWORD '***' VALID UNTIL '2030-01-01'"
    )


@pytest.mark.parametrize(
    "sql",
    ["SELECT 'password' FROM t", "SELECT password_hash FROM users WHERE id = 1", "ALTER ROLE bob PASSWORD NULL"],
)
def test_statements_without_a_password_literal_are_unchanged(sql):
    assert redact_statement(sql) == sql


def test_urls_with_passwords_inside_statements_are_redacted():
    sql = "SELECT dblink_connect('postgresql://bob:s3cret@db/shop')"
    assert "s3cret" not in redact_statement(sql)


def test_leading_space_and_empty_statements_are_ignored():
    assert ignored(" SELECT secret FROM vault")
    assert ignored("\tSELECT 1")
    assert ignored("   ")
    assert not ignored("SELECT 1")
    assert not ignored(" SELECT 1", ignore_space=False)


# -- embedder ----------------------------------------------------------------------------------------

def test_hashing_vectors_are_unit_length_and_deterministic_across_processes():
    texts = ["SELECT * FROM customers WHERE email = 'a@b.c'", "customer email", ""]
    here = HashingEmbedder().embed(texts)
    assert here.shape == (3, 384) and here.dtype == np.float32
    assert np.allclose(np.linalg.norm(here[:2], axis=1), 1.0, atol=1e-5)
    assert not here[2].any()
    code = (
        "import sys, numpy as np; from aishell.engine.memory.embed import HashingEmbedder;"
        f"sys.stdout.buffer.write(HashingEmbedder().embed({texts!r}).tobytes())"
    )
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, check=True).stdout
    assert np.array_equal(np.frombuffer(out, dtype=np.float32).reshape(3, 384), here)


def test_hashing_similarity_follows_meaning():
    e = HashingEmbedder()
    v = e.embed([
        "SELECT sum(amount) FROM payments GROUP BY method",
        "total payments per method",
        "SELECT * FROM customers WHERE country = 'FR'",
    ])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    literal_only = e.embed(["SELECT * FROM t WHERE id = 1", "SELECT * FROM t WHERE id = 2"])
    assert literal_only[0] @ literal_only[1] == pytest.approx(1.0, abs=1e-6)


def test_identifier_splitting_and_stemming():
    assert split_identifier("order_items") == ["order", "items"]
    assert split_identifier("createdAt") == ["created", "at"]
    assert split_identifier("HTTPStatus") == ["http", "status"]
    assert stem("customers") == stem("customer") == "customer"
    assert stem("categories") == "category"


def test_batch_and_single_embedding_agree():
    e = HashingEmbedder()
    texts = [f"SELECT c{i} FROM t{i % 7} WHERE x = {i}" for i in range(1200)]
    batch = e.embed(texts)
    assert np.allclose(batch[777], e.embed([texts[777]])[0])


# -- history files -----------------------------------------------------------------------------------

def test_psql_libedit_history_with_escapes():
    text = (
        "_HiStOrY_V2_\n"
        "SELECT\\040*\\040FROM\\040t\\040WHERE\\040a\\040=\\040'x\\134y';\n"
        "\\dt\n"
        "select\\0401\\012from\\040t;\n"
        "\n"
    )
    items = parse_psql(text)
    assert [i.text for i in items] == ["SELECT * FROM t WHERE a = 'x\\y';", "select 1\nfrom t;"]
    assert guess_kind("/home/u/.psql_history", text) == "psql"


def test_psql_readline_history_marks_newlines_with_0x01():
    items = parse_psql("SELECT 1\x01FROM t;\n\\q\nSELECT 2;\n")
    assert [i.text for i in items] == ["SELECT 1\nFROM t;", "SELECT 2;"]


def test_pgcli_history_entries_and_timestamps():
    text = (
        "\n# 2024-05-01 10:00:00.123456\n+SELECT *\n+FROM orders;\n"
        "\n# 2024-05-02 11:30:00.000001\n+\\dt\n"
        "\n# 2024-05-03 09:15:00.5\n+select 1\n"
    )
    items = parse_pgcli(text)
    assert [i.text for i in items] == ["SELECT *\nFROM orders;", "select 1"]
    assert items[0].started_at is not None and items[1].started_at > items[0].started_at
    assert guess_kind("history", text) == "pgcli"


def test_plain_files_split_on_semicolons_outside_quotes_and_comments():
    text = "SELECT 'a;b' FROM t;\n-- note; here\nSELECT $x$ ; $x$;\n/* ; */ SELECT 3"
    assert [i.text for i in parse_plain(text)] == ["SELECT 'a;b' FROM t;", "-- note; here\nSELECT $x$ ; $x$;", "/* ; */ SELECT 3"]


def test_plain_files_without_semicolons_are_one_statement_a_line():
    assert [i.text for i in parse_plain("SELECT 1\nSELECT 2\n\nSELECT 3\n")] == ["SELECT 1", "SELECT 2", "SELECT 3"]
