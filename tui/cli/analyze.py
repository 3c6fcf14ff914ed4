"""Analyze SQL files for performance and correctness problems (like a compiler's warnings).

Reads files, directories of ``.sql`` files or standard input (``-``, or nothing). With ``--db``
the rules also use the live schema (indexes, row estimates, types), each read-only statement
is planned with EXPLAIN and, on PostgreSQL with HypoPG, candidate indexes are tried as
hypothetical indexes. Exit status: 0 nothing at or above ``--fail-on``, 1 findings at or above
it, 2 usage error or unreachable database.

Inputs are read in blocks and each statement's findings are written as soon as it is analyzed
(the JSON and SARIF documents too, one finding at a time), so memory does not grow with the
size of the files.
"""

from __future__ import annotations

import argparse
import codecs
import json
import sys
import time
from pathlib import Path
from typing import Iterator

FORMATS = ("text", "json", "sarif")
LEVELS = ("info", "warning", "error", "never")
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
SARIF_LEVELS = {"info": "note", "warning": "warning", "error": "error"}
from aishell.tui.cli.target import TARGET_HELP, add_ssh

BLOCK = 1 << 18
"""Bytes read from an input at a time."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("paths", nargs="*", metavar="FILE", help="SQL files or directories of .sql files; - or nothing for stdin")
    parser.add_argument("--dialect", help="SQL dialect (postgres, sqlite, or any sqlglot knows); default: the database's, else postgres")
    parser.add_argument("--db", metavar="TARGET", help="a database for schema-aware rules, plans and index advice: " + TARGET_HELP)
    add_ssh(parser)
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
    if not isinstance(args.fail_on, str) or args.fail_on not in LEVELS:
        raise ConfigurationError(f"--fail-on must be one of {', '.join(LEVELS)}")
    inputs = _inputs(args.paths)
    started = time.perf_counter()
    dialect = _check_dialect(args.dialect) if args.dialect else None
    from aishell.engine.config import Settings

    settings = Settings.load()
    if args.disable:
        settings.analyzer.disabled_rules = ",".join(c for c in (settings.analyzer.disabled_rules, args.disable) if c)
    report = {"json": _JsonReport, "sarif": _SarifReport}.get(args.format, _TextReport)(sys.stdout, args.fail_on)
    if args.db:
        statements = asyncio.run(_analyze_with_db(inputs, args.db, args.ssh, dialect, settings, report, plans=not args.no_plans))
    else:
        statements = _analyze_offline(inputs, dialect or "postgres", settings, report)
    report.finish(statements, (time.perf_counter() - started) * 1000, len(inputs))
    return 1 if report.failed and args.fail_on != "never" else 0


def _check_dialect(name: str) -> str:
    """The normalized dialect name; ConfigurationError when sqlglot does not know it."""
    from aishell.engine.statements.dialects import dialect_of, normalize_dialect
    from aishell.engine.errors import ConfigurationError

    try:
        dialect_of(normalize_dialect(name))
    except ValueError:
        raise ConfigurationError(f"unknown SQL dialect {name!r}") from None
    return normalize_dialect(name)


def _inputs(paths: list[str]) -> list[tuple[str, Path | None]]:
    """(display name, path or None for stdin) of every input, in order; directories give their
    .sql files sorted. Missing paths are a usage error before anything is read."""
    from aishell.engine.errors import ConfigurationError

    inputs: list[tuple[str, Path | None]] = []
    for raw in paths or ["-"]:
        if raw == "-":
            inputs.append(("<stdin>", None))
            continue
        path = Path(raw)
        if path.is_dir():
            inputs.extend((str(p), p) for p in sorted(p for p in path.rglob("*.sql") if p.is_file()))
        elif path.is_file():
            inputs.append((str(path), path))
        elif path.exists():
            raise ConfigurationError(f"{raw}: not a regular file or directory")
        else:
            raise ConfigurationError(f"{raw}: no such file or directory")
    return inputs


def _blocks(path: Path | None) -> Iterator[str]:
    """The text of one input, a block at a time: UTF-8 with a leading BOM dropped and bytes that
    are not UTF-8 replaced (U+FFFD), decoded incrementally so no character is cut in two."""
    from aishell.engine.errors import ConfigurationError

    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    first = True
    try:
        if path is None:
            stream = sys.stdin.buffer if hasattr(sys.stdin, "buffer") else None
            if stream is None:
                yield sys.stdin.read().removeprefix("\ufeff")
                return
            handle = None
        else:
            handle = stream = path.open("rb")
        try:
            while True:
                data = stream.read(BLOCK)
                if first and data.startswith(b"\xef\xbb\xbf"):
                    data = data[3:]
                first = False
                if not data:
                    break
                yield decoder.decode(data)
            yield decoder.decode(b"", final=True)
        finally:
            if handle is not None:
                handle.close()
    except OSError as exc:
        raise ConfigurationError(f"{path}: {exc.strerror or exc}") from None


def _analyze_offline(inputs, dialect: str, settings, report) -> int:
    from aishell.engine.analyzer import analyze_stream

    statements = 0
    for name, path in inputs:
        for _, found in analyze_stream(_blocks(path), dialect=dialect, settings=settings.analyzer):
            statements += 1
            report.add(name, found)
    return statements


async def _analyze_with_db(inputs, target: str, ssh: str, dialect: str | None, settings, report, *, plans: bool) -> int:
    from aishell.engine.connections import reach

    async with reach(target, settings, ssh=ssh) as route:
        return await _analyze_on(inputs, route.url, dialect, settings, report, plans=plans)


async def _analyze_on(inputs, url: str, dialect: str | None, settings, report, *, plans: bool) -> int:
    from aishell.engine.analyzer import analyze_stream
    from aishell.engine.drivers import driver_for

    from aishell.engine.errors import ConfigurationError

    driver = driver_for(url, read_only=True)
    if driver.language != "sql":
        raise ConfigurationError(f"aishell analyze reads SQL: --db must be a PostgreSQL or SQLite database, not {driver.name}")
    conn = await driver.connect()
    try:
        schema = await conn.schema_info()
        dialect = dialect or driver.dialect
        disabled = {c.strip().upper() for c in settings.analyzer.disabled_rules.split(",") if c.strip()}
        statements = 0
        for name, path in inputs:
            for statement, found in analyze_stream(_blocks(path), dialect=dialect, schema=schema, settings=settings.analyzer):
                statements += 1
                if plans and dialect == driver.dialect and statement.text and not any(f.code == "AS000" for f in found):
                    found = found + [f for f in await _plan_findings(conn, statement, schema, settings, advise=driver.HYPOTHETICAL_INDEXES) if f.code not in disabled]
                    found.sort(key=lambda f: (f.statement, f.line, f.column, f.code))
                report.add(name, found)
        return statements
    finally:
        await conn.close()


async def _plan_findings(conn, statement, schema, settings, *, advise: bool):
    """Plan findings for one SELECT, UPDATE or DELETE, placed at its first keyword; with ``advise``
    (the driver verifies indexes hypothetically) the advisor's verified indexes too."""
    from dataclasses import replace

    from aishell.engine.analyzer.advisor import advise as advise_indexes
    from aishell.engine.analyzer.plan import NOTE, explain
    from aishell.engine.analyzer.findings import Finding
    from aishell.engine.errors import ConnectionLost, QueryError
    from aishell.engine.statements import describe

    if describe(statement.text, conn.dialect).kind not in ("select", "update", "delete"):
        return []  # plain EXPLAIN plans an UPDATE or DELETE without running it
    found = []
    try:
        report = await explain(conn, statement.text, settings=settings.analyzer)
        found.extend(report.findings)
        if advise:
            advice = await advise_indexes(conn, statement.text, schema, min_reduction=settings.analyzer.min_cost_reduction, settings=settings.analyzer)
            found.extend(f for f in advice.findings if f.code == "AS110")
    except ConnectionLost:
        raise
    except QueryError as exc:
        found.append(Finding(NOTE.code, NOTE.name, "info", f"no plan: {exc.one_line()}", 1, 1))
    return [replace(f, line=statement.line, column=statement.column, statement=statement.index, end_line=None, end_column=None) for f in found]


