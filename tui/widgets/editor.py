"""The SQL editor pane: buffers as tabs, highlighting, completion, run/format/comment/find.

Never imports ``engine``. The app gives it plain data and listens to its messages::

    editor = EditorPane(buffers=BufferFile(path), dialect="sqlite")   # tui.buffers: load()/save(data, dialect)
    editor.set_catalog(Catalog)            # tui.completion.Catalog: tables and columns
    editor.set_frequencies(dict[str, float])   # identifier -> times used (completion ranking)
    editor.set_dialect(str, language)      # sqlglot dialect (formatting), sql or mongosh (completion)
    editor.mark_error(line, column)        # 1-based buffer position: cursor there, word underlined
    editor.insert_statement(text)          # put a statement in the buffer (memory recall)
    editor.text / editor.text_area         # current buffer
    editor.save()                          # persist buffers now (also done on every change, debounced)

    EditorPane.RunRequested(sql, line, column, scope)   # scope: statement | selection | buffer;
                                                        # line/column: 1-based start of sql
    EditorPane.StatementChanged(sql, line, column)      # statement under the cursor (debounce upstream)
    EditorPane.BufferRequested(kind, index, name, text, path)   # close/rename/open/save: the screen
                # asks the user and answers with close_buffer, rename_buffer, open_buffer, saved_to

Keys (binding ids): ctrl+n new buffer [editor.new_buffer], alt+w close [editor.close_buffer],
alt+n rename [editor.rename_buffer], alt+shift+left/right or ctrl+shift+pageup/pagedown move
the buffer's tab [editor.move_buffer_left/right], alt+o open a .sql file [editor.open_file],
ctrl+s save to a .sql file [editor.save_file], ctrl+pagedown/alt+right next [editor.next_buffer],
ctrl+pageup/alt+left previous [editor.prev_buffer], f4 format [editor.format], ctrl+/ (ctrl+_) comment toggle
[editor.toggle_comment], ctrl+f find [editor.find], f3 find next [editor.find_next],
ctrl+space complete [editor.complete]. Running is the app's key (it owns the Session).

The completion menu opens as you type with nothing chosen: Tab takes the first item (or the one
moved to), arrows move, Enter takes an item only once you moved to it and is a newline otherwise,
Escape closes the menu. Escape never moves the focus out of the editor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from rich.style import Style
from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, OptionList, TextArea
from rich.markup import escape
from textual.widgets.option_list import Option
from textual.widgets.text_area import Selection, TextAreaTheme

from aishell.tui.completion import Catalog, Completion, complete
from aishell.tui.completion.mongo import complete as complete_mongo
from aishell.tui.sqltext import format_sql, location_of, offset_of, statement_at, toggle_comment, tokenize
from aishell.tui.widgets.buffer_strip import BufferStrip


class BufferStore(Protocol):
    """Where buffers live between runs (the app gives ``tui.buffers.BufferFile``)."""

    def load(self) -> dict[str, Any] | None:
        """``{"active": int, "buffers": [{"name", "text", "cursor"}]}`` or None."""

    def save(self, data: dict[str, Any], dialect: str | None) -> None:
        """Persist ``data`` (the store decides what must not be written). Raises OSError."""


_WORD_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_$\"")
# Where the menu opens with nothing typed yet: after "alias.", a join's ON, "USING (", a column
# list such as "INSERT INTO t (", and "*" (expand it).
_EAGER = ("qualified", "join", "using", "columns_of", "star")
_KEYWORDS = frozenset(
    """ADD ALL ALTER ANALYZE AND ANY ARRAY AS ASC ATTACH AUTOINCREMENT BEGIN BETWEEN BIGINT BOOLEAN BY
    CASCADE CASE CAST CHECK COLLATE COLUMN COMMIT CONFLICT CONSTRAINT COPY CREATE CROSS CURRENT CURRENT_DATE
    CURRENT_TIME CURRENT_TIMESTAMP DATABASE DATE DEALLOCATE DECIMAL DECLARE DEFAULT DEFERRABLE DELETE DESC
    DETACH DISTINCT DO DOUBLE DROP EACH ELSE END ESCAPE EXCEPT EXCLUSIVE EXISTS EXPLAIN EXTENSION FALSE FETCH
    FILTER FIRST FLOAT FOLLOWING FOR FOREIGN FROM FULL FUNCTION GLOB GRANT GROUP GROUPS HAVING IF ILIKE IMMEDIATE
    IN INDEX INNER INSERT INSTEAD INT INTEGER INTERSECT INTERVAL INTO IS ISNULL JOIN JSON JSONB KEY LANGUAGE LAST
    LATERAL LEFT LIKE LIMIT MATCH MATERIALIZED MERGE NATURAL NO NOT NOTHING NOTNULL NULL NULLS NUMERIC OF
    OFFSET ON ONLY OR ORDER OTHERS OUTER OVER PARTITION PLAN PRAGMA PRECEDING PRIMARY RANGE REAL RECURSIVE
    REFERENCES REFRESH REGEXP REINDEX RELEASE RENAME REPLACE RESTRICT RETURNING REVOKE RIGHT ROLE ROLLBACK ROW
    ROWS SAVEPOINT SCHEMA SELECT SEQUENCE SERIAL SET SHOW SIMILAR SMALLINT SOME TABLE TEMP TEMPORARY TEXT THEN
    TIES TIME TIMESTAMP TIMESTAMPTZ TO TRANSACTION TRIGGER TRUE TRUNCATE TYPE UNBOUNDED UNION UNIQUE UPDATE
    USING UUID VACUUM VALUES VARCHAR VIEW VIRTUAL WHEN WHERE WINDOW WITH WITHOUT""".split()
)


def _keywords() -> frozenset[str]:
    return _KEYWORDS


def syntax_theme(variables: dict[str, str]) -> TextAreaTheme:
    """A TextArea theme whose syntax colours come from the app theme's variables."""

    from textual.color import Color, ColorParseError

    def style(name: str, **kw: bool) -> Style:
        try:
            color = Color.parse(variables.get(name, "")).rich_color
        except (ColorParseError, ValueError):
            color = None
        return Style(color=color, **kw)

    return TextAreaTheme(
        name="aishell",
        syntax_styles={
            "keyword": style("primary", bold=True),
            "function": style("accent"),
            "string": style("success"),
            "number": style("warning"),
            "comment": style("foreground-darken-3", italic=True),
            "quoted": style("secondary"),
            "operator": style("secondary"),
            "param": style("warning", italic=True),
            "backslash": style("accent", bold=True),
            "error": style("error", bold=True, underline=True),
        },
    )


