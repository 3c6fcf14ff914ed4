"""The connection picker (Ctrl-O, and at start when connections are saved and none is named):
saved connections, recent targets, and a field for a URL that is checked as it is typed.
Production and read-only show before anything connects. Dismisses with a :class:`Pick` (what
to open: a saved connection's name, a URL or a path, and whether beside the connection in front)
or None.

Enter (and Connect) replace the connection in front, as psql's ``\\c`` and Ctrl-O always have;
Ctrl-N (and Open beside) keep it open and open the chosen one next to it, like a new tab.

Typing goes to the field wherever the focus is (the list has it when there is one), and narrows
the list to the saved and recent connections that contain what is typed; Enter on text that is
no target of its own opens the one connection left in the list."""

from __future__ import annotations

from typing import NamedTuple

from textual import events, on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from aishell.engine.config import Settings
from aishell.engine.connections import recent, resolve
from aishell.engine.drivers import check_target, classify
from aishell.engine.errors import AishellError
from aishell.engine.profiles import Profile
from aishell.engine.redact import redact_url

KINDS = {"postgres": "PostgreSQL", "sqlite": "SQLite", "mongo": "MongoDB"}


class Pick(NamedTuple):
    """What the picker was asked to open."""

    target: str
    """A saved connection's name, a URL or a path."""
    beside: bool = False
    """Open it next to the connection in front (False: replace that one)."""


