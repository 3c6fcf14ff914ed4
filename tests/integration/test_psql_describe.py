"""The \\d family measured against psql itself: each case runs the same command in ``psql`` and
in AIShell on one database holding every kind of object (tests/fixtures/psql_schema.sql) and
compares what they list. Listings must agree row for row on the columns both show; ``\\d NAME``
on the columns table and on the objects of each footer section (indexes, constraints,
"Referenced by", triggers, partitions, view definition).

``python -m tests.integration.test_psql_describe URL`` prints the agreement on a database that
already holds the fixture schema (how the issue's "4 in 10" was measured before the rewrite).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aishell.engine import commands as backslash
from aishell.engine.session import Session
from tests.support import bare_settings

SCHEMA = Path(__file__).resolve().parent.parent / "fixtures" / "psql_schema.sql"

LISTINGS = [
    "\\dt", "\\dt+", "\\dt public.*", "\\dt *.order*", "\\dt sales.*", "\\dt order*", "\\dt ORDERS",
    "\\dt \"CamelOrders\"", "\\dt CamelOrders", "\\dt \"Mixed Case\"", "\\dt *.*s", "\\dt public.", "\\dt ?rders",
    "\\dtS pg_class", "\\dt pg_catalog.pg_cl*",
    "\\d", "\\d+", "\\dS",
    "\\dv", "\\dv+", "\\dv *.*", "\\dm", "\\dm+", "\\ds", "\\ds+", "\\ds *.*",
    "\\di", "\\di+", "\\di *.*", "\\di orders*",
    "\\dn", "\\dn+", "\\dn s*",
    "\\df", "\\df+", "\\df *.*", "\\df add*", "\\df sales.*",
    "\\dT", "\\dT+", "\\dT *.*", "\\dT mood", "\\dD", "\\dD+", "\\dD *.*",
    "\\du", "\\du report*", "\\dx", "\\dx cit*", "\\db", "\\dp", "\\dp orders", "\\l", "\\l aishell_psql*",
]
DESCRIBES = [
    "\\d orders", "\\d customers", "\\d order_lines", "\\d \"Mixed Case\"", "\\d sales.orders",
    "\\d big_orders", "\\d+ big_orders", "\\d order_totals", "\\d invoice_seq", "\\d events", "\\d+ events",
    "\\d events_2025", "\\d+ orders", "\\d sales.v_orders",
]
ALIASES = {"index": "name", "column": "column"}
"""Old spellings of psql's headers, so the agreement measure reads the columns the same way."""


def psql(cluster, url: str, command: str) -> list[list[str]]:
    """psql's unaligned output as records of fields (title first)."""
    args = ["-X", "-A", "-P", "footer=off", "-F", "\x1f", "-R", "\x1e", "-c", command]
    if cluster is not None:
        parts = urlsplit(url)
        out = cluster.run(
            cluster.bin / "psql", *args, "-h", cluster.sockdir, "-p", str(cluster.port), "-U", cluster.user,
            "-d", parts.path.lstrip("/"), check=False,
        )
    else:
        out = subprocess.run(["psql", url, *args], capture_output=True, text=True, check=False)
    return [record.split("\x1f") for record in out.stdout.rstrip("\n").split("\x1e") if out.stdout]


def cell(value: object) -> str:
    """A value as psql prints it unaligned."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "t" if value else "f"
    return str(value)


def listed(header: list[str], rows: list[list[str]]) -> list[tuple[str, ...]]:
    """The identifying columns (schema and name) of a listing's rows."""
    names = [ALIASES.get(h.lower(), h.lower()) for h in header]
    keys = [i for i, h in enumerate(names) if h in ("schema", "name", "role name")]
    return sorted(tuple(row[i] for i in keys) for row in rows)


def psql_sections(records: list[list[str]]) -> tuple[list[str], list[list[str]], dict[str, list[str]]]:
    """``\\d NAME`` in psql: header, column rows, and each footer section's object names."""
    if not records:
        return [], [], {}
    header, rows = records[1], [r for r in records[2:] if len(r) == len(records[1])]
    footer = "\n".join(r[0] for r in records[2:] if len(r) != len(records[1])).splitlines()
    if rows and "\n" in rows[-1][-1]:  # the last record carries the footer after a newline
        last, _, rest = rows[-1][-1].partition("\n")
        rows[-1][-1] = last
        footer = rest.splitlines() + footer
    sections: dict[str, list[str]] = {}
    current = ""
    for line in footer:
        if line.startswith(" "):
            if current in ("View definition",):
                sections[current].append(line.strip())
            elif current:
                sections[current].append(footer_name(current, line.strip()))
            continue
        title, _, rest = line.partition(":")
        current = title
        sections[current] = []
        if rest.strip():
            sections[current].append(footer_name(current, rest.strip()))
    if "View definition" in sections:
        sections["View definition"] = [" ".join(" ".join(sections["View definition"]).split())]
    return header, rows, sections


