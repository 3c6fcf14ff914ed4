"""Snapshot of the workbench with two connections open: the header says which one is in front
(``2/2``) beside the saved connection's label in its colour. SVG in ``snapshots/``."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import pytest_textual_snapshot

from aishell.engine.config import Settings
from tests.tui.appkit import connected, until
from tests.tui.test_app_snapshots import SnapshotsDir, app_for, demo, ready  # noqa: F401 - the demo fixture

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")
PRODUCTION = Path("/tmp/aishell-snapshots/connections-prod.db")


@pytest.fixture(autouse=True)
def _snapshots_in_top_level_folder(monkeypatch):
    monkeypatch.setattr(pytest_textual_snapshot, "SVGImageExtension", SnapshotsDir)


@pytest.fixture
def settings(aishell_home, demo) -> Settings:
    """A saved production connection (red) on a copy of the demo database at a fixed path."""
    shutil.copy(demo, PRODUCTION)
    config = aishell_home / "config" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[connections.prod-db]\npath = "{PRODUCTION}"\nlabel = "prod-db"\nproduction = true\n')
    return Settings.load()


def test_header_with_two_connections(snap_compare, demo, settings):
    async def beside(pilot):
        app = pilot.app
        await ready(pilot, query=None)
        app.open_session("prod-db", beside=True)
        await until(pilot, lambda: len(app.connections) == 2, what="the second connection")
        await ready(pilot, query=None)

    assert snap_compare(app_for(demo, settings=settings), terminal_size=(120, 36), run_before=beside)
