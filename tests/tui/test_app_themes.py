"""Theme files: built-ins, the user's own from the config dir, bad files, NO_COLOR."""

from __future__ import annotations

from pathlib import Path

from tests.tui.appkit import make_app
from aishell.tui.themes import ANSI_THEME, choose_theme, load_themes

BUILTIN = {"aishell-dark", "aishell-light", "aishell-high-contrast", "aishell-ansi"}


def test_builtin_and_user_themes(tmp_path):
    themes_dir = tmp_path / "themes"
    themes_dir.mkdir()
    (themes_dir / "solar.toml").write_text('primary = "#268bd2"\nbackground = "#002b36"\n[variables]\n"footer-key-foreground" = "#b58900"\n')
    (themes_dir / "broken.toml").write_text('primary = "not-a-colour"\n')
    (themes_dir / "garbage.toml").write_text("primary = [\n")
    themes, errors = load_themes(tmp_path)
    names = {t.name for t in themes}
    assert BUILTIN <= names and "solar" in names
    assert len(errors) == 2 and any("broken.toml" in e for e in errors) and any("garbage.toml" in e for e in errors)
    assert next(t for t in themes if t.name == "aishell-ansi").ansi


def test_choice_respects_no_color_and_requests(monkeypatch):
    available = BUILTIN | {"textual-dark"}
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLORTERM", "truecolor")
    assert choose_theme(None, "aishell-light", available) == "aishell-light"
    assert choose_theme("aishell-high-contrast", "aishell-light", available) == "aishell-high-contrast"
    assert choose_theme(None, "nope", available) == "aishell-dark"
    # NO_COLOR: Textual renders the theme in greys; an ANSI theme would come out black on black.
    monkeypatch.setenv("NO_COLOR", "1")
    assert choose_theme(None, "aishell-light", available) == "aishell-light"
    assert choose_theme(None, "aishell-ansi", available) == "aishell-dark"
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.delenv("COLORTERM")
    monkeypatch.setenv("TERM", "linux")
    assert choose_theme(None, "aishell-dark", available) == ANSI_THEME


async def test_app_uses_user_theme_and_cycles(aishell_home: Path, monkeypatch, tmp_path):
    monkeypatch.setenv("COLORTERM", "truecolor")
    monkeypatch.delenv("NO_COLOR", raising=False)
    themes_dir = aishell_home / "config" / "themes"
    themes_dir.mkdir(parents=True)
    (themes_dir / "mine.toml").write_text('name = "mine"\nprimary = "#ff00aa"\n')
    db = tmp_path / "t.db"
    app = make_app(db, create=True, theme="mine")
    async with app.run_test(size=(100, 30)) as pilot:
        assert app.theme == "mine"
        await pilot.press("ctrl+t")
        assert app.theme in BUILTIN
        seen = {app.theme}
        for _ in range(4):
            await pilot.press("ctrl+t")
            seen.add(app.theme)
        assert seen == BUILTIN
