"""Small helpers shared by test modules (fixtures live in conftest.py)."""

from __future__ import annotations

from aishell.engine.config import Settings


def bare_settings() -> Settings:
    """Defaults without the user's file, memory and cache off: the drivers alone under test."""
    return Settings.load(read_file=False, overrides={"memory": {"enabled": False}, "cache": {"enabled": False}})
