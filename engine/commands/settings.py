"""The commands that change how the front end shows things or where it is connected:
``\\x``, ``\\timing``, ``\\c`` and ``\\?``. They answer with an action, not a table."""

from __future__ import annotations

from aishell.engine.commands.context import Context
from aishell.engine.commands.registry import COMMANDS, CommandError, Outcome, command, toggle
from aishell.engine.drivers.connect_target import USAGE, connect_target
from aishell.engine.errors import UnsupportedURL


@command("\\x", "[on|off|auto]", "Toggle the expanded record view (auto: when a row is wider than the grid)")
async def _x(context: Context, name: str, argument: str) -> Outcome:
    if argument.lower() == "auto":
        return Outcome(action="expanded", value="auto")
    return Outcome(action="expanded", value=toggle(argument))


@command("\\pset", "null TEXT", "How NULL shows in the grid (psql's \\pset null)")
async def _pset(context: Context, name: str, argument: str) -> Outcome:
    option, _, value = argument.partition(" ")
    if option != "null":
        raise CommandError(f"\\pset: only null is supported, got {option or 'nothing'!r}")
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] == "'":
        text = text[1:-1].replace("''", "'")
    context.null_text = text
    return Outcome(action="null", argument=text, status=f'Null display is "{text}".')


@command("\\echo", "TEXT", "Show TEXT")
async def _echo(context: Context, name: str, argument: str) -> Outcome:
    from aishell.engine.commands.variables import interpolate

    return Outcome(action="notice", argument=interpolate(argument, context.variables), status=argument)


@command("\\conninfo", "", "Where the session is connected (never the password)")
async def _conninfo(context: Context, name: str, argument: str) -> Outcome:
    from urllib.parse import urlsplit

    from aishell.engine.drivers.url import tls_settings

    session = context.session
    url = session.display_url  # already redacted by the driver
    parts = urlsplit(url) if "://" in url else None
    rows = [("database", session.driver.name), ("url", url)]
    if parts is not None and parts.hostname:
        rows += [("host", parts.hostname), ("port", str(parts.port or "")), ("user", parts.username or "")]
    rows += [("dbname", (parts.path.lstrip("/") if parts else url) or "")]
    rows.append(("read only", "yes" if session.read_only else "no"))
    rows += tls_settings(session.target)
    if session.profile is not None:
        rows.append(("saved as", session.profile.name + (f" ({session.profile.label})" if session.profile.label else "")))
    if session.tunnel is not None:
        rows.append(("ssh", f"{session.tunnel.hop} ({session.tunnel.state}), to {':'.join(map(str, session.tunnel.remote))}"))
    return Outcome([("setting", "text"), ("value", "text")], rows, f"connected to {url}")


@command("\\timing", "[on|off]", "Toggle showing the elapsed time of each statement")
async def _timing(context: Context, name: str, argument: str) -> Outcome:
    return Outcome(action="timing", value=toggle(argument))


@command("\\c", "DBNAME [USER [HOST [PORT]]] | URL | FILE.db", "Connect to another database, on the same server unless a URL says otherwise (\\connect)", aliases=("\\connect",))
async def _c(context: Context, name: str, argument: str) -> Outcome:
    if not argument:
        raise CommandError(f"\\c needs a database: {USAGE}")
    current = context.session.target if context.session is not None else ""
    try:
        return Outcome(action="connect", argument=connect_target(current, argument))
    except UnsupportedURL as exc:
        raise CommandError(str(exc)) from None


@command("\\?", "", "List the backslash commands", aliases=("\\h", "\\help"))
async def _help(context: Context, name: str, argument: str) -> Outcome:
    return help_outcome()


def help_outcome() -> Outcome:
    rows = [(f"{c.name} {c.usage}".strip(), c.summary) for c in COMMANDS.values()]
    return Outcome([("command", "text"), ("description", "text")], rows, f"{len(rows)} commands")
