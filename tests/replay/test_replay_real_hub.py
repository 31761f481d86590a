"""A journal recorded by the real hub (broker fixture, GPIO light on gpiozero mock pins),
replayed through identical rules and through a rule with a longer `for:`; the replay itself
publishes nothing and moves no pin."""

from __future__ import annotations

import asyncio
import json
import shutil
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
import yaml
from gpiozero import Device
from gpiozero.pins.mock import MockFactory, MockPWMPin
from testkit import wait_until as wait

from hub.cli import main
from hub.config import load_config
from hub.replay import replay
from hub.runtime import Hub
from hub.store import DB_NAME, read_events
from hub.wiring import Backends

RULES = """
- id: porch_light
  triggers: [{device: porch_motion, attribute: occupancy, to: true}]
  actions:
    - {light: porch_light, state: on, for: 1s}
"""
TOPIC = "zigbee2mqtt/porch_motion"
DEVICES = {
    "porch_motion": {
        "type": "motion",
        "topic": "zigbee2mqtt/porch_motion",
        "format": "zigbee2mqtt",
    },
    "porch_light": {"type": "light", "gpio": {"pin": 17}},
}
KNOWN = {"porch_motion": "motion", "porch_light": "light"}


def record_journal(broker, tmp: Path) -> tuple[Path, MockFactory]:
    """Run the real hub, show it motion twice, let the light go off twice, stop it."""
    (tmp / "rules").mkdir()
    (tmp / "rules" / "porch.yaml").write_text(RULES)
    cfg = {
        "hub": {"id": "home", "data_dir": str(tmp / "data")},
        "mqtt": {"host": broker.host, "port": broker.port},
        "devices": DEVICES,
        "rules": str(tmp / "rules"),
    }
    path = tmp / "hub.yaml"
    path.write_text(yaml.safe_dump(cfg))
    factory = MockFactory(pin_class=MockPWMPin)
    hub = Hub(load_config(path), backends=Backends(pin_factory=factory))
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=lambda: loop.run_until_complete(hub.run()), daemon=True)
    thread.start()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="replay-sensor")
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert hub.started.wait(20)
        pin = factory.pin(17)
        for _ in range(2):
            client.publish(TOPIC, '{"occupancy":true}', qos=1).wait_for_publish(5)
            wait(lambda: pin.state == 1, "porch light on")
            client.publish(TOPIC, '{"occupancy":false}', qos=1).wait_for_publish(5)
            wait(lambda: pin.state == 0, "porch light off after 1 s")
            # Past where a 2 s `for:` would end, so each motion has its own changed off-time
            # and the journal runs beyond the last one.
            time.sleep(1.3)
    finally:
        hub.request_stop()
        thread.join(30)
        client.loop_stop()
        client.disconnect()
    return path, factory


@pytest.fixture
def recorded(broker, tmp_path):
    path, factory = record_journal(broker, tmp_path)
    return broker, path, factory


def motion_times(db: Path) -> list[float]:
    return [
        e.ts
        for e in read_events(db, device="porch_motion", kind="state")
        if e.data.get("occupancy") is True
    ]


@pytest.mark.slow
def test_real_hub_journal_identical_rules_no_difference_longer_for_exact_off_times(recorded):
    _, path, _ = recorded
    tmp = path.parent
    db = tmp / "data" / DB_NAME
    same = tmp / "same"
    shutil.copytree(tmp / "rules", same)
    kw = {"current_rules": tmp / "rules", "known_devices": KNOWN, "lights": ["porch_light"]}

    r = replay(db, same, **kw)
    assert r.identical and r.differences == []
    assert r.inputs > 0 and r.old_effects >= 4  # two ONs and two OFFs, caused by the rule
    assert r.journal_mismatches == []  # the recomputed rules agree with what the hub did
    row = next(x for x in r.rules if x["rule"] == "porch_light")
    assert row["runs_before"] == row["runs_after"] == row["runs_journal"] == 4  # 2 on, 2 auto-off

    longer = tmp / "longer"
    longer.mkdir()
    (longer / "porch.yaml").write_text(RULES.replace("for: 1s", "for: 2s"))
    r = replay(db, longer, **kw)
    ons = motion_times(db)
    assert len(ons) == 2
    removed = [(d["ts"], d["state"]) for d in r.differences if d["change"] == "removed"]
    added = [(d["ts"], d["state"]) for d in r.differences if d["change"] == "added"]
    assert removed == [(pytest.approx(t + 1, abs=1e-5), "off") for t in ons]
    assert added == [(pytest.approx(t + 2, abs=1e-5), "off") for t in ons]
    assert r.differences_total == 4 and not r.identical
    assert [c["off_after"] - c["on"] for c in r.light_changes] == [pytest.approx(2, abs=1e-5)] * 2
    assert all("stays on, no OFF until" in c["text"] for c in r.light_changes)
    on_time = {(o["light"]): o for o in r.on_time}["porch_light"]
    assert on_time["after_s"] == pytest.approx(on_time["before_s"] + 2, abs=1e-3)


@pytest.mark.slow
def test_a_replay_publishes_nothing_and_moves_no_pin(recorded, capsys):
    broker, path, factory = recorded
    tmp = path.parent
    history = list(factory.pin(17).states)
    longer = tmp / "longer"
    longer.mkdir()
    (longer / "porch.yaml").write_text(RULES.replace("for: 1s", "for: 2s"))
    seen: list[str] = []
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="replay-watcher")
    client.on_message = lambda c, u, m: seen.append(m.topic)
    client.connect(broker.host, broker.port)
    client.subscribe("#", qos=1)
    client.loop_start()
    spy = MockFactory(pin_class=MockPWMPin)
    old_default = Device.pin_factory
    Device.pin_factory = spy  # anything building a gpiozero device by default would land here
    try:
        time.sleep(0.5)  # the retained messages of the recorded run arrive first
        seen.clear()
        assert main(["replay", "-c", str(path), "--rules", str(longer)]) == 1  # 1: differences
        assert main(["replay", "-c", str(path), "--rules", str(tmp / "rules"), "--json"]) == 0
        client.publish("replay/marker", "done", qos=1).wait_for_publish(5)
        wait(lambda: "replay/marker" in seen, "the marker")
    finally:
        Device.pin_factory = old_default
        client.loop_stop()
        client.disconnect()
    assert seen == ["replay/marker"]  # nothing from the replay reached the broker
    assert spy.pins == {}
    assert list(factory.pin(17).states) == history
    out = capsys.readouterr().out
    assert "porch_light ON" in out and "stays on, no OFF until" in out
    report = json.loads(out[out.index("{\n") :])
    assert report["identical"] is True
