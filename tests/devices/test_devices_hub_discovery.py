"""Home Assistant discovery from a real hub: retained configs, re-sent when HA comes online."""

from __future__ import annotations

import json

from gpiozero.pins.mock import MockFactory, MockPWMPin

from hub.wiring import Backends

DEVICES = {
    "hall_light": {"type": "light", "gpio": {"pin": 17, "dimmable": True}, "room": "hall"},
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
    "front_door": {"type": "contact", "topic": "zigbee2mqtt/front_door"},
    "office_temp": {"type": "sensor", "topic": "zigbee2mqtt/office_temp"},
}


def configs(h) -> dict[str, dict]:
    with h.lock:
        return {t: json.loads(p) for t, p, _ in h.messages if t.startswith("homeassistant/") and p}


def test_discovery_configs_and_resend(run_hub, wait_for) -> None:
    factory = MockFactory(pin_class=MockPWMPin)
    try:
        h = run_hub(DEVICES, Backends(pin_factory=factory))
        wait_for(lambda: "homeassistant/light/home_hall_light/config" in configs(h))
        c = configs(h)
        light = c["homeassistant/light/home_hall_light/config"]
        assert light["schema"] == "json" and light["brightness"] is True
        assert light["command_topic"] == "edgehub/home/hall_light/set"
        assert light["state_topic"] == "edgehub/home/hall_light/state"
        assert light["unique_id"] == "edgehub_home_hall_light"
        assert light["device"]["suggested_area"] == "hall"
        motion = c["homeassistant/binary_sensor/home_hall_motion/config"]
        assert motion["device_class"] == "motion" and "occupancy" in motion["value_template"]
        door = c["homeassistant/binary_sensor/home_front_door/config"]
        assert door["device_class"] == "door"
        assert "homeassistant/binary_sensor/home_status/config" in c

        # A sensor's readings appear as they are first reported.
        h.publish("zigbee2mqtt/office_temp", '{"temperature":21.5,"humidity":40,"battery":90}')
        topic = "homeassistant/sensor/home_office_temp_temperature/config"
        wait_for(lambda: topic in configs(h), what="temperature sensor config")
        t = configs(h)[topic]
        assert (
            t["unit_of_measurement"] == "°C"
            and t["value_template"] == "{{ value_json.temperature }}"
        )
        assert "homeassistant/sensor/home_office_temp_humidity/config" in configs(h)

        # Home Assistant restarts: everything is sent again.
        before = len(h.on("homeassistant/light/home_hall_light/config"))
        h.publish("homeassistant/status", "online")
        wait_for(lambda: len(h.on("homeassistant/light/home_hall_light/config")) > before)
        # The resend is a burst of configs, so the sensor's may land just after the light's.
        wait_for(lambda: len(h.on(topic)) >= 2, what="temperature config sent again")
    finally:
        factory.close()
