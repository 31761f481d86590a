"""Durable timers: timers()/restore() across a restart, on_restart: drop, hot reload."""

from __future__ import annotations

import json

from rules_harness import Harness

from rules import Engine, Event, TimerRecord, load_text

PORCH = """
- id: porch
  on_restart: {policy}
  triggers: [{device: b, attribute: action, to: go}]
  actions: [{light: porch_light}, {delay: 5m}, {light: porch_light, state: off}]
- id: hall
  triggers: [{device: m, attribute: occupancy, to: true}]
  actions: [{light: hall_light, for: 2m}]
- id: door
  triggers: [{device: d, attribute: contact, to: false, for: 10m}]
  actions: [{notify: alice}]
"""


def saved(h: Harness) -> list[TimerRecord]:
    # Through JSON, as the host stores them.
    return [TimerRecord.from_dict(json.loads(json.dumps(t.to_dict()))) for t in h.engine.timers()]


def test_a_delay_spans_a_restart_and_fires_at_the_right_time():
    h = Harness(PORCH.replace("{policy}", "fire"))
    h.state("b", at=0, action="go")
    h.state("m", at=10, occupancy=True)
    h.state("d", at=20, contact=False)
    records = saved(h)
    assert sorted(r.kind for r in records) == ["auto_off", "delay", "for"]
    # The hub dies at +60 s and a new engine starts from the same files at +100 s.
    fresh = Engine(load_text(PORCH.replace("{policy}", "fire")).rules)
    res = fresh.restore(records, h.t0 + 100)
    assert res.effects == []
    assert fresh.next_deadline() == h.t0 + 130  # hall auto-off first
    got = []
    while (d := fresh.next_deadline()) is not None and d <= h.t0 + 3600:
        got += [
            (d - h.t0, type(e).__name__, getattr(e, "device", "")) for e in fresh.advance(d).effects
        ]
    assert got == [
        (130, "LightCommand", "hall_light"),
        (300, "LightCommand", "porch_light"),
        (620, "Notify", ""),
    ]


def test_deadlines_passed_while_down_fire_once_at_restore_or_are_dropped():
    for policy, expected in (("fire", ["porch_light", "hall_light"]), ("drop", ["hall_light"])):
        h = Harness(PORCH.replace("{policy}", policy))
        h.state("b", at=0, action="go")
        h.state("m", at=10, occupancy=True)
        records = saved(h)
        fresh = Engine(load_text(PORCH.replace("{policy}", policy)).rules)
        res = fresh.restore(records, h.t0 + 3600)  # down for an hour
        assert sorted(e.device for e in res.effects) == sorted(expected)
        assert fresh.advance(h.t0 + 7200).effects == []
        if policy == "drop":
            assert "dropped" in [t.result for t in res.traces]


def test_a_changed_rule_does_not_resume_an_old_delay():
    h = Harness(PORCH.replace("{policy}", "fire"))
    h.state("b", at=0, action="go")
    changed = PORCH.replace("{policy}", "fire").replace("delay: 5m", "delay: 6m")
    fresh = Engine(load_text(changed).rules)
    fresh.restore(saved(h), h.t0 + 10)
    assert fresh.advance(h.t0 + 3600).effects == []


def test_hot_reload_keeps_timers_and_runs_of_unchanged_rules():
    text = PORCH.replace("{policy}", "fire")
    h = Harness(text)
    h.state("b", at=0, action="go")
    h.state("d", at=0, contact=False)
    # door changes, porch does not.
    h.engine.replace_rules(load_text(text.replace("for: 10m", "for: 20m")).rules)
    h.run_until("1h")
    assert [(t, type(e).__name__) for t, e in h.effects[1:]] == [(300, "LightCommand")]
    assert h.engine.next_deadline() is None


def test_disable_enable_and_run_now():
    h = Harness(PORCH.replace("{policy}", "fire"))
    h.engine.set_enabled("porch", False)
    h.state("b", at=0, action="go")
    assert h.effects == [] and not h.engine.is_enabled("porch")
    h.engine.set_enabled("porch", True)
    res = h.engine.run_now("porch", h.t0 + 5)
    assert [e.state for e in res.effects] == ["on"]
    assert res.traces[0].trigger["platform"] == "manual"


def test_the_index_only_touches_rules_that_can_match():
    text = "\n".join(
        f"- id: r{i}\n  triggers: [{{device: m{i}, attribute: occupancy, to: true}}]\n"
        f"  actions: [{{light: l{i}}}]"
        for i in range(500)
    )
    eng = Engine(load_text(text).rules)
    res = eng.handle(Event("state", "m7", {"occupancy": True}, ts=0), 0)
    assert [t.rule for t in res.traces] == ["r7"]
    assert [e.device for e in res.effects] == ["l7"]


def test_timer_changes_report_what_to_write_and_delete():
    h = Harness(PORCH.replace("{policy}", "fire"))
    h.engine.timer_changes()
    h.state("b", at=0, action="go")
    changed, gone = h.engine.timer_changes()
    assert [r.kind for r in changed] == ["delay"] and gone == []
    assert changed[0].data["run"]["frames"] == [[["actions"], 2]]
    h.run_until("1h")
    changed, gone = h.engine.timer_changes()
    assert changed == [] and len(gone) == 1 and gone[0].startswith("delay:")
    assert h.engine.timers() == []
