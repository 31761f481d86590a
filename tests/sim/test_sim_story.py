"""The story's lines, from the hub's own JSON (events and traces as published on MQTT)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from simulator.scenario import ScenarioError, parse_scenario
from simulator.story import Story

T = datetime(2026, 11, 27, 21, 4, 7, tzinfo=ZoneInfo("Europe/Amsterdam")).timestamp()


def story(speed: float = 1.0) -> tuple[Story, list[str], list[float]]:
    lines: list[str] = []
    mono = [0.0]
    s = Story(
        lines.append,
        "Europe/Amsterdam",
        probe=lambda dev: "GPIO17 0.60" if dev == "hall_light" else None,
        monotonic=lambda: mono[0],
        speed=speed,
    )
    return s, lines, mono


def test_sensor_rule_and_light_make_one_line() -> None:
    s, lines, mono = story(speed=10)
    motion = {"id": "e1", "ts": T, "source": "hall_motion", "kind": "state"}
    s.event({**motion, "data": {"occupancy": True, "battery": 90}, "cause": None})
    s.trace({"rule": "hall_motion_light", "result": "ran", "event_id": "e1", "latency_ms": 12.0})
    light = {"id": "e2", "ts": T, "source": "hall_light", "kind": "state", "cause": "e1"}
    s.event({**light, "data": {"state": "ON", "brightness": 153}})
    mono[0] += 1
    s.flush()
    assert lines == [
        "21:04:07 hall_motion occupancy → rule hall_motion_light → hall_light ON 60% "
        "[GPIO17 0.60] (1.2 ms)"
    ]


def test_a_rule_that_declined_is_named_with_its_false_condition() -> None:
    s, lines, mono = story()
    cond = {"path": "conditions[0]", "verdict": False, "detail": "local time Fri 14:00:00"}
    s.trace({"rule": "hall_motion_light", "result": "conditions_false", "event_id": "e1",
             "conditions": [cond]})  # fmt: skip
    s.event({"id": "e1", "ts": T, "source": "front_door", "kind": "state",
             "data": {"contact": False}, "cause": None})  # fmt: skip
    assert lines == []  # held a moment for the hub's answer
    mono[0] += 1
    s.flush()
    assert lines == [
        "21:04:07 front_door open → rule hall_motion_light did not run "
        "(conditions[0]: local time Fri 14:00:00)"
    ]


def test_phone_line_names_owner_title_and_attachment() -> None:
    s, lines, _ = story()
    att = [{"filename": "porch.jpg", "mimetype": "image/jpeg", "size": 33000}]
    s.phone({"owner": "alice", "at": T, "title": "Person", "message": "Seen", "attachments": att})
    assert lines == ['21:04:07 alice\'s phone: "Person" Seen + porch.jpg (32 kB)']


def test_scenario_errors_name_the_line() -> None:
    text = "name: x\nsteps:\n  - at: 0s\n    expect: {device: a, event: b}\n"
    try:
        parse_scenario(text, "s.yaml")
    except ScenarioError as e:
        assert str(e).startswith("s.yaml:3: steps[0].expect[0]: expected exactly one of")
    else:
        raise AssertionError("no error")
    sc = parse_scenario(
        "speed: 5\nsteps:\n  - {at: 2m10s, expect: {event: x, camera: c, within: 1s}}\n"
    )
    exp = sc.steps[0].expect[0]
    assert sc.speed == 5 and sc.steps[0].at == 130 and exp.match == {"source": "c"}
    assert sc.duration == 131


def test_an_answer_heard_before_its_trace_is_still_chained() -> None:
    s, lines, mono = story()
    s.event({"id": "e1", "ts": T, "source": "hall_motion", "kind": "state",
             "data": {"occupancy": True}, "cause": None})  # fmt: skip
    s.event({"id": "e2", "ts": T, "source": "hall_light", "kind": "state",
             "data": {"state": "ON", "brightness": 255}, "cause": "e1"})  # fmt: skip
    s.trace({"rule": "hall_motion_light", "result": "ran", "event_id": "e1", "latency_ms": 1.0,
             "actions": [{"result": "hall_light on"}]})  # fmt: skip
    mono[0] += 1
    s.flush()
    assert lines == [
        "21:04:07 hall_motion occupancy → rule hall_motion_light → hall_light ON 100% "
        "[GPIO17 0.60] (1.0 ms)"
    ]
