"""Analyze SQL files for performance and correctness problems (like a compiler's warnings).

Reads files, directories of ``.sql`` files or standard input (``-``, or nothing). With ``--db``
the rules also use the live schema (indexes, row estimates, types), each read-only statement
is planned with EXPLAIN and, on PostgreSQL with HypoPG, candidate indexes are tried as
hypothetical indexes. Exit status: 0 nothing at or above ``--fail-on``, 1 findings at or above
it, 2 usage error or unreachable database.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

FORMATS = ("text", "json", "sarif")
LEVELS = ("info", "warning", "error", "never")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"info": "note", "warning": "warning", "error": "error"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="FILE", help="SQL files or directories of .sql files; - or nothing for stdin")
    parser.add_argument("--dialect", help="SQL dialect (postgres, sqlite, or any sqlglot knows); default: the database's, else postgres")
    parser.add_argument("--db", metavar="URL", help="a database for schema-aware rules, plans and index advice")
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--fail-on", choices=LEVELS, default="error", help="lowest severity that makes the exit status 1 (default: error)")
    parser.add_argument("--no-plans", action="store_true", help="with --db: use the schema only, do not EXPLAIN or advise")
    parser.add_argument("--disable", metavar="CODES", default="", help="rule codes not to report, comma-separated (adds to the analyzer.disabled_rules setting)")


def main(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    import aishell.engine.analyzer  # noqa: F401 - imported before the clock starts
    from aishell.engine.errors import ConfigurationError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)  # "falling back to Command" notes are not findings
    inputs = _read_inputs(args.paths)
    started = time.perf_counter()
    dialect = _check_dialect(args.dialect) if args.dialect else None
    from aishell.engine.config import Settings

    settings = Settings.load()
    if args.disable:
        settings.analyzer.disabled_rules = ",".join(c for c in (settings.analyzer.disabled_rules, args.disable) if c)
    if args.db:
        results, statements = asyncio.run(_analyze_with_db(inputs, args.db, dialect, settings, plans=not args.no_plans))
    else:
        results, statements = _analyze_offline(inputs, dialect or "postgres", settings)
    elapsed_ms = (time.perf_counter() - started) * 1000
    out = sys.stdout
    if args.format == "json":
        json.dump(
            {
                "findings": [dict(file=name, **finding.to_dict()) for name, finding in results],
                "stats": {"statements": statements, "elapsed_ms": round(elapsed_ms, 3)},
            },
            out,
            ensure_ascii=False,
        )
        out.write("\n")
    elif args.format == "sarif":
        json.dump(_sarif(results), out, ensure_ascii=False, indent=2)
        out.write("\n")
    else:
        _text(results, statements, len(inputs), out)
    if args.fail_on == "never":
        return 0
    if not isinstance(args.fail_on, str) or args.fail_on not in LEVELS:
        raise ConfigurationError(f"--fail-on must be one of {', '.join(LEVELS)}")
    return 1 if any(f.at_least(args.fail_on) for _, f in results) else 0


def _check_dialect(name: str) -> str:
    """The normalized dialect name; ConfigurationError when sqlglot does not know it."""
    from aishell.engine.analyzer.cache import dialect_of, normalize_dialect
    from aishell.engine.errors import ConfigurationError

    try:
        dialect_of(normalize_dialect(name))
    except ValueError:
        raise ConfigurationError(f"unknown SQL dialect {name!r}") from None
    return normalize_dialect(name)


def _read_inputs(paths: list[str]) -> list[tuple[str, str]]:
    """(display name, text) of every input, in order; directories give their .sql files sorted."""
    from aishell.engine.errors import ConfigurationError

    if not paths:
        paths = ["-"]
    inputs: list[tuple[str, str]] = []
    for raw in paths:
        if raw == "-":
            data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
            inputs.append(("<stdin>", _decode(data)))
            continue
        path = Path(raw)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*.sql") if p.is_file())
            inputs.extend((str(p), _decode(_read(p))) for p in files)
        elif path.is_file():
            inputs.append((str(path), _decode(_read(path))))
        elif path.exists():
            raise ConfigurationError(f"{raw}: not a regular file or directory")
        else:
            raise ConfigurationError(f"{raw}: no such file or directory")
    return inputs


def _read(path: Path) -> bytes:
    from aishell.engine.errors import ConfigurationError

    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None


def _decode(data: bytes) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    return data.decode("utf-8", errors="replace")


def _analyze_offline(inputs, dialect: str, settings):
    from aishell.engine.analyzer import analyze

    results = []
    statements = 0
    for name, text in inputs:
        analysis = analyze(text, dialect=dialect, settings=settings.analyzer)
        statements += analysis.statements
        results.extend((name, finding) for finding in analysis.findings)
    return results, statements


async def _analyze_with_db(inputs, url: str, dialect: str | None, settings, *, plans: bool):
    from aishell.engine.analyzer import analyze, split_statements
    from aishell.engine.drivers import driver_for

    from aishell.engine.errors import ConfigurationError

    driver = driver_for(url, read_only=True)
    if driver.dialect not in ("postgres", "sqlite"):
        raise ConfigurationError(f"aishell analyze reads SQL: --db must be a PostgreSQL or SQLite database, not {driver.name}")
    conn = await driver.connect()
    try:
        schema = await conn.schema_info()
        dialect = dialect or driver.dialect
        results = []
        statements = 0
        for name, text in inputs:
            analysis = analyze(text, dialect=dialect, schema=schema, settings=settings.analyzer)
            statements += analysis.statements
            found = list(analysis.findings)
            if plans and dialect == driver.dialect:
                broken = {f.statement for f in found if f.code == "AS000"}
                for statement in split_statements(text, dialect):
                    if statement.index not in broken:
                        found.extend(await _plan_findings(conn, statement, schema, settings))
            disabled = {c.strip().upper() for c in settings.analyzer.disabled_rules.split(",") if c.strip()}
            found = [f for f in found if f.code not in disabled or f.code == "AS000"]
            found.sort(key=lambda f: (f.statement, f.line, f.column, f.code))
            results.extend((name, finding) for finding in found)
        return results, statements
    finally:
        await conn.close()


async def _plan_findings(conn, statement, schema, settings):
    """Plan and advice findings for one read-only statement, placed at its first keyword."""
    from dataclasses import replace

    from aishell.engine.analyzer.advisor import advise
    from aishell.engine.analyzer.plan import NOTE, explain
    from aishell.engine.analyzer.findings import Finding
    from aishell.engine.errors import ConnectionLost, QueryError
    from aishell.engine.statements import describe

    if describe(statement.text, conn.dialect).kind != "select":
        return []
    found = []
    try:
        report = await explain(conn, statement.text, settings=settings.analyzer)
        found.extend(report.findings)
        if conn.dialect == "postgres":
            advice = await advise(conn, statement.text, schema, min_reduction=settings.analyzer.min_cost_reduction, settings=settings.analyzer)
            found.extend(f for f in advice.findings if f.code == "AS110")
    except ConnectionLost:
        raise
    except QueryError as exc:
        found.append(Finding(NOTE.code, NOTE.name, "info", f"no plan: {exc.one_line()}", 1, 1))
    return [replace(f, line=statement.line, column=statement.column, statement=statement.index, end_line=None, end_column=None) for f in found]


def _text(results, statements: int, files: int, out) -> None:
    counts = {"error": 0, "warning": 0, "info": 0}
    for name, finding in results:
        counts[finding.severity] += 1
        out.write(f"{name}:{finding.line}:{finding.column}: {finding.code} {finding.severity}: {finding.message}\n")
        if finding.suggestion:
            lines = finding.suggestion.splitlines()
            out.write(f"    suggestion: {lines[0]}\n")
            for line in lines[1:]:
                out.write(f"                {line}\n")
    total = len(results)
    parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in counts.items() if n]
    summary = f"{total} finding{'s' if total != 1 else ''}" + (f" ({', '.join(parts)})" if parts else "")
    summary += f" in {statements} statement{'s' if statements != 1 else ''}"
    if files != 1:
        summary += f", {files} files"
    print(summary, file=sys.stderr)


def _sarif(results) -> dict:
    """A SARIF 2.1.0 log: one run, the rules as the tool's rules, one result a finding."""
    from aishell.engine import __version__
    from aishell.engine.analyzer import rule_catalog
    from aishell.engine.analyzer.advisor import ADVICE, UNVERIFIED
    from aishell.engine.analyzer.plan import PLAN_RULES

    catalog = rule_catalog() + list(PLAN_RULES) + [ADVICE, UNVERIFIED]
    index = {rule.code: i for i, rule in enumerate(catalog)}
    sarif_rules = [
        {
            "id": rule.code,
            "name": rule.name,
            "shortDescription": {"text": rule.summary},
            "defaultConfiguration": {"level": SARIF_LEVELS[rule.severity]},
        }
        for rule in catalog
    ]
    out = []
    for name, finding in results:
        region = {"startLine": finding.line, "startColumn": finding.column}
        if finding.end_line is not None and finding.end_column is not None:
            region["endLine"] = finding.end_line
            region["endColumn"] = finding.end_column + 1  # SARIF: the column after the region
        result = {
            "ruleId": finding.code,
            "level": SARIF_LEVELS[finding.severity],
            "message": {"text": finding.message + (f" Suggestion: {finding.suggestion}" if finding.suggestion else "")},
            "locations": [
                {"physicalLocation": {"artifactLocation": {"uri": _uri(name)}, "region": region}}
            ],
            "properties": {"rule": finding.rule, "statement": finding.statement, "suggestion": finding.suggestion},
        }
        if finding.code in index:
            result["ruleIndex"] = index[finding.code]
        out.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "aishell", "version": __version__, "rules": sarif_rules}},
                "columnKind": "unicodeCodePoints",
                "results": out,
            }
        ],
    }


def _uri(name: str) -> str:
    if name == "<stdin>":
        return "stdin"
    return Path(name).as_posix()
