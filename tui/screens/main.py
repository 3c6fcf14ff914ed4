"""The main screen: the panes, the keys that drive them, and the workers that talk to the Session.

Panes are plain widgets (``tui.widgets``); this screen hands them data and reacts to their
messages. Every database call runs in a worker (``@work(exclusive=True, exit_on_error=False)``)
and reports back through :mod:`tui.messages`; database errors are shown in the results pane,
never raised into the app.
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import time
from typing import Any

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.lazy import Lazy
from textual.reactive import var
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Label, Static, TabbedContent, TabPane

from aishell.engine.encode import export_rows
from aishell.engine.errors import AishellError, ConnectionLost, QueryCancelled, QueryError
from aishell.tui import backslash
from aishell.tui.buffers import BufferFile
from aishell.tui.completion import Catalog, frequencies_from_statements
from aishell.tui.messages import (
    AnalysisReady,
    CatalogLoaded,
    ColumnsReady,
    ConnectionChanged,
    QueryFailed,
    QueryFinished,
    QueryStarted,
    Reconnected,
    RowsFetched,
)
from aishell.tui.widgets.editor import EditorPane
from aishell.tui.widgets.results import ResultsGrid
from aishell.tui.widgets.schema import SchemaTree

from aishell.tui.widgets.memory import MemoryPane
from aishell.tui.widgets.metrics import MetricsPane
from aishell.tui.widgets.suggestions import SuggestionsPane

PANES = ("editor", "results", "suggestions", "metrics", "memory", "schema")
_INSIGHTS = ("suggestions", "metrics", "memory")


def _plain(value: Any) -> Any:
    """Snapshots and findings as plain dicts for the widgets (which never see engine types)."""
    if value is None or isinstance(value, dict):
        return value
    as_dict = getattr(value, "as_dict", None)
    if callable(as_dict):
        return as_dict()
    if dataclasses.is_dataclass(value):
        return dataclasses.asdict(value)
    return {k: getattr(value, k) for k in dir(value) if not k.startswith("_") and not callable(getattr(value, k))}


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class PaneSlot(Lazy):
    """Mounts ``pane`` after the first frame, like :class:`~textual.lazy.Lazy`, but keeps the
    pane's place on screen meanwhile (styled as ``PaneSlot.-<name>`` in ``app.tcss``)."""

    def __init__(self, pane: Widget, name: str, *, display: bool = True) -> None:
        super().__init__(pane)
        self.add_class(f"-{name}")
        self.display = display


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
        yield Label("connecting…", id="target")
        badge = Label("READ-ONLY", id="read-only")
        badge.display = False
        yield badge
        yield Label("", id="conn-state")

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

    def _show(self) -> None:
        text = self.state_text
        label = self.query_one("#conn-state", Label)
        label.update("" if text == "connecting" else text)
        label.set_class(text == "connected", "-ok")
        label.set_class(self.link in ("reconnecting", "disconnected"), "-bad")
        label.set_class(text == "running", "-busy")


