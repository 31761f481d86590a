"""edgehub test / schema / why, and the example rules' own tests."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest
from rules_harness import LoopContext

from hub.cli import main
from hub.rules_host import RulesHost
from rules import Event
from rules.testing import find_tests, run_test_file

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "home" / "rules"


def test_the_example_rules_pass_their_own_tests():
    files = find_tests([EXAMPLES])
    assert {f.name for f in files} >= {"hall.test.yaml", "porch.test.yaml", "more.test.yaml"}
    outcomes = [o for f in files for o in run_test_file(f)]
    assert len(outcomes) >= 18
    assert [o.report() for o in outcomes if not o.ok] == []


def test_cli_test_passes_and_fails_with_the_trace_of_the_rule(tmp_path, capsys):
    assert main(["test", str(EXAMPLES)]) == 0
    assert " 0 failed" in capsys.readouterr().out
    (tmp_path / "hall.yaml").write_text((EXAMPLES / "hall.yaml").read_text())
    (tmp_path / "hall.test.yaml").write_text(
        """
tests:
  - name: wrong expectation
    start: "2026-01-05 12:00"
    given: {hall_motion: {occupancy: false}}
    events: [{at: 0s, device: hall_motion, state: {occupancy: true}}]
    expect: [{light: hall_light, state: on}]
"""
    )
    assert main(["test", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "expect[0]: missing" in out
    assert "[hall_motion_light] did not run: a condition was false" in out
    assert (
        "conditions[0]: False (local time Mon 12:00:00; wants after 18:00:00 before 07:00:00)"
        in out
    )


def test_cli_schema_prints_a_json_schema(capsys):
    assert main(["schema", "rules"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["type"] == "array" and "Rule" in schema["$defs"]


def test_cli_why_explains_in_plain_words(tmp_path, capsys):
    data = tmp_path / "data"
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "hall.yaml").write_text((EXAMPLES / "hall.yaml").read_text())
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(f"hub: {{id: home, data_dir: {data}}}\nrules: rules\n")

    async def run():
        # Real clock: 12:00 UTC is outside the hall rule's night window, 23:00 inside.
        now = time.time()
        ctx = LoopContext(data, asyncio.get_running_loop(), now - 60)
        host = RulesHost(rules, poll_interval=0)
        await host.start(ctx)
        day = now - (now % 86400)
        for hour, occ in ((12, True), (12.1, False), (23, True)):
            ctx.t = min(now - 1, day + hour * 3600) if hour < 20 else now
            host.on_event(Event("state", "hall_motion", {"occupancy": occ}, ts=ctx.t))
        host.flush()
        await host.stop()

    asyncio.run(run())
    assert main(["why", "hall_motion_light", "--since", "2d", "-c", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert (
        "did not run: the trigger did not match - trigger: hall_motion.occupancy went true -> false"
        in out
    )
    assert "evaluations" in out
    assert main(["why", "nope", "-c", str(cfg)]) == 0
    assert "nothing could have triggered it" in capsys.readouterr().out


@pytest.mark.parametrize("bad", ["1x", "soon"])
def test_why_rejects_bad_durations(bad, tmp_path):
    with pytest.raises(SystemExit):
        main(["why", "r", "--since", bad, "-c", str(tmp_path / "missing.yaml")])


def test_a_broken_test_case_is_reported_not_crashed(tmp_path):
    (tmp_path / "r.yaml").write_text("- id: r\n  triggers: [{event: x}]\n  actions: [{stop: ''}]\n")
    (tmp_path / "r.test.yaml").write_text(
        "tests:\n  - name: typo\n    events: [{at: 0s, devise: m}]\n    expect: []\n"
    )
    [outcome] = run_test_file(tmp_path / "r.test.yaml")
    assert not outcome.ok and "bad test: ValueError: an event needs device" in outcome.problems[0]