class SqlTextArea(TextArea):
    """A TextArea that highlights SQL with the forgiving lexer (no tree-sitter needed), marks an
    error's token without selecting it, and hands arrow/tab/enter/escape keys to the completion
    menu while it is open."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.error_range: tuple[int, int] | None = None
        """Character offsets of the token an error points at (underlined until the text changes)."""
        self._error_text: str | None = None
        super().__init__(*args, **kwargs)  # builds the highlight map, which reads the two above

    def mark_range(self, start: int, end: int) -> None:
        """Underline ``text[start:end]`` (an error's token) until the next edit; no selection,
        so the next key typed does not replace it."""
        self.error_range = (start, end)
        self._error_text = self.text
        self._build_highlight_map()
        self.refresh()

    def _recompute_cursor_offset(self) -> None:
        # Textual's undo/redo shrink the document before they put the selection back; a
        # scrollbar that appears or goes in between asks where the old cursor row is, and that
        # row may be gone (Textualize/textual#6686: "document line index 4 is out of bounds"
        # after F4 then Ctrl-Z). The cursor is restored right after: clamp only for this sum.
        self._cursor_offset = self.wrapped_document.location_to_offset(self.clamp_visitable(self.cursor_location))

    def undo(self) -> None:
        super().undo()
        self._after_history_step()

    def redo(self) -> None:
        super().redo()
        self._after_history_step()

    def _after_history_step(self) -> None:
        # Textual adds the next keystroke to the batch an undo uncovered (a newline, then "as"
        # typed after an undo, became one batch), and re-wraps a batch by its outermost edits
        # only: undoing such a batch left the view a line off the text (IndexError on render).
        # A fresh batch after every undo/redo, and a full re-wrap (cheap next to a keystroke).
        self.history.checkpoint()
        self.wrapped_document.wrap(self.wrap_width, self.indent_width)
        self.scroll_cursor_visible()
        self.refresh()

    def _build_highlight_map(self) -> None:
        self._line_cache.clear()
        highlights = self._highlights
        highlights.clear()
        text = self.text
        if len(text) > 500_000:
            return
        keywords = _keywords()
        tokens = tokenize(text)
        line_starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                line_starts.append(i + 1)
        import bisect

        def add(start: int, end: int, name: str) -> None:
            row = bisect.bisect_right(line_starts, start) - 1
            end_row = bisect.bisect_right(line_starts, end - 1) - 1
            if row == end_row:
                line = text[line_starts[row] : end]
                start_b = len(text[line_starts[row] : start].encode())
                highlights[row].append((start_b, len(line.encode()), name))
            else:
                highlights[row].append((len(text[line_starts[row] : start].encode()), None, name))
                for r in range(row + 1, end_row):
                    highlights[r].append((0, None, name))
                highlights[end_row].append((0, len(text[line_starts[end_row] : end].encode()), name))

        for index, tok in enumerate(tokens):
            kind = tok.kind
            if kind == "word":
                if index + 1 < len(tokens) and tokens[index + 1].text == "(" and tokens[index + 1].start == tok.end:
                    name = "function"
                elif tok.upper in keywords:
                    name = "keyword"
                else:
                    continue
            elif kind == "op":
                name = "operator"
            elif kind in ("string", "number", "comment", "quoted", "param", "backslash"):
                name = kind
            else:
                continue
            add(tok.start, tok.end, name)
        if self.error_range is not None:
            if text != self._error_text:  # edited since: the position no longer means anything
                self.error_range = self._error_text = None
            elif self.error_range[0] < self.error_range[1] <= len(text):
                add(*self.error_range, "error")  # last, so it is drawn over the syntax colour

    async def _on_key(self, event: events.Key) -> None:
        pane = self.parent
        if not isinstance(pane, EditorPane):
            await super()._on_key(event)
            return
        key = event.key
        if key.startswith("alt+"):
            # A terminal sends Alt-W as ESC w, which arrives as alt+w carrying the character w:
            # a key with Alt is a command (a binding of the pane or the screen), never text:
            # skip TextArea's insert, let the key bubble on to the bindings.
            event.prevent_default()
            return
        if pane.menu.display and key in ("down", "up", "tab", "enter", "escape"):
            # A key that arrives before the menu caught up with the typing (a fast typist, a
            # paste) only brings the menu up to date: a menu never applies to text typed after
            # it opened, nor to a menu the user has not seen.
            stale = key != "escape" and not pane.completion_is_current()
            if stale:
                pane.refresh_completion()
            if not pane.menu.display:
                pass  # nothing completes here: the key does what it does in text
            elif key == "enter" and (stale or pane.menu.highlighted is None):
                pane.hide_completion()  # the user never moved into the menu: a newline
            else:
                event.prevent_default()
                event.stop()
                if key == "escape":
                    pane.hide_completion()
                elif stale:
                    pass
                elif key in ("down", "up"):
                    pane.menu.action_cursor_down() if key == "down" else pane.menu.action_cursor_up()
                else:  # tab, or enter on the item the user moved to
                    pane.accept_completion()
                return
        if key == "escape":
            # TextArea's escape moves the focus on (tab_behavior="indent"); then the next line
            # typed would go to the results grid as commands. The editor keeps the focus.
            event.prevent_default()
            event.stop()
            return
        await super()._on_key(event)


class CompletionMenu(OptionList, can_focus=False):
    """The dropdown under the cursor; the editor keeps focus and drives it."""


@dataclass(slots=True)
class Buffer:
    name: str
    text: str = ""
    cursor: tuple[int, int] = (0, 0)
    path: str | None = None
    """The .sql file the buffer was opened from or saved to (None: only in the buffers file)."""


class EditorPane(Vertical):
    """Tabs of SQL buffers over one text area, with find bar and completion menu."""

    BINDINGS = [
        Binding("ctrl+n", "new_buffer", "New buffer", id="editor.new_buffer", tooltip="Open a new, empty buffer"),
        Binding("alt+w", "close_buffer", "Close buffer", id="editor.close_buffer", tooltip="Close the current buffer (asks when its text is not saved to a file)"),
        Binding("alt+n", "rename_buffer", "Rename", show=False, id="editor.rename_buffer", tooltip="Rename the current buffer"),
        Binding("alt+shift+left,ctrl+shift+pageup", "move_buffer(-1)", "Move left", show=False, id="editor.move_buffer_left", tooltip="Move the current buffer's tab one place left"),
        Binding("alt+shift+right,ctrl+shift+pagedown", "move_buffer(1)", "Move right", show=False, id="editor.move_buffer_right", tooltip="Move the current buffer's tab one place right"),
        Binding("alt+o", "open_file", "Open", show=False, id="editor.open_file", tooltip="Open a .sql file in a new buffer"),
        Binding("ctrl+s", "save_file", "Save", show=False, id="editor.save_file", tooltip="Save the current buffer to a .sql file"),
        Binding("ctrl+pagedown,alt+right", "next_buffer", "Next buffer", show=False, id="editor.next_buffer", tooltip="Switch to the next buffer"),
        Binding("ctrl+pageup,alt+left", "prev_buffer", "Previous buffer", show=False, id="editor.prev_buffer", tooltip="Switch to the previous buffer"),
        Binding("f4", "format", "Format", id="editor.format", tooltip="Pretty-print the statement under the cursor (or the selection)"),
        Binding("ctrl+underscore,ctrl+slash", "toggle_comment", "Comment", show=False, id="editor.toggle_comment", tooltip="Comment or uncomment the selected lines"),
        Binding("ctrl+f", "find", "Find", id="editor.find", tooltip="Find text in the buffer"),
        Binding("f3", "find_next", "Find next", show=False, id="editor.find_next", tooltip="Find the next match"),
        Binding("ctrl+@,ctrl+space", "complete", "Complete", show=False, id="editor.complete", tooltip="Show completions at the cursor"),
    ]

    @dataclass
    class RunRequested(Message):
        """Run ``sql`` (``scope``: statement, selection or buffer); ``line``/``column``: 1-based start."""

        editor: "EditorPane"
        sql: str
        line: int
        column: int
        scope: str

        @property
        def control(self) -> "EditorPane":
            return self.editor

    @dataclass
    class StatementChanged(Message):
        """The statement under the cursor changed (text or position)."""

        editor: "EditorPane"
        sql: str
        line: int
        column: int

        @property
        def control(self) -> "EditorPane":
            return self.editor

    @dataclass
    class BufferRequested(Message):
        """Buffer ``index`` needs the user or a file: ``kind`` is close (its text may be lost),
        rename, open (a file into a new buffer) or save (to ``path`` or a file to choose)."""

        editor: "EditorPane"
        kind: str
        index: int
        name: str
        text: str
        path: str | None

        @property
        def control(self) -> "EditorPane":
            return self.editor

    def __init__(self, *, buffers: BufferStore | None = None, dialect: str | None = None, id: str | None = None) -> None:
        super().__init__(id=id)
        self._store = buffers
        self._dialect = dialect
        self._language = "sql"
        self._buffers: list[Buffer] = []
        self._active = 0
        self._catalog = Catalog()
        self._frequencies: dict[str, float] = {}
        self._completion: Completion | None = None
        self._completion_at: tuple[str, tuple[int, int]] | None = None
        """The text and cursor the open menu was computed for."""
        self._last_statement: tuple[str, int] | None = None
        self._find_text = ""
        self._save_timer = None
        self._switching = False
        self._area: SqlTextArea | None = None
        self._just_completed = False
        self._load()

    # -- composition ------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield BufferStrip(self.buffer_names, self._active, id="buffer-tabs")
        area = self._area = SqlTextArea(
            self._buffers[self._active].text,
            id="sql",
            show_line_numbers=True,
            soft_wrap=False,
            tab_behavior="indent",
            placeholder="Type SQL · F5 or Ctrl-J runs the statement under the cursor · F1 lists every key · \\? lists backslash commands",
        )
        area.indent_width = 4
        yield area
        finder = Input(placeholder="Find… (Enter: next, Escape: close)", id="find")
        finder.display = False
        yield finder
        menu = CompletionMenu(id="completion")
        menu.display = False
        yield menu

    def on_mount(self) -> None:
        self.text_area.cursor_blink = not self.app.is_headless  # steady cursor in tests and snapshots
        self._apply_theme()
        self.watch(self.app, "theme", lambda _: self._apply_theme(), init=False)
        cursor = self._buffers[self._active].cursor
        self.text_area.cursor_location = cursor

    def _apply_theme(self) -> None:
        area = self.text_area
        area.register_theme(syntax_theme(self.app.theme_variables))
        area.theme = "aishell"

    # -- public API -------------------------------------------------------------------------------

    @property
    def text_area(self) -> SqlTextArea:
        return self._area

    @property
    def menu(self) -> CompletionMenu:
        return self.query_one("#completion", CompletionMenu)

    @property
    def text(self) -> str:
        return self.text_area.text

    @property
    def buffer_names(self) -> list[str]:
        return [b.name for b in self._buffers]

    @property
    def active_buffer(self) -> int:
        return self._active

    def set_catalog(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def set_frequencies(self, frequencies: dict[str, float]) -> None:
        self._frequencies = {k.lower(): v for k, v in frequencies.items()}

    def set_dialect(self, dialect: str | None, language: str = "sql") -> None:
        """The session's sqlglot dialect (formatting) and its statements' language (``sql`` or
        ``mongosh``: which completion runs)."""
        self._dialect = dialect
        self._language = language

    def mark_error(self, line: int, column: int) -> None:
        """Put the cursor on a 1-based buffer position and underline the word there.

        Not a selection: the next key typed would replace the word (``selec 1`` became ``w 1``).
        """
        area = self.text_area
        area.cursor_location = (max(0, line - 1), max(0, column - 1))
        row, col = area.cursor_location  # clamped to the document
        text_line = area.document.get_line(row)
        end = col
        while end < len(text_line) and (text_line[end].isalnum() or text_line[end] in "_$"):
            end += 1
        start = offset_of(area.text, row, col)
        area.mark_range(start, start + max(end - col, 1 if col < len(text_line) else 0))
        area.focus()

    def insert_statement(self, sql: str) -> None:
        """Append ``sql`` as a new statement (or fill an empty buffer) and put the cursor on it.

        An edit, not a reload: Ctrl-Z takes it back and the buffer's undo history stays.
        """
        area = self.text_area
        text = area.text
        current = text.rstrip()
        if not current:
            area.replace(sql, (0, 0), area.document.end, maintain_selection_offset=False)
            area.cursor_location = (0, 0)
        else:
            sep = "\n\n" if current.endswith(";") else ";\n\n"
            area.replace(sep + sql, location_of(text, len(current)), area.document.end, maintain_selection_offset=False)
            area.cursor_location = (area.document.line_count - 1 - sql.count("\n"), 0)
        area.focus()

    def current_statement(self) -> tuple[str, int, int] | None:
        """The statement under the cursor with its 1-based start line and column."""
        text = self.text
        offset = offset_of(text, *self.text_area.cursor_location)
        stmt = statement_at(text, offset)
        if stmt is None:
            return None
        line, col = location_of(text, stmt.start)
        return stmt.text, line + 1, col + 1

    def run_request(self, scope: str = "auto") -> None:
        """Post RunRequested for the selection (when any), the statement or the buffer."""
        self.hide_completion()  # a menu left open over the run would take the next Enter or Tab
        area = self.text_area
        selected = area.selected_text
        if scope in ("auto", "selection") and selected.strip():
            start = min(area.selection.start, area.selection.end)
            lead = len(selected) - len(selected.lstrip())
            line, col = location_of(area.text, offset_of(area.text, *start) + lead)
            self.post_message(self.RunRequested(self, selected.strip(), line + 1, col + 1, "selection"))
            return
        if scope == "buffer":
            text = area.text
            if text.strip():
                lead = len(text) - len(text.lstrip())
                line, col = location_of(text, lead)
                self.post_message(self.RunRequested(self, text.strip(), line + 1, col + 1, "buffer"))
            return
        found = self.current_statement()
        if found is not None:
            self.post_message(self.RunRequested(self, found[0], found[1], found[2], "statement"))

    # -- buffers ----------------------------------------------------------------------------------

    def _load(self) -> None:
        data = self._store.load() if self._store is not None else None
        buffers = []
        if isinstance(data, dict):
            for item in data.get("buffers", []):
                if isinstance(item, dict) and isinstance(item.get("text"), str):
                    cursor = item.get("cursor") or [0, 0]
                    path = item.get("path")
                    buffers.append(Buffer(str(item.get("name") or f"query {len(buffers) + 1}"), item["text"], (int(cursor[0]), int(cursor[1])), path if isinstance(path, str) else None))
        self._buffers = buffers or [Buffer("query 1", "")]
        active = data.get("active", 0) if isinstance(data, dict) else 0
        self._active = active if isinstance(active, int) and 0 <= active < len(self._buffers) else 0

    def save(self) -> None:
        """Hand every buffer to the store (which writes it privately, passwords masked); errors
        are reported, not raised."""
        if self._store is None:
            return
        self._sync_current()
        payload = {
            "active": self._active,
            "buffers": [{"name": b.name, "text": b.text, "cursor": list(b.cursor), **({"path": b.path} if b.path else {})} for b in self._buffers],
        }
        try:
            self._store.save(payload, self._dialect)
        except OSError as exc:
            self.notify(f"Could not save buffers: {exc}", severity="error")

    def _sync_current(self) -> None:
        area = self._area
        if area is None:
            return
        buf = self._buffers[self._active]
        buf.text = area.text
        buf.cursor = area.cursor_location

    def _switch(self, index: int) -> None:
        if index == self._active or not 0 <= index < len(self._buffers):
            return
        self._sync_current()
        self._active = index
        self._load_active()
        self.strip.select(index)
        self.hide_completion()
        self._schedule_save()
        self._statement_moved(force=True)

    def _load_active(self) -> None:
        """Put the active buffer's text and cursor in the text area (not an edit)."""
        area = self.text_area
        buf = self._buffers[self._active]
        self._switching = True
        area.load_text(buf.text)
        area.cursor_location = buf.cursor
        self._switching = False

    @property
    def strip(self) -> BufferStrip:
        """The buffers' tabs."""
        return self.query_one(BufferStrip)

    async def _show_buffers(self) -> None:
        await self.strip.show(self.buffer_names, self._active)
        self._schedule_save()

    async def action_new_buffer(self) -> None:
        await self.open_buffer(self._unused_name())

    def _unused_name(self) -> str:
        used = {b.name for b in self._buffers}
        n = len(self._buffers) + 1
        while f"query {n}" in used:
            n += 1
        return f"query {n}"

    async def open_buffer(self, name: str, text: str = "", path: str | None = None) -> None:
        """Add a buffer after the others and switch to it (an opened file: its ``path``)."""
        self._sync_current()
        self._buffers.append(Buffer(name, text, (0, 0), path))
        self._active = len(self._buffers) - 1
        self._load_active()
        self.hide_completion()
        await self._show_buffers()
        self._statement_moved(force=True)
        self.text_area.focus()

    def buffer_path_index(self, path: str) -> int | None:
        """The buffer holding the file ``path``, if one does."""
        return next((i for i, b in enumerate(self._buffers) if b.path == path), None)

    def show_buffer(self, index: int) -> None:
        """Make buffer ``index`` the active one."""
        self._switch(index)

    def action_close_buffer(self) -> None:
        self._request("close")

    def action_rename_buffer(self) -> None:
        self._request("rename")

    def action_open_file(self) -> None:
        self._request("open")

    def action_save_file(self) -> None:
        self._request("save")

    def _request(self, kind: str) -> None:
        self._sync_current()
        buf = self._buffers[self._active]
        self.hide_completion()
        self.post_message(self.BufferRequested(self, kind, self._active, buf.name, buf.text, buf.path))

    async def close_buffer(self, index: int) -> None:
        """Close buffer ``index`` (the last one left is emptied instead); its neighbour on the
        right, else on the left, becomes active when it was."""
        self._sync_current()
        if len(self._buffers) == 1:
            self._buffers[0] = Buffer(self._unused_name() if self._buffers[0].path else self._buffers[0].name)
        else:
            del self._buffers[index]
            if index < self._active or self._active == len(self._buffers):
                self._active -= 1
        self._load_active()
        self.hide_completion()
        await self._show_buffers()
        self._statement_moved(force=True)

    async def rename_buffer(self, index: int, name: str) -> None:
        """Give buffer ``index`` the name ``name`` (its tab shows it)."""
        self._buffers[index].name = name
        await self._show_buffers()

    async def saved_to(self, index: int, path: str, name: str) -> None:
        """Buffer ``index`` now lives in the file ``path`` too (its tab says ``name``)."""
        self._buffers[index].path = path
        await self.rename_buffer(index, name)

    async def action_move_buffer(self, step: int) -> None:
        """Move the active buffer's tab ``step`` places (-1 left, 1 right), stopping at the ends."""
        target = self._active + step
        if not 0 <= target < len(self._buffers):
            return
        self._sync_current()
        buffers = self._buffers
        buffers[self._active], buffers[target] = buffers[target], buffers[self._active]
        self._active = target
        await self._show_buffers()

    def replace_text(self, text: str) -> None:
        """Replace the whole buffer with ``text`` as one edit (Ctrl-Z takes it back)."""
        area = self.text_area
        if text == area.text:
            return
        area.replace(text, (0, 0), area.document.end, maintain_selection_offset=False)
        area.cursor_location = area.document.end
        area.focus()

    def action_next_buffer(self) -> None:
        self._switch((self._active + 1) % len(self._buffers))

    def action_prev_buffer(self) -> None:
        self._switch((self._active - 1) % len(self._buffers))

    @on(BufferStrip.Chosen, "#buffer-tabs")
    def _tab_clicked(self, event: BufferStrip.Chosen) -> None:
        event.stop()
        if not self._switching:
            self._switch(event.index)
        self.text_area.focus()

    # -- editing actions --------------------------------------------------------------------------

    def action_format(self) -> None:
        area = self.text_area
        if area.selected_text.strip():
            start, end = sorted((area.selection.start, area.selection.end))
            source = area.selected_text
        else:
            text = area.text
            stmt = statement_at(text, offset_of(text, *area.cursor_location))
            if stmt is None:
                return
            start, end = location_of(text, stmt.start), location_of(text, stmt.end)
            source = stmt.text
        try:
            pretty = format_sql(source, self._dialect)
        except ValueError as exc:
            self.notify(f"Cannot format: {exc}", title="Format", severity="warning")
            return
        area.replace(pretty, start, end)

    def action_toggle_comment(self) -> None:
        area = self.text_area
        start, end = sorted((area.selection.start, area.selection.end))
        first, last = start[0], end[0]
        if end[0] > start[0] and end[1] == 0:
            last -= 1
        lines = [area.document.get_line(i) for i in range(first, last + 1)]
        new = toggle_comment(lines)
        area.replace("\n".join(new), (first, 0), (last, len(lines[-1])))
        area.selection = Selection((first, 0), (last, len(new[-1])))

    def action_find(self) -> None:
        finder = self.query_one("#find", Input)
        finder.display = True
        if self.text_area.selected_text and "\n" not in self.text_area.selected_text:
            finder.value = self.text_area.selected_text
        finder.focus()

    def action_find_next(self) -> None:
        if not self._find_text:
            self.action_find()
            return
        area = self.text_area
        text = area.text
        here = offset_of(text, *max(area.selection.start, area.selection.end))
        lowered, needle = text.lower(), self._find_text.lower()
        found = lowered.find(needle, here)
        if found == -1:
            found = lowered.find(needle)
        if found == -1:
            self.notify(f"Not found: {self._find_text}", severity="warning")
            return
        area.selection = Selection(location_of(text, found), location_of(text, found + len(needle)))

    @on(Input.Submitted, "#find")
    def _find_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._find_text = event.value
        self.action_find_next()

    def on_key(self, event: events.Key) -> None:
        finder = self.query_one("#find", Input)
        if event.key == "escape" and finder.display and finder.has_focus:
            event.stop()
            finder.display = False
            self.text_area.focus()

    # -- completion -------------------------------------------------------------------------------

    def action_complete(self) -> None:
        self._show_completion(forced=True)

    @property
    def completion_open(self) -> bool:
        """Whether the completion menu shows (Escape closes it before it cancels anything)."""
        return self.is_mounted and bool(self.menu.display)

    def refresh_completion(self) -> None:
        """Recompute the open menu for the text and cursor as they are now (or close it)."""
        self._show_completion()

    def completion_is_current(self) -> bool:
        """Whether the open menu was computed for the text and cursor as they are now: a key
        can arrive before the change it follows was seen here."""
        area = self.text_area
        return self._completion is not None and self._completion_at == (area.text, area.cursor_location)

    def _show_completion(self, forced: bool = False) -> None:
        area = self.text_area
        text = area.text
        offset = offset_of(text, *area.cursor_location)
        if offset and text[offset - 1 : offset] == "\\":
            return
        completer = complete_mongo if self._language == "mongosh" else complete
        result = completer(text, offset, self._catalog, frequency=self._frequencies, limit=40)
        menu = self.menu
        if not result.candidates or (not forced and not result.prefix and result.context not in _EAGER):
            self.hide_completion()
            return
        if not forced and len(result.candidates) == 1 and result.candidates[0].text == result.prefix:
            self.hide_completion()
            return
        self._completion = result
        self._completion_at = (text, area.cursor_location)
        menu.clear_options()
        menu.add_options(
            [Option(f"{escape(c.display)}  [dim]{c.kind}{' · ' + c.detail if c.detail and c.kind in ('column', 'star') else ''}[/]", id=str(i)) for i, c in enumerate(result.candidates)]
        )
        # Nothing highlighted until the user moves into the menu (Tab or arrows): Enter stays a
        # newline, so a word that happens to prefix a keyword is never replaced by it.
        menu.highlighted = None
        x, y = area.cursor_screen_offset
        region = self.content_region
        menu.styles.offset = (max(0, x - region.x - len(result.prefix)), y - region.y + 1)
        menu.display = True

    def hide_completion(self) -> None:
        self._completion = None
        self._completion_at = None
        if self.is_mounted:
            self.menu.display = False

    def accept_completion(self) -> None:
        """Replace the typed prefix with the highlighted item (the first when none is)."""
        result = self._completion
        menu = self.menu
        if result is None or not self.completion_is_current():
            self.hide_completion()
            return
        choice = result.candidates[menu.highlighted or 0]
        area = self.text_area
        text = area.text
        start = location_of(text, result.start)
        self._just_completed = True
        area.replace(choice.text, start, area.cursor_location)
        self.hide_completion()

    @on(OptionList.OptionSelected, "#completion")
    def _menu_clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.accept_completion()
        self.text_area.focus()

    # -- change tracking --------------------------------------------------------------------------

    @on(TextArea.Changed, "#sql")
    def _text_changed(self, event: TextArea.Changed) -> None:
        event.stop()
        if self._switching:
            return
        self._changed()
        if self._just_completed:
            self._just_completed = False
            return
        area = self.text_area
        row, col = area.cursor_location
        line = area.document.get_line(row)
        typed = line[col - 1 : col] if col else ""
        if typed and (typed in _WORD_CHARS or typed in ".*( "):
            self._show_completion()
        else:
            self.hide_completion()

    def _changed(self) -> None:
        self._schedule_save()
        self._statement_moved(force=True)

    @on(TextArea.SelectionChanged, "#sql")
    def _selection_changed(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        area = self.text_area
        if self._completion is not None and (not area.has_focus or self._completion_at[1] != area.cursor_location):
            # The cursor moved away. After an edit, Changed comes next and refreshes or closes
            # the menu (hiding it here too would lay the screen out twice a keystroke).
            if not area.has_focus or self._completion_at[0] == area.text:
                self.hide_completion()
        self._statement_moved()

    def _statement_moved(self, force: bool = False) -> None:
        found = self.current_statement() if self.is_mounted else None
        key = (found[0], found[1]) if found else None
        if key == self._last_statement and not force:
            return
        if key == self._last_statement and force and found is not None and self._last_statement is not None:
            return
        self._last_statement = key
        if found is not None:
            self.post_message(self.StatementChanged(self, *found))

    def _schedule_save(self) -> None:
        if self._save_timer is not None:
            self._save_timer.stop()
        self._save_timer = self.set_timer(1.0, self.save)

    def on_unmount(self) -> None:
        self.save()
