"""Replays of journals written through hub/store.py: the report, the window, the export,
and clear errors for a missing or corrupt journal."""

from __future__ import annotations

import io
import json
import sqlite3

import pytest
import yaml
from replay_data import DAY0, DOOR, KNOWN, PORCH, porch_day

from hub.cli import main
from hub.cli.replay import ProgressBar
from hub.replay import Journal, JournalError, RulesLoadError, is_rule_effect, replay
from rules.events import Event
from rules.testing import run_test_file

KW = {"known_devices": KNOWN, "lights": ["porch_light"]}


def test_identical_rules_report_no_difference_and_agree_with_the_journal(write_journal, rules_dir):
    db = write_journal(porch_day())
    old, same = rules_dir("old", PORCH + DOOR), rules_dir("same", PORCH + DOOR)
    r = replay(db, same, current_rules=old, **KW)
    assert r.identical and r.differences_total == 0 and r.light_changes == []
    assert (r.events, r.inputs, r.old_effects) == (11, 6, 5)
    assert r.journal_mismatches == []
    assert r.notifications["per_rule"]["door_alert"] == {"journal": 1, "before": 1, "after": 1}
    assert "No difference" in r.render()


def test_a_longer_for_keeps_the_porch_light_on_all_night(write_journal, rules_dir):
    db = write_journal(porch_day())
    old = rules_dir("old", PORCH + DOOR)
    new = rules_dir("new", PORCH.replace("for: 5m", "for: 7h28m") + DOOR)
    r = replay(db, new, current_rules=old, **KW)
    offs = {(d["change"], d["ts"] - DAY0) for d in r.differences}
    assert offs == {
        ("removed", 5 * 3600 + 9 * 60),  # 23:09
        ("removed", 5 * 3600 + 35 * 60),  # 23:35
        ("added", 12 * 3600 + 58 * 60),  # 06:58, 7h28m after the 23:30 motion
    }
    assert all(d["summary"] == "porch_light OFF" for d in r.differences)
    texts = [c["text"] for c in r.light_changes]
    assert (
        texts[0] == "porch_light ON 23:04:00 → stays on, no OFF until 06:58:00 (was OFF 23:09:00)"
    )
    day1, day2 = sorted(r.on_time, key=lambda o: o["day"])
    assert (day1["journal_s"], day1["before_s"], day1["after_s"]) == (600.0, 600.0, 56 * 60.0)
    assert (day2["journal_s"], day2["before_s"], day2["after_s"]) == (0.0, 0.0, 418 * 60.0)
    row = {x["rule"]: x for x in r.rules}["porch_light"]
    assert (row["added"], row["removed"]) == (1, 2)
    assert r.traces and r.traces[0]["rules"] == ["porch_light"]
    assert r.traces[0]["before"][0]["actions"][0]["result"] == "porch_light off (auto-off)"
    text = r.render()
    assert "- 2026" in text and "+ 2026" in text and "stays on, no OFF until 06:58:00" in text
    assert json.loads(r.to_json())["identical"] is False


def test_notifications_more_or_fewer_per_rule(write_journal, rules_dir):
    db = write_journal(porch_day())
    extra = """
- id: porch_notify
  triggers: [{device: porch_motion, attribute: occupancy, to: true}]
  actions: [{notify: alice, title: Someone at the porch}]
"""
    r = replay(db, rules_dir("new", PORCH + extra), current_rules=rules_dir("old", PORCH + DOOR))
    n = r.notifications
    assert (n["journal"], n["before"], n["after"]) == (1, 1, 2)
    assert n["per_rule"]["porch_notify"] == {"journal": 0, "before": 0, "after": 2}
    assert n["per_rule"]["door_alert"] == {"journal": 1, "before": 1, "after": 0}
    text = r.render()
    assert "porch_notify: 0 → 2 (2 more)" in text and "door_alert: 1 → 0 (1 fewer)" in text


def test_only_inputs_are_fed_rule_effects_are_compared(write_journal):
    cmd = Event("command", "porch_light", {"topic": "edgehub/home/porch_light/set"}, ts=DAY0)
    by_hand = Event("state", "porch_light", {"state": "ON"}, ts=DAY0 + 0.1, cause=cmd.id)
    db = write_journal([cmd, by_hand, *porch_day()])
    rows = list(Journal(db, batch=3).rows(DAY0, DAY0 + 86400))
    fed = {r.event.id for r in rows if not r.by_rule}
    assert cmd.id in fed and by_hand.id in fed  # a person's command is an input
    lights = [r for r in rows if r.event.source == "porch_light"]
    assert [r.by_rule for r in lights] == [False, False, True, True, True, True]
    assert is_rule_effect("notify.sent", "notify", None, None)
    assert is_rule_effect("rule.run", "rule:porch_light", None, None)
    assert not is_rule_effect("state", "porch_motion", None, None)
    assert not is_rule_effect("state", "cam", "x", "device.offline")


