"""The main screen: composes the panes, routes their messages and the workers' reports, and maps
keys to actions.

Panes are plain widgets (``tui.widgets``); this screen hands them data and reacts to their
messages. Talking to the Session is the controllers' job (:mod:`tui.controllers`): query running
(:class:`QueryController`), insights (:class:`InsightsController`) and the schema tree's loads
(:class:`CatalogController`) run their workers on this screen and report through
:mod:`tui.messages`; only the handlers here update widgets.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.events import Resize
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, TabbedContent, TabPane

from aishell.tui.buffers import BufferFile
from aishell.tui.compat.textual import Deferred, keymap
from aishell.tui.keys import short_label
from aishell.tui.completion import Catalog
from aishell.tui.controllers.catalog import CatalogController
from aishell.tui.controllers.export import ExportController
from aishell.tui.controllers.insights import InsightsController
from aishell.tui.controllers.query import QueryController
from aishell.tui.controllers.server import ServerController
from aishell.tui.controllers.transaction import TransactionController
from aishell.tui.messages import (
    AnalysisReady,
    BackslashDone,
    CatalogLoaded,
    ColumnsReady,
    ConnectionChanged,
    ConnectRequested,
    TunnelChanged,
    Exported,
    TransferProgress,
    InsightUnavailable,
    MemoryHits,
    PlanReady,
    RegressionChecked,
    QueryFailed,
    QueryFinished,
    QueryStarted,
    Reconnected,
    ResultReleased,
    ResultStarted,
    RowsFetched,
    SchemasLoaded,
    ScriptFinished,
    ScriptStarted,
    TableLoaded,
    TablesLoaded,
    TransactionChanged,
    Watching,
)
from aishell.tui.widgets.editor import EditorPane
from aishell.tui.widgets.keybar import KeyBar
from aishell.tui.widgets.memory import MemoryPane
from aishell.tui.widgets.metrics import MetricsPane
from aishell.tui.widgets.result_tabs import ResultTabs
from aishell.tui.widgets.results import ResultsGrid, claims_escape
from aishell.tui.widgets.schema import SchemaTree
from aishell.tui.screens.server_routes import ServerRoutes
from aishell.tui.widgets.server import ServerPane
from aishell.tui.widgets.transaction import TransactionBadge
from aishell.tui.widgets.suggestions import SuggestionsPane
from aishell.tui.widgets.transfer import TransferBar

if TYPE_CHECKING:
    from aishell.engine.session import Session

PANES = ("editor", "results", "suggestions", "metrics", "memory", "server", "schema")
_INSIGHTS = ("suggestions", "metrics", "memory", "server")
NARROW_WIDTH = 110
"""Below this many columns the schema and insights columns start hidden."""
EDITOR_MIN_WIDTH = 40
"""The side columns fold (insights first) rather than leave the editor narrower than this."""
TITLES = {"schema": "Schema", "editor": "Editor", "results": "Results"}
"""The title in each pane's border (the insights column shows its active tab's)."""


class PaneSlot(Deferred):
    """Mounts ``pane`` after the first frame, like :class:`~textual.lazy.Lazy`, but keeps the
    pane's place on screen meanwhile (styled as ``PaneSlot.-<name>`` in ``app.tcss``)."""

    def __init__(self, pane: Widget, name: str, *, display: bool = True) -> None:
        super().__init__(pane)
        self.add_class(f"-{name}")
        self.display = display
        self.border_title = pane.border_title


class Header(Horizontal):
    """One line: app name, the redacted target, READ-ONLY badge and connection state.

    The state label is written only when what it says changes (an idle header writes nothing).
    """

    link = var("connecting", init=False)
    """The engine's connection state: connecting, connected, reconnecting or disconnected."""
    running = var(False, init=False)
    """A statement is running (shown as ``running`` while connected)."""

    def compose(self) -> ComposeResult:
        yield Label("AIShell", id="brand")
        position = Label("", id="connections")
        position.display = False
        yield position
        profile = Label("", id="profile")
        profile.display = False
        yield profile
        yield Label("connecting…", id="target")
        tunnel = Label("", id="tunnel")
        tunnel.display = False
        yield tunnel
        badge = Label("READ-ONLY", id="read-only")
        badge.display = False
        yield badge
        yield Label("", id="conn-state")
        yield TransactionBadge(id="tx-state")

    def watch_link(self) -> None:
        self._show()

    def watch_running(self) -> None:
        self._show()

    @property
    def state_text(self) -> str:
        """What the state label says (``connecting`` before the first connection)."""
        link = self.link
        if link == "connected":
            return "running" if self.running else "connected"
        return {"reconnecting": "reconnecting…"}.get(link, link)

    def show_profile(self, label: str, colour: str, tunnel: str) -> None:
        """The saved connection's label in its colour, and the SSH hop, beside the target."""
        profile = self.query_one("#profile", Label)
        profile.update(label)
        profile.display = bool(label)
        for name in ("red", "yellow", "green", "blue"):
            profile.set_class(colour == name, f"-{name}")
        hop = self.query_one("#tunnel", Label)
        hop.update(f"ssh {tunnel}" if tunnel else "")
        hop.display = bool(tunnel)

    def show_position(self, index: int, count: int) -> None:
        """``2/3``: which of the open connections this is (shown only with more than one)."""
        position = self.query_one("#connections", Label)
        position.update(f"{index}/{count}" if count > 1 else "")
        position.display = count > 1

    def show_tunnel(self, state: str) -> None:
        """The tunnel's state: up, reconnecting or down (the label keeps the hop's name)."""
        hop = self.query_one("#tunnel", Label)
        hop.set_class(state == "reconnecting", "-busy")
        hop.set_class(state == "down", "-bad")

    def _show(self) -> None:
        text = self.state_text
        label = self.query_one("#conn-state", Label)
        label.update("" if text == "connecting" else text)
        label.set_class(text == "connected", "-ok")
        label.set_class(self.link in ("reconnecting", "disconnected"), "-bad")
        label.set_class(text == "running", "-busy")


