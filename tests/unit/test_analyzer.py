"""aishell.engine.analyzer.analyze: the contract others rely on (positions, AS000, statements, caching
by fingerprint, settings, schema) and fingerprint()."""

from __future__ import annotations

import dataclasses

import pytest

from aishell.engine.analyzer import Analysis, AnalyzerSettings, analyze, cache_stats, clear_cache, fingerprint, split_statements
from aishell.engine.analyzer.schema import schema_from_ddl
from aishell.engine.types import ColumnInfo, SchemaInfo, TableInfo


@pytest.fixture(autouse=True)
def _cold():
    clear_cache()
    yield
    clear_cache()


def codes(sql: str, **kwargs) -> list[str]:
    return [f.code for f in analyze(sql, **kwargs).findings]


def test_finding_fields_and_json_shape():
    analysis = analyze("SELECT id FROM t;\nSELECT *\n  FROM orders")
    assert isinstance(analysis, Analysis) and analysis.statements == 2
    (finding,) = analysis.findings
    assert (finding.code, finding.rule, finding.severity) == ("AS001", "select-star", "warning")
    assert (finding.statement, finding.line, finding.column) == (1, 2, 8)
    assert set(finding.to_dict()) == {"statement", "code", "rule", "severity", "message", "line", "column", "suggestion"}


def test_parse_error_reports_position_and_analysis_goes_on():
    sql = "SELECT 1;\nSELECT a FROM WHERE x = 1;\nDELETE FROM orders;\n"
    analysis = analyze(sql)
    assert analysis.statements == 3
    assert [(f.code, f.statement, f.line, f.column, f.severity) for f in analysis.findings] == [
        ("AS000", 1, 2, 15, "error"),
        ("AS002", 2, 3, 1, "error"),
    ]
    assert "WHERE" in analysis.findings[0].message.upper()


@pytest.mark.parametrize(
    "sql",
    [
        "",
        "   \n\t ",
        ";;;",
        "-- only a comment",
        "/* unterminated comment",
        "SELECT 'unterminated",
        'SELECT "unterminated',
        "SELECT",
        "SELECT * FROM",
        "SELECT * FROM t WHERE",
        "SELECT * FROM t WHERE a = (",
        "WITH x AS (",
        "UPDATE",
        "INSERT INTO t (a, b) VALUES (1,",
        "\x00\x01\x02\xff\ufffd",
        "SELECT $$ unterminated dollar",
        ")))(((",
        "SELECT CASE WHEN",
        "SELECT " + "(" * 5000 + "1" + ")" * 5000,
        "SELECT " + "NOT " * 3000 + "TRUE",
        "SELECT " + "a + " * 20000 + "1",
    ],
    ids=lambda sql: repr(sql[:24]) + (f"…({len(sql)} chars)" if len(sql) > 24 else ""),
)
def test_never_raises_on_bad_input(sql):
    analysis = analyze(sql)
    assert isinstance(analysis, Analysis)
    for finding in analysis.findings:
        assert finding.line >= 1 and finding.column >= 1
        assert finding.severity in ("info", "warning", "error")


def test_half_written_statements_give_as000_at_the_end():
    for sql in ("SELECT * FROM", "SELECT a FROM t WHERE", "SELECT 'abc"):
        (finding,) = analyze(sql).findings
        assert finding.code == "AS000" and finding.line == 1


def test_too_deep_nesting_is_reported_not_crashed():
    (finding,) = analyze("SELECT " + "(" * 400 + "1" + ")" * 400).findings
    assert finding.code == "AS000" and "deep" in finding.message


def test_bytes_and_unknown_dialect():
    assert codes(b"SELECT * FROM t") == ["AS001"]  # type: ignore[arg-type]
    (finding,) = analyze("SELECT 1", dialect="no-such-dialect").findings
    assert finding.code == "AS000" and "dialect" in finding.message


def test_sqlite_dialect_and_aliases():
    assert codes("SELECT * FROM t WHERE x = NULL", dialect="sqlite") == ["AS001", "AS012"]
    assert codes("SELECT * FROM t", dialect="postgresql") == ["AS001"]


def test_fingerprint_strips_literals_and_layout():
    a = fingerprint("select *  from T where id=42 and kind in ('a', 'b') -- c")
    b = fingerprint("SELECT * FROM t\nWHERE id = 7 AND kind IN ('x', 'y', 'z', 'w')")
    assert a == b == "SELECT * FROM t WHERE id = ? AND kind IN (?)"
    assert fingerprint("SELECT a FROM t") != fingerprint("SELECT b FROM t")
    assert fingerprint("SELECT 'unterminated") == "SELECT 'unterminated"  # never raises
    assert fingerprint('SELECT "Mixed" FROM t') != fingerprint("SELECT mixed FROM t")


def test_repeated_text_is_served_from_the_cache():
    sql = "SELECT * FROM orders WHERE lower(email) = 'x'"
    first = analyze(sql)
    before = cache_stats()["text_hits"]
    second = analyze(sql)
    assert cache_stats()["text_hits"] == before + 1
    assert second.findings == first.findings
    second.findings.clear()  # callers own their list
    assert analyze(sql).findings == first.findings


def test_same_shape_other_text_is_relocated_not_reparsed():
    analyze("SELECT * FROM orders o, items i WHERE o.id = 1")
    hits = cache_stats()["shape_hits"]
    moved = "\n\n  select *\n  from   ORDERS o ,items i where o.id = 42"
    relocated = analyze(moved)
    assert cache_stats()["shape_hits"] == hits + 1
    clear_cache()
    assert relocated.findings == analyze(moved).findings
    assert [(f.code, f.line, f.column) for f in relocated.findings] == [("AS001", 3, 10), ("AS003", 4, 20)]


