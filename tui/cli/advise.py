"""Index advice for a database's whole workload, tested with hypothetical indexes (HypoPG).

Reads the statements the database runs from ``pg_stat_statements`` and AIShell's memory (by
default both, merged by fingerprint), or from an SQL file; ranks the indexes that would save
the most time (calls × mean time × the plan cost they cut, minus what they add to writes) and
lists existing indexes that are unused or repeat another. Nothing is created or dropped: the
output holds the statements for you to run. Progress goes to stderr. Exit status 0, or 2 for a
usage error or an unreachable database.
"""

from __future__ import annotations

import argparse
import json
import sys

from aishell.tui.cli.target import TARGET_HELP, add_ssh

FORMATS = ("text", "json", "sarif")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", metavar="TARGET", required=True, help="the PostgreSQL database to advise (HypoPG installed there): " + TARGET_HELP)
    add_ssh(parser)
    parser.add_argument(
        "--from", dest="source", metavar="SOURCE", default=None,
        help="memory, pg_stat_statements or an SQL FILE (default: pg_stat_statements and memory, whichever exist)",
    )
    parser.add_argument("--format", choices=FORMATS, default="text")
    parser.add_argument("--limit", type=int, default=200, metavar="N", help="the N heaviest statement shapes (default 200)")


def main(args: argparse.Namespace) -> int:
    import asyncio
    import logging

    from aishell.engine.errors import ConfigurationError

    logging.getLogger("sqlglot").setLevel(logging.ERROR)
    if args.limit < 1:
        raise ConfigurationError(f"--limit must be at least 1, not {args.limit!r}")
    advice, sources = asyncio.run(_advise(args))
    if args.format == "json":
        json.dump(_json(advice, sources), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    elif args.format == "sarif":
        json.dump(_sarif(advice), sys.stdout, ensure_ascii=False, indent=2)
        sys.stdout.write("\n")
    else:
        _text(advice, sources, sys.stdout)
    return 0


async def _advise(args):
    from aishell.engine.config import Settings
    from aishell.engine.connections import reach
    from aishell.engine.drivers import driver_for
    from aishell.engine.errors import ConfigurationError
    from aishell.engine.workload import advise_workload
    from aishell.engine.workload.collect import collect

    settings = Settings.load()
    async with reach(args.db, settings, ssh=args.ssh) as route:
        driver = driver_for(route.url, read_only=True)
        driver.display_url = route.display_url  # the server's name, not a tunnel's loopback port
        if not driver.HYPOTHETICAL_INDEXES:
            raise ConfigurationError(f"advise needs PostgreSQL with HypoPG (hypothetical indexes): --db is {driver.name}")
        conn = await driver.connect()
        try:
            statements, sources = await collect(
                conn, memory_path=settings.memory_path, database=driver.display_url, source=args.source, limit=args.limit
            )
            print(f"advising on {len(statements)} statement shape(s) from {', '.join(sources)}…", file=sys.stderr)
            return await advise_workload(conn, statements, progress=_Progress()), sources
        finally:
            await conn.close()


async def print_advice(session, out) -> None:
    """``\\advise`` in ``aishell run``: the session's workload advice as text on ``out``,
    progress on stderr."""
    advice, sources = await session.advise_workload(progress=_Progress())
    _text(advice, sources, out)


class _Progress:
    """One rewritten line on stderr when it is a terminal, a line every tenth otherwise."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.shown = (None, -1)

    def __call__(self, done: int, total: int, what: str) -> None:
        phase = what.split(" ", 1)[0]
        step = (10 * done // total) if total else 10
        if self.tty:
            sys.stderr.write(f"\r\x1b[K{done}/{total} {what[:70]}")
            if done >= total:
                sys.stderr.write("\n")
        elif (phase, step) != self.shown:
            sys.stderr.write(f"{done}/{total} {what[:70]}\n")
        self.shown = (phase, step)
        sys.stderr.flush()


def _amount(value: float, unit: str) -> str:
    return f"{value:,.0f} ms" if unit == "ms" else f"{value:,.0f} cost units"


def _short(text: str, width: int = 90) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _text(advice, sources, out) -> None:
    out.write(
        f"{advice.statements} statement shape(s) from {', '.join(sources)}; {advice.candidates} candidate index(es) "
        f"tried in {advice.elapsed_s:.1f} s" + (" (HypoPG)" if advice.hypopg else "") + "\n"
    )
    if not advice.hypopg:
        out.write(advice.message + "\n")
    if advice.hypopg and not advice.recommendations:
        out.write("no index would save the workload time\n")
    for rank, index in enumerate(advice.recommendations, 1):
        out.write(f"\n{rank}. {index.statement}\n")
        out.write(f"   saves ~{_amount(index.saved, advice.unit)} (estimated); helps {len(index.helps)}, slows {len(index.slows)}\n")
        for effect in index.helps[:5]:
            out.write(f"     + {_amount(effect.saved, advice.unit):>16}  {effect.reduction:4.0%} cheaper  x{effect.statement.calls:<6} {_short(effect.statement.text)}\n")
        if len(index.helps) > 5:
            out.write(f"     + {len(index.helps) - 5} more\n")
        for effect in index.slows[:3]:
            out.write(f"     - {_amount(-effect.saved, advice.unit):>16}  writes         x{effect.statement.calls:<6} {_short(effect.statement.text)}\n")
    if advice.notes:
        out.write("\nexisting indexes:\n")
        for note in advice.notes:
            out.write(f"  {note.kind:<9} {note.schema}.{note.index} on {note.table}: {note.reason}\n            {note.drop_statement}\n")
    if advice.skipped:
        out.write(f"\n{len(advice.skipped)} statement shape(s) could not be planned, e.g.: {advice.skipped[0][1]}\n")
    out.write("\nnothing was created or dropped: run the statements above to apply them\n")


def _json(advice, sources) -> dict:
    def effect(e) -> dict:
        s = e.statement
        return {"text": s.text, "fingerprint": s.fingerprint, "calls": s.calls, "mean_ms": s.mean_ms,
                "cost_before": e.cost_before, "cost_after": e.cost_after, "saved": round(e.saved, 3)}

    return {
        "recommendations": [
            {"statement": r.statement, "table": r.candidate.qualified_table, "columns": list(r.candidate.columns),
             "saved": round(r.saved, 3), "unit": advice.unit,
             "helps": [effect(e) for e in r.helps], "slows": [effect(e) for e in r.slows]}
            for r in advice.recommendations
        ],
        "existing": [
            {"kind": n.kind, "schema": n.schema, "table": n.table, "index": n.index, "definition": n.definition,
             "reason": n.reason, "size_bytes": n.size_bytes, "drop": n.drop_statement}
            for n in advice.notes
        ],
        "skipped": [{"text": s.text, "reason": reason} for s, reason in advice.skipped],
        "stats": {"statements": advice.statements, "candidates": advice.candidates, "hypopg": advice.hypopg,
                  "sources": sources, "elapsed_ms": round(advice.elapsed_s * 1000, 1)},
    }


def _sarif(advice) -> dict:
    from aishell.engine import __version__
    from aishell.engine.workload.advice import DUPLICATE_INDEX, UNUSED_INDEX, WORKLOAD_INDEX, WORKLOAD_RULES
    from aishell.tui.cli.analyze import SARIF_LEVELS, SARIF_SCHEMA

    index = {rule.code: i for i, rule in enumerate(WORKLOAD_RULES)}
    results = []
    for r in advice.recommendations:
        results.append({
            "ruleId": WORKLOAD_INDEX.code, "ruleIndex": index[WORKLOAD_INDEX.code], "level": SARIF_LEVELS[WORKLOAD_INDEX.severity],
            "message": {"text": f"{r.statement} saves ~{_amount(r.saved, advice.unit)} (estimated) over {len(r.helps)} statement shape(s)"},
            "properties": {"statement": r.statement, "saved": round(r.saved, 3), "unit": advice.unit,
                           "helps": [e.statement.text for e in r.helps], "slows": [e.statement.text for e in r.slows]},
        })
    for n in advice.notes:
        rule = UNUSED_INDEX if n.kind == "unused" else DUPLICATE_INDEX
        results.append({
            "ruleId": rule.code, "ruleIndex": index[rule.code], "level": SARIF_LEVELS[rule.severity],
            "message": {"text": f"{n.schema}.{n.index} on {n.table}: {n.reason}"},
            "properties": {"definition": n.definition, "drop": n.drop_statement},
        })
    rules = [{"id": r.code, "name": r.name, "shortDescription": {"text": r.summary},
              "defaultConfiguration": {"level": SARIF_LEVELS[r.severity]}} for r in WORKLOAD_RULES]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0",
            "runs": [{"tool": {"driver": {"name": "aishell", "version": __version__, "rules": rules}}, "results": results}]}