def _advice_commands():
    """The palette's workload advice provider, imported when the palette first opens."""
    from aishell.tui.screens.advice import AdviceCommands

    return AdviceCommands


class MainScreen(ServerRoutes, Screen):
    """Editor and results in the centre, schema on the left, insights (suggestions, metrics,
    memory) on the right as tabs. Narrow terminals hide the side columns until asked for."""

    AUTO_FOCUS = "#sql"
    """The editor starts focused (focusing something else first would restyle twice at start-up)."""
    COMMANDS = {_advice_commands}
    """Command palette entries of this screen (beside the app's): workload advice."""
    BINDINGS = [
        Binding("ctrl+j,f5,ctrl+enter", "run", "Run", id="main.run", tooltip="Run the selection, or the statement under the cursor", priority=True),
        Binding("f6", "run_buffer", "Run all", id="main.run_buffer", tooltip="Run the whole buffer", priority=True),
        Binding("shift+f6", "toggle_run_mode", "Run mode", show=False, id="main.run_mode", tooltip="Run all statement by statement (stop on error) or in one transaction", priority=True),
        Binding("alt+pagedown", "result_tab(1)", "Next result", show=False, id="main.next_result", tooltip="Show the next statement's result (Run all)", priority=True),
        Binding("alt+pageup", "result_tab(-1)", "Previous result", show=False, id="main.previous_result", tooltip="Show the previous statement's result (Run all)", priority=True),
        Binding("escape,ctrl+c", "cancel", "Cancel", id="main.cancel", tooltip="Cancel the running statement on the server", priority=True),
        Binding("f7", "explain", "Explain", id="main.explain", tooltip="Show the plan of the statement under the cursor", priority=True),
        Binding("shift+f7", "explain_analyze", "Explain analyze", show=False, id="main.explain_analyze", tooltip="Run the statement under the cursor and show its plan with times (a write asks first and is rolled back)", priority=True),
        Binding("f8", "advise", "Advice", show=False, id="main.advise", tooltip="Index advice for the statement under the cursor", priority=True),
        Binding("shift+f8", "workload_advice", "Workload advice", show=False, id="main.workload_advice", tooltip="Index advice for the whole workload of this database (also \\advise)", priority=True),
        Binding("alt+e", "focus_pane('editor')", "Editor", show=False, id="main.focus_editor", tooltip="Focus the editor", priority=True),
        Binding("alt+r", "focus_pane('results')", "Results", show=False, id="main.focus_results", tooltip="Focus the results", priority=True),
        Binding("alt+s", "focus_pane('suggestions')", "Suggestions", show=False, id="main.focus_suggestions", tooltip="Focus the suggestions", priority=True),
        Binding("alt+m", "focus_pane('metrics')", "Metrics", show=False, id="main.focus_metrics", tooltip="Focus the metrics", priority=True),
        Binding("alt+h", "focus_pane('memory')", "Memory", show=False, id="main.focus_memory", tooltip="Focus the memory search", priority=True),
        Binding("alt+a", "focus_pane('server')", "Server", show=False, id="main.focus_server", tooltip="Focus the server pane: sessions, locks, top statements, health", priority=True),
        Binding("alt+d", "focus_pane('schema')", "Schema", show=False, id="main.focus_schema", tooltip="Focus the schema tree", priority=True),
        Binding("f2", "next_pane", "Next pane", show=False, id="main.next_pane", tooltip="Move the focus to the next visible pane", priority=True),
        Binding("ctrl+b", "toggle_schema", "Schema", id="main.toggle_schema", tooltip="Show or hide the schema tree"),
        Binding("f9", "toggle_insights", "Insights", id="main.toggle_insights", tooltip="Show or hide suggestions, metrics and memory", priority=True),
        Binding("f10", "maximize", "Maximize", id="main.maximize", tooltip="Maximize the focused pane (again: restore)", priority=True),
        Binding("alt+t", "toggle_manual_commit", "Tx mode", show=False, id="main.toggle_manual_commit", tooltip="Switch between auto-commit and manual commit (a transaction stays open until you commit)", priority=True),
        Binding("alt+c", "commit", "Commit", show=False, id="main.commit", tooltip="Commit the open transaction", priority=True),
        Binding("alt+z", "rollback", "Roll back", show=False, id="main.rollback", tooltip="Roll the open transaction back", priority=True),
    ]

    def __init__(self, *, narrow: bool = False, buffers: BufferFile | None = None) -> None:
        super().__init__(classes="-narrow" if narrow else None)
        self.session: Session | None = None
        """This screen's connection (None while connecting): each open connection has its own
        screen, and the app sets it when it connects or ``\\c`` replaces it."""
        self.buffers = buffers
        """Where the editor keeps its buffers (None: ``buffers.json``, the first connection's)."""
        self.query_runner = QueryController(self)
        """Runs statements, backslash commands and cancel."""
        self.exporter = ExportController(self)
        """Writes results to files (exports, ``\\copy``'s progress)."""
        self.query_runner.commands.progress = self.exporter.progress
        self.insights = InsightsController(self)
        """Findings, plans, advice, memory search and metrics."""
        self.catalog = CatalogController(self)
        self.server = ServerController(self, shown=self._server_shown)
        """The server pane's samples (only while it is shown) and its cancel and terminate."""
        """The schema tree's loads and the completion catalog."""
        self.transactions = TransactionController(self, stop_result=self.stop_result)
        """Manual-commit mode, commit and rollback, and the question before leaving a transaction."""
        self._metrics_timer: Timer | None = None
        self._metrics_pane: MetricsPane | None = None
        self._pending_run: tuple[str, int, int] | None = None
        self._statement_at: tuple[int | None, int | None] = (None, None)
        self.analyses = 0
        """How many analyzer results were shown (tests wait on it)."""
        self.timing = True
        """Show how long statements took (``\\timing``)."""
        self.narrow = narrow

    # -- composition ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        settings = self.app.settings
        yield Header(id="header")
        with Horizontal(id="workspace"):
            # The side columns are mounted right after the first frame (start-up time); their
            # slots keep the place meanwhile, so nothing moves when they arrive.
            tree = SchemaTree(id="schema")
            tree.display = not self.narrow
            tree.border_title = TITLES["schema"]
            yield PaneSlot(tree, "schema", display=tree.display)
            with Vertical(id="center"):
                editor = EditorPane(buffers=self.buffers or BufferFile(settings.data_dir / "buffers.json"), id="editor")
                editor.border_title = TITLES["editor"]
                yield editor
                results = ResultsGrid(page_size=settings.ui.page_size, id="results")
                results.border_title = TITLES["results"]
                yield ResultTabs(results, mode=self.query_runner.mode, id="result-tabs")
            insights = TabbedContent(id="insights", initial="tab-suggestions")
            insights.display = not self.narrow
            insights.border_title = "Suggestions"
            with PaneSlot(insights, "insights", display=insights.display):
                with TabPane("Suggestions", id="tab-suggestions"):
                    yield SuggestionsPane(id="suggestions")
                # Hidden tabs are mounted after the first frame (start-up time).
                with TabPane("Metrics", id="tab-metrics"):
                    yield Deferred(MetricsPane(id="metrics"))
                with TabPane("Memory", id="tab-memory"):
                    yield Deferred(MemoryPane(id="memory"))
                with TabPane("Server", id="tab-server"):
                    yield Deferred(ServerPane(id="server"))
        yield KeyBar(id="keybar")

    def _key_hints(self) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
        """The key bar's keys where the focus is: Run and Run all, the focused pane's shown keys,
        then the screen's; Help and Quit pinned (never crowded out at 80 columns)."""
        remapped = keymap(self.app)
        pinned_ids = ("app.help", "app.quit")
        leading = ("main.run", "main.run_buffer")
        trailing = ("main.cancel", "main.explain", "main.next_pane", "main.toggle_schema", "main.toggle_insights", "main.maximize")
        labels = {"main.run_buffer": "Run all", "main.next_pane": "Pane", "main.toggle_insights": "Insights",
                  "editor.new_buffer": "New", "editor.close_buffer": "Close"}
        chain = [self.focused, *self.focused.ancestors] if self.focused is not None else []
        pane = [b for node in chain if node is not self and node is not self.app for b in _bindings(node) if b.show]
        found = {b.id: b for b in (*pane, *_bindings(self), *_bindings(self.app))}
        order = dict.fromkeys((*leading, *(b.id for b in pane), *trailing))

        def key(binding_id: str) -> tuple[str, str]:
            binding = found[binding_id]
            first = remapped.get(binding_id, binding.key).split(",")[0]
            return short_label(first), labels.get(binding_id, binding.description)

        keys = [key(i) for i in order if i in found and i not in pinned_ids]
        return keys, [key(i) for i in pinned_ids if i in found]

    def on_descendant_focus(self) -> None:
        self.query_one(KeyBar).show(*self._key_hints())

    def on_mount(self) -> None:
        if self.app.is_headless:  # steady cursors in tests and snapshots
            from textual.widgets import Input

            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one(EditorPane).text_area.focus()
        self._metrics_timer = self.set_interval(max(0.1, self.app.settings.ui.metrics_interval), self._show_metrics, pause=True)

    def on_resize(self, event: Resize) -> None:
        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.narrow:
            self.narrow = narrow
            self.set_class(narrow, "-narrow")
            # query, not query_one: right after start-up the side panes may still be in their slots
            for pane in self.query("#schema, #insights, PaneSlot"):
                pane.display = not narrow
        self._fold_side_columns()

    def _fold_side_columns(self, keep: str | None = None) -> None:
        """Once laid out: hide side columns, the insights first (``keep``, the one just asked
        for, last), until the editor has :data:`EDITOR_MIN_WIDTH` columns."""

        def fold() -> None:
            shown = [pane for pane in self.query("#insights, #schema") if pane.display]
            shown.sort(key=lambda pane: (pane.id == keep, pane.id == "schema"))
            center = self.size.width - sum(pane.outer_size.width for pane in shown)
            for pane in shown:
                if center >= EDITOR_MIN_WIDTH:
                    break
                pane.display = False
                center += pane.outer_size.width
                if any(w.has_focus for w in pane.query("*")) or pane.has_focus:
                    self.query_one(EditorPane).text_area.focus()

        self.call_after_refresh(fold)

    @on(TabbedContent.TabActivated, "#insights")
    def _insights_tab(self, event: TabbedContent.TabActivated) -> None:
        """The insights column's border says which tab is shown."""
        event.control.border_title = str(event.tab.label.plain)
        self.server.watch(event.pane.id == "tab-server")
        self._sample_metrics(event.pane.id == "tab-metrics")

    def on_screen_suspend(self) -> None:
        """Another open connection came to the front: this one's metrics stop being sampled
        (a dialog over this screen leaves them running)."""
        if self.app.screen_stack[0] is not self and self._metrics_timer is not None:
            self._metrics_timer.pause()

    def on_screen_resume(self) -> None:
        insights = self.query("#insights")
        if insights:  # (not yet mounted at start-up: its tab's activation starts the sampling)
            self._sample_metrics(insights.first(TabbedContent).active == "tab-metrics")

    def _sample_metrics(self, shown: bool) -> None:
        """Metrics are sampled while their tab is in front (a timer ticking twice a second for a
        hidden tab cost an idle workbench 0.5% of a core)."""
        if self._metrics_timer is None or self.session is None:
            return
        if shown:
            self._metrics_timer.resume()
            self._show_metrics()
        else:
            self._metrics_timer.pause()

    @property
    def connection_state(self) -> str:
        """What the header's state label says: connecting, connected, running, reconnecting…,
        disconnected."""
        return self.query_one(Header).state_text

    # -- connection -------------------------------------------------------------------------------

    def on_reconnected(self, message: Reconnected) -> None:
        if self.query(PaneSlot):  # the side panes mount right after the first frame: then
            self.call_after_refresh(self.post_message, message)
            return
        self.query_one("#target", Label).update(message.display_url)
        self.query_one("#read-only").display = message.read_only
        self.query_one(Header).show_profile(message.label, message.colour, message.tunnel)
        self.query_one(Header).link = "connected"
        self.query_one(EditorPane).set_dialect(self.session.dialect, self.session.driver.language)
        self.query_one(ResultsGrid).value_text = self.session.driver.value_text  # psql's forms on PostgreSQL
        self.query_one(SchemaTree).set_schemas([])
        self.catalog.schemas()
        self.catalog.snapshot()
        self.catalog.watch()
        self._sample_metrics(self.query_one("#insights", TabbedContent).active == "tab-metrics")
        self.transactions.changed()
        self._init_memory()
        self.insights.analyze_now()
        if self._pending_run is not None:
            pending, self._pending_run = self._pending_run, None
            self.submit(*pending)

    def _init_memory(self) -> None:
        if not self.query(MemoryPane):  # still being mounted (lazily): try again after the next refresh
            self.call_after_refresh(self._init_memory)
            return
        if self.session.memory is not None:  # a damaged memory file moved aside, at open or later
            self.session.memory.subscribe(self._memory_notice)
        self.insights.search("")

    def notify(self, message: str, *, title: str = "", severity: Any = "information", timeout: float | None = None, markup: bool = True) -> None:
        """A notice from a connection behind the one in front says which connection it is about
        (it shows over whatever is in front: "Reconnected" alone would seem to be about that one)."""
        connections = getattr(self.app, "connections", None)
        if connections is not None and len(connections) > 1 and connections.active is not self and self.session is not None:
            profile = self.session.profile
            name = profile.title if profile is not None else self.session.display_url
            title = f"{name} · {title}" if title else name
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def _memory_notice(self, text: str) -> None:
        self.notify(text, title="Memory", severity="warning", timeout=10)

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """The engine saw the server go or come back (it probes by itself meanwhile)."""
        header = self.query_one(Header)
        was = header.link
        header.link = message.state
        header.query_one("#conn-state", Label).tooltip = message.detail or None
        if message.state == "connected" and was in ("reconnecting", "disconnected"):
            self.notify("Connection re-established.", title="Reconnected", timeout=4)

    def on_tunnel_changed(self, message: TunnelChanged) -> None:
        """The SSH hop's state, beside its name in the header."""
        self.query_one(Header).show_tunnel(message.state)

    # -- running statements -----------------------------------------------------------------------

    def action_run(self) -> None:
        self._after_typing(lambda: self.query_one(EditorPane).run_request("auto"))

    def action_run_buffer(self) -> None:
        self._after_typing(lambda: self.query_one(EditorPane).run_request("buffer"))

    def _after_typing(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the keys already queued for the focused widget are applied.

        Priority bindings fire as their key arrives, ahead of keys still waiting in the editor's
        queue: without this, a paste or a fast typist's F5 would run half the statement.
        """
        focused = self.app.focused
        if focused is None:
            callback()
        else:
            focused.call_later(callback)

    @on(EditorPane.RunRequested)
    def _run_requested(self, event: EditorPane.RunRequested) -> None:
        event.stop()
        self.submit(event.sql, event.line, event.column)

    def submit(self, sql: str, line: int = 1, column: int = 1) -> None:
        """Run ``sql`` (typed at ``line``/``column`` of the buffer): backslash commands, the
        confirmation for destructive statements, then the query worker."""
        if self.session is None:
            self._pending_run = (sql, line, column)
            self.notify("Connecting… the statement runs once connected.", timeout=3)
            return
        tabs = self.query_one(ResultTabs)
        head, _, last = sql.rstrip().rpartition("\n")
        if head.strip() and last.lstrip().startswith("\\watch"):
            # psql's habit: the query, then \watch on the line below it, which watches that query
            from aishell.engine.commands.variables import interpolate

            self.query_runner.commands.last_statement = interpolate(head.strip(), self.query_runner.commands.variables)
            tabs.single()
            self.query_runner.backslash(last.strip())
            return
        several = self._several(sql)
        if sql.lstrip().startswith("\\") and not several:
            tabs.single()  # (\\i FILE turns the tabs on again)
            self.query_runner.backslash(sql.strip())
            return
        from aishell.engine.statements import describe

        def run(sql: str, line: int, column: int) -> None:
            if several:
                self.query_runner.run_script(sql, line, column)
            elif self.query_runner.commands.output:  # \o FILE: the result goes to the file, not the grid
                self.exporter.to_output(sql, self.query_runner.commands.output)
            else:
                tabs.single()  # one result, one grid: a script's tabs go now, not when it ends
                self.query_runner.run(sql, line, column)

        if not several and self.query_runner.commands.variables:
            from aishell.engine.commands.variables import interpolate

            sql = interpolate(sql, self.query_runner.commands.variables)  # psql's :NAME, :'NAME', :"NAME"
        info = describe(sql, self.session.dialect)
        if info.destructive and self.app.settings.ui.confirm_destructive:
            from aishell.tui.screens.dialogs import ConfirmScreen

            def confirmed(ok: bool | None) -> None:
                if ok:
                    run(sql, line, column)
                else:
                    self.notify("Not run.", timeout=2)

            self.app.push_screen(ConfirmScreen(info.reason or "This statement changes or removes data.", sql), confirmed)
            return
        run(sql, line, column)

    def _several(self, sql: str) -> bool:
        """More than one statement (or backslash line): run one by one, a result tab each."""
        if self.session.driver.language != "sql":
            return False
        from aishell.engine.statements.split import split

        return len(split(sql, self.session.dialect, psql=True)) > 1

    def on_query_started(self, message: QueryStarted) -> None:
        grid = self.query_one(ResultTabs).live
        grid.clear()
        if self.timing:
            grid.set_running(True)
        self.query_one(Header).running = True

    def on_columns_ready(self, message: ColumnsReady) -> None:
        self.query_one(ResultTabs).live.set_columns(message.columns)

    def on_rows_fetched(self, message: RowsFetched) -> None:
        grid = self.query_one(ResultTabs).live
        grid.set_running(False)
        grid.append_rows(message.rows)
        self.query_one(Header).running = False

    @on(ResultsGrid.NeedRows)
    def _need_rows(self, event: ResultsGrid.NeedRows) -> None:
        event.stop()
        if self.query_one(ResultTabs).shows_live:  # not a finished tab being shown again
            self.query_runner.more(event.count)

    @on(ResultsGrid.ViewRequested)
    def _view_requested(self, event: ResultsGrid.ViewRequested) -> None:
        """Sort or filter a result still streaming: the server does it, else the loaded rows."""
        event.stop()
        reason = self.query_runner.run_view(event.where, event.order) if self.session is not None else "not connected"
        if reason:
            event.grid.apply_view_locally(reason)

    def on_query_finished(self, message: QueryFinished) -> None:
        tabs = self.query_one(ResultTabs)
        tabs.live.finish(message.rowcount, message.elapsed_ms if self.timing else None, message.status)
        tabs.changed()
        self.query_one(Header).running = False
        sql = self.query_runner.sql
        self.query_one(EditorPane).set_frequencies(self.insights.learn(sql))
        self.insights.check_regression(sql or "", message.elapsed_ms)
        if sql:
            from aishell.engine.statements import describe

            if describe(sql, self.session.dialect).kind == "ddl":
                self.catalog.snapshot()

    def on_query_failed(self, message: QueryFailed) -> None:
        tabs = self.query_one(ResultTabs)
        line, column = message.line, message.column
        if line is None and tabs.scripting:  # no position from the server: the statement's start
            line, column = self._statement_at
        tabs.live.show_error(f"{message.title}: {message.message}" if message.title else message.message, line, column)
        tabs.changed()
        if line is not None and column is not None:
            self.query_one(EditorPane).mark_error(line, column)
        # A lost connection shows in the header when the engine has checked the server
        # (ConnectionChanged): a backend that was killed while the server is up changes nothing.
        self.query_one(Header).running = False

    async def action_cancel(self) -> None:
        if self.exporter.cancel():
            return
        if self.query_runner.rows_waiting:
            self.stop_result()
            return
        watching = self.query_runner.watching
        if await self.query_runner.cancel():
            self.notify("\\watch stopped." if watching else "Cancel sent to the server.", timeout=2)

    def stop_result(self) -> bool:
        """Close a result whose rows wait on the server (its cursor closes, the rows loaded stay).
        False when a statement is still running (cancel it first)."""
        if self.query_runner.rows_waiting:
            self.query_runner.stop()
            grid = self.query_one(ResultTabs).live
            grid.finish(grid.row_count, None, f"stopped after {grid.row_count} rows", complete=False)
            self.query_one(Header).running = False
            return True
        return not (self.session is not None and self.session.busy)

    def on_watching(self, message: Watching) -> None:
        """``\\watch`` ran again (or ended): the grid's border says when, and how to stop."""
        grid = self.query_one(ResultTabs).live
        grid.border_subtitle = f"\\watch every {message.every:g} s · last run {message.at} · Esc stops" if message.every else None

    def on_result_released(self, message: ResultReleased) -> None:
        """The result waited too long for the grid to ask for more: its cursor is closed."""
        grid = self.query_one(ResultTabs).live
        grid.finish(message.rows, None, f"result released after {message.idle:g} s idle; run again for more rows", complete=False)
        self.query_one(Header).running = False

    def on_transaction_changed(self, message: TransactionChanged) -> None:
        state = message.state
        self.query_one(TransactionBadge).show(state.status, manual=state.manual, snapshot=state.snapshot)
        for grid in self.query(ResultsGrid):  # only one with more rows to come shows it
            grid.held = "snapshot held" if state.snapshot else ""

    def action_toggle_manual_commit(self) -> None:
        self.transactions.toggle_manual()

    def action_commit(self) -> None:
        self.transactions.commit()

    def action_rollback(self) -> None:
        self.transactions.rollback()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            if self.query_one(EditorPane).completion_open:
                return False  # Escape closes the completion menu; the next one cancels
            if claims_escape(self.app.focused):
                return False  # Escape closes the grid's prompt, selection, search or fetch first
            runner = self.query_runner
            return self.exporter.running or (self.session is not None and (self.session.busy or runner.streaming or runner.scripting or runner.watching))
        return True

    def on_backslash_done(self, message: BackslashDone) -> None:
        outcome = message.outcome
        grid = self.query_one(ResultsGrid)
        if outcome.action == "expanded":
            for each in self.query(ResultsGrid):
                each.expanded_auto = outcome.value == "auto"
            if outcome.value == "auto":
                self.notify("Expanded display is used automatically.", timeout=2)
                return
            grid.expanded = (not grid.expanded) if outcome.value is None else outcome.value
            self.notify(f"Expanded display is {'on' if grid.expanded else 'off'}.", timeout=2)
        elif outcome.action == "run":  # \n NAME: a named query
            self.submit(outcome.argument)
        elif outcome.action == "notice":
            self.notify(outcome.argument, timeout=3)
        elif outcome.action == "null":
            from aishell.tui.widgets.results import set_null_text

            set_null_text(outcome.argument)
            self.notify(outcome.status, timeout=2)
            for each in self.query(ResultsGrid):
                each.body.refresh()
        elif outcome.action == "timing":
            self.timing = (not self.timing) if outcome.value is None else outcome.value
            self.notify(f"Timing is {'on' if self.timing else 'off'}.", timeout=2)
        elif outcome.action == "connect":
            self.app.post_message(ConnectRequested(outcome.argument))
        elif outcome.action == "watch":
            self.query_runner.watch(outcome.argument, outcome.value)
            self.notify(f"Watching: {outcome.status}. Escape stops.", timeout=3)
        elif outcome.action == "advise":
            self.action_workload_advice()
        elif outcome.action == "edit":
            from aishell.tui.screens.buffer_actions import edit_externally

            edit_externally(self, self.query_one(EditorPane))
        else:
            tabs = self.query_one(ResultTabs)
            grid = tabs.live
            grid.clear()
            grid.set_columns(outcome.columns)
            if outcome.rows:
                grid.append_rows(outcome.rows)
            grid.finish(len(outcome.rows), message.elapsed_ms if self.timing else None, outcome.status)
            tabs.changed()

    def on_script_started(self, message: ScriptStarted) -> None:
        self.query_one(ResultTabs).begin(message.mode)
        self.query_one(Header).running = True

    def on_result_started(self, message: ResultStarted) -> None:
        self._statement_at = (message.line, message.column)
        self.query_one(ResultTabs).add(message.number, message.label)

    def on_script_finished(self, message: ScriptFinished) -> None:
        self.query_one(ResultTabs).end(message.ran, message.elapsed_ms, message.failed, message.rolled_back, stopped=message.stopped)
        self.query_one(Header).running = False

    def action_toggle_run_mode(self) -> None:
        mode = self.query_runner.toggle_mode()
        self.query_one(ResultTabs).set_mode(mode)
        text = "one transaction, rolled back on error" if mode == "transaction" else "statement by statement, stopping at the first error"
        self.notify(f"Run all runs {text}.", title="Run mode", timeout=3)

    def action_result_tab(self, step: int) -> None:
        tabs = self.query_one(ResultTabs)
        if tabs.slots:
            tabs.show((tabs.active + step) % len(tabs.slots))

    @on(EditorPane.BufferRequested)
    def _buffer_requested(self, event: EditorPane.BufferRequested) -> None:
        event.stop()
        from aishell.tui.screens.buffer_actions import handle

        handle(self, event)

    @on(ResultsGrid.ExportRequested)
    def _export(self, event: ResultsGrid.ExportRequested) -> None:
        event.stop()
        live = self.query_one(ResultTabs).shows_live  # not an earlier statement's tab shown again
        self.exporter.requested(event.grid, event.fmt, event.path, sql=self.query_runner.sql if live else None)

    def on_transfer_progress(self, message: TransferProgress) -> None:
        TransferBar.report(self, message.what, message.rows, message.size, message.total)

    def on_exported(self, message: Exported) -> None:
        TransferBar.done(self)
        if message.error is not None:
            self.notify(message.error, title="Export failed", severity="error")
        elif message.cancelled:
            self.notify(f"Export cancelled: {message.path} not written.", title="Export", timeout=3)
        else:
            self.notify(f"{message.rows:,} rows written to {message.path}", title="Exported")

    # -- analysis, explain, advice ----------------------------------------------------------------

    @on(EditorPane.StatementChanged)
    def _statement_changed(self, event: EditorPane.StatementChanged) -> None:
        event.stop()
        self.insights.statement_changed(event.sql, event.line, event.column)

    def on_analysis_ready(self, message: AnalysisReady) -> None:
        self.analyses += 1
        shifted = []
        for finding in message.findings:
            item = dict(finding)
            fl, fc = item.get("line"), item.get("column")
            if isinstance(fl, int):
                item["line"] = fl + message.line_offset - 1
                if fl == 1 and isinstance(fc, int):
                    item["column"] = fc + message.column_offset - 1
            shifted.append(item)
        self.query_one(SuggestionsPane).show_findings(shifted)

    @on(SuggestionsPane.FindingSelected)
    def _finding_selected(self, event: SuggestionsPane.FindingSelected) -> None:
        event.stop()
        if event.line and self.maximized is None:  # maximized, the finding only opens in place
            self.query_one(EditorPane).mark_error(event.line, event.column or 1)

    @on(SuggestionsPane.ExplainRequested)
    def _explain_requested(self, event: SuggestionsPane.ExplainRequested) -> None:
        event.stop()
        self.action_explain_analyze() if event.analyze else self.action_explain()

    @on(SuggestionsPane.AdviceRequested)
    def _advice_requested(self, event: SuggestionsPane.AdviceRequested) -> None:
        event.stop()
        self.action_advise()

    def action_explain(self) -> None:
        self._after_typing(lambda: self._plan(self.insights.explain))

    def action_advise(self) -> None:
        self._after_typing(lambda: self._plan(self.insights.advise))

    def action_workload_advice(self) -> None:
        """The workload advice screen; a statement it hands back goes into the editor."""
        from aishell.tui.screens.advice import AdviceScreen

        if self.session is None:
            self.notify("Not connected yet.", title="Workload advice", timeout=3)
            return

        def closed(statement: str | None) -> None:
            if statement:
                self.query_one(EditorPane).insert_statement(statement)

        self.app.push_screen(AdviceScreen(self.session), closed)

    def action_explain_analyze(self) -> None:
        self._after_typing(lambda: self._plan(self._explain_analyze))

    def _explain_analyze(self, sql: str) -> None:
        """EXPLAIN ANALYZE runs the statement: a write runs in a transaction rolled back, once
        the user says so; a read-only session never runs it (the plan says ANALYZE was skipped)."""
        from aishell.engine.statements import describe

        if not describe(sql, self.session.dialect).is_write:
            self.insights.explain(sql, analyze=True)
            return
        if self.session.read_only:
            self.insights.explain(sql, analyze=True, allow_writes=False)
            return
        from aishell.tui.screens.dialogs import ConfirmScreen

        def confirmed(ok: bool | None) -> None:
            if ok:
                self.insights.explain(sql, analyze=True, allow_writes=True)
            else:
                self.notify("Not run.", timeout=2)

        reason = "EXPLAIN ANALYZE runs the statement to time it. It writes: it runs inside a transaction that is rolled back."
        self.app.push_screen(ConfirmScreen(reason, sql, title="Run this write to time its plan?"), confirmed)

    def _plan(self, ask: Callable[[str], None]) -> None:
        self._show_insight("suggestions")
        if self.session is None:
            self.notify("Connecting… try again once connected.", severity="warning", timeout=3)
            return
        found = self.query_one(EditorPane).current_statement()
        if found is None:
            self.notify("No statement under the cursor.", severity="warning")
            return
        ask(found[0])

    def on_plan_ready(self, message: PlanReady) -> None:
        self.query_one(SuggestionsPane).show_plan(message.text, message.findings, message.nodes, message.after, message.titles)

    def on_regression_checked(self, message: RegressionChecked) -> None:
        pane = self.query_one(SuggestionsPane)
        pane.show_alert(message.alert)
        if message.alert is not None and message.nodes:
            if message.fast_nodes:  # the last fast run's plan on the left, this run's beside it
                pane.show_plan("", [], message.fast_nodes, message.nodes, message.titles)
            else:
                pane.show_plan("", [], message.nodes, None, (message.titles[1] + " · no plan kept of a fast run", ""))

    def on_insight_unavailable(self, message: InsightUnavailable) -> None:
        pane = self.query_one(SuggestionsPane) if message.pane == "suggestions" else self.query_one(MemoryPane)
        pane.show_unavailable(message.text)

    # -- metrics and memory -----------------------------------------------------------------------

    def _show_metrics(self) -> None:
        pane = self._metrics_pane
        if pane is None:  # mounted after the first frame; found once (a DOM query a tick costs CPU idle)
            found = self.query(MetricsPane)
            if not found:
                return
            pane = self._metrics_pane = found.first()
        pane.update_metrics(*self.insights.metrics())

    @on(MemoryPane.SearchChanged)
    def _memory_search(self, event: MemoryPane.SearchChanged) -> None:
        event.stop()
        self.insights.search(event.text)

    def on_memory_hits(self, message: MemoryHits) -> None:
        self.query_one(MemoryPane).show_hits(message.hits)
        self.query_one(EditorPane).set_frequencies(self.insights.frequencies)

    @on(MemoryPane.PinRequested)
    def _memory_pin(self, event: MemoryPane.PinRequested) -> None:
        event.stop()
        self.insights.pin(event.id, event.pinned, event.pane.search_text)

    @on(MemoryPane.ForgetRequested)
    def _memory_forget(self, event: MemoryPane.ForgetRequested) -> None:
        event.stop()
        self.insights.forget(event.id, event.pane.search_text)

    @on(MemoryPane.Recall)
    def _memory_recall(self, event: MemoryPane.Recall) -> None:
        event.stop()
        self.query_one(EditorPane).insert_statement(event.text)

    # -- server pane ------------------------------------------------------------------------------

    def _server_shown(self) -> bool:
        insights = self.query_one("#insights", TabbedContent)
        return insights.display and insights.active == "tab-server" and self.app.screen is self

    @on(ServerPane.OpenRequested)
    async def _server_open(self, event: ServerPane.OpenRequested) -> None:
        """From a session or statement to its fix: a new buffer with it, its plan and index
        advice, and the remembered runs of it in the memory pane."""
        event.stop()
        editor = self.query_one(EditorPane)
        await editor.open_buffer("from server", event.statement)
        self.insights.search(event.statement)
        self._show_insight("suggestions")
        self.insights.advise(event.statement)

    # -- schema tree and completion catalog -------------------------------------------------------

    def on_schemas_loaded(self, message: SchemasLoaded) -> None:
        tree = self.query_one(SchemaTree)
        names = message.names
        tree.set_schemas(names)
        if len(names) == 1:
            tree.expand_schema(names[0])
        elif "public" in names:
            tree.expand_schema("public")

    @on(SchemaTree.Expand)
    def _schema_expand(self, event: SchemaTree.Expand) -> None:
        event.stop()
        self.catalog.node(event.schema, event.table)

    def on_tables_loaded(self, message: TablesLoaded) -> None:
        self.query_one(SchemaTree).set_tables(message.schema, message.tables)

    def on_table_loaded(self, message: TableLoaded) -> None:
        self.query_one(SchemaTree).set_table_details(message.schema, message.table, message.columns, message.indexes)

    @on(SchemaTree.InsertName)
    def _insert_name(self, event: SchemaTree.InsertName) -> None:
        event.stop()
        area = self.query_one(EditorPane).text_area
        area.insert(event.text)
        area.focus()

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        editor = self.query_one(EditorPane)
        editor.set_catalog(message.catalog if message.catalog is not None else Catalog(message.tables, message.schemas))
        # Schema-aware rules (missing index, large table scans) can run now: analyze again.
        if self.insights.pending is None:
            self.insights.pending = editor.current_statement()
        self.insights.analyze_now()

    # -- layout -----------------------------------------------------------------------------------

    def _pane(self, name: str) -> Widget:
        return self.query_one(f"#{name}")

    def _show_insight(self, name: str) -> None:
        insights = self.query_one("#insights", TabbedContent)
        if not insights.display:
            insights.display = True
            self._fold_side_columns(keep="insights")
        insights.active = f"tab-{name}"

    def action_focus_pane(self, name: str) -> None:
        if self.maximized is not None:
            self.minimize()
        if name in _INSIGHTS:
            self._show_insight(name)
        elif name == "schema" and not self._pane("schema").display:
            self._pane("schema").display = True
            self._fold_side_columns(keep="schema")
        pane = self._pane(name)
        if name == "editor":
            self.query_one(EditorPane).text_area.focus()
            return
        target = pane if pane.can_focus else next((w for w in pane.query("*") if w.focusable), pane)
        target.focus()

    def action_next_pane(self) -> None:
        order = ("editor", "results", "insights", "schema")
        focused = self.focused
        current = next((i for i, name in enumerate(order) if focused is not None and (focused.id == name or any(a.id == name for a in focused.ancestors))), -1)
        for step in range(1, len(order) + 1):
            name = order[(current + step) % len(order)]
            if self._pane(name).display:
                if name == "insights":
                    active = self.query_one("#insights", TabbedContent).active.removeprefix("tab-")
                    self.action_focus_pane(active or "suggestions")
                else:
                    self.action_focus_pane(name)
                return

    def action_toggle_schema(self) -> None:
        tree = self._pane("schema")
        tree.display = not tree.display
        if tree.display:
            self._fold_side_columns(keep="schema")
            tree.focus()
        elif tree.has_focus:
            self.query_one(EditorPane).text_area.focus()

    def action_toggle_insights(self) -> None:
        insights = self.query_one("#insights")
        insights.display = not insights.display
        if insights.display:
            self._fold_side_columns(keep="insights")
        if not insights.display and any(w.has_focus for w in insights.query("*")):
            self.query_one(EditorPane).text_area.focus()

    def action_maximize(self) -> None:
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is None:
            return
        for name in ("editor", "results", "insights", "schema"):
            pane = self._pane(name)
            if focused is pane or pane in focused.ancestors:
                self.maximized = pane
                return

    def save_buffers(self) -> None:
        self.query_one(EditorPane).save()


def _bindings(node: Any) -> list[Binding]:
    """The bindings with an id that ``node``'s classes declare, the most derived first."""
    return [b for cls in type(node).__mro__ for b in cls.__dict__.get("BINDINGS", ()) if isinstance(b, Binding) and b.id]