class MainScreen(Screen):
    """Editor and results in the centre, schema on the left, insights (suggestions, metrics,
    memory) on the right as tabs. Narrow terminals hide the side columns until asked for."""

    AUTO_FOCUS = "#sql"
    """The editor starts focused (focusing something else first would restyle twice at start-up)."""
    BINDINGS = [
        Binding("ctrl+j,f5,ctrl+enter", "run", "Run", id="main.run", tooltip="Run the selection, or the statement under the cursor", priority=True),
        Binding("f6", "run_buffer", "Run all", id="main.run_buffer", tooltip="Run the whole buffer", priority=True),
        Binding("escape,ctrl+c", "cancel", "Cancel", id="main.cancel", tooltip="Cancel the running statement on the server", priority=True),
        Binding("f7", "explain", "Explain", id="main.explain", tooltip="Show the plan of the statement under the cursor", priority=True),
        Binding("f8", "advise", "Advice", show=False, id="main.advise", tooltip="Index advice for the statement under the cursor", priority=True),
        Binding("alt+e", "focus_pane('editor')", "Editor", show=False, id="main.focus_editor", tooltip="Focus the editor", priority=True),
        Binding("alt+r", "focus_pane('results')", "Results", show=False, id="main.focus_results", tooltip="Focus the results", priority=True),
        Binding("alt+s", "focus_pane('suggestions')", "Suggestions", show=False, id="main.focus_suggestions", tooltip="Focus the suggestions", priority=True),
        Binding("alt+m", "focus_pane('metrics')", "Metrics", show=False, id="main.focus_metrics", tooltip="Focus the metrics", priority=True),
        Binding("alt+h", "focus_pane('memory')", "Memory", show=False, id="main.focus_memory", tooltip="Focus the memory search", priority=True),
        Binding("alt+d", "focus_pane('schema')", "Schema", show=False, id="main.focus_schema", tooltip="Focus the schema tree", priority=True),
        Binding("f2", "next_pane", "Next pane", show=False, id="main.next_pane", tooltip="Move the focus to the next visible pane", priority=True),
        Binding("ctrl+b", "toggle_schema", "Schema", id="main.toggle_schema", tooltip="Show or hide the schema tree"),
        Binding("f9", "toggle_insights", "Insights", id="main.toggle_insights", tooltip="Show or hide suggestions, metrics and memory", priority=True),
        Binding("f10", "maximize", "Maximize", id="main.maximize", tooltip="Maximize the focused pane (again: restore)", priority=True),
    ]

    def __init__(self, *, narrow: bool = False) -> None:
        super().__init__(classes="-narrow" if narrow else None)
        self._stream_need: asyncio.Event | None = None
        self._stream_paused = False
        self._query_sql = ""
        self._query_start = (1, 1)
        self._analysis_timer: Timer | None = None
        self._metrics_timer: Timer | None = None
        self._pending_statement: tuple[str, int, int] | None = None
        self._frequencies: dict[str, float] = {}
        self._pending_run: tuple[str, int, int] | None = None
        self.analyses = 0
        """How many analyzer results were shown (tests wait on it)."""
        self.timing = True
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
            yield PaneSlot(tree, "schema", display=tree.display)
            with Vertical(id="center"):
                yield EditorPane(buffers=BufferFile(settings.data_dir / "buffers.json"), id="editor")
                yield ResultsGrid(page_size=settings.ui.page_size, id="results")
            insights = TabbedContent(id="insights", initial="tab-suggestions")
            insights.display = not self.narrow
            with PaneSlot(insights, "insights", display=insights.display):
                with TabPane("Suggestions", id="tab-suggestions"):
                    yield SuggestionsPane(id="suggestions")
                # Hidden tabs are mounted after the first frame (start-up time).
                with TabPane("Metrics", id="tab-metrics"):
                    yield Lazy(MetricsPane(id="metrics"))
                with TabPane("Memory", id="tab-memory"):
                    yield Lazy(MemoryPane(id="memory"))
        yield Static(self._key_hints(), id="keybar")

    def _key_hints(self) -> Text:
        """The main keys as one line (cheaper than a Footer, which recomposes on every focus change)."""
        keymap = getattr(self.app, "_keymap", {}) or {}
        wanted = ("app.help", "main.run", "main.run_buffer", "main.cancel", "main.explain", "editor.format",
                  "main.next_pane", "main.toggle_schema", "main.toggle_insights", "main.maximize", "app.quit")
        labels = {"main.run_buffer": "Run all", "main.next_pane": "Pane", "main.toggle_insights": "Insights"}
        bindings = {b.id: b for cls in (type(self.app), MainScreen, EditorPane) for b in cls.BINDINGS if isinstance(b, Binding)}
        text = Text()
        for binding_id in wanted:
            binding = bindings.get(binding_id)
            if binding is None:
                continue
            key = keymap.get(binding_id, binding.key).split(",")[0].strip()
            text.append(f" {_key_label(key)} ", style="bold reverse")
            text.append(f" {labels.get(binding_id, binding.description)}  ")
        return text

    def on_mount(self) -> None:
        if self.app.is_headless:  # steady cursors in tests and snapshots
            from textual.widgets import Input

            for field in self.query(Input):
                field.cursor_blink = False
        self.query_one(EditorPane).text_area.focus()
        self._metrics_timer = self.set_interval(max(0.1, self.app.settings.ui.metrics_interval), self._refresh_metrics, pause=True)

    def on_resize(self, event: Any) -> None:
        from aishell.tui.app import NARROW_WIDTH

        narrow = event.size.width < NARROW_WIDTH
        if narrow != self.narrow:
            self.narrow = narrow
            self.set_class(narrow, "-narrow")
            # query, not query_one: right after start-up the side panes may still be in their slots
            for pane in self.query("#schema, #insights, PaneSlot"):
                pane.display = not narrow

    @property
    def session(self) -> Any:
        return self.app.session

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
        self.query_one(Header).link = "connected"
        session = self.session
        editor = self.query_one(EditorPane)
        editor.set_dialect(session.dialect)
        tree = self.query_one(SchemaTree)
        tree.set_schemas([])
        self.load_schemas()
        self.load_catalog()
        self._metrics_timer.resume()
        self._refresh_metrics()
        self._init_memory()
        self._analyze_now()
        if self._pending_run is not None:
            pending, self._pending_run = self._pending_run, None
            self.submit(*pending)

    def _init_memory(self) -> None:
        memory = self.query(MemoryPane).first() if self.query(MemoryPane) else None
        if memory is None:  # still being mounted (lazily): try again after the next refresh
            self.call_after_refresh(self._init_memory)
            return
        if not callable(getattr(self.session, "recall", None)):
            memory.show_unavailable("Memory is not available in this build (Session.recall is missing).")
        else:
            if self.session.memory is not None:  # a damaged memory file moved aside, at open or later
                self.session.memory.subscribe(self._memory_notice)
            self.search_memory("")

    def _memory_notice(self, text: str) -> None:
        self.notify(text, title="Memory", severity="warning", timeout=10)
        self.search_memory("")  # the fresh memory's list

    def on_connection_changed(self, message: ConnectionChanged) -> None:
        """The engine saw the server go or come back (it probes by itself meanwhile)."""
        header = self.query_one(Header)
        was = header.link
        header.link = message.state
        header.query_one("#conn-state", Label).tooltip = message.detail or None
        if message.state == "connected" and was in ("reconnecting", "disconnected"):
            self.notify("Connection re-established.", title="Reconnected", timeout=4)

    # -- running statements -----------------------------------------------------------------------

    def action_run(self) -> None:
        self._after_typing(lambda: self.query_one(EditorPane).run_request("auto"))

    def action_run_buffer(self) -> None:
        self._after_typing(lambda: self.query_one(EditorPane).run_request("buffer"))

    def _after_typing(self, callback: Any) -> None:
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
        if sql.lstrip().startswith("\\"):
            self.run_backslash(sql.strip())
            return
        from aishell.engine.statements import describe

        info = describe(sql, self.session.dialect)
        if info.destructive and self.app.settings.ui.confirm_destructive:
            from aishell.tui.screens.dialogs import ConfirmScreen

            def confirmed(ok: bool | None) -> None:
                if ok:
                    self.run_query(sql, line, column)
                else:
                    self.notify("Not run.", timeout=2)

            self.app.push_screen(ConfirmScreen(info.reason or "This statement changes or removes data.", sql), confirmed)
            return
        self.run_query(sql, line, column)

    @work(exclusive=True, group="query", exit_on_error=False)
    async def run_query(self, sql: str, line: int = 1, column: int = 1) -> None:
        """Stream the result: the first page at once, the next ones when the grid asks."""
        session = self.session
        self._query_sql, self._query_start = sql, (line, column)
        need = self._stream_need = asyncio.Event()
        self.post_message(QueryStarted(sql))
        started = time.perf_counter()
        try:
            async with session.stream(sql) as rows:
                self.post_message(ColumnsReady([(c.name, c.type_name) for c in rows.columns]))
                pages = rows.__aiter__()
                while True:
                    try:
                        page = await pages.__anext__()
                    except StopAsyncIteration:
                        break
                    self.post_message(RowsFetched(page))
                    need.clear()
                    self._stream_paused = True
                    try:
                        await need.wait()
                    finally:
                        self._stream_paused = False
                elapsed = (time.perf_counter() - started) * 1000
                self.post_message(QueryFinished(rows.rowcount, elapsed, rows.status))
        except QueryError as exc:
            where = exc.line_column
            at_line = at_col = None
            if where is not None:
                at_line = line + where[0] - 1
                at_col = where[1] + (column - 1 if where[0] == 1 else 0)
            self.post_message(QueryFailed(exc.title, exc.message + (f"\n{exc.detail}" if exc.detail else "") + (f"\nHint: {exc.hint}" if exc.hint else ""), at_line, at_col))
        except ConnectionLost as exc:
            self.post_message(QueryFailed(exc.title, str(exc), connection_lost=True))
        except AishellError as exc:
            self.post_message(QueryFailed(exc.title, str(exc)))
        finally:
            if self._stream_need is need:
                self._stream_need = None

    def on_query_started(self, message: QueryStarted) -> None:
        grid = self.query_one(ResultsGrid)
        grid.clear()
        if self.timing:
            grid.set_running(True)
        self.query_one(Header).running = True

    def on_columns_ready(self, message: ColumnsReady) -> None:
        self.query_one(ResultsGrid).set_columns(message.columns)

    def on_rows_fetched(self, message: RowsFetched) -> None:
        grid = self.query_one(ResultsGrid)
        grid.set_running(False)
        grid.append_rows(message.rows)
        self.query_one(Header).running = False

    @on(ResultsGrid.NeedRows)
    def _need_rows(self, event: ResultsGrid.NeedRows) -> None:
        event.stop()
        if self._stream_need is not None:
            self._stream_need.set()

    def on_query_finished(self, message: QueryFinished) -> None:
        grid = self.query_one(ResultsGrid)
        grid.finish(message.rowcount, message.elapsed_ms if self.timing else None, message.status)
        self.query_one(Header).running = False
        self._learn(self._query_sql)
        if self._query_sql:
            from aishell.engine.statements import describe

            if describe(self._query_sql, self.session.dialect).kind == "ddl":
                self.load_catalog()

    def on_query_failed(self, message: QueryFailed) -> None:
        grid = self.query_one(ResultsGrid)
        grid.show_error(f"{message.title}: {message.message}", message.line, message.column)
        if message.line is not None and message.column is not None:
            self.query_one(EditorPane).mark_error(message.line, message.column)
        # A lost connection shows in the header when the engine has checked the server
        # (ConnectionChanged): a backend that was killed while the server is up changes nothing.
        self.query_one(Header).running = False

    async def action_cancel(self) -> None:
        if self._stream_need is not None and self._stream_paused:
            # Rows are waiting on the server: stop fetching and close the cursor.
            self.workers.cancel_group(self, "query")
            grid = self.query_one(ResultsGrid)
            grid.finish(grid.row_count, None, f"stopped after {grid.row_count} rows")
            self._stream_need = None
            self.query_one(Header).running = False
            return
        cancelled = await self.session.cancel() if self.session is not None else False
        if cancelled:
            self.notify("Cancel sent to the server.", timeout=2)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel":
            busy = self.session is not None and (self.session.busy or self._stream_need is not None)
            return True if busy else False
        return True

    # -- backslash commands -----------------------------------------------------------------------

    @work(exclusive=True, group="query", exit_on_error=False)
    async def run_backslash(self, line: str) -> None:
        grid = self.query_one(ResultsGrid)
        started = time.perf_counter()
        try:
            outcome = await backslash.run(self.session, line)
        except backslash.BackslashError as exc:
            grid.show_error(str(exc), None, None)
            return
        except AishellError as exc:
            self.post_message(QueryFailed(exc.title, str(exc), connection_lost=isinstance(exc, ConnectionLost)))
            return
        if outcome.action == "expanded":
            grid.expanded = (not grid.expanded) if outcome.value is None else outcome.value
            self.notify(f"Expanded display is {'on' if grid.expanded else 'off'}.", timeout=2)
        elif outcome.action == "timing":
            self.timing = (not self.timing) if outcome.value is None else outcome.value
            self.notify(f"Timing is {'on' if self.timing else 'off'}.", timeout=2)
        elif outcome.action == "connect":
            self.app.action_connect(outcome.argument)
        else:
            grid.clear()
            grid.set_columns(outcome.columns)
            if outcome.rows:
                grid.append_rows(outcome.rows)
            grid.finish(len(outcome.rows), (time.perf_counter() - started) * 1000 if self.timing else None, outcome.status)

    # -- export -----------------------------------------------------------------------------------

    @on(ResultsGrid.ExportRequested)
    def _export(self, event: ResultsGrid.ExportRequested) -> None:
        event.stop()
        grid = event.grid
        if grid.finished or not self._query_sql:
            try:
                count = export_rows(grid.columns, grid.rows, event.fmt, event.path)
            except (OSError, ValueError) as exc:
                self.notify(str(exc), title="Export failed", severity="error")
                return
            self.notify(f"{count} rows written to {event.path}", title="Exported")
        else:
            self.export_full(self._query_sql, event.fmt, event.path)

    @work(exclusive=True, group="export", exit_on_error=False)
    async def export_full(self, sql: str, fmt: str, path: str) -> None:
        """The result is still streaming: run it again to a file, page by page."""
        self.workers.cancel_group(self, "query")
        self.query_one(ResultsGrid).finish(self.query_one(ResultsGrid).row_count, None, "exporting the full result…")
        import queue

        pages: queue.Queue = queue.Queue(maxsize=4)
        failed = object()

        def stream_rows():
            while True:
                page = pages.get()
                if page is None:
                    return
                if page is failed:
                    raise OSError("the export was interrupted")
                yield from page

        writer = None
        try:
            async with self.session.stream(sql) as rows:
                columns = [(c.name, c.type_name) for c in rows.columns]
                writer = asyncio.ensure_future(asyncio.to_thread(export_rows, columns, stream_rows(), fmt, path))
                try:
                    async for page in rows:
                        await asyncio.to_thread(pages.put, page)
                except BaseException:
                    await asyncio.to_thread(pages.put, failed)
                    raise
                await asyncio.to_thread(pages.put, None)
                total = await writer
        except (AishellError, OSError, ValueError) as exc:
            self.notify(str(exc), title="Export failed", severity="error")
            return
        self.notify(f"{total} rows written to {path}", title="Exported")

    # -- analysis, explain, advice ----------------------------------------------------------------

    @on(EditorPane.StatementChanged)
    def _statement_changed(self, event: EditorPane.StatementChanged) -> None:
        event.stop()
        self._pending_statement = (event.sql, event.line, event.column)
        if self._analysis_timer is not None:
            self._analysis_timer.stop()
        self._analysis_timer = self.set_timer(self.app.settings.ui.analyze_debounce, self._analyze_now)

    def _analyze_now(self) -> None:
        pending = self._pending_statement
        pane = self.query_one(SuggestionsPane)
        session = self.session
        if session is None:
            return
        if not callable(getattr(session, "analyze", None)):
            pane.show_unavailable("The analyzer is not available in this build (Session.analyze is missing).")
            return
        if pending is None or pending[0].lstrip().startswith("\\"):
            pane.show_findings([])
            return
        self.analyze(*pending)

    @work(exclusive=True, group="analyze", exit_on_error=False, thread=True)
    def analyze(self, sql: str, line: int, column: int) -> None:
        """In a thread: the analyzer may take a while on a huge statement; typing goes on."""
        session = self.session
        try:
            result = session.analyze(sql)
            if inspect.isawaitable(result):
                result = asyncio.run_coroutine_threadsafe(result, self.app._loop).result()  # type: ignore[attr-defined]
        except AishellError as exc:
            self.app.call_from_thread(self.query_one(SuggestionsPane).show_unavailable, str(exc))
            return
        findings = getattr(result, "findings", result) or []
        self.post_message(AnalysisReady([_finding(f) for f in findings], line, column))

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
    def _finding_selected(self, event: Any) -> None:
        event.stop()
        if event.line:
            self.query_one(EditorPane).mark_error(event.line, event.column or 1)

    @on(SuggestionsPane.ExplainRequested)
    def _explain_requested(self, event: Any) -> None:
        event.stop()
        self.action_explain()

    @on(SuggestionsPane.AdviceRequested)
    def _advice_requested(self, event: Any) -> None:
        event.stop()
        self.action_advise()

    def action_explain(self) -> None:
        self._after_typing(lambda: self._plan("explain"))

    def action_advise(self) -> None:
        self._after_typing(lambda: self._plan("advise"))

    def _plan(self, kind: str) -> None:
        pane = self.query_one(SuggestionsPane)
        self._show_insight("suggestions")
        if self.session is None or not callable(getattr(self.session, kind, None)):
            pane.show_unavailable(f"{'EXPLAIN' if kind == 'explain' else 'Index advice'} is not available in this build (Session.{kind} is missing).")
            return
        found = self.query_one(EditorPane).current_statement()
        if found is None:
            self.notify("No statement under the cursor.", severity="warning")
            return
        self.plan(kind, found[0])

    @work(exclusive=True, group="plan", exit_on_error=False)
    async def plan(self, kind: str, sql: str) -> None:
        pane = self.query_one(SuggestionsPane)
        try:
            result = await _maybe_await(getattr(self.session, kind)(sql))
        except AishellError as exc:
            pane.show_unavailable(f"{exc.title}: {exc}")
            return
        findings = [_finding(f) for f in getattr(result, "findings", None) or []]
        if kind == "explain":
            pane.show_plan(result.summary, findings)
        else:
            pane.show_plan(_advice_text(result), findings)

    # -- metrics ----------------------------------------------------------------------------------

    def _refresh_metrics(self) -> None:
        session = self.session
        found = self.query(MetricsPane)
        if not found:
            return
        pane = found.first()
        if session is None:
            pane.update_metrics(None, None)
            return
        try:
            snap = session.metrics()
        except AishellError:
            pane.update_metrics(None, None)
            return
        pane.update_metrics(_plain(snap.get("pool")), _plain(snap.get("cache")))

    # -- memory -----------------------------------------------------------------------------------

    @on(MemoryPane.SearchChanged)
    def _memory_search(self, event: Any) -> None:
        event.stop()
        self.search_memory(event.text)

    @work(exclusive=True, group="memory", exit_on_error=False)
    async def search_memory(self, text: str) -> None:
        pane = self.query_one(MemoryPane)
        recall = getattr(self.session, "recall", None)
        if not callable(recall):
            return
        try:
            hits = await _maybe_await(recall(text, limit=50))
        except AishellError as exc:
            pane.show_unavailable(str(exc))
            return
        plain = [_hit(h) for h in (hits or [])]
        pane.show_hits(plain)
        self._frequencies = frequencies_from_statements([h["text"] for h in plain if h.get("text")])
        self.query_one(EditorPane).set_frequencies(self._frequencies)

    @on(MemoryPane.Recall)
    def _memory_recall(self, event: Any) -> None:
        event.stop()
        editor = self.query_one(EditorPane)
        editor.insert_statement(event.text)

    def _learn(self, sql: str) -> None:
        for name, count in frequencies_from_statements([sql]).items():
            self._frequencies[name] = self._frequencies.get(name, 0.0) + count
        self.query_one(EditorPane).set_frequencies(self._frequencies)

    # -- schema tree and completion catalog -------------------------------------------------------

    @work(exclusive=True, group="schemas", exit_on_error=False)
    async def load_schemas(self) -> None:
        try:
            names = await self.session.schemas()
        except AishellError as exc:
            self.notify(str(exc), title="Schema", severity="error")
            return
        tree = self.query_one(SchemaTree)
        tree.set_schemas(names)
        if len(names) == 1:
            tree.expand_schema(names[0])
        elif "public" in names:
            tree.expand_schema("public")

    @on(SchemaTree.Expand)
    def _schema_expand(self, event: Any) -> None:
        event.stop()
        self.load_schema_node(event.schema, event.table)

    @work(exit_on_error=False, group="schema-node")
    async def load_schema_node(self, schema: str, table: str | None) -> None:
        tree = self.query_one(SchemaTree)
        try:
            if table is None:
                tables = await self.session.tables(schema)
                tree.set_tables(schema, [(t.name, t.kind, t.row_estimate) for t in tables])
            else:
                columns = await self.session.columns(table, schema)
                indexes = await self.session.indexes(table, schema)
                tree.set_table_details(
                    schema,
                    table,
                    [(c.name, c.type_name, c.nullable) for c in columns],
                    [(i.name, tuple(i.columns), i.unique) for i in indexes],
                )
        except AishellError as exc:
            self.notify(str(exc), title="Schema", severity="error")

    @on(SchemaTree.InsertName)
    def _insert_name(self, event: Any) -> None:
        event.stop()
        area = self.query_one(EditorPane).text_area
        area.insert(event.text)
        area.focus()

    @work(exclusive=True, group="catalog", exit_on_error=False)
    async def load_catalog(self) -> None:
        try:
            info = await self.session.schema()
        except AishellError:
            return
        default = {s.lower() for s in info.search_path} | {"main", ""}
        tables: dict[str, list[str]] = {}
        for table in info.tables.values():
            key = table.name if table.schema.lower() in default else f"{table.schema}.{table.name}"
            tables[key] = [c.name for c in table.columns]
        self.post_message(CatalogLoaded(tables, sorted({t.schema for t in info.tables.values() if t.schema})))

    def on_catalog_loaded(self, message: CatalogLoaded) -> None:
        editor = self.query_one(EditorPane)
        editor.set_catalog(Catalog(message.tables, message.schemas))
        # Schema-aware rules (missing index, large table scans) can run now: analyze again.
        if self._pending_statement is None:
            self._pending_statement = editor.current_statement()
        self._analyze_now()

    # -- layout -----------------------------------------------------------------------------------

    def _pane(self, name: str) -> Widget:
        return self.query_one(f"#{name}")

    def _show_insight(self, name: str) -> None:
        insights = self.query_one("#insights", TabbedContent)
        insights.display = True
        insights.active = f"tab-{name}"

    def action_focus_pane(self, name: str) -> None:
        if self.maximized is not None:
            self.minimize()
        if name in _INSIGHTS:
            self._show_insight(name)
        elif name == "schema":
            self._pane("schema").display = True
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
            tree.focus()
        elif tree.has_focus:
            self.query_one(EditorPane).text_area.focus()

    def action_toggle_insights(self) -> None:
        insights = self.query_one("#insights")
        insights.display = not insights.display
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


