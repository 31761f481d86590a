"""MQTT lights: the commands each format sends, and the state read back from real payloads."""

from __future__ import annotations

import json

import pytest

from devices.errors import LightError
from devices.lights import LightState
from devices.mqtt_light import MqttLight


class Wire:
    """Collects what the light publishes."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def __call__(self, topic: str, payload: str) -> None:
        self.sent.append((topic, payload))


def test_zigbee2mqtt_commands_and_readback() -> None:
    wire = Wire()
    light = MqttLight("hall", "zigbee2mqtt/upstairs/hall_light", "zigbee2mqtt", wire)
    assert light.topics() == ["zigbee2mqtt/upstairs/hall_light"]
    light.on(brightness=50, transition=2)
    topic, payload = wire.sent[-1]
    assert topic == "zigbee2mqtt/upstairs/hall_light/set"
    assert json.loads(payload) == {"state": "ON", "brightness": 128, "transition": 2}
    assert not light.is_on  # not optimistic: waits for the device to say so
    seen: list[LightState] = []
    light.on_change = seen.append
    ok = light.on_message(
        "zigbee2mqtt/upstairs/hall_light",
        b'{"state":"ON","brightness":215,"color_temp":325,"color_mode":"color_temp"}',
    )
    assert ok and light.is_on and light.state.to_payload()["brightness"] == 215
    assert len(seen) == 1
    light.toggle()
    assert json.loads(wire.sent[-1][1]) == {"state": "TOGGLE"}
    light.off()
    assert json.loads(wire.sent[-1][1]) == {"state": "OFF"}


@pytest.mark.parametrize(
    "payload",
    [b"", b"ON", b'{"state":', b"\xff\xfe\x00garbage", b'{"battery":null}', b"null", b"42"],
)
def test_zigbee2mqtt_broken_payloads_are_ignored(payload: bytes) -> None:
    light = MqttLight("hall", "zigbee2mqtt/hall_light", "zigbee2mqtt", Wire())
    assert light.on_message("zigbee2mqtt/hall_light", payload) is False
    assert light.state == LightState(False, 100.0)


def test_tasmota_commands_and_readback() -> None:
    wire = Wire()
    light = MqttLight("lamp", "lamp1", "tasmota", wire)
    assert set(light.topics()) == {"stat/lamp1/RESULT", "stat/lamp1/POWER", "tele/lamp1/STATE"}
    light.on()
    assert wire.sent[-1] == ("cmnd/lamp1/POWER", "ON")
    light.on(brightness=40)
    assert wire.sent[-1] == ("cmnd/lamp1/Dimmer", "40")
    light.off()
    assert wire.sent[-1] == ("cmnd/lamp1/POWER", "OFF")
    assert light.on_message("stat/lamp1/RESULT", b'{"POWER":"ON","Dimmer":40}')
    assert light.state == LightState(True, 40.0)
    assert light.on_message("stat/lamp1/POWER", b"OFF")
    assert light.state == LightState(False, 40.0)
    assert light.on_message(
        "tele/lamp1/STATE", b'{"Time":"x","Uptime":"0T01:02:03","POWER":"ON","Wifi":{"RSSI":76}}'
    )
    assert light.is_on
    assert not light.on_message("stat/lamp1/RESULT", b'{"Dimmer":"abc"}')


def test_shelly_gen1() -> None:
    wire = Wire()
    light = MqttLight("porch", "shellies/shelly1-ABC123", "shelly", wire)
    assert light.topics() == ["shellies/shelly1-ABC123/relay/0"]
    assert not light.dimmable
    light.on()
    assert wire.sent[-1] == ("shellies/shelly1-ABC123/relay/0/command", "on")
    light.toggle()
    assert wire.sent[-1] == ("shellies/shelly1-ABC123/relay/0/command", "toggle")
    assert light.on_message("shellies/shelly1-ABC123/relay/0", b"on")
    assert light.is_on
    assert not light.on_message("shellies/shelly1-ABC123/relay/0", b"maybe")


def test_shelly_gen2() -> None:
    wire = Wire()
    light = MqttLight("garden", "shellyplus1-a8032ab12345", "shelly", wire)
    light.on()
    topic, payload = wire.sent[-1]
    assert topic == "shellyplus1-a8032ab12345/rpc"
    msg = json.loads(payload)
    assert msg["method"] == "Switch.Set" and msg["params"] == {"id": 0, "on": True}
    assert msg["src"] == "edgehub"
    assert light.on_message(
        "shellyplus1-a8032ab12345/status/switch:0",
        b'{"id":0,"source":"WS_in","output":true,"apower":0.0,"temperature":{"tC":41.2}}',
    )
    assert light.is_on
    ev = {
        "src": "shellyplus1-a8032ab12345",
        "dst": "shellyplus1-a8032ab12345/events",
        "method": "NotifyStatus",
        "params": {"ts": 1700000000.1, "switch:0": {"id": 0, "output": False}},
    }
    assert light.on_message("shellyplus1-a8032ab12345/events/rpc", json.dumps(ev))
    assert not light.is_on


def test_optimistic_light_reports_on_command() -> None:
    light = MqttLight("x", "zigbee2mqtt/x", "zigbee2mqtt", Wire(), optimistic=True)
    light.on(brightness=60)
    assert light.state == LightState(True, 60.0)


def test_unknown_format() -> None:
    with pytest.raises(LightError):
        MqttLight("x", "t", "hue", Wire())
