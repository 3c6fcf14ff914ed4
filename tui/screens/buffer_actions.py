"""What the main screen does when the editor's buffers need the user or a file: closing a buffer
whose text would be lost, renaming, opening and saving ``.sql`` files, and ``\\e`` (the buffer in
``$EDITOR``). The editor asks (``EditorPane.BufferRequested``, the ``edit`` action of ``\\e``);
these flows ask the user, touch the files and answer with the editor's methods.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from aishell.engine.files import write_private
from aishell.tui.buffers import SqlFileError, read_sql_file, sql_file_path, unsaved, write_sql_file
from aishell.tui.screens.prompts import PromptScreen, QuestionScreen

if TYPE_CHECKING:
    from textual.screen import Screen

    from aishell.tui.widgets.editor import EditorPane

_EDIT_LINE = re.compile(r"\s*\\e\s*;?\s*")
"""The line of a ``\\e`` command itself, left out of what the editor gets."""


def handle(screen: "Screen", request: "EditorPane.BufferRequested") -> None:
    """Answer one request of the editor (``close``, ``rename``, ``open`` or ``save``)."""
    {"close": _close, "rename": _rename, "open": _open, "save": _save}[request.kind](screen, request)


def _close(screen: "Screen", request: "EditorPane.BufferRequested") -> None:
    editor = request.editor
    if not unsaved(request.text, request.path):
        screen.run_worker(editor.close_buffer(request.index), exclusive=False)
        return
    lines = request.text.count("\n") + 1
    where = f"{request.path} holds other text" if request.path else "It is saved in no file"
    message = f"{where}: closing it loses its {lines} line{'s' if lines > 1 else ''}. Ctrl-S saves it to a file."

    async def answered(close: bool | None) -> None:
        if close:
            await editor.close_buffer(request.index)
        editor.text_area.focus()

    screen.app.push_screen(QuestionScreen(f"Close “{request.name}”?", message, yes="Close it", no="Keep it"), answered)


def _rename(screen: "Screen", request: "EditorPane.BufferRequested") -> None:
    editor = request.editor

    async def named(name: str | None) -> None:
        if name:
            await editor.rename_buffer(request.index, name[:60])
        editor.text_area.focus()

    screen.app.push_screen(PromptScreen("Rename the buffer", "The name its tab shows (Enter renames, Esc keeps it)", request.name, action="Rename"), named)


def _open(screen: "Screen", request: "EditorPane.BufferRequested") -> None:
    editor = request.editor

    async def chosen(typed: str | None) -> None:
        editor.text_area.focus()
        if not typed:
            return
        path = sql_file_path(typed)
        already = editor.buffer_path_index(str(path))
        if already is not None:
            editor.show_buffer(already)
            screen.notify(f"{path.name} is open already.", timeout=3)
            return
        try:
            text = read_sql_file(path)
        except SqlFileError as exc:
            screen.notify(str(exc), title="Not opened", severity="error")
            return
        await editor.open_buffer(path.name, text, str(path))

    hint = f"A path (relative to {os.getcwd()}): the file opens in a new buffer"
    screen.app.push_screen(PromptScreen("Open a .sql file", hint, action="Open"), chosen)


def _save(screen: "Screen", request: "EditorPane.BufferRequested") -> None:
    editor = request.editor
    suggested = request.path or str(sql_file_path(re.sub(r"[^\w.-]+", "_", request.name).strip("_") + ".sql"))

    def write(path: Path) -> None:
        try:
            write_sql_file(path, request.text)
        except SqlFileError as exc:
            screen.notify(str(exc), title="Not saved", severity="error")
            return
        screen.run_worker(editor.saved_to(request.index, str(path), path.name), exclusive=False)
        screen.notify(f"Saved to {path}", timeout=3)

    def chosen(typed: str | None) -> None:
        editor.text_area.focus()
        if not typed:
            return
        path = sql_file_path(typed)
        if path.exists() and str(path) != request.path:
            replace = QuestionScreen("Replace the file?", f"{path} exists: saving replaces its text.", yes="Replace", no="Keep it")
            screen.app.push_screen(replace, lambda yes: write(path) if yes else None)
            return
        write(path)

    screen.app.push_screen(PromptScreen("Save the buffer to a .sql file", "A path (Enter saves, Esc cancels)", suggested, action="Save"), chosen)


def edit_externally(screen: "Screen", editor: "EditorPane") -> None:
    """``\\e``: the buffer (without the ``\\e`` line) in ``$EDITOR`` on a private temporary
    file; what the editor leaves there becomes the buffer, as one edit Ctrl-Z takes back. The
    workbench hands the terminal over meanwhile (``App.suspend``)."""
    text = _without_edit_line(editor.text, editor.text_area.cursor_location[0])
    command = shlex.split(os.environ.get("PSQL_EDITOR") or os.environ.get("EDITOR") or os.environ.get("VISUAL") or "vi")
    app = screen.app
    with tempfile.TemporaryDirectory(prefix="aishell-edit-") as directory:  # 0700
        file = Path(directory) / "buffer.sql"
        write_private(file, text)
        # Headless (tests, scripts) there is no terminal to hand over: the editor just runs.
        handover = contextlib.nullcontext() if app.is_headless else app.suspend()
        try:
            with handover:
                done = subprocess.run([*command, str(file)], check=False)
        except OSError as exc:
            screen.notify(f"cannot start {command[0]}: {exc.strerror or exc} (set EDITOR)", title="\\e", severity="error")
            return
        if done.returncode != 0:
            screen.notify(f"{command[0]} exited with status {done.returncode}: the buffer is unchanged", title="\\e", severity="warning")
            return
        try:
            edited = read_sql_file(file)
        except SqlFileError as exc:
            screen.notify(str(exc), title="\\e", severity="error")
            return
    editor.replace_text(edited)


def _without_edit_line(text: str, row: int) -> str:
    r"""``text`` without line ``row`` when that line is only the ``\e`` command.

    >>> _without_edit_line("select 1;\n\\e", 1)
    'select 1;\n'
    >>> _without_edit_line("select 1;", 0)
    'select 1;'
    """
    lines = text.split("\n")
    if 0 <= row < len(lines) and _EDIT_LINE.fullmatch(lines[row]):
        del lines[row]
        if row == len(lines):
            lines.append("")
    return "\n".join(lines)


__all__ = ["edit_externally", "handle"]
