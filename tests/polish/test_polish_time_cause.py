"""Item 5: a time-triggered rule's light change has a cause that leads back to the rule."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from hub.background import HubThread
from hub.replay import replay
from hub.replay.journal import Journal
from hub.store import DB_NAME, read_events

from .conftest import hub_config


def test_a_light_switched_at_a_time_has_the_rule_as_its_cause(broker, tmp_path, events) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    # Three seconds from now (the hub's time zone is UTC without a location).
    at = datetime.fromtimestamp(time.time() + 3, UTC).strftime("%H:%M:%S")
    (rules / "morning.yaml").write_text(
        "- id: morning\n"
        f"  triggers: [{{at: '{at}'}}]\n"
        "  actions: [{light: hall_light, state: on, for: 1s}]\n"
    )
    config = hub_config(
        broker,
        tmp_path / "data",
        devices={"hall_light": {"type": "light", "gpio": {"pin": 17}}},
        rules=str(rules),
    )
    with HubThread(config):
        on = events.wait(
            "state", lambda e: e["source"] == "hall_light" and e["data"].get("state") == "ON"
        )
        off = events.wait(
            "state", lambda e: e["source"] == "hall_light" and e["data"].get("state") == "OFF"
        )
    db = tmp_path / "data" / DB_NAME
    journal = {e.id: e for e in read_events(db)}
    cause = journal[on["cause"]]
    assert cause.kind == "time.trigger" and cause.source == "rule:morning"
    assert cause.data["trigger"] == f"at {at}" and cause.data["result"] == "ran"
    assert cause.cause is None  # the chain ends at the rule's own clock
    assert off["cause"] == cause.id  # the auto-off says the same
    order = list(journal)
    assert order.index(cause.id) < order.index(on["id"])  # journaled before its effect

    # The replay counts the light changes as the rule's effects, not as manual inputs.
    rows = {r.event.id: r.by_rule for r in Journal(db).rows(0, time.time() + 60)}
    assert rows[on["id"]] and rows[off["id"]] and rows[cause.id]
    report = replay(db, rules, current_rules=rules, lights=["hall_light"])
    assert report.identical
    morning = next(r for r in report.rules if r["rule"] == "morning")
    assert morning["runs_journal"] == morning["runs_after"] == 2  # the run and its auto-off
