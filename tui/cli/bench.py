"""Run the benchmarks (all, or the named ones) and print each figure beside a baseline measured in the same run.

Without ``--db`` (or ``AISHELL_TEST_PG_URL``) a throwaway PostgreSQL cluster is started for the
benchmarks that need one and removed at the end. A benchmark that fails is reported on stderr
and the others still run; the exit status is then 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import traceback

PACKAGES = ("aishell.engine.bench", "aishell.tui.bench")
"""Where benchmarks are discovered: the engine's, then the workbench's and command line's own."""
CLI = (sys.executable, "-m", "aishell.tui.cli")
"""The command that starts ``aishell``, for benchmarks that time the command line."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("names", nargs="*", metavar="NAME", help="benchmarks to run (default: all)")
    parser.add_argument("--db", metavar="URL", help="PostgreSQL to benchmark against (default: AISHELL_TEST_PG_URL, else a throwaway cluster)")
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument("--quick", action="store_true", help="smaller data and fewer repeats (a smoke run)")
    parser.add_argument("--verbose", action="store_true", help="full tracebacks for failing benchmarks")
    parser.add_argument(
        "--memory-1m", dest="cases", action="append_const", const="memory-1m", default=[],
        help="memory: also import 1,000,000 statements end to end through 'aishell memory import' (minutes)",
    )


def main(args: argparse.Namespace) -> int:
    from aishell.engine.bench import available
    from aishell.engine.errors import ConfigurationError

    names = available(PACKAGES)
    unknown = [n for n in args.names if n not in names]
    if unknown:
        raise ConfigurationError(f"unknown benchmark {', '.join(map(repr, unknown))}: choose from {', '.join(names)}")
    selected = list(dict.fromkeys(args.names)) or names
    if not selected:
        raise ConfigurationError("no benchmarks are installed")
    return asyncio.run(_run(args, selected))


async def _run(args: argparse.Namespace, selected: list[str]) -> int:
    from aishell.engine.bench import BenchContext, BenchResult, load
    from aishell.engine.bench.report import render_table, to_json

    modules, failed = {}, []
    for name in selected:
        try:
            modules[name] = load(name, PACKAGES)
        except Exception as exc:  # noqa: BLE001 - a broken benchmark must not stop the others
            _report_failure(name, exc, args.verbose)
            failed.append(name)
    needs_pg = any(getattr(module, "NEEDS_PG", True) for module in modules.values())
    results: list[BenchResult] = []
    async with _postgres(args.db, needs_pg) as pg_url, _workdir() as workdir:
        for name, module in modules.items():
            ctx = BenchContext(pg_url=pg_url, workdir=os.path.join(workdir, name), quick=args.quick, cli=CLI, cases=frozenset(args.cases))
            os.makedirs(ctx.workdir, exist_ok=True)
            _status(f"bench {name}: running…")
            started = time.perf_counter()
            try:
                produced = await module.run(ctx)
                bad = [r for r in produced if not isinstance(r, BenchResult)]
                if bad:
                    raise TypeError(f"run() returned {type(bad[0]).__name__}, not BenchResult")
            except Exception as exc:  # noqa: BLE001 - reported, the others still run
                _report_failure(name, exc, args.verbose)
                failed.append(name)
                continue
            results.extend(produced)
            _status(f"bench {name}: {len(produced)} figures in {time.perf_counter() - started:.1f} s")
    if args.format == "json":
        json.dump(to_json(results), sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(render_table(results))
    return 1 if failed else 0


@contextlib.asynccontextmanager
async def _postgres(url: str | None, needed: bool):
    """The PostgreSQL URL to use: --db, AISHELL_TEST_PG_URL, or a throwaway cluster (removed after)."""
    url = url or os.environ.get("AISHELL_TEST_PG_URL")
    if url or not needed:
        yield url
        return
    from aishell.engine.bench.pgtemp import PgCluster

    _status("bench: starting a throwaway PostgreSQL cluster…")
    cluster = PgCluster()
    try:
        await asyncio.to_thread(_start, cluster)
        yield cluster.url
    finally:
        await asyncio.shield(asyncio.to_thread(cluster.destroy))


def _start(cluster) -> None:
    import subprocess

    from aishell.engine.errors import ConfigurationError

    try:
        cluster.init()
        cluster.start()
        cluster.setup_database()
    except (subprocess.CalledProcessError, OSError, RuntimeError) as exc:
        detail = getattr(exc, "stderr", "") or str(exc)
        raise ConfigurationError(f"could not start a throwaway PostgreSQL cluster ({detail.strip().splitlines()[-1] if detail.strip() else exc}): pass --db URL") from None


@contextlib.asynccontextmanager
async def _workdir():
    with tempfile.TemporaryDirectory(prefix="aishell-bench-") as path:
        yield path


def _report_failure(name: str, exc: BaseException, verbose: bool) -> None:
    from aishell.engine.drivers.url import redact_text

    message = redact_text(str(exc).replace("\n", " ")) or type(exc).__name__
    print(f"aishell: bench {name} failed: {type(exc).__name__}: {message}", file=sys.stderr)
    if verbose:
        traceback.print_exception(exc, file=sys.stderr)


def _status(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
