"""The connection picker: at start when connections are saved and none is named, and on Ctrl-O;
saved connections with production and read-only shown before connecting, recent targets, a URL
field checked as it is typed, and the masked password prompt for a server that wants one."""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from aishell.engine.config import Settings
from aishell.engine.demo import ensure_demo_database
from aishell.tui.screens.picker import ConnectionPicker
from aishell.tui.screens.prompts import PromptScreen
from tests.tui.appkit import connected, dialog_ready, make_app, until
from tests.tui.test_app_snapshots import SIZES, SnapshotsDir  # noqa: F401 - the snapshot folder
import pytest_textual_snapshot

SIZE = (120, 36)
MASTER = Path("/tmp/aishell-snapshots/picker-demo.db")


@pytest.fixture(autouse=True)
def _snapshots_in_top_level_folder(monkeypatch):
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", SnapshotsDir)


@pytest.fixture
def profiles(aishell_home, tmp_path) -> Settings:
    """Two SQLite profiles (one production, one read-only) and a settings object that has them."""
    master = ensure_demo_database(MASTER)
    for name in ("shop.db", "archive.db"):
        shutil.copy(master, tmp_path / name)
    config = aishell_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        f'[connections.shop]\npath = "{tmp_path / "shop.db"}"\nlabel = "Shop (live)"\nproduction = true\n\n'
        f'[connections.archive]\npath = "{tmp_path / "archive.db"}"\nread_only = true\nssh = "bastion"\n'
    )
    return Settings.load()


def picker_of(app) -> ConnectionPicker:
    assert isinstance(app.screen, ConnectionPicker), type(app.screen)
    return app.screen


def listed(picker: ConnectionPicker) -> list[str]:
    options = picker.query_one("#picker-list")
    return [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]


async def test_at_start_the_picker_shows_saved_connections_and_opens_the_chosen_one(profiles):
    app = make_app("", settings=profiles)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        rows = listed(picker_of(app))
        assert rows[0].startswith("archive") and "read-only" in rows[0] and "ssh bastion" in rows[0]
        assert rows[1].startswith("shop  Shop (live)  PRODUCTION")
        await pilot.press("down", "enter")  # shop
        await connected(pilot)
        assert app.session.profile.name == "shop" and app.target == "shop"
        badge = app.screen.query_one("#profile")
        assert badge.display and str(badge.content) == "Shop (live)" and badge.has_class("-red")


async def test_escape_at_start_quits_and_ctrl_o_later_keeps_the_session(profiles, tmp_path):
    app = make_app("", settings=profiles)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        await pilot.press("escape")
        await until(pilot, lambda: app.return_code is not None, what="the app to quit")
    assert app.return_code == 0

    app = make_app(str(tmp_path / "shop.db"), settings=profiles)
    async with app.run_test(size=SIZE) as pilot:
        await connected(pilot)
        before = app.session
        await pilot.press("ctrl+o")
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        assert any(row.startswith("recent") and "shop.db" in row for row in listed(app.screen))
        await pilot.press("escape")
        await pilot.pause()
        assert app.session is before and not isinstance(app.screen, ConnectionPicker)


async def test_the_field_is_checked_as_typed_and_only_a_usable_target_is_taken(profiles, tmp_path):
    app = make_app("", settings=profiles)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        picker = picker_of(app)
        check = picker.query_one("#picker-check")
        field = picker.query_one("#picker-url")
        field.focus()
        for text, verdict in (
            ("ftp://db/x", "✗ unsupported URL scheme"),
            ("shpo", "✗ no saved connection named 'shpo', and not a database URL or a .db path (did you mean shop?"),
            (str(tmp_path / "missing.db"), "does not exist"),
            ("postgresql://bob:s3cret@db.internal/shop", "✓ PostgreSQL: postgresql://bob:***@db.internal/shop"),
            ("archive", "✓ SQLite: sqlite:///"),
        ):
            field.value = text
            await pilot.pause()
            assert verdict in str(check.content) and "s3cret" not in str(check.content), (text, check.content)
        assert "read-only" in str(check.content) and "ssh bastion" in str(check.content)
        field.value = "ftp://db/x"
        await pilot.press("enter")
        assert isinstance(app.screen, ConnectionPicker)  # refused: the picker stays
        field.value = str(tmp_path / "shop.db")
        await pilot.press("enter")
        await connected(pilot)
        assert app.session.profile is None and app.session.display_url.endswith("shop.db")


async def test_typing_on_the_list_goes_to_the_field_and_narrows_the_list(profiles, tmp_path):
    """The picker opens with the list focused; what a user types after Ctrl-O was lost on it."""
    app = make_app("", settings=profiles)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: dialog_ready(app, ConnectionPicker), what="the picker")
        picker = picker_of(app)
        field = picker.query_one("#picker-url")
        await until(pilot, lambda: picker.focused is picker.query_one("#picker-list"), what="the list focused")
        await pilot.press(*"sho")
        assert field.value == "sho" and picker.focused is field
        assert [row.split()[0] for row in listed(picker)] == ["shop"]
        await pilot.press("backspace", "backspace", "backspace", *"zzz")
        assert not picker.query_one("#picker-list").display and not str(picker.query_one("#picker-detail").content)
        await pilot.press("enter")
        assert isinstance(app.screen, ConnectionPicker)  # nothing matches: the picker stays
        await pilot.press("backspace", "backspace", "backspace", *"live")  # the label "Shop (live)"
        await pilot.press("enter")  # not a target of its own: the one connection listed opens
        await connected(pilot)
        assert app.session.profile is not None and app.session.profile.name == "shop"


@pytest.mark.pg
async def test_a_server_that_wants_a_password_gets_one_typed_masked_and_not_kept(pg_url, aishell_home, monkeypatch):
    monkeypatch.setenv("PGPASSFILE", "/nonexistent")
    parts = urlsplit(pg_url)
    config = aishell_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[connections.test]\nurl = "postgresql://{parts.username}@{parts.hostname}:{parts.port}{parts.path}"\n')
    settings = Settings.load()
    settings.memory.enabled = False
    app = make_app("test", settings=settings)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: isinstance(app.screen, PromptScreen), what="the password prompt")
        field = app.screen.query_one("#prompt-value")
        assert field.password
        field.value = parts.password
        await pilot.press("enter")
        await connected(pilot)
        assert app.session.profile.name == "test"
        assert parts.password not in (aishell_home / "data" / "recent.json").read_text()
        assert parts.password not in config.read_text()


@pytest.mark.parametrize("size", SIZES)
def test_picker(snap_compare, profiles, size):
    async def shown(pilot):
        await until(pilot, lambda: isinstance(pilot.app.screen, ConnectionPicker), what="the picker")
        await pilot.pause(0.2)

    app = make_app("", settings=profiles)
    # the paths are the tests' own temporary files: show the snapshot's as fixed names
    for profile in list(profiles.connections.values()):
        profiles.connections[profile.name] = type(profile)(**{**{f: getattr(profile, f) for f in profile.__slots__}, "url": f"sqlite:////data/{profile.name}.db"})
    assert snap_compare(app, terminal_size=SIZES[size], run_before=shown)
