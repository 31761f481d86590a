"""`<hub>/<device>` in rules: validated against other hubs' manifests, with file:line; the
engine treats it as any device; light actions on it carry the rule's remote policy."""

from __future__ import annotations

import json

from hub.remote import CommandWindow, Outbox, Peers, Pending, command_payload
from rules import Engine, Event, LightCommand, load_text

LOCAL = {"hall_motion": "motion", "hall_light": "light"}
REMOTE = {"garage": {"door": "contact", "path_light": "light"}}
RULES = """
- id: garage_door_path
  triggers: [{device: garage/door, attribute: contact, to: false}]
  conditions: [{device: hall_motion, attribute: occupancy, is: false}]
  remote: {on_unreachable: fail, deadline: 2m}
  actions:
    - {light: garage/path_light, state: on, brightness: 50%}
    - {light: hall_light, state: on}
"""


def test_remote_names_validate_against_manifests():
    res = load_text(RULES, "rules/garage.yaml", LOCAL, REMOTE)
    assert res.errors == []
    assert res.remote == {"garage/door", "garage/path_light"}


def test_missing_remote_device_is_reported_with_file_and_line():
    bad = RULES.replace("garage/path_light", "garage/path_lite").replace(
        "device: garage/door", "device: shed/door"
    )
    res = load_text(bad, "rules/garage.yaml", LOCAL, REMOTE)
    assert res.errors == [
        'rules/garage.yaml:3: [0].triggers[0].device: unknown hub "shed": '
        "no manifest on edgehub/shed/devices",
        'rules/garage.yaml:7: [0].actions[0].light: unknown device "garage/path_lite": '
        "hub garage does not announce it (did you mean garage/path_light?)",
    ]
    assert not res.rules[0].enabled  # a broken rule loads disabled


def test_remote_device_of_the_wrong_type():
    bad = RULES.replace("light: garage/path_light", "light: garage/door")
    res = load_text(bad, "r.yaml", LOCAL, REMOTE)
    assert res.errors == [
        'r.yaml:7: [0].actions[0].light: "garage/door" is a contact, expected a light'
    ]


def test_without_manifests_remote_names_are_not_judged():
    assert load_text(RULES, "r.yaml", LOCAL, None).errors == []


def test_bad_remote_option_is_reported():
    res = load_text(RULES.replace("on_unreachable: fail", "on_unreachable: wait"), "r.yaml")
    assert res.errors == ['r.yaml:5: [0].remote.on_unreachable: expected queue or fail, got "wait"']


def test_engine_sees_remote_state_and_emits_remote_policy():
    res = load_text(RULES, "r.yaml", LOCAL, REMOTE)
    eng = Engine(res.rules)
    eng.handle(Event("state", "hall_motion", {"occupancy": False}, ts=10), 10)
    eng.handle(Event("state.baseline", "garage/door", {"contact": True}, ts=10), 10)
    out = eng.handle(Event("state", "garage/door", {"contact": False}, ts=11), 11)
    far, near = out.effects
    assert isinstance(far, LightCommand) and far.device == "garage/path_light"
    assert (far.on_unreachable, far.deadline, far.brightness) == ("fail", 120.0, 50.0)
    assert (near.device, near.on_unreachable, near.deadline) == ("hall_light", "queue", None)


def test_command_payload_and_the_receivers_window():
    eff = LightCommand(device="garage/path_light", state="on", brightness=50, transition=2)
    body = json.loads(command_payload(eff, "c1", "home", 100.0))
    assert body == {
        "state": "ON",
        "brightness": 128,
        "transition": 2,
        "id": "c1",
        "from_hub": "home",
        "expires": 100.0,
    }
    win = CommandWindow()
    raw = json.dumps(body).encode()
    assert win.check(raw, now=50.0) is None
    assert win.check(raw, now=50.0) == "duplicate"
    assert win.check(json.dumps({**body, "id": "c2"}).encode(), now=101.0) == "expired"
    assert win.check(b"ON", now=50.0) is None  # plain commands have no id: always applied


def test_outbox_keeps_order_and_splits_expired():
    box = Outbox()
    for i, exp in enumerate((10.0, 30.0, 40.0)):
        box.add(Pending("garage", "path_light", "t", LightCommand(), 0.0, exp, id=f"c{i}"))
    box.add(Pending("shed", "lamp", "t", LightCommand(), 0.0, 99.0, id="s"))
    ready, expired = box.take_for("garage", now=20.0)
    assert [c.id for c in ready] == ["c1", "c2"] and [c.id for c in expired] == ["c0"]
    assert [c.id for c in box.pending()] == ["s"]


def test_peer_reachability():
    now = [100.0]
    peers = Peers("home", stale_after=3.0, clock=lambda: now[0])
    assert peers.verdict("garage") == (False, "never seen")
    peers.peer("garage").status = "online"
    assert peers.verdict("garage") == (True, "ok")  # no heartbeat heard yet: status decides
    peers.peer("garage").last_alive = 100.0
    now[0] = 104.0
    assert peers.verdict("garage") == (False, "no heartbeat")
    peers.peer("garage").last_alive = 104.0
    peers.bridges["bridge-home"] = False
    assert peers.verdict("garage") == (False, "bridge down")
    peers.bridges["bridge-home"] = True
    peers.peer("garage").status = "offline"
    assert peers.verdict("garage") == (False, "hub offline")
    assert [p.hub for p in peers.changes()] == ["garage"]
    assert peers.changes() == []  # reported once per flip


def test_auto_off_of_a_remote_light_keeps_the_rules_policy():
    rules = RULES.replace("brightness: 50%}", "brightness: 50%, for: 30s}")
    eng = Engine(load_text(rules, "r.yaml", LOCAL, REMOTE).rules)
    eng.handle(Event("state", "hall_motion", {"occupancy": False}, ts=10), 10)
    eng.handle(Event("state.baseline", "garage/door", {"contact": True}, ts=10), 10)
    eng.handle(Event("state", "garage/door", {"contact": False}, ts=11), 11)
    (off,) = eng.advance(42).effects
    assert (off.device, off.state, off.on_unreachable, off.deadline) == (
        "garage/path_light",
        "off",
        "fail",
        120.0,
    )
