"""The one statement splitter (engine/statements/split.py) and every former splitter's entry
point agree on where statements begin and end: the analyzer (whole text and streamed in
windows), the editor (tui/sqltext.py), history import (memory/history.py) and migrations."""

from __future__ import annotations

import re

import pytest

from aishell.engine.analyzer import analyze_stream, pipeline, split_statements
from aishell.engine.memory.history import parse_plain
from aishell.engine.migrate import split_script, split_sqlite
from aishell.engine.statements.dialects import dialect_of, tools
from aishell.engine.statements.split import Boundaries, scan, split, statements_of
from aishell.tui import sqltext

TRIGGER = "CREATE TRIGGER tr AFTER INSERT ON t BEGIN UPDATE t SET a = CASE WHEN a THEN 2 END; DELETE FROM u; END"
ATOMIC = "CREATE FUNCTION one() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END"
DOLLAR = "DO $body$ BEGIN PERFORM 1; RAISE NOTICE 'a;b'; END $body$"

# (name, dialect, psql lines, text, the statements)
CASES = [
    ("strings with ;", "postgres", False, "SELECT 'a;b'; SELECT 'c'';d'", ["SELECT 'a;b'", "SELECT 'c'';d'"]),
    ("E'' string with \\'", "postgres", False, "SELECT E'it\\'s; ok'; SELECT 2", ["SELECT E'it\\'s; ok'", "SELECT 2"]),
    ("dollar quotes with tags", "postgres", False, DOLLAR + ";\nSELECT $$;$$", [DOLLAR, "SELECT $$;$$"]),
    ("nested comments", "postgres", False, "/* a /* b; */ c; */ SELECT 1; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("-- comment with ;", "postgres", False, "SELECT 1 -- not; the end\n; SELECT 2", ["SELECT 1", "SELECT 2"]),
    ("quoted name with ;", "postgres", False, 'SELECT "a;b" FROM t; SELECT 2', ['SELECT "a;b" FROM t', "SELECT 2"]),
    ("SQLite trigger body", "sqlite", False, TRIGGER + ";\nSELECT 2;", [TRIGGER, "SELECT 2"]),
    ("trigger that is no body", "postgres", False, "CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f(); SELECT 2",
     ["CREATE TRIGGER tr AFTER INSERT ON t EXECUTE FUNCTION f()", "SELECT 2"]),
    ("BEGIN ATOMIC body", "postgres", False, ATOMIC + ";\nCOMMIT;", [ATOMIC, "COMMIT"]),
    ("psql lines", "postgres", True, "\\set x 1\nSELECT :x;\n\\dt\nSELECT 2;", ["\\set x 1", "SELECT :x", "\\dt", "SELECT 2"]),
    ("psql line with a quote", "postgres", True, "\\echo it's\nSELECT 1;", ["\\echo it's", "SELECT 1"]),
    ("empty statements", "postgres", False, ";; SELECT 1;;; -- only a comment\n;", ["SELECT 1"]),
    ("unterminated quote at EOF", "postgres", False, "SELECT 1; SELECT 'open; still", ["SELECT 1", "SELECT 'open; still"]),
    ("CRLF", "postgres", False, "SELECT 1;\r\nSELECT 'a;\r\nb';\r\n", ["SELECT 1", "SELECT 'a;\r\nb'"]),
]
IDS = [case[0] for case in CASES]
_INNER_COMMENT = re.compile(r"/\*(?:(?!/\*|\*/).)*\*/", re.DOTALL)


def _canon(text: str) -> str:
    """A statement as every caller shows it: comments, the closing ``;`` and layout dropped."""
    previous = None
    while previous != text:
        previous, text = text, _INNER_COMMENT.sub(" ", text)
    text = re.sub(r"(?m)^\s*--[^\n]*$|--[^\n']*$", " ", text)
    return " ".join(text.split()).rstrip(";").rstrip()


def _streamed(text: str, dialect: str, psql: bool) -> list[str]:
    """The splitter fed one character at a time, tokenizing 16 characters at once."""
    tokenizer = tools(dialect_of(dialect))[0]
    out: list[str] = []
    for window in scan(list(text), tokenizer, psql=psql, window=16):
        out.extend(s.text for s in statements_of(window, len(out)))
    return out


def _callers(dialect: str, psql: bool):
    """Every entry point that splits, with what it should list for a psql-free expectation."""
    yield "split", lambda text: [s.text for s in split(text, dialect, psql=psql)], True
    yield "split streamed", lambda text: _streamed(text, dialect, psql), True
    yield "editor", lambda text: [s.text for s in sqltext.split_statements(text)], True
    yield "history import", lambda text: [item.text for item in parse_plain(text)], False
    if psql:
        return
    yield "analyzer", lambda text: [s.text for s in split_statements(text, dialect)], True
    yield "migrations", lambda text: [t for t, _ in split_script(text, dialect)], True
    if dialect == "sqlite":
        yield "migrations (sqlite)", lambda text: [t for t, _ in split_sqlite(text)], True


@pytest.mark.parametrize(("name", "dialect", "psql", "text", "expected"), CASES, ids=IDS)
def test_every_splitter_agrees(name, dialect, psql, text, expected):
    for caller, run, with_psql_lines in _callers(dialect, psql):
        want = expected if with_psql_lines else [s for s in expected if not s.startswith("\\")]
        assert [_canon(s) for s in run(text)] == [_canon(s) for s in want], caller


@pytest.mark.parametrize(("name", "dialect", "psql", "text", "expected"), [c for c in CASES if not c[2]], ids=[c[0] for c in CASES if not c[2]])
def test_the_analyzer_streamed_in_small_windows_agrees(monkeypatch, name, dialect, psql, text, expected):
    monkeypatch.setattr(pipeline, "WINDOW", 16)
    blocks = [text[i : i + 3] for i in range(0, len(text), 3)]
    assert [s.text for s, _ in analyze_stream(blocks, dialect=dialect)] == [s.text for s in split(text, dialect)]


def test_positions_and_spans():
    text = "-- head\nSELECT 1;\n  \\dt\nSELECT\n  'x'; SELECT 'open"
    got = [(s.text, s.offset, s.line, s.column, text[s.begin : s.end], s.psql, s.closed) for s in split(text, psql=True)]
    assert got == [
        ("SELECT 1", 8, 2, 1, "-- head\nSELECT 1;", False, True),
        ("\\dt", 20, 3, 3, "\n  \\dt", True, True),
        ("SELECT\n  'x'", 24, 4, 1, "\nSELECT\n  'x';", False, True),
        ("SELECT 'open", 38, 5, 8, " SELECT 'open", False, False),
    ]


def test_boundaries_keep_a_body_open_across_pieces():
    tokens = tools(dialect_of("sqlite"))[0].tokenize(TRIGGER + "; SELECT 1;")
    whole = list(Boundaries().ends(tokens))
    pieces = Boundaries()
    cut = len(tokens) // 2
    assert list(pieces.ends(tokens[:cut])) + [cut + i for i in pieces.ends(tokens[cut:])] == whole
    assert [tokens[i].text for i in whole] == [";", ";"] and len(whole) == 2


def test_the_editor_splits_again_only_from_the_changed_statement():
    text = "SELECT 1;\nSELECT 2;\nSELECT 3"
    first = sqltext.split_statements(text)
    edited = sqltext.split_statements(text + " FROM t")
    assert edited[:2] == first[:2] and edited[2].text == "SELECT 3 FROM t"
    # an edit inside the first statement moves everything after it
    moved = sqltext.split_statements("SELECT 10;\nSELECT 2;\nSELECT 3 FROM t")
    assert [(s.text, s.start) for s in moved] == [("SELECT 10", 0), ("SELECT 2", 11), ("SELECT 3 FROM t", 21)]
    # opening a quote in the first statement joins the rest into it, as a fresh split says
    opened = "SELECT 'x;\nSELECT 2;\nSELECT 3 FROM t"
    assert sqltext.split_statements(opened) == [sqltext.Statement(opened, 0, len(opened))]