def _key_label(key: str) -> str:
    label = key.replace("ctrl+", "^").replace("alt+", "M-")
    return {"escape": "Esc"}.get(label, label.upper() if len(label) <= 3 else label.capitalize())


def _finding(finding: Any) -> dict[str, Any]:
    """An analyzer Finding as the plain dict the suggestions pane shows."""
    keys = ("code", "rule", "severity", "message", "line", "column", "suggestion")
    if isinstance(finding, dict):
        return {k: finding.get(k) for k in keys}
    return {k: getattr(finding, k, None) for k in keys}


def _advice_text(advice: Any) -> str:
    """Index advice as lines: the advisor's message, then each recommended CREATE INDEX."""
    lines = [getattr(advice, "message", "") or ""]
    for item in getattr(advice, "recommended", []) or []:
        reduction = item.reduction
        gain = f"  (cost −{reduction:.0%})" if reduction is not None else ""
        lines.append(f"✔ {item.statement}{gain}")
    for item in getattr(advice, "rejected", []) or []:
        reduction = item.reduction
        why = "not used by the planner" if not item.used else (f"only −{reduction:.0%}" if reduction is not None else "too little gain")
        lines.append(f"✘ {item.statement}  ({why})")
    return "\n".join(line for line in lines if line)


def _hit(hit: Any) -> dict[str, Any]:
    data = _plain(hit) or {}
    entry = data.get("entry")
    if isinstance(entry, dict):
        data = {**entry, **{k: v for k, v in data.items() if k != "entry"}}
    return {
        "text": data.get("text") or data.get("sql") or data.get("statement") or "",
        "database": data.get("database") or data.get("db") or "",
        "age_s": data.get("age_s") if data.get("age_s") is not None else _age(data.get("started_at")),
        "duration_ms": data.get("duration_ms"),
        "rows": data.get("rows") if data.get("rows") is not None else data.get("rowcount"),
        "success": data.get("success", data.get("ok")),
        "score": data.get("score"),
        "signals": data.get("signals") or {},
    }


def _age(timestamp: Any) -> float | None:
    if isinstance(timestamp, (int, float)):
        return max(0.0, time.time() - float(timestamp))
    return None