def footer_name(section: str, text: str) -> str:
    """The object a footer line is about: its quoted name, the constraint of "Referenced by",
    the first word elsewhere (triggers, partitions)."""
    if section == "Referenced by":
        return re.search(r'CONSTRAINT "([^"]+)"', text).group(1)
    if section in ("Partition key", "Partition of", "Access method", "Number of partitions", "Owned by", "Publications"):
        return text
    quoted = re.match(r'"((?:[^"]|"")+)"', text)
    if quoted:
        return quoted.group(1).replace('""', '"')
    return text.split()[0]


def ours_sections(outcome: backslash.Outcome) -> tuple[list[str], list[list[str]], dict[str, list[str]]]:
    """``\\d NAME`` in AIShell: rows up to the first ``▸ Section`` row are the columns; each
    section's rows name one object in their first cell (the definition follows)."""
    header = [name for name, _ in outcome.columns]
    rows: list[list[str]] = []
    sections: dict[str, list[str]] = {}
    current = None
    for row in outcome.rows:
        first = cell(row[0])
        if first.startswith("▸ ") and not any(cell(v) for v in row[1:]):
            current = first[2:]
            sections[current] = []
        elif current is None:
            rows.append([cell(v) for v in row])
        else:
            sections[current].append(first)
    if "View definition" in sections:
        sections["View definition"] = [" ".join(" ".join(sections["View definition"]).split())]
    return header, rows, sections


async def ours(context: backslash.Context, command: str) -> backslash.Outcome | None:
    try:
        return await backslash.run(context, command)
    except backslash.CommandError:
        return None


async def agreement(context: backslash.Context, cluster, url: str) -> tuple[int, int, list[str]]:
    """(cases agreeing, cases, the commands that disagree), name for name."""
    agreed, differing = 0, []
    for command in LISTINGS:
        theirs = psql(cluster, url, command)
        outcome = await ours(context, command)
        expected = listed(theirs[1], theirs[2:]) if len(theirs) > 1 else []
        got = listed([n for n, _ in outcome.columns], [[cell(v) for v in r] for r in outcome.rows]) if outcome else None
        if (outcome is None and not expected) or got == expected:
            agreed += 1
        else:
            differing.append(command)
    for command in DESCRIBES:
        header, rows, sections = psql_sections(psql(cluster, url, command))
        outcome = await ours(context, command)
        if outcome is not None and ours_sections(outcome) == (header, rows, sections):
            agreed += 1
        else:
            differing.append(command)
    return agreed, len(LISTINGS) + len(DESCRIBES), differing


# -- the suite ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def described_url(pg_cluster, pg_url) -> str:
    """A database holding the fixture schema, shared by the module (nothing here writes)."""
    if pg_cluster is None:
        pytest.skip("needs the throwaway cluster (AISHELL_TEST_PG_URL is set)")
    url = pg_cluster.create_database(f"aishell_psql_{uuid.uuid4().hex[:8]}")
    pg_cluster.run(
        pg_cluster.bin / "psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg_cluster.sockdir,
        "-p", str(pg_cluster.port), "-U", pg_cluster.user, "-d", urlsplit(url).path.lstrip("/"), "-f", SCHEMA,
    )
    return url


@pytest.fixture(scope="module")
async def context(described_url):
    session = await Session.open(described_url, settings=bare_settings())
    yield backslash.Context(session)
    await session.close()


@pytest.mark.parametrize("command", LISTINGS)
async def test_listing_agrees_with_psql(command, context, pg_cluster, described_url):
    theirs = psql(pg_cluster, described_url, command)
    outcome = await ours(context, command)
    if len(theirs) < 2:
        assert outcome is None or not outcome.rows, f"psql lists nothing for {command}"
        return
    header, rows = theirs[1], theirs[2:]
    assert outcome is not None
    ours_header = [name for name, _ in outcome.columns]
    assert ours_header == header
    assert [[cell(v) for v in r] for r in outcome.rows] == rows
    assert outcome.status.startswith(theirs[0][0])


@pytest.mark.parametrize("command", DESCRIBES)
async def test_describe_agrees_with_psql(command, context, pg_cluster, described_url):
    expected = psql_sections(psql(pg_cluster, described_url, command))
    outcome = await ours(context, command)
    assert outcome is not None
    assert ours_sections(outcome) == expected


async def test_agreement_is_complete(context, pg_cluster, described_url):
    agreed, total, differing = await agreement(context, pg_cluster, described_url)
    assert (agreed, differing) == (total, [])


if __name__ == "__main__":  # the measure on a database that already holds the schema
    import asyncio

    async def main(url: str) -> None:
        session = await Session.open(url, settings=bare_settings())
        try:
            agreed, total, differing = await agreement(backslash.Context(session), None, url)
        finally:
            await session.close()
        print(f"{agreed}/{total} agree; differ: {' '.join(differing)}")

    os.environ.setdefault("AISHELL_HOME", "/tmp/aishell-psql-measure")
    asyncio.run(main(sys.argv[1]))
