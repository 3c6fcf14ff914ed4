"""Run SQL (-c) or a script file (-f) and print the results: streams, so big results start at once.

A script runs statement by statement and stops at the first error (exit 1, the file and line of
the failing statement on stderr), like ``psql -v ON_ERROR_STOP=1 -f FILE``; ``-1`` runs it in one
transaction, rolled back on error. Backslash lines go through the workbench's command table
(:mod:`aishell.engine.commands`): ``\\i FILE`` nests files, ``\\dt`` prints a table, ``\\c``
connects elsewhere for the rest of the script."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import time

from aishell.tui.cli.target import TARGET_HELP, add_ssh

FORMATS = ("table", "csv", "json", "jsonl")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", help=TARGET_HELP)
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("-c", "--command", dest="sql", help="the statement to run")
    source.add_argument("-f", "--file", help="a script to run statement by statement, with backslash commands (\\i, \\set…); - reads stdin")
    parser.add_argument("-1", "--single-transaction", action="store_true", help="with -f: run the script in one transaction, rolled back on error")
    parser.add_argument("--format", choices=FORMATS, default="table")
    parser.add_argument("--read-only", action="store_true", help="refuse writes: the server's read-only session, statements that would escape it refused, and a check after each (see README)")
    parser.add_argument("--create", action="store_true", help="create the SQLite file if it does not exist")
    parser.add_argument("--page-size", type=int, default=2000, help="rows fetched a round trip")
    add_ssh(parser)


EXIT_FAILED = 1
"""A statement of a script failed (the run stopped there)."""


def main(args: argparse.Namespace) -> int:
    return asyncio.run(_run(args))


async def _run(args: argparse.Namespace) -> int:
    from aishell.engine.config import Settings
    from aishell.engine.errors import QueryCancelled
    from aishell.engine.session import Session

    settings = Settings.load()
    session = await Session.open(args.url, settings=settings, read_only=args.read_only, create=args.create, ssh=args.ssh)
    script = _Script(session, args, sys.stdout)
    loop = asyncio.get_running_loop()
    cancelled = False

    def on_interrupt() -> None:
        nonlocal cancelled
        cancelled = True
        loop.create_task(script.session.cancel())

    try:
        loop.add_signal_handler(signal.SIGINT, on_interrupt)
    except (NotImplementedError, RuntimeError):  # not on the main thread / platform
        pass
    try:
        if args.file is not None:
            code = await script.run()
            if code:
                return code
        else:
            await _print(session.stream(args.sql, page_size=args.page_size), args.format, sys.stdout)
    except QueryCancelled:
        print("aishell: statement cancelled", file=sys.stderr)
        return 130
    finally:
        try:
            loop.remove_signal_handler(signal.SIGINT)
        except (NotImplementedError, RuntimeError):
            pass
        await script.session.close()  # \\c in a script may have replaced the first
    return 130 if cancelled else 0


async def _print(stream, fmt: str, out) -> None:
    """One result, written page by page as it streams."""
    from aishell.tui.output import write_result

    await write_result(stream, fmt, out)


class _Script:
    """``-f FILE``: each step in turn, stopping at the first that fails. Holds the session
    (``\\c`` replaces it)."""

    def __init__(self, session, args: argparse.Namespace, out) -> None:
        self.session = session
        self.args = args
        self.out = out
        self._printed = 0

    async def run(self) -> int:
        from aishell.engine import commands
        from aishell.engine.commands import script
        from aishell.engine.commands.variables import interpolate
        from aishell.engine.errors import AishellError, QueryCancelled
        from aishell.tui.cli import _one_line
        from aishell.tui.output import open_output

        name = self.args.file
        if name == "-":
            text, source = sys.stdin.read(), "<stdin>"
        else:  # read as \\i reads it: the same one-line errors (exit 2)
            source, text = script.load(commands.Outcome(action=script.INCLUDE, argument=name))
        context = commands.Context(session=self.session)
        single = self.args.single_transaction
        steps = script.steps(text, self.session.dialect, source=source)
        step = None
        try:
            if single:
                await self.session.execute("BEGIN")
            async for step in steps:
                if step.command:
                    step.outcome = await self._command(context, step)
                else:
                    self._between()
                    sql = interpolate(step.text, context.variables)  # psql's :NAME, :'NAME', :"NAME"
                    context.last_statement = sql  # what \watch runs again
                    if context.output:  # \o FILE: appended there, in the format its name asks for
                        fmt, out = open_output(context.output)
                        with out:
                            await _print(self.session.stream(sql, page_size=self.args.page_size), fmt, out)
                    else:
                        await _print(self.session.stream(sql, page_size=self.args.page_size), self.args.format, self.out)
            if single:
                await self.session.commit()  # nothing when the script ended the transaction itself
        except QueryCancelled:
            raise
        except AishellError as exc:
            if single:
                try:
                    await self.session.rollback()
                except AishellError:
                    pass
            where = _where(step, exc) if step is not None else source
            print(f"aishell: {where}: {_one_line(exc)}" + (" (rolled back)" if single else ""), file=sys.stderr)
            return EXIT_FAILED
        finally:
            await steps.aclose()
        return 0

    async def _command(self, context, step):
        """Run a backslash line: a table is printed; ``\\c`` reconnects for the rest."""
        from aishell.engine import commands
        from aishell.engine.session import Session
        from aishell.engine.types import Column
        from aishell.tui.output import writer_for

        outcome = await commands.run(context, step.text)
        if outcome.action == "connect":
            session = await Session.open(outcome.argument, settings=self.session.settings, read_only=self.args.read_only)
            await self.session.close()
            self.session = context.session = session
        elif outcome.action == "run":  # \\n NAME: a named query
            self._between()
            await _print(self.session.stream(outcome.argument, page_size=self.args.page_size), self.args.format, self.out)
        elif outcome.action == "notice":
            print(f"aishell: {outcome.argument}", file=sys.stderr)
        elif outcome.action == "advise":  # \\advise: the workload advice, as `aishell advise` prints it
            from aishell.tui.cli.advise import print_advice

            self._between()
            await print_advice(self.session, self.out)
        elif outcome.action == "watch":  # psql's \watch: the last statement again, with a title
            watch = outcome.value
            runs = 0
            while True:
                self._between()
                if self.args.format == "table":
                    self.out.write(f"{time.strftime('%a %d %b %Y %H:%M:%S')} ({outcome.status})\n\n")
                await _print(self.session.stream(outcome.argument, page_size=self.args.page_size), self.args.format, self.out)
                runs += 1
                if watch.count is not None and runs >= watch.count:
                    break
                self.out.flush()
                await asyncio.sleep(watch.seconds)
        elif outcome.action is None:
            self._between()
            writer = writer_for(self.args.format, self.out, [Column(name, type_name) for name, type_name in outcome.columns])
            writer.start()
            writer.rows(outcome.rows)
            writer.finish(len(outcome.rows), 0.0, outcome.status)
        return outcome


    def _between(self) -> None:
        """A blank line between two tables, as psql prints them."""
        if self._printed and self.args.format == "table":
            self.out.write("\n")
        self._printed += 1


def _where(step, exc) -> str:
    """``file:line`` of the failure: the statement's line, moved to the server's position in it."""
    line = step.line
    position = getattr(exc, "line_column", None)
    if position is not None:
        line += position[0] - 1
    return f"{step.source}:{line}"
