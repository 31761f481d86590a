"""The loader: file:line: keypath: message errors, did-you-mean, invalid rules disabled."""

from __future__ import annotations

import json

from rules import Engine, load_rules, load_text, rules_json_schema

PORCH = """\
- id: hall
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: hall_light}]

- id: porch
  triggers:
    - camera: porch_cam
      detected: person
  conditions:
    - sun: {after: sunsett, before: sunrise}
  actions:
    - light: porch_light
"""


def test_the_issue_error_format_and_the_rest_still_load(tmp_path):
    d = tmp_path / "rules"
    d.mkdir()
    (d / "porch.yaml").write_text(PORCH)
    res = load_rules(d)
    assert res.errors == [
        "rules/porch.yaml:10: [1].conditions[0].sun.after: expected sunrise or sunset, "
        'got "sunsett" (did you mean sunset?)'
    ]
    hall, porch = res.rules
    assert hall.enabled and not porch.enabled and porch.error == res.errors[0]
    eng = Engine(res.rules)
    assert eng.is_enabled("hall") and not eng.is_enabled("porch")


def test_unknown_keys_missing_keys_and_unknown_kinds():
    res = load_text(
        """\
- id: a
  triger: []
  actions: [{light: x}]
- id: b
  triggers: [{device: m, atribute: occupancy}]
  actions: [{lihgt: x}]
- id: c
  triggers: [{device: m, for: soon}]
  actions: [{light: x, brightness: 150%}]
""",
        "rules/x.yaml",
    )
    assert res.errors == [
        'rules/x.yaml:1: [0].triggers: missing required key "triggers"',
        'rules/x.yaml:2: [0].triger: unknown key "triger" (did you mean triggers?)',
        "rules/x.yaml:5: [1].triggers[0].atribute: "
        'unknown key "atribute" (did you mean attribute?)',
        "rules/x.yaml:6: [1].actions[0]: expected an action with one of: light, record, snapshot, "
        "notify, publish, set, delay, wait, if, choose, stop, emit; got {lihgt}",
        "rules/x.yaml:8: [2].triggers[0].for: "
        "expected a duration such as 30s, 2m or 1h30m, got 'soon'",
        "rules/x.yaml:9: [2].actions[0].brightness: "
        "expected a percentage between 0% and 100%, got 150.0",
    ]
    assert [r.enabled for r in res.rules] == [False, False, False]


def test_yaml_syntax_errors_have_a_line():
    res = load_text("- id: a\n  triggers: x\n actions: y\n", "r.yaml")
    assert res.rules == [] and res.errors[0].startswith("r.yaml:3: ")


def test_known_devices_templates_cron_and_duplicates(tmp_path):
    d = tmp_path / "rules"
    d.mkdir()
    (d / "a.yaml").write_text(
        """\
- id: a
  triggers: [{device: hall_motoin, attribute: occupancy}]
  actions:
    - light: front_door
    - notify: alice
      message: "{{ trigger.label "
- id: b
  triggers: [{cron: "61 * * * *"}]
  actions: [{set: alarm, mode: away}]
- id: c
  triggers: [{device: alarm, attribute: mode}]
  actions: [{light: hall_light}]
"""
    )
    (d / "b.yaml").write_text("- id: c\n  triggers: [{event: x}]\n  actions: [{stop: ''}]\n")
    (d / "b.test.yaml").write_text("not: rules\n")  # rule tests are not rules
    known = {
        "hall_motion": "motion",
        "front_door": "contact",
        "hall_light": "light",
        "alarm": "virtual",
    }
    res = load_rules(d, known)
    msgs = "\n".join(res.errors)
    assert (
        "rules/a.yaml:2: [0].triggers[0].device: "
        'unknown device "hall_motoin" (did you mean hall_motion?)' in msgs
    )
    assert (
        'rules/a.yaml:4: [0].actions[0].light: "front_door" is a contact, expected a light' in msgs
    )
    assert "rules/a.yaml:6: [0].actions[1].message: template syntax error" in msgs
    assert "rules/a.yaml:8: [1].triggers[0].cron: invalid cron expression" in msgs
    assert "rules/b.yaml:1: duplicate rule id 'c' (first in rules/a.yaml:10)" in msgs
    assert [r.enabled for r in res.rules] == [False, False, True, False]


def test_yaml_on_and_unquoted_times_mean_what_users_meant():
    res = load_text(
        "- id: a\n  triggers: [{at: 07:30}]\n  conditions: [{time: {after: 18:00}}]\n"
        "  actions: [{light: x, state: off}, {light: y, state: ON}]\n"
    )
    assert res.ok, res.errors
    rule = res.rules[0].rule
    assert rule.triggers[0].at == "07:30:00" and rule.conditions[0].time.after == "18:00:00"
    assert [a.state for a in rule.actions] == ["off", "on"]


def test_json_schema_for_editors():
    schema = rules_json_schema()
    text = json.dumps(schema)
    assert schema["type"] == "array"
    for word in (
        "triggers",
        "conditions",
        "actions",
        "min_score",
        "on_restart",
        "continue_on_timeout",
    ):
        assert word in text


def test_wait_and_attribute_checks():
    res = load_text(
        """\
- id: a
  triggers: [{device: m, to: true}]
  actions:
    - wait: {device: x, attribute: y, to: 1, for: 5s}
    - wait: {at: "07:00"}
""",
        "r.yaml",
    )
    assert res.errors == [
        "r.yaml:2: [0].triggers[0]: to, from, above and below need an attribute",
        "r.yaml:4: [0].actions[0].wait.for: for: is not supported in wait (use timeout)",
        "r.yaml:5: [0].actions[1].wait: wait needs a device, camera, topic or event trigger",
    ]


def test_a_rule_that_would_trigger_itself_forever_is_refused():
    res = load_text(
        "- id: a\n  triggers: [{event: ping}]\n  actions:\n    - emit: ping\n", "r.yaml"
    )
    assert res.errors == [
        'r.yaml:4: [0].actions[0].emit: emits "ping", which triggers this rule again'
    ]