class _TextReport:
    """Findings as compiler-style lines on ``out``; the summary goes to stderr at the end."""

    def __init__(self, out, fail_on: str) -> None:
        self.out = out
        self.fail_on = fail_on
        self.failed = False
        self.counts = {"error": 0, "warning": 0, "info": 0}

    def add(self, name: str, found) -> None:
        for finding in found:
            self.counts[finding.severity] += 1
            self.failed = self.failed or (self.fail_on != "never" and finding.at_least(self.fail_on))
            self.write(name, finding)

    def write(self, name: str, finding) -> None:
        out = self.out
        out.write(f"{name}:{finding.line}:{finding.column}: {finding.code} {finding.severity}: {finding.message}\n")
        if finding.suggestion:
            lines = finding.suggestion.splitlines()
            out.write(f"    suggestion: {lines[0]}\n")
            for line in lines[1:]:
                out.write(f"                {line}\n")

    def finish(self, statements: int, elapsed_ms: float, files: int) -> None:
        total = sum(self.counts.values())
        parts = [f"{n} {sev}{'s' if n != 1 else ''}" for sev, n in self.counts.items() if n]
        summary = f"{total} finding{'s' if total != 1 else ''}" + (f" ({', '.join(parts)})" if parts else "")
        summary += f" in {statements} statement{'s' if statements != 1 else ''}"
        if files != 1:
            summary += f", {files} files"
        self.out.flush()
        print(summary, file=sys.stderr)


