"""A flood of events from another thread is applied in batches into a bounded history."""

from __future__ import annotations

import json
import threading

from hub.dash.app import DashApp
from hub.dash.views.eventlist import EventList

from .conftest import async_test, wait_until


@async_test
async def test_flood_from_a_thread_is_batched_and_bounded() -> None:
    app = DashApp(None, flush_interval=0.05, history=1000)
    total = 5000

    def flood() -> None:
        for n in range(total):
            body = {
                "id": f"f{n}",
                "ts": 1000.0 + n / 1000,
                "source": "hall_motion",
                "kind": "state",
                "data": {"occupancy": n % 2 == 0},
            }
            app.feed("edgehub/home/events", json.dumps(body).encode())

    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("2")
        sender = threading.Thread(target=flood)
        sender.start()
        events = app.query_one(EventList)
        await wait_until(pilot, lambda: app.model.event_seq == total)
        sender.join()
        await pilot.pause(0.2)
        assert app.flushes < total / 10  # many messages per redraw, not one each
        assert len(app.model.events) == 1000 and len(app.model.by_id) == 1000
        assert events.row_count == 500
        assert app.view("events").shown_event_ids()[-1] == f"f{total - 1}"  # following
        assert app.dropped == 0
