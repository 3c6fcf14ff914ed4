"""Front ends and the Session ask drivers what they can do (flags) and what language their
statements are in (``driver.language``); they never branch on a driver's name.

The scan below reads every module under engine/ and tui/ and fails on a comparison with a
backend's name ("postgres", "sqlite", "mongo", ...) or a URL sniffed by its scheme, outside the
places whose job is to tell backends or languages apart.
"""

from __future__ import annotations

import ast
import typing
from pathlib import Path

import pytest

from aishell.engine.drivers import base
from aishell.engine.drivers.mongo import MongoDriver
from aishell.engine.drivers.postgres import PostgresDriver
from aishell.engine.drivers.sqlite import SQLiteDriver

ROOT = Path(__file__).resolve().parents[2]
NAMES = {"postgres", "postgresql", "sqlite", "sqlite3", "mongo", "mongodb"}

HOMES = {
    "engine/drivers/": "the drivers and the registry that picks one by URL scheme",
    "engine/statements/": "the statement classifier picks its language family by dialect",
    "engine/analyzer/": "SQL dialect grammar: plans and suggested SQL differ per sqlglot dialect",
    "engine/mongo/": "the mongosh language itself",
}
KNOWN = {
    "engine/backup.py": "a backup's format is its engine's own (pg_dump archive or SQLite file); the manifest names it",
    "tui/cli/backup.py": "shows the engine a backup manifest names",
    "engine/migrate.py": "migration bookkeeping SQL differs per SQL dialect (advisory locks, BEGIN IMMEDIATE)",
    "tui/buffers.py": "redacts a buffer's text by its language (mongosh or SQL) from the editor's dialect",
    "engine/memory/service.py": "fingerprints a statement by its language (mongosh or SQL) from the dialect memory stores",
    "engine/profiles.py": "a saved connection's parts become the URL of the scheme it names",
    "engine/tunnel.py": "a tunnel forwards to a server: a URL naming a file (sqlite:) has nothing to forward to",
}


def _names_in(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value.lower() in NAMES
    if isinstance(node, (ast.Tuple, ast.List, ast.Set)):
        return any(_names_in(e) for e in node.elts)
    return False


def name_branches(source: str) -> list[int]:
    """Lines comparing something with a backend name, or sniffing a URL's scheme with
    ``startswith``.

    >>> name_branches('if driver.name in ("postgres", "sqlite"):\\n    pass')
    [1]
    >>> name_branches('ok = url.startswith(("postgres", "mongodb"))')
    [1]
    >>> name_branches('if driver.POOLED and driver.language == "sql":\\n    pass')
    []
    """
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare) and any(_names_in(n) for n in (node.left, *node.comparators)):
            lines.append(node.lineno)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("startswith", "endswith")
            and any(_names_in(a) for a in node.args)
        ):
            lines.append(node.lineno)
    return sorted(set(lines))


def test_the_scan_finds_name_branches():
    import doctest

    assert doctest.run_docstring_examples(name_branches, {"name_branches": name_branches}) is None
    assert name_branches('x = dialect == "mongo"') == [1]
    assert name_branches('x = "sqlite" != kind') == [1]
    assert name_branches('x = dialect == "duckdb"') == []


def test_no_module_branches_on_driver_names():
    found = []
    for path in sorted([*ROOT.joinpath("engine").rglob("*.py"), *ROOT.joinpath("tui").rglob("*.py")]):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith(tuple(HOMES)) or rel in KNOWN:
            continue
        found += [f"{rel}:{line}" for line in name_branches(path.read_text(encoding="utf-8"))]
    assert found == [], "branch on the driver's flags or language, not its name:\n" + "\n".join(found)


FLAGS = [name for name, kind in typing.get_type_hints(base.Driver).items() if kind is bool]


def test_the_protocol_declares_flags():
    assert {"POOLED", "HYPOTHETICAL_INDEXES", "read_only"} <= set(FLAGS)


@pytest.mark.parametrize("driver", [PostgresDriver, SQLiteDriver, MongoDriver], ids=lambda d: d.name)
def test_every_driver_declares_every_flag_and_its_language(driver):
    for flag in FLAGS:
        if flag.isupper():
            assert isinstance(getattr(driver, flag), bool), flag
    assert driver.language in ("sql", "mongosh")
    assert (driver.language == "mongosh") == (driver.dialect == "mongo")
