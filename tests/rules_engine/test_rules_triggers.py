"""Every trigger: device to/from, numeric crossing, for:, MQTT, at, cron, sun, camera, events."""

from __future__ import annotations

import json
from datetime import date

from astral import Observer
from astral.sun import sunset
from rules_harness import PARIS, local_ts

from rules import Notify, Publish

LIGHT_ON = """
- id: r
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: hall_light, state: on}]
"""


def test_device_to_fires_on_change_only_and_baseline_never_fires(harness):
    h = harness(LIGHT_ON)
    h.baseline("hall_motion", occupancy=True)  # known state: no trigger
    h.state("hall_motion", at=1, occupancy=True)  # no change
    assert h.lights() == []
    h.state("hall_motion", at=2, occupancy=False)
    h.state("hall_motion", at=3, occupancy=True, battery=90)
    h.state("hall_motion", at=4, occupancy=True, battery=89)  # a repeat report
    assert h.lights() == [(3, "hall_light", "on", None)]


def test_device_from_to_and_on_matches_zigbee_ON(harness):
    h = harness(
        """
- id: r
  triggers: [{device: porch_light, attribute: state, from: off, to: on}]
  actions: [{publish: seen, payload: "{{ trigger.from_state }}->{{ trigger.to_state }}"}]
"""
    )
    h.baseline("porch_light", state="OFF")
    h.state("porch_light", at=1, state="ON")
    h.state("porch_light", at=2, state="TOGGLING")
    h.state("porch_light", at=3, state="ON")  # from TOGGLING, not from off
    assert [e.payload for _, e in h.effects] == ["OFF->ON"]


def test_numeric_above_fires_on_crossing_only(harness):
    h = harness(
        """
- id: hot
  triggers: [{device: garden_temp, attribute: temperature, above: 25}]
  actions: [{publish: hot, payload: "{{ trigger.value }}"}]
- id: cold
  triggers: [{device: garden_temp, attribute: temperature, below: 5}]
  actions: [{publish: cold, payload: "{{ trigger.value }}"}]
"""
    )
    h.baseline("garden_temp", temperature=20)
    for i, v in enumerate([26, 27, 24, "25.5", 3, 2, 6, 4]):
        h.state("garden_temp", at=i + 1, temperature=v)
    assert [(e.topic, e.payload) for _, e in h.effects] == [
        ("hot", "26"),
        ("hot", "25.5"),
        ("cold", "3"),
        ("cold", "4"),
    ]


def test_for_fires_once_held(harness):
    h = harness(
        """
- id: door_open
  triggers: [{device: front_door, attribute: contact, to: false, for: 10m}]
  actions: [{notify: alice, message: "open {{ trigger.to_state }}"}]
"""
    )
    h.baseline("front_door", contact=True)
    h.state("front_door", at="1m", contact=False)
    h.state("front_door", at="5m", contact=False, battery=80)  # still open: keeps the timer
    h.run_until("1h")
    assert [(t, type(e).__name__) for t, e in h.effects] == [(660, "Notify")]
    assert h.results() == ["for_started", "not_matched", "ran"]


def test_for_restarted_and_cancelled(harness):
    h = harness(
        """
- id: door_open
  triggers: [{device: front_door, attribute: contact, to: false, for: 10m}]
  actions: [{notify: alice}]
"""
    )
    h.baseline("front_door", contact=True)
    h.state("front_door", at="0s", contact=False)
    h.state("front_door", at="5m", contact=True)  # cancelled
    h.state("front_door", at="8m", contact=False)  # restarted from here
    h.run_until("17m")
    assert h.effects == []
    h.run_until("18m")
    assert [t for t, _ in h.effects] == [1080]
    assert "for_cancelled" in h.results()


def test_numeric_for_is_cancelled_when_it_drops_back(harness):
    h = harness(
        """
- id: r
  triggers: [{device: garden_temp, attribute: temperature, above: 30, for: 5m}]
  actions: [{publish: hot}]
"""
    )
    h.baseline("garden_temp", temperature=20)
    h.state("garden_temp", at=0, temperature=31)
    h.state("garden_temp", at=60, temperature=32)  # still above: keeps running
    h.state("garden_temp", at=120, temperature=29)  # cancelled
    h.state("garden_temp", at=200, temperature=35)
    h.run_until("1h")
    assert [t for t, _ in h.effects] == [500]


def test_mqtt_topic_wildcards_and_payload_match(harness):
    h = harness(
        """
- id: r
  triggers:
    - {topic: "zigbee2mqtt/+/action", id: any_button}
    - {topic: "shellies/#", payload: "on", id: shelly_on}
  actions:
    - publish: "out/{{ trigger.id }}"
      payload: >-
        {{ trigger.topic }}
        {{ trigger.payload_json.action if trigger.payload_json else trigger.payload }}
"""
    )
    h.send(
        "mqtt.message",
        "mqtt",
        {"topic": "zigbee2mqtt/hall_button/action", "payload": '{"action":"single"}'},
    )
    h.send(
        "mqtt.message", "mqtt", {"topic": "zigbee2mqtt/a/b/action", "payload": "x"}
    )  # + is one level
    h.send("mqtt.message", "mqtt", {"topic": "shellies/shelly1-AB/relay/0", "payload": "off"})
    h.send("mqtt.message", "mqtt", {"topic": "shellies/shelly1-AB/relay/0", "payload": "on"})
    assert [(e.topic, e.payload) for _, e in h.effects] == [
        ("out/any_button", "zigbee2mqtt/hall_button/action single"),
        ("out/shelly_on", "shellies/shelly1-AB/relay/0 on"),
    ]
    assert h.engine.mqtt_topics() == {"zigbee2mqtt/+/action", "shellies/#"}


