"""Modes single, restart, queued, parallel (with max), and per:."""

from __future__ import annotations

from rules_harness import Harness

RULE = """
- id: r
  mode: {mode}
  max: 2
  {per}
  triggers: [{device: b, attribute: action}, {device: c, attribute: action}]
  actions:
    - publish: "start {{ trigger.value }}"
    - delay: 60s
    - publish: "end {{ trigger.value }}"
"""


def run(mode: str, per: str = "") -> Harness:
    h = Harness(RULE.replace("{mode}", mode).replace("{per}", per))
    h.state("b", at=0, action="1")
    h.state("b", at=10, action="2")
    h.state("b", at=20, action="3")
    h.state("b", at=30, action="4")
    h.run_until("1h")
    return h


def topics(h: Harness) -> list[tuple[float, str]]:
    return [(t, e.topic) for t, e in h.effects]


def test_single_ignores_new_triggers_while_running_and_says_so():
    h = run("single")
    assert topics(h) == [(0, "start 1"), (60, "end 1")]
    assert h.results().count("already_running") == 3
    assert "mode single and already running" in h.traces[1].explain()


def test_restart_cancels_the_running_run():
    h = run("restart")
    assert topics(h) == [
        (0, "start 1"),
        (10, "start 2"),
        (20, "start 3"),
        (30, "start 4"),
        (90, "end 4"),
    ]


def test_queued_runs_one_after_another_up_to_max():
    h = run("queued")
    assert topics(h) == [
        (0, "start 1"),
        (60, "end 1"),
        (60, "start 2"),
        (120, "end 2"),
        (120, "start 3"),
        (180, "end 3"),
    ]
    assert h.results().count("queue_full") == 1


def test_parallel_up_to_max():
    h = run("parallel")
    assert topics(h) == [(0, "start 1"), (10, "start 2"), (60, "end 1"), (70, "end 2")]
    assert "max_runs" in h.results()


def test_per_device_runs_independently():
    h = Harness(RULE.replace("{mode}", "single").replace("{per}", "per: trigger.device"))
    h.state("b", at=0, action="b1")
    h.state("c", at=5, action="c1")
    h.state("b", at=10, action="b2")  # b is running: ignored
    h.run_until("1h")
    assert topics(h) == [(0, "start b1"), (5, "start c1"), (60, "end b1"), (65, "end c1")]
