"""Every action: light (for: auto-off), record, snapshot, notify, publish, set, delay, wait,
if/then/else, choose, stop, emit."""

from __future__ import annotations

import json

from rules_harness import Harness

from rules import Emit, LightCommand, Notify, Publish, Record, SetState, Snapshot


def test_light_on_brightness_transition_toggle_and_auto_off_restart():
    h = Harness(
        """
- id: r
  triggers: [{device: m, attribute: occupancy, to: true}]
  actions:
    - {light: [hall_light, stair_light], state: on, brightness: 60%, transition: 2s, for: 2m}
- id: t
  triggers: [{device: b, attribute: action, to: single}]
  actions: [{light: lamp, state: toggle}]
"""
    )
    h.baseline("m", occupancy=False)
    h.state("m", at=0, occupancy=True)
    h.state("m", at=60, occupancy=False)
    h.state("m", at=90, occupancy=True)  # restarts the 2 minutes
    h.state("b", at=100, action="single")
    h.run_until("1h")
    assert h.lights() == [
        (0, "hall_light", "on", 60.0), (0, "stair_light", "on", 60.0),
        (90, "hall_light", "on", 60.0), (90, "stair_light", "on", 60.0),
        (100, "lamp", "toggle", None),
        (210, "hall_light", "off", None), (210, "stair_light", "off", None),
    ]  # fmt: skip
    assert h.effects[0][1].transition == 2.0
    assert all(e.rule in ("r", "t") and e.cause for _, e in h.effects)


def test_a_plain_light_command_cancels_the_pending_auto_off():
    h = Harness(
        """
- id: motion
  triggers: [{device: m, attribute: occupancy, to: true}]
  actions: [{light: hall_light, for: 2m}]
- id: party
  triggers: [{device: b, attribute: action, to: party}]
  actions: [{light: hall_light, state: on, brightness: 100}]
"""
    )
    h.state("m", at=0, occupancy=True)
    h.state("b", at=30, action="party")
    h.run_until("1h")
    assert [s for _, _, s, _ in h.lights()] == ["on", "on"]


def test_camera_notify_publish_set_emit_effects():
    h = Harness(
        """
- id: r
  triggers: [{camera: porch_cam, detected: person}]
  actions:
    - {record: porch_cam, for: 30s}
    - snapshot: porch_cam
    - notify: [alice, bob]
      title: "{{ trigger.label | title }}"
      message: "at {{ now.strftime('%H:%M') }}"
      attach: snapshot
      priority: high
    - publish: "home/{{ trigger.camera }}"
      payload: {who: "{{ trigger.label }}", n: 1}
      retain: true
    - {set: alarm, mode: triggered, by: "{{ rule }}"}
    - {emit: intruder, data: {camera: "{{ trigger.camera }}"}}
""",
        start="2026-01-05 22:15",
    )
    h.send("camera.detection", "porch_cam", {"label": "person", "score": 0.9, "snapshot": "/s.jpg"})
    rec, snap, note, pub, st, em = (e for _, e in h.effects)
    assert rec == Record(rule="r", cause=rec.cause, camera="porch_cam", duration=30.0)
    assert isinstance(snap, Snapshot) and snap.camera == "porch_cam"
    assert isinstance(note, Notify)
    assert (note.owners, note.title, note.message, note.attach, note.priority, note.camera) == (
        ("alice", "bob"), "Person", "at 22:15", "snapshot", "high", "porch_cam"
    )  # fmt: skip
    assert note.data["snapshot"] == "/s.jpg"
    assert (
        isinstance(pub, Publish)
        and pub.retain
        and json.loads(pub.payload) == {"who": "person", "n": 1}
    )
    assert pub.topic == "home/porch_cam"
    assert isinstance(st, SetState) and st.attributes == {"mode": "triggered", "by": "r"}
    assert isinstance(em, Emit) and em.kind == "intruder" and em.data == {"camera": "porch_cam"}
    assert em.source == "rule:r"
    trace = h.traces[-1]
    assert [a["type"] for a in trace.actions] == [
        "record",
        "snapshot",
        "notify",
        "publish",
        "set",
        "emit",
    ]
    assert trace.latency_ms is not None


def test_delay_then_continue():
    h = Harness(
        """
- id: r
  triggers: [{device: b, attribute: action, to: go}]
  actions: [{light: l}, {delay: 5m}, {light: l, state: off}]
"""
    )
    h.state("b", at=10, action="go")
    h.run_until("1h")
    assert [(t, s) for t, _, s, _ in h.lights()] == [(10, "on"), (310, "off")]
    assert h.results() == ["ran", "resumed"]


WAIT = """
- id: r
  triggers: [{device: front_door, attribute: contact, to: false}]
  actions:
    - publish: door opened
    - wait: {device: front_door, attribute: contact, to: true}
      timeout: 1m
      continue_on_timeout: {cont}
    - publish: "{{ 'timed out' if wait.timed_out else 'closed' }}"
"""


def test_wait_for_a_trigger_or_timeout():
    h = Harness(WAIT.replace("{cont}", "true"))
    h.baseline("front_door", contact=True)
    h.state("front_door", at=0, contact=False)
    h.state("front_door", at=30, contact=True)
    h.state("front_door", at=100, contact=False)
    h.run_until("1h")
    assert [(t, e.topic) for t, e in h.effects] == [
        (0, "door opened"), (30, "closed"), (100, "door opened"), (160, "timed out")
    ]  # fmt: skip
    h2 = Harness(WAIT.replace("{cont}", "false"))
    h2.state("front_door", at=0, contact=False)
    h2.run_until("1h")
    assert [e.topic for _, e in h2.effects] == ["door opened"]
    assert h2.results()[-1] == "timeout"


def test_if_then_else_choose_and_stop():
    h = Harness(
        """
- id: r
  triggers: [{device: b, attribute: action}]
  actions:
    - if: [{template: "trigger.value == 'single'"}]
      then: [{publish: one}]
      else: [{publish: not-one}]
    - choose:
        - conditions: [{template: "trigger.value == 'double'"}]
          actions: [{publish: two}, {stop: enough}]
        - conditions: [{template: "trigger.value == 'hold'"}]
          actions: [{publish: held}]
      default: [{publish: other}]
    - publish: end
"""
    )
    for i, v in enumerate(["single", "double", "hold"]):
        h.state("b", at=i, action=v)
    assert [e.topic for _, e in h.effects] == [
        "one", "other", "end", "not-one", "two", "not-one", "held", "end"
    ]  # fmt: skip
    stopped = h.traces[1]
    assert stopped.result == "stopped"
    assert stopped.actions[-1] == {**stopped.actions[-1], "path": "actions[1].choose[0].actions[1]"}
    assert [c["path"] for c in stopped.conditions] == [
        "actions[0].if[0]",
        "actions[1].choose[0].conditions[0]",
    ]


def test_effects_carry_rule_and_cause():
    h = Harness(
        """
- id: r
  triggers: [{device: b, attribute: action}]
  actions: [{light: l}, {delay: 1s}, {light: l, state: off}]
"""
    )
    res = h.state("b", action="x")
    h.run_until("1m")
    assert {(e.rule, e.cause) for _, e in h.effects} == {("r", res.traces[0].event_id)}
    assert all(isinstance(e, LightCommand) for _, e in h.effects)
