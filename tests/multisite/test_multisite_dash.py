"""`edgehub dash --hub '*'`: two real hubs on one broker (as on the centre), shown at once,
each with its status and link; a light of either hub is switched from the dashboard."""

from __future__ import annotations

import asyncio
import json
import time

from gpiozero.pins.mock import MockFactory, MockPWMPin

from hub.dash import LinkSettings
from hub.dash.app import DashApp
from hub.dash.multi import MultiDashLink, MultiHomeModel

from .sites import SiteHub

RULES = """
- id: noop
  triggers: [{event: never.happens}]
  actions: [{emit: nothing}]
"""


async def _until(pilot, cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, (
            f"timed out; status: {pilot.app.query_one('#status').render()}"
        )
        await pilot.pause(0.05)


def test_dash_shows_every_hub_with_status_and_link(broker, tmp_path):
    pins = MockFactory(pin_class=MockPWMPin)
    north = SiteHub(
        "north",
        broker,
        tmp_path / "n",
        {"hall_light": {"type": "light", "gpio": {"pin": 6}}},
        RULES,
        pins,
    )
    south = SiteHub(
        "south",
        broker,
        tmp_path / "s",
        {"porch_light": {"type": "light", "gpio": {"pin": 7}}},
        RULES,
        pins,
    )
    link = MultiDashLink(LinkSettings(host=broker.host, port=broker.port, hub_id="*"))
    app = DashApp(link, command_timeout=8)

    async def body() -> None:
        async with app.run_test(size=(120, 40)) as pilot:
            model = app.model
            assert isinstance(model, MultiHomeModel)
            await _until(pilot, lambda: {"north", "south"} <= set(model.hubs))
            await _until(
                pilot, lambda: all(model.hubs[h].status == "online" for h in ("north", "south"))
            )
            await _until(pilot, lambda: "south" in model.hubs["north"].link.get("peers", {}))
            assert {"north/hall_light", "south/porch_light"} <= set(model.devices)
            assert {"north/noop", "south/noop"} <= set(model.rules)
            await pilot.press("6")  # the Hub view
            await _until(
                pilot, lambda: "sees south up" in str(app.query_one("#hub-facts").render())
            )
            facts = str(app.query_one("#hub-facts").render())
            assert "north: online · bridge none" in facts and "south: online" in facts
            app.send_command("south/porch_light", {"state": "ON"})
            await _until(pilot, lambda: pins.pin(7).state == 1)
            await _until(pilot, lambda: "hub reports" in str(app.query_one("#status").render()))
            app.toggle_rule("north/noop")
            await _until(pilot, lambda: model.rules["north/noop"].state.get("enabled") is False)
            assert model.rules["south/noop"].state.get("enabled") is True
            # A hub that stops publishes its last will: the dashboard shows it offline.
            await asyncio.get_running_loop().run_in_executor(None, south.stop)
            await _until(pilot, lambda: model.hubs["south"].status == "offline")
            assert json.loads(model.link_json())["north"]["status"] == "online"

    try:
        asyncio.run(body())
    finally:
        north.stop()
        south.stop()
        pins.close()
