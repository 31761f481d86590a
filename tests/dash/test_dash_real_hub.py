"""The must-show: the dashboard against the real hub (runtime, GPIO light, rule host).

The hub runs in-process on its own asyncio loop with gpiozero's mock pins; the dashboard
talks to it only over the private broker, as it would over SSH on a Pi.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hub.broker import MosquittoBroker
from hub.dash import DashLink, LinkSettings
from hub.dash.app import DashApp
from hub.dash.views.eventlist import EventList
from hub.dash.views.rules import RuleTraceScreen

from .conftest import async_test, cell, status_text, wait_until

RULES = """
- id: hall_motion_light
  triggers:
    - device: hall_motion
      attribute: occupancy
      to: true
  actions:
    - light: hall_light
      state: on
      brightness: 60%
- id: away_alarm
  triggers:
    - device: hall_motion
      attribute: occupancy
      to: true
  conditions:
    - device: alarm
      attribute: mode
      is: away
  actions:
    - light: hall_light
      state: on
      brightness: 100%
"""


class HubThread:
    """The real hub on its own loop and thread, as `edgehub run` would run it."""

    def __init__(self, broker: MosquittoBroker, tmp: Path, factory: MockFactory) -> None:
        from hub.config import validate_config
        from hub.runtime import Hub
        from hub.wiring import Backends

        (tmp / "rules").mkdir()
        (tmp / "rules" / "hall.yaml").write_text(RULES)
        config = validate_config(
            {
                "hub": {"id": "home", "data_dir": str(tmp / "data")},
                "mqtt": {"host": broker.host, "port": broker.port},
                "devices": {
                    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
                    "hall_light": {"type": "light", "gpio": {"pin": 17, "dimmable": True}},
                    "alarm": {"type": "virtual", "attributes": {"mode": "disarmed"}},
                },
                "rules": str(tmp / "rules"),
            }
        )
        self.hub = Hub(config, backends=Backends(pin_factory=factory))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=lambda: self.loop.run_until_complete(self.hub.run()), daemon=True
        )
        self.thread.start()
        if not self.hub.started.wait(20):
            raise AssertionError("hub did not start")

    def stop(self) -> None:
        self.hub.request_stop()
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def pins() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.close()


@pytest.fixture
def real_hub(broker: MosquittoBroker, tmp_path: Path, pins: MockFactory) -> Iterator[HubThread]:
    h = HubThread(broker, tmp_path, pins)
    yield h
    h.stop()


def _sensor(broker: MosquittoBroker, payload: dict[str, Any]) -> None:
    """Publish a Zigbee2MQTT motion message, as the real sensor would."""
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.connect(broker.host, broker.port)
    c.loop_start()
    c.publish("zigbee2mqtt/hall_motion", json.dumps(payload), qos=1).wait_for_publish(5)
    c.loop_stop()
    c.disconnect()


@pytest.mark.slow
@async_test
async def test_dashboard_drives_the_real_hub(
    broker: MosquittoBroker, real_hub: HubThread, pins: MockFactory
) -> None:
    link = DashLink(LinkSettings(host=broker.host, port=broker.port), reconnect_max=1)
    app = DashApp(link, command_timeout=10)
    light = lambda: cell(app, "devices", "hall_light", "state")  # noqa: E731
    async with app.run_test(size=(100, 30)) as pilot:
        # The manifest and retained state come from the hub itself.
        await wait_until(pilot, lambda: cell(app, "devices", "hall_light", "type") == "light")
        await wait_until(pilot, lambda: light() == "OFF")
        assert pins.pin(17).state == 0

        # The key on a light switches the GPIO pin; the screen shows the hub's new state.
        table = app.query_one("#devices")
        table.focus()
        table.move_cursor(row=table.get_row_index("hall_light"))
        await pilot.press("t")
        await wait_until(pilot, lambda: pins.pin(17).state == 1)
        await wait_until(pilot, lambda: light() == "ON 100%")
        await wait_until(pilot, lambda: "hall_light: ok" in status_text(app))
        await pilot.press("minus")
        await wait_until(pilot, lambda: light() == "ON 87%")
        assert pins.pin(17).state == pytest.approx(223 / 255, abs=0.01)
        await pilot.press("t")
        await wait_until(pilot, lambda: pins.pin(17).state == 0 and light() == "OFF")

        # Motion runs the rule: the cause chain reads from the light back to the sensor.
        _sensor(broker, {"occupancy": True, "battery": 90})
        await wait_until(pilot, lambda: light() == "ON 60%")
        assert pins.pin(17).state == pytest.approx(0.6, abs=0.01)
        await pilot.press("2")
        await pilot.press("slash", *"hall", "underscore", *"light", "enter")
        events = app.query_one("#event-list", EventList)
        await wait_until(pilot, lambda: events.row_count > 0)
        await pilot.press("end")
        chain = str(app.query_one("#chain").render())
        assert chain == "Cause: hall_light ON ← rule hall_motion_light ← hall_motion occupancy"
        # The filter narrows the list: only the light's own events are left.
        assert all(
            app.model.by_id[i].source == "hall_light" for i in app.view("events").shown_event_ids()
        )
        assert len(app.model.events) > events.row_count

        # A rule's traces open, including the run that did not fire and why.
        await pilot.press("3")
        await wait_until(pilot, lambda: cell(app, "rule-list", "away_alarm", "result") != "–")
        rules = app.query_one("#rule-list")
        rules.move_cursor(row=rules.get_row_index("away_alarm"))
        await pilot.press("enter")
        assert isinstance(app.screen, RuleTraceScreen)
        body = str(app.screen.query_one("#trace-body").render())
        assert "did not run: a condition was false" in body and "✗ conditions[0]" in body
        await pilot.press("e")
        await wait_until(
            pilot, lambda: "DISABLED" in str(app.screen.query_one("#trace-title").render())
        )
        await pilot.press("escape")
        await pilot.press("1")

        # The broker goes away: a banner; it comes back: the dashboard recovers by itself.
        banner = app.query_one("#banner")
        broker.stop()
        await wait_until(pilot, lambda: banner.has_class("-visible"))
        assert "Broker connection lost" in str(banner.render())
        broker.start()
        await wait_until(pilot, lambda: not banner.has_class("-visible"), timeout=20)
        # Commands flow again once the hub is back on the broker too.
        deadline = time.monotonic() + 20
        while pins.pin(17).state != 0 and time.monotonic() < deadline:
            table.focus()
            table.move_cursor(row=table.get_row_index("hall_light"))
            await pilot.press("t")
            await pilot.pause(1.0)
        await wait_until(pilot, lambda: light() == "OFF", timeout=10)
        assert pins.pin(17).state == 0
