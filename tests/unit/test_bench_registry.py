"""`aishell bench` finds the engine's benchmarks and the UI's own, and the engine never names the UI."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from aishell.engine.bench import available, load
from aishell.tui.cli.bench import PACKAGES

ROOT = Path(__file__).resolve().parents[2]


def test_the_cli_discovers_both_packages_in_run_order():
    engine_only = available()
    assert {"startup", "results"}.isdisjoint(engine_only) and {"run", "pool", "cache"} <= set(engine_only)
    everything = available(PACKAGES)
    assert everything[:2] == ["startup", "run"] and "results" in everything
    assert "grid" not in everything and "pgtemp" not in everything  # helpers, not benchmarks
    assert load("results", PACKAGES).__name__ == "aishell.tui.bench.results"
    assert load("run", PACKAGES).__name__ == "aishell.engine.bench.run"
    with pytest.raises(ModuleNotFoundError, match="results"):
        load("results")  # the engine alone does not know the UI's benchmarks


def test_the_engine_never_names_the_ui():
    offenders = [
        f"{path.relative_to(ROOT)}:{number}"
        for path in (ROOT / "engine").rglob("*.py")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"\baishell\.tui\b|\btui\.", line)
    ]
    assert offenders == []