def test_time_of_day_fires_every_day_in_local_time(harness):
    h = harness(
        """
- id: r
  triggers: [{at: "07:30"}]
  actions: [{light: kitchen_light, state: on}]
""",
        tz="Europe/Paris",
        start="2026-03-28 12:00",  # the clocks go forward on the night of the 29th
    )
    h.run_until("3d")
    assert [t for t, *_ in h.lights()] == [
        local_ts("2026-03-29 07:30", "Europe/Paris") - h.t0,
        local_ts("2026-03-30 07:30", "Europe/Paris") - h.t0,
        local_ts("2026-03-31 07:30", "Europe/Paris") - h.t0,
    ]


def test_cron_every_five_minutes(harness):
    h = harness(
        """
- id: r
  triggers: [{cron: "*/5 * * * *"}]
  actions: [{publish: tick}]
""",
        start="2026-01-05 12:02",
    )
    h.run_until("1h")
    offsets = [t for t, _ in h.effects]
    assert len(offsets) == 12 and offsets[0] == 180 and offsets[1] == 480


def test_sun_trigger_with_offset(harness):
    h = harness(
        """
- id: r
  triggers: [{sun: sunset, offset: -30m}]
  actions: [{light: porch_light, state: on}]
""",
        tz="Europe/Paris",
        location=PARIS,
        start="2026-11-27 08:00",
    )
    h.run_until("1d")
    expected = sunset(Observer(48.85, 2.35), date(2026, 11, 27)).timestamp() - 1800
    assert [round(t + h.t0) for t, *_ in h.lights()] == [round(expected)]


def test_camera_detection_label_and_min_score(harness):
    h = harness(
        """
- id: r
  triggers: [{camera: porch_cam, detected: [person, car], min_score: 0.7}]
  actions: [{notify: [alice], message: "{{ trigger.label }} {{ trigger.score }}", attach: snapshot}]
"""
    )
    h.send("camera.detection", "porch_cam", {"label": "cat", "score": 0.99})
    h.send("camera.detection", "porch_cam", {"label": "person", "score": 0.69})
    h.send("camera.detection", "garden_cam", {"label": "person", "score": 0.99})
    h.send("camera.detection", "porch_cam", {"label": "car", "score": 0.8, "snapshot": "/s/1.jpg"})
    notes = [e for _, e in h.effects if isinstance(e, Notify)]
    assert [(n.message, n.camera, n.data["snapshot"]) for n in notes] == [
        ("car 0.8", "porch_cam", "/s/1.jpg")
    ]
    assert h.results() == ["not_matched", "not_matched", "ran"]


def test_hub_event_triggers_with_source_filter(harness):
    h = harness(
        """
- id: offline
  triggers: [{event: device.offline, source: hall_motion}]
  actions: [{notify: alice, message: "{{ trigger.source }} offline"}]
- id: started
  triggers: [{event: hub.started}]
  actions: [{publish: hello, payload: {components: "{{ trigger.data.components | length }}"}}]
"""
    )
    h.send("hub.started", "hub", {"components": ["a", "b"]})
    h.send("device.offline", "front_door")
    h.send("device.offline", "hall_motion")
    assert [getattr(e, "message", None) or e.payload for _, e in h.effects] == [
        json.dumps({"components": "2"}),
        "hall_motion offline",
    ]
    assert isinstance(h.effects[0][1], Publish)


def test_trigger_ids_are_readable_by_conditions_and_templates(harness):
    h = harness(
        """
- id: r
  triggers:
    - {device: hall_button, attribute: action, to: single, id: one}
    - {device: hall_button, attribute: action, to: double, id: two}
  conditions: [{trigger: [two]}]
  actions: [{publish: "btn", payload: "{{ trigger.id }}"}]
"""
    )
    h.state("hall_button", at=1, action="single")
    h.state("hall_button", at=2, action="")
    h.state("hall_button", at=3, action="double")
    assert [e.payload for _, e in h.effects] == ["two"]


def test_repeat_fires_on_a_re_reported_value_and_restarts_the_auto_off(harness):
    h = harness(
        """
- id: r
  triggers: [{device: hall_motion, attribute: occupancy, to: true, repeat: true}]
  actions: [{light: hall_light, for: 2m}]
"""
    )
    h.baseline("hall_motion", occupancy=False)
    h.state("hall_motion", at=0, occupancy=True)
    h.state("hall_motion", at=60, occupancy=True)  # an Aqara sensor re-reports while occupied
    h.state("hall_motion", at=120, occupancy=True)
    h.run_until("1h")
    assert [(t, s) for t, _, s, _ in h.lights()] == [
        (0, "on"),
        (60, "on"),
        (120, "on"),
        (240, "off"),
    ]


def test_repeat_reports_do_not_restart_a_for_hold(harness):
    h = harness(
        """
- id: r
  triggers: [{device: d, attribute: contact, to: false, repeat: true, for: 10m}]
  actions: [{notify: alice}]
"""
    )
    h.baseline("d", contact=True)
    h.state("d", at=0, contact=False)
    h.state("d", at=300, contact=False)  # re-reported: still the same hold
    h.run_until("1h")
    assert [t for t, _ in h.effects] == [600]


def test_same_button_action_twice_fires_twice(harness):
    """A button's second identical press is a new event, not 'no change'."""
    h = harness(
        """
- id: r
  triggers: [{device: btn, attribute: action, to: hold}]
  actions: [{light: lamp, state: toggle}]
"""
    )
    h.state("btn", at=1, action="hold")
    h.state("btn", at=2, action="hold")
    assert [(t, s) for t, _, s, _ in h.lights()] == [(1, "toggle"), (2, "toggle")]
