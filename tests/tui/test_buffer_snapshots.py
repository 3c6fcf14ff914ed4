"""Snapshots of the buffer strip: 42 buffers, some renamed, the active one near the end and in
view, at 120×36 and 80×24; and the question before closing a buffer whose text is in no file."""

from __future__ import annotations

import json

import pytest

from tests.tui.test_app_snapshots import SIZES, _snapshots_in_top_level_folder, app_for, demo, ready  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")


@pytest.fixture
def many_buffers(aishell_home):
    names = [f"query {i}" for i in range(1, 43)]
    names[3], names[38] = "orders.sql", "monthly report"
    texts = [""] * 42
    texts[38] = "SELECT date(ordered_at, 'start of month') AS month, sum(total) AS revenue\nFROM orders\nGROUP BY month\nORDER BY month"
    data = {"active": 38, "buffers": [{"name": n, "text": t, "cursor": [0, 0]} for n, t in zip(names, texts)]}
    (aishell_home / "data").mkdir(exist_ok=True)
    (aishell_home / "data" / "buffers.json").write_text(json.dumps(data))


@pytest.mark.parametrize("size", SIZES)
def test_buffer_strip(snap_compare, demo, many_buffers, size):  # noqa: F811
    async def shown(pilot):
        await ready(pilot, query=None)

    assert snap_compare(app_for(demo), terminal_size=SIZES[size], run_before=shown)


def test_buffer_close_question(snap_compare, demo, many_buffers):  # noqa: F811
    async def asked(pilot):
        await ready(pilot, query=None)
        await pilot.press("alt+w")
        await pilot.pause()

    assert snap_compare(app_for(demo), terminal_size=SIZES["80x24"], run_before=asked)
