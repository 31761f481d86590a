"""Item 4: a Tasmota switch is `contact` on a contact device and `occupancy` on a motion one."""

from __future__ import annotations

import paho.mqtt.client as mqtt

from hub.adapters import adapter_for
from hub.background import HubThread
from hub.config import validate_config

from .conftest import hub_config

# Real payloads (PAYLOADS.md, Tasmota telemetry): plain switch, and with SetOption114.
PLAIN_ON = b'{"Time":"2026-11-27T10:00:00","Switch1":"ON"}'
PLAIN_OFF = b'{"Time":"2026-11-27T10:00:05","Switch1":"OFF"}'
SO114_ON = b'{"Time":"2026-11-27T10:00:00","Switch1":{"Action":"ON"}}'
SO114_OFF = b'{"Time":"2026-11-27T10:00:05","Switch1":{"Action":"OFF"}}'
MIXED = (
    b'{"Time":"x","AM2301":{"Temperature":21.1,"Humidity":48.2,"DewPoint":9.8},'
    b'"Switch1":{"Action":"ON"},"Switch2":"OFF","TempUnit":"C"}'
)


def adapter(**device):
    cfg = validate_config({"devices": {"d": {"topic": "shed", "format": "tasmota", **device}}})
    return adapter_for(cfg.devices["d"])


def decode(a, payload: bytes, topic: str = "tele/shed/SENSOR") -> dict:
    r = a.decode(topic, payload)
    assert r is not None and r.problems == []
    return r.attrs


def test_switch_on_a_contact_device_is_contact_closed_when_on() -> None:
    a = adapter(type="contact")
    assert decode(a, PLAIN_ON) == {"contact": True}
    assert decode(a, PLAIN_OFF) == {"contact": False}
    assert decode(a, SO114_ON) == {"contact": True}
    assert decode(a, SO114_OFF) == {"contact": False}
    # SetOption114 switches may also report on stat/<t>/RESULT.
    assert decode(a, b'{"Switch1":{"Action":"OFF"}}', "stat/shed/RESULT") == {"contact": False}


def test_invert_flips_a_contact_wired_the_other_way() -> None:
    a = adapter(type="contact", invert=True)
    assert decode(a, PLAIN_ON) == {"contact": False}
    assert decode(a, SO114_OFF) == {"contact": True}


def test_switch_on_a_motion_device_is_occupancy() -> None:
    a = adapter(type="motion")
    assert decode(a, PLAIN_ON) == {"occupancy": True}
    assert decode(a, SO114_OFF) == {"occupancy": False}
    assert decode(a, MIXED) == {
        "temperature": 21.1,
        "humidity": 48.2,
        "dew_point": 9.8,
        "occupancy": True,
        "occupancy2": False,
    }


def test_other_types_keep_switch1() -> None:
    a = adapter(type="sensor")
    assert decode(a, PLAIN_ON) == {"switch1": "ON"}
    assert decode(a, SO114_OFF) == {"switch1": "OFF"}


def test_a_tasmota_door_opening_fires_a_contact_rule(broker, tmp_path, events) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "shed.yaml").write_text(
        "- id: shed_open\n"
        "  triggers: [{device: shed_door, attribute: contact, to: false}]\n"
        "  actions: [{light: shed_light, state: on}]\n"
    )
    config = hub_config(
        broker,
        tmp_path / "data",
        devices={
            "shed_door": {"type": "contact", "topic": "shed", "format": "tasmota"},
            "shed_light": {"type": "light", "gpio": {"pin": 17}},
        },
        rules=str(rules),
    )
    sensor = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    sensor.connect(broker.host, broker.port)
    sensor.loop_start()
    try:
        with HubThread(config):
            sensor.publish("tele/shed/SENSOR", SO114_ON, qos=1).wait_for_publish(5)
            events.wait("state", lambda e: e["source"] == "shed_door")
            sensor.publish("tele/shed/SENSOR", SO114_OFF, qos=1).wait_for_publish(5)
            opened = events.wait(
                "state", lambda e: e["source"] == "shed_door" and e["data"] == {"contact": False}
            )
            on = events.wait(
                "state", lambda e: e["source"] == "shed_light" and e["data"].get("state") == "ON"
            )
            assert on["cause"] == opened["id"]  # the light says the door opened it
    finally:
        sensor.loop_stop()
        sensor.disconnect()
