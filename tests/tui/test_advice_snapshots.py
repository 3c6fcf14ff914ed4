"""Snapshots of the workload advice screen at 120×36 and 80×24: two indexes ranked by estimated
time saved, the statements the first helps and slows, a duplicate and an unused index. The screen
shows a fixed advice (the session's last, so nothing is run and no time or port reaches the SVG)
over a real Session on the demo database."""

from __future__ import annotations

import pytest
from textual.app import App

from aishell.engine.analyzer.findings import IndexCandidate
from aishell.engine.workload import IndexNote, IndexRecommendation, StatementEffect, WorkloadAdvice, WorkloadStatement
from aishell.tui.controllers.advice import AdviceReady, advice_items, remember, summary
from aishell.tui.screens.advice import AdviceScreen
from tests.tui.test_app_snapshots import DEMO, SIZES, _snapshots_in_top_level_folder  # noqa: F401

pytestmark = pytest.mark.filterwarnings("ignore:Can not relate snapshot:UserWarning")

LOOKUP = WorkloadStatement("f1", "SELECT id, status FROM orders WHERE customer_id = 42", 1200, 38.5, ("memory",))
RANGE = WorkloadStatement("f2", "SELECT * FROM orders WHERE customer_id = 7 AND created_at > now() - interval '7 days'", 300, 41.0, ("memory",))
WRITE = WorkloadStatement("f3", "UPDATE orders SET customer_id = 9 WHERE id = 1042", 80, 1.2, ("pg_stat_statements",))
EVENTS = WorkloadStatement("f4", "SELECT count(*) FROM events WHERE kind = 'click' AND at > now() - interval '1 hour'", 60, 210.0, ("memory",))


def fixed_advice() -> WorkloadAdvice:
    orders = IndexRecommendation(IndexCandidate("orders", ("customer_id",), "public"))
    orders.helps += [StatementEffect(LOOKUP, 2240.0, 8.4, 45738.0), StatementEffect(RANGE, 2240.0, 12.1, 12234.0)]
    orders.slows.append(StatementEffect(WRITE, 8.4, None, -9.6))
    events = IndexRecommendation(IndexCandidate("events", ("kind", "at"), "public"))
    events.helps.append(StatementEffect(EVENTS, 5100.0, 40.0, 12499.0))
    notes = [
        IndexNote("duplicate", "public", "orders", "orders_status_b", "CREATE INDEX orders_status_b ON public.orders USING btree (status)",
                  "the same index as orders_status_a", 2_400_000),
        IndexNote("unused", "public", "events", "events_payload_idx", "CREATE INDEX events_payload_idx ON public.events USING btree (payload)",
                  "no scan since the statistics were reset (18 MB)", 18_000_000),
    ]
    return WorkloadAdvice(True, "ms", statements=4, candidates=5, recommendations=[orders, events], notes=notes, elapsed_s=1.4)


class AdviceApp(App):
    """Opens the advice screen over a real Session whose last advice is :func:`fixed_advice`."""

    async def on_mount(self) -> None:
        from aishell.engine.demo import ensure_demo_database
        from aishell.engine.session import Session

        self.session = await Session.open(str(ensure_demo_database(DEMO)))
        advice = fixed_advice()
        remember(self.session, AdviceReady(advice_items(advice), summary(advice, ["memory", "pg_stat_statements"]), 0.0))
        await self.push_screen(AdviceScreen(self.session))

    async def on_unmount(self) -> None:
        await self.session.close()


async def _ready(pilot) -> None:
    app = pilot.app
    while not isinstance(app.screen, AdviceScreen) or not app.screen.items:
        await pilot.pause(0.05)
    await pilot.wait_for_scheduled_animations()
    await app.workers.wait_for_complete()
    await pilot.pause()


@pytest.mark.parametrize("size", SIZES)
def test_workload_advice(snap_compare, size):
    assert snap_compare(AdviceApp(), terminal_size=SIZES[size], run_before=_ready)


def test_items_carry_what_the_screen_lists():
    items = advice_items(fixed_advice())
    assert [item["kind"] for item in items] == ["index", "index", "duplicate", "unused"]
    first = items[0]
    assert first["statement"] == "CREATE INDEX CONCURRENTLY ON public.orders (customer_id);" and first["saves"] == "~57,962 ms"
    assert (first["helps"], first["slows"]) == (2, 1)
    assert any(line.startswith("-") and "UPDATE orders" in line for line in first["detail"])
    assert items[2]["statement"] == "DROP INDEX CONCURRENTLY public.orders_status_b;"
