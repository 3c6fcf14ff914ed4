"""Theme files: the built-in ones in the top-level ``themes/`` folder and the user's own in the
config dir's ``themes/``. A theme file is TOML whose keys are :class:`textual.theme.Theme`
fields (``primary``, ``background``, ``dark``, ``ansi``...) plus a ``[variables]`` table of
CSS variables. A broken user file is reported and skipped; it never stops the app.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import fields
from pathlib import Path

from textual.theme import Theme

BUILTIN_DIR = Path(__file__).resolve().parent.parent / "themes"
DEFAULT_THEME = "aishell-dark"
ANSI_THEME = "aishell-ansi"
_FIELDS = {f.name for f in fields(Theme)}


def load_theme(path: Path) -> Theme:
    """Read one theme file. Raises ValueError with the file name for anything unusable."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    unknown = set(data) - _FIELDS
    if unknown:
        raise ValueError(f"{path}: unknown keys {sorted(unknown)!r}")
    data.setdefault("name", path.stem)
    if "primary" not in data:
        raise ValueError(f"{path}: 'primary' is required")
    variables = data.get("variables", {})
    if not isinstance(variables, dict):
        raise ValueError(f"{path}: [variables] must be a table")
    data["variables"] = {str(k): str(v) for k, v in variables.items()}
    try:
        theme = Theme(**data)
        theme.to_color_system()  # validates every colour now, not at first paint
    except Exception as exc:  # noqa: BLE001 - Textual raises several kinds for bad colours
        raise ValueError(f"{path}: {exc}") from None
    return theme


def load_themes(config_dir: Path | None) -> tuple[list[Theme], list[str]]:
    """Built-in themes, then the user's (which may replace a built-in by name); and the errors."""
    themes: dict[str, Theme] = {}
    errors: list[str] = []
    dirs = [BUILTIN_DIR] + ([config_dir / "themes"] if config_dir is not None else [])
    for directory in dirs:
        if not directory.is_dir():
            continue
        for path in sorted(directory.glob("*.toml")):
            try:
                theme = load_theme(path)
            except ValueError as exc:
                errors.append(str(exc))
                continue
            themes[theme.name] = theme
    return list(themes.values()), errors


def choose_theme(requested: str | None, configured: str, available: set[str]) -> str:
    """The theme to start with: an explicit request, else ANSI-only on a 16-colour terminal,
    else the configured one. ``NO_COLOR`` is honoured by Textual itself (it renders any
    truecolour theme in greys), so with it set an ANSI theme is never picked automatically: Textual's
    no-colour filter would turn the terminal's own colours into black on black."""
    if requested and requested in available:
        return requested
    if _sixteen_colours() and "NO_COLOR" not in os.environ:
        return ANSI_THEME if ANSI_THEME in available else "textual-ansi"
    if "NO_COLOR" in os.environ and configured in available and configured.endswith("ansi"):
        return DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"
    if configured in available:
        return configured
    return DEFAULT_THEME if DEFAULT_THEME in available else "textual-dark"


def _sixteen_colours() -> bool:
    if os.environ.get("COLORTERM"):
        return False
    term = os.environ.get("TERM", "")
    return term in ("linux", "vt100", "vt220", "ansi", "xterm-16color", "screen-16color", "cons25")
