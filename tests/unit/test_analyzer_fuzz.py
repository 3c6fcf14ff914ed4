"""Fuzzing analyze(): 10,000 generated and mutated inputs (2,500 + 3,500 + 3,000 + 1,000) (TPC-H queries cut, spliced and
sprinkled with tokens; token soup; arbitrary text), and not one exception out of analyze,
fingerprint or split_statements. Every finding stays inside the text it describes."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from aishell.engine.analyzer import Analysis, analyze, fingerprint, split_statements

TPCH = [p.read_text() for p in sorted((Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tpch").glob("q*.sql"))]
TOKENS = [
    "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "EXISTS", "JOIN", "LEFT", "ON", "USING", "GROUP BY",
    "ORDER BY", "HAVING", "LIMIT", "OFFSET", "UNION", "ALL", "DISTINCT", "CASE", "WHEN", "THEN", "ELSE", "END",
    "INSERT INTO", "VALUES", "UPDATE", "SET", "DELETE", "WITH", "AS", "NULL", "IS", "LIKE", "ILIKE", "BETWEEN",
    "CAST", "::", "(", ")", ",", ";", ".", "*", "=", "<>", "<", ">=", "+", "-", "/", "||", "'%x'", "'a''b'",
    "42", "1e9", "$1", "?", ":p", "t", "orders", "o.id", "lower(", "count(*)", "\"Quoted\"", "--", "/*", "*/",
    "$$", "E'\\n'", "ARRAY[", "]", "->>", "OVER (", "PARTITION BY", "LATERAL", "CROSS JOIN", "NATURAL",
]


def fuzz(examples: int) -> settings:
    return settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))

DIALECTS = st.sampled_from(["postgres", "sqlite", "mysql", "duckdb"])


def check(sql: str, dialect: str = "postgres") -> None:
    analysis = analyze(sql, dialect=dialect)
    assert isinstance(analysis, Analysis)
    lines = sql.split("\n")
    for finding in analysis.findings:
        assert finding.severity in ("info", "warning", "error")
        assert finding.code.startswith("AS") and len(finding.code) == 5
        assert 1 <= finding.line <= len(lines)
        assert 1 <= finding.column <= len(lines[finding.line - 1]) + 1
        assert 0 <= finding.statement < max(analysis.statements, 1)
    assert analyze(sql, dialect=dialect).findings == analysis.findings
    assert isinstance(fingerprint(sql, dialect), str)
    assert isinstance(split_statements(sql, dialect), list)


_NOISE = "abcXYZ_019 \t\n'\"();,.*%$:?-+/<>=|[]{}\\`~!@#^&\u00e9\u4e2d\U0001f600\x00\ufffd"


def mutate(sql: str, rng: random.Random) -> str:
    """Cut, delete, insert noise, duplicate a span or insert a SQL token, 1-4 times."""
    for _ in range(rng.randint(1, 4)):
        if not sql:
            break
        at = rng.randint(0, len(sql))
        action = rng.choice(("cut", "delete", "insert", "duplicate", "token"))
        if action == "cut":
            sql = sql[:at]
        elif action == "delete":
            sql = sql[:at] + sql[at + rng.randint(1, 40):]
        elif action == "insert":
            sql = sql[:at] + "".join(rng.choice(_NOISE) for _ in range(rng.randint(1, 8))) + sql[at:]
        elif action == "duplicate":
            sql = sql[:at] + sql[at: at + rng.randint(1, 60)] + sql[at:]
        else:
            sql = sql[:at] + " " + rng.choice(TOKENS) + " " + sql[at:]
    return sql


# Inputs are built from a drawn seed: cheap to generate, so the time goes to analyze().
SEEDS = st.integers(min_value=0, max_value=2**63)


@pytest.mark.skipif(not TPCH, reason="the TPC-H queries (../shared/data/tpch) are not beside this checkout")
@fuzz(2500)
@given(st.integers(0, max(len(TPCH) - 1, 0)), SEEDS)
def test_mutated_tpch_queries(which, seed):
    check(mutate(TPCH[which], random.Random(seed)))


@fuzz(3500)
@given(SEEDS, DIALECTS)
def test_token_soup(seed, dialect):
    rng = random.Random(seed)
    check(" ".join(rng.choice(TOKENS) for _ in range(rng.randint(0, 40))), dialect)


@fuzz(3000)
@given(st.text(max_size=200))
def test_arbitrary_text(sql):
    check(sql)


@fuzz(1000)
@given(st.binary(max_size=200))
def test_binary_decoded(data):
    check(data.decode("latin-1"))
