"""App-wide messages: what workers report back to the screen that started them.

Workers never touch widgets; they post these and the screen's handlers update the panes, so
all widget changes happen on the event loop in message order.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from textual.message import Message


@dataclass
class QueryStarted(Message):
    """A statement was sent to the server."""

    sql: str


@dataclass
class ColumnsReady(Message):
    """The result's columns are known: a new result begins."""

    columns: list[tuple[str, str]]


@dataclass
class RowsFetched(Message):
    """A page of rows arrived from the open stream."""

    rows: list[tuple]


@dataclass
class QueryFinished(Message):
    """The statement completed; no more rows will come."""

    rowcount: int
    elapsed_ms: float
    status: str


@dataclass
class ResultReleased(Message):
    """The open result waited ``idle`` seconds for the grid to ask for more rows: its cursor was
    closed and its transaction released; the ``rows`` loaded stay, more need a re-run."""

    rows: int
    idle: float


@dataclass
class Watching(Message):
    """``\\watch`` ran its statement again at ``at`` (a time of day) and waits ``every`` seconds
    (``every`` 0: the watch ended)."""

    at: str
    every: float


@dataclass
class TransactionChanged(Message):
    """The session's transaction state may have changed (a statement ran or ended, a result
    opened or was released, commit, rollback, manual mode): ``state`` is what
    :attr:`engine.session.Session.transaction` says now."""

    state: Any


@dataclass
class QueryFailed(Message):
    """The statement failed. ``line``/``column`` are 1-based in the editor buffer when known."""

    title: str
    message: str
    line: int | None = None
    column: int | None = None
    connection_lost: bool = False


@dataclass
class ScriptStarted(Message):
    """Several statements run one by one (Run all, ``\\i FILE``): each result gets a tab.
    ``mode`` is ``statements`` (stop on error) or ``transaction`` (one, rolled back on error)."""

    mode: str


@dataclass
class ResultStarted(Message):
    """Statement ``number`` (1-based) of a script starts: the messages that follow are its result."""

    number: int
    label: str
    """The statement's text as typed (the tab shortens it)."""
    line: int | None = None
    column: int | None = None
    """Where it starts in the editor buffer (None: read from a file)."""


@dataclass
class ScriptFinished(Message):
    """A script ended: ``ran`` statements run, ``failed`` the number of the one that failed
    (None: all ran), ``rolled_back`` when one transaction was undone."""

    ran: int
    elapsed_ms: float
    failed: int | None = None
    rolled_back: bool = False
    stopped: bool = False
    """Stopped before its end (Escape, or another run replaced it)."""


@dataclass
class CatalogLoaded(Message):
    """The schema snapshot for completion: table name (lower) -> column names, schemas."""

    tables: dict[str, list[str]]
    schemas: list[str]
    catalog: Any = None
    """The completion catalog built from it (:class:`tui.completion.Catalog`: views, foreign
    keys, functions, types too); None: build one from ``tables`` and ``schemas``."""


@dataclass
class AnalysisReady(Message):
    """Analyzer findings for the statement under the cursor (``offset`` maps them to the buffer)."""

    findings: list[dict[str, Any]]
    line_offset: int
    column_offset: int


@dataclass
class ConnectionChanged(Message):
    """The engine's view of the server changed: ``state`` is connected, reconnecting or
    disconnected; ``detail`` says why when it is not connected (one line, password-free)."""

    state: str
    detail: str = ""


@dataclass
class TunnelChanged(Message):
    """The SSH tunnel under the session went up, is reconnecting, or is down."""

    state: str


@dataclass
class Reconnected(Message):
    """The session was replaced (``\\c`` or recovery after a lost connection)."""

    display_url: str
    read_only: bool
    label: str = ""
    """The saved connection's label or name ("" for a URL or path)."""
    colour: str = "none"
    """The saved connection's colour (:data:`aishell.engine.profiles.COLOURS`; production: red)."""
    tunnel: str = ""
    """The SSH hop the session goes through ("" direct)."""


@dataclass
class BackslashDone(Message):
    """A backslash command finished: ``outcome`` is a table to show or an action (expanded,
    timing, connect) for the screen."""

    outcome: Any
    """The :class:`aishell.engine.commands.Outcome`."""
    elapsed_ms: float


@dataclass
class Exported(Message):
    """An export ended: ``rows`` written to ``path``, or ``error`` (one line), or ``cancelled``
    (nothing written: the file is left as it was)."""

    path: str
    rows: int = 0
    error: str | None = None
    cancelled: bool = False


@dataclass
class TransferProgress(Message):
    """An export or a ``\\copy`` moves rows: how far it is (the transfer bar shows it)."""

    what: str
    """What moves where: ``Exporting to big.csv``, ``\\copy``."""
    rows: int
    size: int = 0
    """Bytes moved so far (0: not counted)."""
    total: int | None = None
    """Bytes there are to move, when known (reading a file)."""


@dataclass
class PlanReady(Message):
    """The plan (EXPLAIN) or index advice of the statement under the cursor, as text and findings."""

    text: str
    findings: list[dict[str, Any]]
    nodes: list[dict[str, Any]] | None = None
    """The plan as a tree (``tui.controllers.insights.plan_nodes``); with advice, the plan before."""
    after: list[dict[str, Any]] | None = None
    """With advice: the plan with the hypothetical index, shown beside ``nodes``."""
    titles: tuple[str, str] = ("Plan", "")
    """What ``nodes`` and ``after`` are, for their headings."""


@dataclass
class RegressionChecked(Message):
    """The statement just run was checked against its shape's usual time: ``alert`` is the
    finding dict to show when it was much slower, None when it was not (any old alert goes)."""

    alert: dict[str, Any] | None
    nodes: list[dict[str, Any]] | None = None
    """With an alert: this run's plan (``tui.controllers.insights.plan_nodes``), when it could be read."""
    fast_nodes: list[dict[str, Any]] | None = None
    """With an alert: the plan kept of the shape's last fast run, when one was kept."""
    titles: tuple[str, str] = ("", "")
    """Headings of the plans shown: the last fast run's (left, when kept) and this run's."""


@dataclass
class InsightUnavailable(Message):
    """An insight could not be had: ``pane`` (suggestions or memory) says why instead."""

    pane: str
    text: str


@dataclass
class MemoryHits(Message):
    """Remembered statements matching the memory search, as plain dicts, best first."""

    hits: list[dict[str, Any]]


@dataclass
class SchemasLoaded(Message):
    """The schema names for the tree's top level."""

    names: list[str]


@dataclass
class TablesLoaded(Message):
    """The tables of one schema: (name, kind, row estimate)."""

    schema: str
    tables: list[tuple[str, str, int]]


@dataclass
class TableLoaded(Message):
    """One table's columns (name, type, nullable) and indexes (name, columns, unique)."""

    schema: str
    table: str
    columns: list[tuple[str, str, bool]]
    indexes: list[tuple[str, tuple[str, ...], bool]]


@dataclass
class ConnectRequested(Message):
    """Connect to ``target`` (``\\c URL``), replacing the session; the app handles it."""

    target: str


@dataclass
class ServerSampled(Message):
    """A refresh of the server pane: its view model (see :mod:`tui.widgets.server`)."""

    model: dict[str, Any]


@dataclass
class ServerNotice(Message):
    """What a server action came to (cancelled, terminated, refused and why, a check's result)."""

    text: str
    severity: str = "information"
