"""One real hub on the fixture broker; another hub ("garage") played by a plain MQTT client
that publishes what a hub publishes: its retained manifest, status, heartbeat and states."""

from __future__ import annotations

import json

from gpiozero.pins.mock import MockFactory, MockPWMPin

from .sites import SiteHub, Watcher, wait

DEVICES = {"hall_light": {"type": "light", "gpio": {"pin": 5}}}
RULES = """
- id: door_path
  triggers: [{device: garage/door, attribute: contact, to: false}]
  remote: {on_unreachable: fail}
  actions:
    - {light: garage/path_light, state: on, brightness: 100%}
    - {light: hall_light, state: on}
"""
MANIFEST = {
    "hub": "garage",
    "devices": {"door": {"type": "contact"}, "path_light": {"type": "light"}},
}


def _ready(w: Watcher) -> bool:
    states = w.on("edgehub/home/rules/door_path/state")
    return bool(states) and json.loads(states[-1])["error"] is None


def test_remote_devices_through_a_real_hub(broker, tmp_path):
    w = Watcher(broker, "t")
    w.client.publish("edgehub/garage/devices", json.dumps(MANIFEST), qos=1, retain=True)
    w.client.publish("edgehub/garage/status", "online", qos=1, retain=True)
    w.client.subscribe("edgehub/garage/#", qos=1)
    pins = MockFactory(pin_class=MockPWMPin)
    hub = SiteHub("home", broker, tmp_path, DEVICES, RULES, pins, heartbeat=0.2)
    hall = pins.pin(5)
    try:
        wait(lambda: _ready(w), "rule valid once garage's manifest is in")
        assert json.loads((tmp_path / "data" / "remote_manifests.json").read_text()) == {
            "garage": {"door": "contact", "path_light": "light"}
        }
        w.publish("edgehub/garage/door/state", '{"contact": true}')
        wait(lambda: w.events("home", "state", "garage/door"), "door state on home")
        assert w.events("home", "state", "garage/door")[-1]["data"] == {
            "contact": True,
            "stale": False,
        }
        # The door opens on the garage: home's rule commands the garage's path light.
        w.publish("edgehub/garage/door/state", '{"contact": false}')
        sets = wait(lambda: w.on("edgehub/garage/path_light/set"), "command to the garage")
        body = json.loads(sets[0])
        assert (body["state"], body["brightness"], body["from_hub"]) == ("ON", 255, "home")
        # The command is written at once; the event that records it follows on the stream.
        sent = wait(lambda: w.events("home", "remote.sent", "garage/path_light"), "remote.sent")
        assert sent[0]["data"]["command"] == body["id"]
        wait(lambda: hall.state == 1, "hall light on")
        # The same state again (a bridge replay) is not news: no second command.
        w.publish("edgehub/garage/door/state", '{"contact": false}')
        w.publish("edgehub/home/hall_light/set", "OFF")
        wait(lambda: hall.state == 0, "hall light off")
        assert len(w.on("edgehub/garage/path_light/set")) == 1

        # The garage hub goes offline (its last will): its devices are stale, a `fail`
        # action fails at once with remote.unreachable, local actions still run.
        w.client.publish("edgehub/garage/status", "offline", qos=1, retain=True)
        wait(lambda: w.events("home", "remote.link", "garage")[-1]["data"]["up"] is False, "down")
        assert w.events("home", "state", "garage/door")[-1]["data"] == {"stale": True}
        w.publish("edgehub/garage/door/state", '{"contact": true}')
        w.publish("edgehub/garage/door/state", '{"contact": false}')
        wait(lambda: w.events("home", "remote.unreachable"), "remote.unreachable")
        failed = w.events("home", "remote.unreachable")[0]
        assert failed["source"] == "garage/path_light"
        assert failed["data"]["reason"] == "hub offline" and failed["cause"]
        wait(lambda: hall.state == 1, "hall light on, locally, while the garage is away")
        assert len(w.on("edgehub/garage/path_light/set")) == 1

        # A second hub started with our id is noticed by its heartbeat.
        w.publish("edgehub/home/alive", json.dumps({"ts": 1, "instance": "someone-else"}))
        wait(lambda: w.events("home", "remote.duplicate_id"), "duplicate hub id reported")
    finally:
        hub.stop()
        w.close()
        pins.close()
