"""Migration files without a database: parsing, checksums, cached discovery, new files, splitting."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from aishell.engine.migrate import (
    MigrationError,
    checksum,
    discover,
    new_migration,
    parse_migration,
    split_script,
    split_sqlite,
    transaction_control,
)


def _write(path: Path, text: str, *, age: float = 0.0) -> Path:
    path.write_text(text)
    if age:
        past = time.time() - age
        os.utime(path, (past, past))
    return path


@pytest.mark.parametrize("header", ["-- aishell:no-transaction", "-- aishell: no-transaction", "--AISHELL:  No-Transaction  "])
def test_no_transaction_header_spellings(tmp_path, header):
    m = parse_migration(_write(tmp_path / "0001_i.sql", f"{header}\n-- up\nCREATE INDEX CONCURRENTLY i ON t (x);\n"))
    assert m.transactional is False
    body_only = parse_migration(_write(tmp_path / "0002_i.sql", f"-- up\n{header}\nSELECT 1;\n"))
    assert body_only.transactional is True, "only the header (above -- up) sets the mode"


def test_parse_sections_lines_and_flags(tmp_path):
    path = _write(tmp_path / "0007_add_index.sql", (
        "-- speeds up order lookups\n"
        "-- aishell:no-transaction\n"
        "\n"
        "-- up\n"
        "\n"
        "CREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);\n"
        "-- Down\n"
        "DROP INDEX orders_customer;\n"
    ))
    m = parse_migration(path)
    assert (m.version, m.name, m.label) == (7, "add_index", "0007_add_index")
    assert m.up == "CREATE INDEX CONCURRENTLY orders_customer ON orders (customer_id);"
    assert m.down == "DROP INDEX orders_customer;"
    assert m.up_line == 6 and m.down_line == 8
    assert m.transactional is False
    assert m.checksum == checksum(m.up)


def test_file_without_markers_is_all_up_and_irreversible(tmp_path):
    m = parse_migration(_write(tmp_path / "12-seed.sql", "INSERT INTO t VALUES (1);\n"))
    assert (m.version, m.name, m.up, m.down, m.transactional) == (12, "seed", "INSERT INTO t VALUES (1);", None, True)
    empty_down = parse_migration(_write(tmp_path / "13_x.sql", "-- up\nSELECT 1;\n-- down\n-- nothing to undo\n"))
    assert empty_down.down is None


@pytest.mark.parametrize(("name", "text", "message"), [
    ("create_users.sql", "-- up\nSELECT 1;", "named NNNN_name.sql"),
    ("0001_a.sql", "-- up\n-- down\nDROP TABLE t;", "'-- up' section is empty"),
    ("0001_a.sql", "CREATE TABLE t (x int);\n-- up\nSELECT 1;", "SQL before the '-- up' line"),
    ("0001_a.sql", "-- down\nDROP TABLE t;", "no '-- up' section"),
    ("0001_a.sql", "-- up\nSELECT 1;\n-- up\nSELECT 2;", "more than one '-- up'"),
])
def test_bad_files_are_rejected_with_the_reason(tmp_path, name, text, message):
    with pytest.raises(MigrationError, match=message):
        parse_migration(_write(tmp_path / name, text))


def test_checksum_ignores_line_endings_and_trailing_space_only():
    assert checksum("CREATE TABLE t (x int);\r\nSELECT 1;  \n") == checksum("CREATE TABLE t (x int);\nSELECT 1;")
    assert checksum("CREATE TABLE t (x int);") != checksum("CREATE TABLE t (x bigint);")


def test_discover_orders_by_number_and_rejects_duplicates(tmp_path):
    _write(tmp_path / "10_c.sql", "SELECT 10;")
    _write(tmp_path / "2_b.sql", "SELECT 2;")
    _write(tmp_path / "0001_a.sql", "SELECT 1;")
    _write(tmp_path / "README.md", "not a migration")
    assert [m.version for m in discover(tmp_path)] == [1, 2, 10]
    _write(tmp_path / "0002_again.sql", "SELECT 2;")
    with pytest.raises(MigrationError, match="two migrations with version 2"):
        discover(tmp_path)
    with pytest.raises(MigrationError, match="does not exist"):
        discover(tmp_path / "nowhere")


def test_discovery_is_cached_and_sees_edits_and_new_files(tmp_path):
    first = _write(tmp_path / "0001_a.sql", "-- up\nCREATE TABLE a (x int);", age=60)
    _write(tmp_path / "0002_b.sql", "-- up\nCREATE TABLE b (x int);", age=60)
    past = time.time() - 60
    os.utime(tmp_path, (past, past))
    one = discover(tmp_path)
    two = discover(tmp_path)
    assert one == two and all(a is b for a, b in zip(one, two)), "parsed once, then served from the cache"

    first.write_text("-- up\nCREATE TABLE a (x bigint);")  # edited in place: directory mtime unchanged
    os.utime(tmp_path, (past, past))
    three = discover(tmp_path)
    assert three[0].checksum != one[0].checksum and three[1] is one[1]

    _write(tmp_path / "0003_c.sql", "SELECT 3;")  # a new file changes the directory's mtime
    assert [m.version for m in discover(tmp_path)] == [1, 2, 3]


def test_new_migration_numbers_after_the_newest_and_keeps_width(tmp_path):
    first = new_migration(tmp_path / "migrations", "Create users!")
    assert first.name == "0001_create_users.sql"
    second = new_migration(tmp_path / "migrations", "add orders index")  # first is still an empty template
    assert second.name == "0002_add_orders_index.sql"
    text = second.read_text()
    assert "\n-- up\n" in text and "\n-- down\n" in text
    _write(tmp_path / "migrations" / "000041_wide.sql", "SELECT 1;")
    assert new_migration(tmp_path / "migrations", "next").name == "000042_next.sql"
    with pytest.raises(MigrationError, match="no letters or digits"):
        new_migration(tmp_path / "migrations", "!!!")
    # The template parses once its up section is filled in.
    second.write_text(text.replace("-- up\n", "-- up\nCREATE INDEX i ON orders (id);\n"))
    assert parse_migration(second).up == "CREATE INDEX i ON orders (id);"


def test_split_sqlite_respects_strings_comments_and_triggers():
    script = (
        "CREATE TABLE t (x text); -- a comment; with a semicolon\n"
        "INSERT INTO t VALUES ('a;b');\n"
        "/* block; comment */\n"
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN\n"
        "  INSERT INTO t VALUES ('x');\n"
        "  UPDATE t SET x = 'y;z';\n"
        "END;\n"
        "-- trailing comment only\n"
    )
    parts = split_sqlite(script)
    assert [line for _, line in parts] == [1, 1, 3]
    assert parts[0][0] == "CREATE TABLE t (x text);"
    assert parts[1][0].endswith("INSERT INTO t VALUES ('a;b');")
    assert parts[2][0].startswith("/* block; comment */\nCREATE TRIGGER") and parts[2][0].endswith("END;")
    assert split_sqlite("SELECT 1") == [("SELECT 1", 1)]


def test_split_script_lines_point_at_the_first_word():
    script = "CREATE TABLE a (x int);\n-- now\n/* done */ commit ;\n\nINSERT INTO a VALUES (';');"
    for dialect in ("sqlite", "postgres"):
        parts = split_script(script, dialect)
        assert [line for _, line in parts] == [1, 3, 5], dialect
        assert [transaction_control(text, dialect) for text, _ in parts] == [None, "COMMIT", None]


def test_split_script_keeps_a_begin_atomic_body_whole():
    script = (
        "CREATE FUNCTION one() RETURNS integer LANGUAGE sql\n"
        "BEGIN ATOMIC\n  SELECT 1;\n  SELECT CASE WHEN true THEN 1 END;\nEND;\n"
        "COMMIT;\n"
    )
    parts = split_script(script, "postgres")
    assert [line for _, line in parts] == [1, 6]
    assert parts[0][0].startswith("CREATE FUNCTION") and parts[0][0].endswith("END")
    assert [transaction_control(text, "postgres") for text, _ in parts] == [None, "COMMIT"]


@pytest.mark.parametrize(("statement", "command"), [
    ("COMMIT", "COMMIT"), ("commit and chain", "COMMIT"), ("END TRANSACTION", "END"), ("ABORT", "ABORT"),
    ("BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN"), ("START TRANSACTION READ WRITE", "START TRANSACTION"),
    ("SAVEPOINT s", "SAVEPOINT"), ("RELEASE SAVEPOINT s", "RELEASE SAVEPOINT"), ("ROLLBACK TO s", "ROLLBACK"),
    ("PREPARE TRANSACTION 'x'", "PREPARE TRANSACTION"), ("COMMIT PREPARED 'x'", "COMMIT PREPARED"),
    ("ROLLBACK PREPARED 'x'", "ROLLBACK PREPARED"),
    ("PREPARE q AS SELECT 1", None), ('SELECT 1 AS "commit"', None), ('"end"', None),
    ("DO $$ BEGIN COMMIT; END $$", None), ("INSERT INTO t VALUES ('ROLLBACK')", None), ("-- COMMIT", None),
    ("'unterminated", None),
])
def test_transaction_control_reads_tokens_not_text(statement, command):
    assert transaction_control(statement, "postgres") == command


def test_docstring_examples():
    import doctest

    import aishell.engine.migrate

    assert doctest.testmod(aishell.engine.migrate).failed == 0
