"""The lights component in a real hub on a real broker, with GPIO on gpiozero's mock pins."""

from __future__ import annotations

import json

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from hub.lights import parse_set_payload
from hub.wiring import Backends
from rules.effects import LightCommand

DEVICES = {
    "hall_light": {"type": "light", "gpio": {"pin": 17, "dimmable": True}},
    "porch_relay": {"type": "light", "gpio": {"pin": 22, "relay": True, "active_high": False}},
    "lamp": {"type": "light", "topic": "zigbee2mqtt/lamp", "format": "zigbee2mqtt"},
}


@pytest.fixture
def factory():
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.close()


def test_rule_effect_sets_pin_and_emits_state_with_cause(run_hub, factory, wait_for) -> None:
    h = run_hub(DEVICES, Backends(pin_factory=factory))
    h.execute(LightCommand(rule="r1", cause="evt-motion", device="hall_light", brightness=60))
    assert factory.pin(17).state == pytest.approx(0.6)
    wait_for(lambda: h.events("state"), what="state event")
    ev = h.events("state")[-1]
    assert ev["source"] == "hall_light" and ev["cause"] == "evt-motion"
    assert ev["data"] == {"state": "ON", "brightness": 153}
    wait_for(lambda: h.on("edgehub/home/hall_light/state"), what="retained state")
    assert json.loads(h.on("edgehub/home/hall_light/state")[-1])["state"] == "ON"


def test_set_topic_commands_and_answers(run_hub, factory, wait_for) -> None:
    h = run_hub(DEVICES, Backends(pin_factory=factory))
    h.publish("edgehub/home/porch_relay/set", "ON")
    wait_for(lambda: factory.pin(22).state == 0, what="active-low relay on")
    h.publish("edgehub/home/hall_light/set", json.dumps({"state": "ON", "brightness": 255}))
    wait_for(lambda: factory.pin(17).state == 1, what="hall light full")
    h.publish("edgehub/home/hall_light/set", '{"state":"SPARKLE"}')
    wait_for(lambda: len(h.events("command.result")) >= 3, what="three answers")
    results = h.events("command.result")
    assert [r["data"]["ok"] for r in results] == [True, True, False]
    assert "SPARKLE" in results[-1]["data"]["error"]
    commands = {e["id"]: e for e in h.events("command")}
    assert all(r["cause"] in commands for r in results)  # each answer points at its command
    states = [e for e in h.events("state") if e["source"] == "porch_relay"]
    assert states[-1]["cause"] == results[0]["cause"]


def test_mqtt_light_commands_and_readback(run_hub, factory, wait_for) -> None:
    h = run_hub(DEVICES, Backends(pin_factory=factory))
    h.publish("edgehub/home/lamp/set", json.dumps({"state": "ON", "brightness": 128}))
    wait_for(lambda: h.on("zigbee2mqtt/lamp/set"), what="zigbee2mqtt command")
    assert json.loads(h.on("zigbee2mqtt/lamp/set")[-1]) == {"state": "ON", "brightness": 128}
    h.publish("zigbee2mqtt/lamp", '{"state":"ON","brightness":128,"linkquality":90}')
    wait_for(lambda: [e for e in h.events("state") if e["source"] == "lamp"], what="lamp state")
    ev = [e for e in h.events("state") if e["source"] == "lamp"][-1]
    assert ev["data"] == {"state": "ON", "brightness": 128}
    assert ev["cause"] == h.events("command")[-1]["id"]  # the device's answer to our command


def test_restore_last_state_after_restart(run_hub, factory, tmp_path, wait_for) -> None:
    data = tmp_path / "data"
    h = run_hub(DEVICES, Backends(pin_factory=factory), data_dir=data)
    h.execute(LightCommand(device="hall_light", brightness=40))
    wait_for(lambda: h.events("state"), what="state")
    h.stop()
    factory2 = MockFactory(pin_class=MockPWMPin)  # a fresh process: the pins start low
    try:
        run_hub(DEVICES, Backends(pin_factory=factory2), data_dir=data)
        assert factory2.pin(17).state == pytest.approx(0.4, abs=0.01)
        assert factory2.pin(22).state == 1  # never switched on: stays off (high, active-low)
    finally:
        factory2.close()


def test_parse_set_payload() -> None:
    assert parse_set_payload(b"off") == {"state": "off"}
    assert parse_set_payload(b'{"brightness":0}') == {"state": "off", "brightness": 0.0}
    assert parse_set_payload(b'{"state":"TOGGLE","transition":"2"}') == {
        "state": "toggle",
        "transition": 2.0,
    }
    for bad in (b"", b"[1]", b'{"brightness":300}', b'{"transition":"x","state":"ON"}', b"{}"):
        with pytest.raises(ValueError):
            parse_set_payload(bad)