class ConnectionPicker(ModalScreen[Pick | None]):
    """Saved connections first, then recent targets; the field takes anything ``aishell`` takes."""

    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="picker.cancel", tooltip="Close the picker and keep the current connection"),
        Binding("down", "to_list", "Choose", show=False, id="picker.to_list", tooltip="From the field, move to the list of connections"),
        Binding("ctrl+n", "open(True)", "Open beside", id="picker.beside", tooltip="Open the chosen connection beside the one in front (Enter replaces it)"),
    ]

    def __init__(self, settings: Settings, *, starting: bool = False, beside: bool = False) -> None:
        super().__init__()
        self.settings = settings
        self.starting = starting
        self.beside = beside and not starting
        """A connection is open that the chosen one can be opened beside."""
        self.profiles: list[Profile] = sorted(settings.connections.values(), key=lambda p: p.name)
        names = {p.name for p in self.profiles}
        self.recent = [item for item in recent(settings) if item not in names]

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="-picker"):
            yield Label("Connect to a database", id="dialog-title")
            # not selected on focus: a character typed on the list lands in it and the next one follows
            yield Input(placeholder="postgresql://user@host/db · file.db · service=NAME · name", id="picker-url", select_on_focus=False)
            yield Static("", id="picker-check", markup=False)
            options = self._options("")
            picker = OptionList(*options, id="picker-list")
            picker.display = bool(options)
            yield picker
            yield Static("", id="picker-detail")
            with Horizontal(id="dialog-buttons"):
                yield Button("Connect", id="go", variant="primary")
                if self.beside:
                    yield Button("Open beside ^N", id="beside", tooltip="Keep this connection and open the chosen one next to it (Ctrl-N)")
                yield Button("Quit" if self.starting else "Cancel", id="cancel")

    def on_mount(self) -> None:
        field = self.query_one(Input)
        field.cursor_blink = not self.app.is_headless
        listing = self.query_one(OptionList)
        if listing.option_count:
            listing.highlighted = 0
            listing.focus()
        else:
            field.focus()

    def _options(self, typed: str) -> list[Option]:
        """Saved connections, then recent targets, those whose name, label or URL contain ``typed``."""
        needle = typed.strip().lower()

        def kept(*texts: str) -> bool:
            return not needle or any(needle in text.lower() for text in texts)

        options = [Option(_profile_line(p), id=f"profile:{p.name}") for p in self.profiles if kept(p.name, p.label or "", p.display_url)]
        options += [
            Option(Content.from_markup("[dim]recent[/]  $target", target=redact_url(item)), id=f"recent:{item}")
            for item in self.recent
            if kept(redact_url(item))
        ]
        return options

    def on_key(self, event: events.Key) -> None:
        """A character typed on the list goes to the field: a URL typed after Ctrl-O is never lost."""
        field = self.query_one(Input)
        if self.focused is self.query_one(OptionList) and event.is_printable and event.character:
            event.stop()
            event.prevent_default()
            field.focus()
            field.insert_text_at_cursor(event.character)

    def action_cancel(self) -> None:
        self.dismiss(None)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return self.beside if action == "open" else True

    def action_to_list(self) -> None:
        listing = self.query_one(OptionList)
        if self.focused is self.query_one(Input) and listing.option_count:
            listing.focus()

    @on(Input.Changed, "#picker-url")
    def _typed(self, event: Input.Changed) -> None:
        listing = self.query_one(OptionList)
        if self.profiles or self.recent:
            options = self._options(event.value)
            listing.set_options(options)
            listing.display = bool(options)
            if options:
                listing.highlighted = 0
            else:
                self.query_one("#picker-detail", Static).update("")
        ok, text = self.check(event.value)
        check = self.query_one("#picker-check", Static)
        check.update(text)
        check.set_class(not ok and bool(event.value.strip()), "-bad")
        check.set_class(ok, "-ok")

    @on(Input.Submitted, "#picker-url")
    def _submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._go_field(beside=False)

    @on(OptionList.OptionHighlighted)
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        self.query_one("#picker-detail", Static).update(self._detail(event.option.id or ""))

    @on(OptionList.OptionSelected)
    def _selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(Pick((event.option.id or "").split(":", 1)[1]))

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        if event.button.id in ("go", "beside"):
            self.action_open(event.button.id == "beside")
        else:
            self.dismiss(None)

    def action_open(self, beside: bool = False) -> None:
        """Open what the field says, else the connection highlighted in the list."""
        if self.query_one(Input).value.strip():
            self._go_field(beside=beside)
            return
        listing = self.query_one(OptionList)
        if listing.highlighted is not None:
            option = listing.get_option_at_index(listing.highlighted)
            self.dismiss(Pick((option.id or "").split(":", 1)[1], beside))

    def _go_field(self, *, beside: bool) -> None:
        value = self.query_one(Input).value.strip()
        ok, _ = self.check(value)
        listing = self.query_one(OptionList)
        if ok:
            self.dismiss(Pick(value, beside))
        elif listing.display and listing.option_count == 1:  # "pro" narrowed the list to prod
            self.dismiss(Pick((listing.get_option_at_index(0).id or "").split(":", 1)[1], beside))
        else:
            self.app.bell()

    def check(self, value: str) -> tuple[bool, str]:
        """Whether ``value`` can be opened, and a line that says what it is or what is wrong
        (no connection is made: names, services, URL shapes and SQLite files only)."""
        value = value.strip()
        if not value:
            return False, ""
        try:
            target = resolve(value, self.settings)
            kind = classify(target.url)
            check_target(target.url)
        except AishellError as exc:
            return False, f"✗ {exc}"
        marks = " · ".join(m for m, on in (("production", bool(target.profile and target.profile.production)), ("read-only", target.read_only), (f"ssh {target.ssh}", bool(target.ssh))) if on)
        return True, f"✓ {KINDS[kind]}: {redact_url(target.url)}" + (f" ({marks})" if marks else "")

    def _detail(self, option_id: str) -> Content:
        kind, _, value = option_id.partition(":")
        if kind != "profile":
            return Content.from_markup("[dim]$target[/]", target=redact_url(value))
        profile = self.settings.connections[value]
        parts = [Content.from_markup("$url", url=profile.display_url)]
        if profile.ssh:
            parts.append(Content.from_markup(" via ssh $ssh", ssh=profile.ssh))
        if profile.options:
            parts.append(Content.from_markup("\n[dim]$options[/]", options=", ".join(f"{k}={v}" for k, v in profile.options.items())))
        return Content("").join(parts)


def _profile_line(profile: Profile) -> Content:
    """``name  label  PRODUCTION read-only ssh``: what a row of saved connections shows."""
    line = Content.from_markup("[b]$name[/]", name=profile.name)
    if profile.label:
        line += Content.from_markup("  $label", label=profile.label)
    if profile.production:
        line += Content.from_markup("  [b $error]PRODUCTION[/]")
    if profile.read_only:
        line += Content.from_markup("  [$warning]read-only[/]")
    if profile.ssh:
        line += Content.from_markup("  [dim]ssh $ssh[/]", ssh=profile.ssh)
    return line


__all__ = ["ConnectionPicker", "Pick"]
