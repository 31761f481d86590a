"""The rule host inside the real hub on a real broker: a Zigbee2MQTT motion payload switches
a GPIO light (gpiozero mock pins) and an MQTT light; a delay survives a hub restart."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from testkit import wait_until as wait

from hub.config import validate_config
from hub.runtime import Hub
from hub.wiring import Backends

DEVICES = {
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion", "format": "zigbee2mqtt"},
    "hall_light": {"type": "light", "gpio": {"pin": 17, "dimmable": True}},
    "porch_light": {"type": "light", "topic": "zigbee2mqtt/porch_light", "format": "zigbee2mqtt"},
}
RULES = """
- id: motion_lights
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions:
    - {light: hall_light, state: on, brightness: 60%}
    - {light: porch_light, state: on}
    - delay: 2s
    - {light: [hall_light, porch_light], state: off}
"""
MOTION = (
    '{"occupancy":true,"illuminance":28,"illuminance_lux":28,"battery":100,'
    '"voltage":3005,"linkquality":120}'
)


class Running:
    """A real Hub on its own loop thread, and a paho client that hears everything."""

    def __init__(self, broker, tmp: Path, factory: MockFactory):
        (tmp / "rules").mkdir(exist_ok=True)
        (tmp / "rules" / "lights.yaml").write_text(RULES)
        cfg = validate_config(
            {
                "hub": {"id": "home", "data_dir": str(tmp / "data")},
                "mqtt": {"host": broker.host, "port": broker.port},
                "devices": DEVICES,
                "rules": str(tmp / "rules"),
            }
        )
        self.hub = Hub(cfg, backends=Backends(pin_factory=factory))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=lambda: self.loop.run_until_complete(self.hub.run()), daemon=True
        )
        self.msgs: list[tuple[float, str, bytes]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{id(self)}")
        self.client.on_message = lambda c, u, m: self.msgs.append((time.time(), m.topic, m.payload))
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("#", qos=1)
        self.client.loop_start()
        self.thread.start()
        assert self.hub.started.wait(20)
        wait(lambda: self.on("edgehub/home/rules/motion_lights/state"), "rule state")

    def on(self, topic: str) -> list[bytes]:
        return [p for _, t, p in list(self.msgs) if t == topic]

    def stop(self) -> None:
        self.hub.request_stop()
        self.thread.join(30)
        self.client.loop_stop()
        self.client.disconnect()


def test_motion_payload_switches_gpio_and_mqtt_lights_and_a_delay_survives_a_restart(
    broker, tmp_path
):
    factory = MockFactory(pin_class=MockPWMPin)
    h = Running(broker, tmp_path, factory)
    try:
        h.client.publish("zigbee2mqtt/hall_motion", '{"occupancy":false}', qos=1).wait_for_publish(
            5
        )
        h.client.publish("zigbee2mqtt/hall_motion", MOTION, qos=1).wait_for_publish(5)
        wait(lambda: factory.pin(17).state == pytest.approx(0.6), "GPIO light at 60%")
        wait(lambda: h.on("zigbee2mqtt/porch_light/set"), "zigbee2mqtt command")
        assert json.loads(h.on("zigbee2mqtt/porch_light/set")[-1]) == {"state": "ON"}

        # Traces follow the commands in 20 ms groups: the first payload's "not_matched"
        # trace may be all there is when the light is already on.
        def traces() -> list[dict]:
            return [json.loads(p) for p in h.on("edgehub/home/rules/motion_lights/trace")]

        wait(lambda: len(traces()) >= 2, "both traces")
        assert [t["result"] for t in traces()] == ["not_matched", "ran"]
        assert traces()[-1]["trigger"]["to_state"] is True
        wait(
            lambda: json.loads(h.on("edgehub/home/hall_light/state")[-1])["state"] == "ON", "state"
        )
        armed = time.time()
    finally:
        h.stop()  # the hub goes down in the middle of the 2 s delay
    factory2 = MockFactory(pin_class=MockPWMPin)
    h2 = Running(broker, tmp_path, factory2)  # a new hub and rule host on the same SQLite file
    try:
        wait(lambda: [p for p in h2.on("zigbee2mqtt/porch_light/set") if b"OFF" in p], "porch off")
        wait(lambda: factory2.pin(17).state == 0, "GPIO light off")
        off_at = next(
            t for t, top, p in h2.msgs if top == "zigbee2mqtt/porch_light/set" and b"OFF" in p
        )
        assert off_at >= armed + 1.5  # not before its deadline
    finally:
        h2.stop()