def test_literal_values_that_rules_read_split_the_cache():
    assert codes("SELECT id FROM t WHERE name LIKE 'abc%'") == []
    assert codes("SELECT id FROM t WHERE name LIKE '%abc'") == ["AS005"]
    assert codes("SELECT id FROM t WHERE name LIKE '%'") == []
    assert codes("SELECT id FROM t ORDER BY id LIMIT 10 OFFSET 20") == []
    assert codes("SELECT id FROM t ORDER BY id LIMIT 10 OFFSET 20000") == ["AS009"]
    schema = SchemaInfo()
    schema.add(TableInfo("public", "t", row_estimate=10, columns=[ColumnInfo("n", "integer")]))
    assert codes("SELECT n FROM t WHERE n = 'abc'", schema=schema) == ["AS013"]
    assert codes("SELECT n FROM t WHERE n = '42'", schema=schema) == []


def test_findings_quoting_literals_are_not_reused_for_other_values():
    a = analyze("SELECT id FROM e WHERE date(ts) = '2024-01-01'").findings[0].suggestion
    b = analyze("SELECT id FROM e WHERE date(ts) = '1999-12-31'").findings[0].suggestion
    assert "2024-01-01" in a and "1999-12-31" in b


def test_settings_change_results_and_are_part_of_the_key():
    sql = "SELECT id FROM t ORDER BY id LIMIT 10 OFFSET 300"
    assert codes(sql) == []
    assert codes(sql, settings=AnalyzerSettings(deep_offset=100)) == ["AS009"]
    assert codes(sql) == []


def test_schema_is_part_of_the_key():
    sql = "SELECT id FROM orders WHERE status = 'open'"
    assert codes(sql) == []
    small = schema_from_ddl("CREATE TABLE orders (id int PRIMARY KEY, status text)", rows={"orders": 10})
    large = schema_from_ddl("CREATE TABLE orders (id int PRIMARY KEY, status text)", rows={"orders": 10**7})
    assert codes(sql, schema=small) == []
    assert codes(sql, schema=large) == ["AS014"]
    indexed = schema_from_ddl(
        "CREATE TABLE orders (id int PRIMARY KEY, status text); CREATE INDEX ON orders (status)", rows={"orders": 10**7}
    )
    assert codes(sql, schema=indexed) == []


def test_findings_sorted_by_statement_and_position():
    analysis = analyze("DELETE FROM a; SELECT * FROM t WHERE x = NULL OR y = 1; UPDATE b SET c = 1")
    keys = [(f.statement, f.line, f.column) for f in analysis.findings]
    assert keys == sorted(keys)
    assert {f.statement for f in analysis.findings} == {0, 1, 2}


def test_split_statements_ignores_semicolons_in_strings_and_comments():
    sql = "SELECT ';' AS a; -- x; y\nSELECT 2 /* ; */;\n\nSELECT 'open"
    parts = split_statements(sql)
    assert [(p.index, p.text, p.line, p.column) for p in parts] == [
        (0, "SELECT ';' AS a", 1, 1),
        (1, "SELECT 2", 2, 1),
        (2, "SELECT 'open", 4, 1),
    ]


def test_finding_is_immutable():
    finding = analyze("SELECT * FROM t").findings[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        finding.line = 3  # type: ignore[misc]


def test_tpch_queries_parse_and_cached_results_equal_cold_ones(tpch_queries):
    assert len(tpch_queries) == 22
    for name, sql in tpch_queries.items():
        cold = analyze(sql)
        assert cold.statements == 1
        assert not [f for f in cold.findings if f.code == "AS000"], name
        variant = "/* moved */\n" + sql.replace("\n", "\n    ")
        warm = analyze(variant)
        clear_cache()
        assert warm.findings == analyze(variant).findings, name


def test_threads_share_the_cache_safely(tpch_queries):
    """The TUI analyzes in worker threads: same results as one thread, no exception."""
    from concurrent.futures import ThreadPoolExecutor

    from aishell.engine.analyzer import pipeline

    queries = list(tpch_queries.values())
    expected = [analyze(q).findings for q in queries]
    small = pipeline.LRU(8)  # tiny caches force evictions while other threads read
    saved = pipeline._TEXTS, pipeline._SHAPES
    pipeline._TEXTS, pipeline._SHAPES = small, pipeline.LRU(8)
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda q: analyze(q).findings, queries * 6))
    finally:
        pipeline._TEXTS, pipeline._SHAPES = saved
    assert results == expected * 6


def test_cache_size_follows_settings():
    small = AnalyzerSettings(cache_size=2)
    try:
        for i in range(5):
            analyze(f"SELECT c{i} FROM t", settings=small)
        assert cache_stats()["texts"] == 2
        off = AnalyzerSettings(cache_size=0)
        analyze("SELECT * FROM t", settings=off)
        assert cache_stats()["texts"] == 0
        assert [f.code for f in analyze("SELECT * FROM t", settings=off).findings] == ["AS001"]
    finally:
        analyze("SELECT 1")  # back to the default size
    assert cache_stats()["texts"] >= 1


def test_noqa_comments_and_disabled_rules():
    sql = "SELECT * FROM t; -- noqa: AS001\nSELECT * FROM u WHERE x = NULL; -- noqa\nSELECT * FROM v /* noqa: AS012 */ WHERE y = NULL"
    got = [(f.code, f.line) for f in analyze(sql).findings]
    assert got == [("AS001", 3)]
    assert codes("SELECT * FROM t WHERE x = NULL", settings=AnalyzerSettings(disabled_rules="as001, AS012")) == []
    assert codes("SELECT FROM WHERE -- noqa", settings=AnalyzerSettings(disabled_rules="AS000")) == ["AS000"]