class _JsonReport(_TextReport):
    """The ``--format json`` document, written one finding at a time."""

    def __init__(self, out, fail_on: str) -> None:
        super().__init__(out, fail_on)
        self.first = True

    def write(self, name: str, finding) -> None:
        self.out.write(('{"findings": [' if self.first else ", ") + json.dumps(dict(file=name, **finding.to_dict()), ensure_ascii=False))
        self.first = False

    def finish(self, statements: int, elapsed_ms: float, files: int) -> None:
        stats = json.dumps({"statements": statements, "elapsed_ms": round(elapsed_ms, 3)})
        self.out.write(('{"findings": [' if self.first else "") + f'], "stats": {stats}}}\n')
        self.out.flush()


class _SarifReport(_TextReport):
    """A SARIF 2.1.0 log (one run, the rules as the tool's rules, one result a finding), written
    one result at a time inside the document :func:`_sarif` lays out."""

    def __init__(self, out, fail_on: str) -> None:
        super().__init__(out, fail_on)
        document, self.index = _sarif()
        marker = '"results": []'
        text = json.dumps(document, ensure_ascii=False, indent=2)
        head, self.tail = text.split(marker)
        self.key_indent = len(head) - len(head.rstrip(" "))  # the spaces before "results" on its line
        self.indent = " " * (self.key_indent + 2)
        self.head = head + '"results": ['
        self.first = True

    def write(self, name: str, finding) -> None:
        result = _sarif_result(name, finding, self.index)
        body = json.dumps(result, ensure_ascii=False, indent=2).replace("\n", "\n" + self.indent)
        self.out.write((self.head + "\n" if self.first else ",\n") + self.indent + body)
        self.first = False

    def finish(self, statements: int, elapsed_ms: float, files: int) -> None:
        closing = self.head + "]" if self.first else "\n" + " " * self.key_indent + "]"
        self.out.write(closing + self.tail + "\n")
        self.out.flush()


def _sarif() -> tuple[dict, dict[str, int]]:
    """The SARIF document with no results yet, and each rule's index in it."""
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
    document = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "aishell", "version": __version__, "rules": sarif_rules}},
                "columnKind": "unicodeCodePoints",
                "results": [],
            }
        ],
    }
    return document, index


def _sarif_result(name: str, finding, index: dict[str, int]) -> dict:
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
    return result


def _uri(name: str) -> str:
    if name == "<stdin>":
        return "stdin"
    return Path(name).as_posix()
