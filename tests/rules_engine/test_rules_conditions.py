"""Every condition: device is/above/below, time windows, sun, all/any/not, template."""

from __future__ import annotations

import json

import pytest
from rules_harness import PARIS, Harness

NIGHT = """
- id: r
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  conditions: [{time: {after: "18:00", before: "07:00"}}]
  actions: [{light: hall_light}]
"""


@pytest.mark.parametrize(
    ("start", "fires"),
    [("2026-01-05 23:30", True), ("2026-01-06 02:00", True), ("2026-01-05 12:00", False),
     ("2026-01-05 18:00", True), ("2026-01-06 07:00", False)],
)  # fmt: skip
def test_time_window_crossing_midnight(start, fires):
    h = Harness(NIGHT, tz="Europe/Paris", start=start)
    h.baseline("hall_motion", occupancy=False)
    h.state("hall_motion", occupancy=True)
    assert bool(h.lights()) is fires
    assert h.traces[-1].conditions[0]["saw"]["time"] == start[-5:] + ":00"


def test_weekdays():
    rule = """
- id: r
  triggers: [{device: b, attribute: action, to: single}]
  conditions: [{time: {after: "08:00", weekdays: [sat, sun]}}]
  actions: [{publish: weekend}]
"""
    fired = []
    for day in ("2026-01-09", "2026-01-10"):  # a Friday, a Saturday
        h = Harness(rule, start=f"{day} 09:00")
        h.state("b", action="single")
        fired.append(bool(h.effects))
    assert fired == [False, True]


def test_sun_window_is_the_night():
    rule = """
- id: r
  triggers: [{device: b, attribute: action, to: single}]
  conditions: [{sun: {after: sunset, before: sunrise}}]
  actions: [{publish: night}]
"""
    got = {}
    for t in ("12:00", "16:30", "17:30", "23:00", "05:00", "08:30"):
        h = Harness(rule, tz="Europe/Paris", location=PARIS, start=f"2026-11-27 {t}")
        h.state("b", action="single")
        got[t] = bool(h.effects)
    # Paris on 27 Nov 2026: sunrise about 08:17, sunset about 16:58.
    assert got == {
        "12:00": False,
        "16:30": False,
        "17:30": True,
        "23:00": True,
        "05:00": True,
        "08:30": False,
    }


def test_device_is_above_below_and_lists():
    h = Harness(
        """
- id: r
  triggers: [{device: b, attribute: action}]
  conditions:
    - {device: alarm, attribute: mode, is: [away, night]}
    - {device: garden_temp, attribute: temperature, above: 0, below: 30}
  actions: [{publish: ok}]
"""
    )
    h.baseline("alarm", mode="home")
    h.baseline("garden_temp", temperature=20)
    h.state("b", at=1, action="x1")
    h.state("alarm", at=2, mode="night")
    h.state("b", at=3, action="x2")
    h.state("garden_temp", at=4, temperature="31.5")
    h.state("b", at=5, action="x3")
    assert [t for t, _ in h.effects] == [3]
    last = h.traces[-1]
    assert last.result == "conditions_false"
    assert last.conditions[1]["saw"] == {"garden_temp.temperature": "31.5"}
    assert "conditions[1] was false" in last.explain()


def test_all_any_not_with_indexed_paths_in_the_trace():
    h = Harness(
        """
- id: r
  triggers: [{device: b, attribute: action}]
  conditions:
    - all:
        - {device: a, attribute: x, is: 1}
        - any:
            - {device: a, attribute: y, is: 1}
            - not: [{device: a, attribute: z, is: 1}]
  actions: [{publish: ok}]
"""
    )
    h.baseline("a", x=1, y=0, z=1)
    h.state("b", at=1, action="1")
    h.state("a", at=2, z=0)
    h.state("b", at=3, action="2")
    assert [t for t, _ in h.effects] == [3]
    first = h.traces[0]
    assert [(c["path"], c["verdict"]) for c in first.conditions] == [
        ("conditions[0]", False),
        ("conditions[0].all[0]", True),
        ("conditions[0].all[1]", False),
        ("conditions[0].all[1].any[0]", False),
        ("conditions[0].all[1].any[1]", False),
        ("conditions[0].all[1].any[1].not[0]", True),
    ]
    json.dumps(first.to_dict())  # traces are JSON-serialisable


def test_template_condition_in_the_sandbox():
    h = Harness(
        """
- id: r
  triggers: [{device: t, attribute: temperature}]
  conditions:
    - template: "trigger.value > state('t2', 'temperature') + 2"
    - template: "{{ now.hour >= 12 }}"
  actions: [{publish: ok}]
- id: evil
  triggers: [{device: t, attribute: temperature}]
  conditions:
    - template: "trigger.__class__.__mro__[1].__subclasses__()"
  actions: [{publish: pwned}]
"""
    )
    h.baseline("t2", temperature=20)
    h.state("t", at=1, temperature=21)
    h.state("t", at=2, temperature=23)
    assert [e.topic for _, e in h.effects] == ["ok"]
    evil = [t for t in h.traces if t.rule == "evil"]
    assert all(t.result == "conditions_false" for t in evil)
    assert "error" in evil[0].conditions[0]["detail"]