def test_from_to_window_starts_from_the_recorded_state(write_journal, rules_dir):
    db = write_journal(porch_day())
    new = rules_dir("new", PORCH.replace("for: 5m", "for: 10m"))
    start = DAY0 + 5 * 3600 + 20 * 60  # 23:20: only the second motion
    r = replay(db, new, current_rules=rules_dir("old", PORCH), start=start, end=start + 3600, **KW)
    assert sorted((d["change"], d["ts"] - DAY0) for d in r.differences) == [
        ("added", 5 * 3600 + 40 * 60),
        ("removed", 5 * 3600 + 35 * 60),
    ]
    assert Journal(db).states_before(start)["front_door"] == {"contact": False}


def test_export_writes_a_rule_test_that_edgehub_test_passes(write_journal, rules_dir, tmp_path):
    db = write_journal(porch_day())
    new = rules_dir("new", PORCH.replace("for: 5m", "for: 7h28m") + DOOR)
    out = tmp_path / "tests" / "night.test.yaml"
    r = replay(db, new, current_rules=rules_dir("old", PORCH + DOOR), export=out, **KW)
    assert r.exported == str(out)
    doc = yaml.safe_load(out.read_text())
    case = doc["tests"][0]
    assert doc["rules"] == "../new"  # the journal starts at the first motion, 23:04
    assert case["events"][0] == {"at": 0.0, "device": "porch_motion",
                                 "state": {"occupancy": True}}  # fmt: skip
    assert {"light": "porch_light", "state": "off", "rule": "porch_light",
            "at": 7 * 3600 + 54 * 60.0} in case["expect"]  # fmt: skip
    assert not any(e.get("device") == "porch_light" for e in case["events"])  # old effects
    outcomes = run_test_file(out, known_devices=KNOWN)
    assert [o.report() for o in outcomes if not o.ok] == []
    (new / "rules.yaml").write_text(PORCH + DOOR)  # back to 5 min: the regression test fails
    assert not run_test_file(out, known_devices=KNOWN)[0].ok


def test_missing_and_corrupt_journals_name_the_file(tmp_path, rules_dir, capsys):
    rules = rules_dir("new", PORCH)
    missing = tmp_path / "nowhere" / "edgehub.db"
    with pytest.raises(JournalError, match=f"no journal at {missing}"):
        replay(missing, rules)
    corrupt = tmp_path / "corrupt.db"
    corrupt.write_bytes(b"this is not sqlite at all, just a truncated copy" * 100)
    with pytest.raises(JournalError, match=f"cannot read the journal {corrupt}: file is not a"):
        replay(corrupt, rules)
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE x (a)").connection.commit()
    with pytest.raises(JournalError, match=f"{other}: no such table: events"):
        replay(other, rules)

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "edgehub.db").write_bytes(corrupt.read_bytes())
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(yaml.safe_dump({"hub": {"data_dir": str(tmp_path / "data")}}))
    assert main(["replay", "-c", str(cfg), "--rules", str(rules)]) == 2
    err = capsys.readouterr().err
    assert f"cannot read the journal {tmp_path / 'data' / 'edgehub.db'}" in err


def test_rules_with_errors_stop_the_replay_with_file_and_line(write_journal, rules_dir, capsys):
    db = write_journal(porch_day())
    bad = rules_dir("bad", PORCH.replace("state: on", "state: sideways"))
    with pytest.raises(RulesLoadError) as info:
        replay(db, bad)
    assert info.value.errors and "rules.yaml:" in info.value.errors[0]


def test_progress_bar_draws_on_a_terminal_only():
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    for stream in (tty, pipe):
        bar = ProgressBar(stream, width=10)
        bar(2000, 4000)
        bar(4000, 4000)
    assert "[#####     ]  50% 2,000/4,000 events" in tty.getvalue()
    assert tty.getvalue().endswith("\n") and "[##########] 100%" in tty.getvalue()
    assert pipe.getvalue() == ""


def test_time_passes_between_events_so_time_triggers_fire(write_journal, rules_dir):
    db = write_journal(porch_day())  # nothing is journaled between 23:35 and 07:00
    night = """
- id: night_check
  triggers: [{at: "03:00"}]
  actions: [{light: porch_light, state: off}]
"""
    r = replay(db, rules_dir("new", PORCH + night), current_rules=rules_dir("old", PORCH), **KW)
    assert [(d["change"], d["rule"], d["ts"] - DAY0) for d in r.differences] == [
        ("added", "night_check", 9 * 3600.0)  # 03:00 the next morning
    ]
    assert {x["rule"]: x["runs_after"] for x in r.rules}["night_check"] == 1
