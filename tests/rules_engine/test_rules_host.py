"""The rule host in the hub: effects executed, traces stored, durable timers across a kill -9,
hot reload that keeps the old rules on a broken file, the rule set topic."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from rules_harness import LoopContext

from hub.rules_host import RulesHost, read_traces
from rules import Event, LightCommand

HALL = """
- id: hall
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: hall_light, state: on, brightness: 60%, for: 2m}]
"""
PORCH = """
- id: porch
  triggers: [{device: porch_button, attribute: action, to: single}]
  actions: [{light: porch_light}, {delay: 5m}, {light: porch_light, state: off}]
"""
T0 = 1_800_000_000.0


def rules_dir(tmp_path: Path, **files: str) -> Path:
    d = tmp_path / "rules"
    d.mkdir(exist_ok=True)
    for name, text in files.items():
        (d / f"{name}.yaml").write_text(text)
    return d


async def started(tmp_path: Path, d: Path, t: float = T0, **kw) -> tuple[RulesHost, LoopContext]:
    ctx = LoopContext(tmp_path / "data", asyncio.get_running_loop(), t)
    host = RulesHost(d, poll_interval=kw.pop("poll_interval", 0), **kw)
    await host.start(ctx)
    ctx.listeners.append(host.on_event)
    return host, ctx


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


def lights(ctx: LoopContext) -> list[tuple[float, str, str]]:
    return [(t - T0, e.device, e.state) for t, e in ctx.executed if isinstance(e, LightCommand)]


def test_events_in_effects_out_traces_stored_and_published(tmp_path):
    async def main():
        host, ctx = await started(tmp_path, rules_dir(tmp_path, hall=HALL))
        ctx.emit(Event("state", "hall_motion", {"occupancy": True}, ts=T0))
        await settle()
        ctx.t = T0 + 120
        host.tick()
        await settle()
        assert lights(ctx) == [(0, "hall_light", "on"), (120, "hall_light", "off")]
        host.flush()
        db = sqlite3.connect(tmp_path / "data" / "edgehub.db")
        traces = read_traces(db, "hall", T0 - 1)
        assert [t.result for t in traces] == ["ran", "ran"]
        assert traces[0].trigger["to_state"] is True
        topics = [t for t, _, _ in ctx.published]
        assert "edgehub/home/rules/hall/trace" in topics
        state = [
            json.loads(p) for t, p, r in ctx.published if t == "edgehub/home/rules/hall/state" and r
        ]
        assert state[-1]["enabled"] is True and state[-1]["result"] == "ran"
        await host.stop()

    asyncio.run(main())


def test_rule_set_topic_disables_and_runs(tmp_path):
    async def main():
        host, ctx = await started(tmp_path, rules_dir(tmp_path, hall=HALL))
        ctx.deliver("edgehub/home/rules/hall/set", b'{"enabled": false}')
        ctx.emit(Event("state", "hall_motion", {"occupancy": True}, ts=T0))
        await settle()
        assert lights(ctx) == []
        ctx.deliver("edgehub/home/rules/hall/set", b'{"run": true}')
        ctx.deliver("edgehub/home/rules/hall/set", b"garbage")  # logged, ignored
        await settle()
        assert lights(ctx) == [(0, "hall_light", "on")]
        await host.stop()

    asyncio.run(main())


def test_mqtt_triggers_are_subscribed_and_retained_messages_ignored(tmp_path):
    rule = """
- id: bell
  triggers: [{topic: "doorbell/+/press"}]
  actions: [{light: porch_light}]
"""

    async def main():
        host, ctx = await started(tmp_path, rules_dir(tmp_path, bell=rule))
        ctx.deliver("doorbell/front/press", b"1", retained=True)
        ctx.deliver("doorbell/front/press", b"1")
        await settle()
        assert lights(ctx) == [(0, "porch_light", "on")]
        await host.stop()

    asyncio.run(main())


def test_delays_fire_on_the_real_loop_at_their_deadline(tmp_path):
    rule = PORCH.replace("delay: 5m", "delay: 0.2s")

    async def main():
        ctx = LoopContext(tmp_path / "data", asyncio.get_running_loop(), 0)
        ctx.now = time.time  # the hub's real clock
        host = RulesHost(rules_dir(tmp_path, porch=rule), poll_interval=0)
        await host.start(ctx)
        host.on_event(Event("state", "porch_button", {"action": "single"}))
        await asyncio.sleep(0.6)
        assert [type(e).__name__ + ":" + e.state for _, e in ctx.executed] == [
            "LightCommand:on",
            "LightCommand:off",
        ]
        await host.stop()

    asyncio.run(main())


KILLED = """
import asyncio, sys, time
sys.path.insert(0, {here!r})
from rules_harness import LoopContext
from hub.rules_host import RulesHost
from rules import Event

async def main():
    ctx = LoopContext({data!r}, asyncio.get_running_loop(), {t0!r})
    host = RulesHost({rules!r}, poll_interval=0)
    await host.start(ctx)
    host.on_event(Event("state", "porch_button", {{"action": "single"}}, ts={t0!r}))
    await asyncio.sleep(0)
    host.flush()
    print("armed", flush=True)
    await asyncio.sleep(3600)

asyncio.run(main())
"""


def test_a_delay_survives_kill_9_and_the_light_goes_off_at_the_right_time(tmp_path):
    d = rules_dir(tmp_path, porch=PORCH, hall=HALL)
    script = KILLED.format(
        here=str(Path(__file__).parent), data=str(tmp_path / "data"), t0=T0, rules=str(d)
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "armed"
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()

    db = sqlite3.connect(tmp_path / "data" / "edgehub.db")
    assert [r[0] for r in db.execute("SELECT kind FROM timers")] == ["delay"]
    db.close()

    async def main():
        host, ctx = await started(tmp_path, d, t=T0 + 100)  # back 100 s later
        await settle()
        assert lights(ctx) == []
        ctx.t = T0 + 299
        host.tick()
        await settle()
        assert lights(ctx) == []
        ctx.t = T0 + 300
        host.tick()
        await settle()
        assert lights(ctx) == [(300, "porch_light", "off")]
        host.flush()
        db = sqlite3.connect(tmp_path / "data" / "edgehub.db")
        assert db.execute("SELECT count(*) FROM timers").fetchone() == (0,)  # nothing left over
        await host.stop()

    asyncio.run(main())


def test_hot_reload_of_a_broken_file_keeps_the_old_rules(tmp_path):
    d = rules_dir(tmp_path, hall=HALL)

    async def main():
        host, ctx = await started(tmp_path, d, poll_interval=0.05)
        (d / "hall.yaml").write_text(HALL.replace("for: 2m", "fro: 2m"))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if host.last_errors:
                break
        assert host.last_errors == [
            'rules/hall.yaml:4: [0].actions[0].fro: unknown key "fro" (did you mean for?)'
        ]
        ctx.emit(Event("state", "hall_motion", {"occupancy": True}, ts=T0))
        await settle()
        assert lights(ctx) == [(0, "hall_light", "on")]  # the old rule still works
        # A good edit is swapped in; the auto-off timer of the old hall rule is kept.
        (d / "hall.yaml").write_text(HALL.replace("hall_light", "stair_light"))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if not host.last_errors:
                break
        assert not host.last_errors
        ctx.emit(Event("state", "hall_motion", {"occupancy": False}, ts=T0 + 1))
        ctx.emit(Event("state", "hall_motion", {"occupancy": True}, ts=T0 + 1))
        await settle()
        ctx.t = T0 + 130
        host.tick()
        await settle()
        assert lights(ctx) == [
            (0, "hall_light", "on"), (0, "stair_light", "on"),
            (130, "hall_light", "off"), (130, "stair_light", "off"),
        ]  # fmt: skip
        await host.stop()

    asyncio.run(main())


def test_sighup_reload_validates_first(tmp_path):
    d = rules_dir(tmp_path, hall=HALL)

    async def main():
        host, _ = await started(tmp_path, d)
        (d / "porch.yaml").write_text(PORCH.replace("delay: 5m", "delay: soon"))
        assert await host.reload() is False
        assert host.last_errors[0].startswith("rules/porch.yaml:4: [0].actions[1].delay: ")
        assert [r.id for r in host.engine.rules()] == ["hall"]
        (d / "porch.yaml").write_text(PORCH)
        assert await host.reload() is True
        assert sorted(r.id for r in host.engine.rules()) == ["hall", "porch"]
        await host.stop()

    asyncio.run(main())


def test_the_light_command_goes_out_before_the_trace_bookkeeping(tmp_path):
    both = HALL + HALL.replace("id: hall", "id: hall_off").replace("to: true", "to: false")

    async def main():
        host, ctx = await started(tmp_path, rules_dir(tmp_path, hall=both))
        host.on_event(Event("state", "hall_motion", {"occupancy": True}, ts=T0))
        # Within the call itself, no loop turn: the command is out, the traces are not yet.
        assert lights(ctx) == [(0, "hall_light", "on")]
        assert not [t for t, _, _ in ctx.published if t.endswith("/trace")]
        host.flush()
        traces = {t: json.loads(p) for t, p, _ in ctx.published if t.endswith("/trace")}
        assert traces["edgehub/home/rules/hall/trace"]["result"] == "ran"
        # The rule that could have fired but did not still leaves its trace (edgehub why).
        assert traces["edgehub/home/rules/hall_off/trace"]["result"] == "not_matched"
        db = sqlite3.connect(tmp_path / "data" / "edgehub.db")
        assert [t.result for t in read_traces(db, "hall_off", T0 - 1)] == ["not_matched"]
        await host.stop()

    asyncio.run(main())


def test_traces_of_a_burst_are_published_together_after_trace_delay(tmp_path):
    async def main():
        host, ctx = await started(tmp_path, rules_dir(tmp_path, hall=HALL), trace_delay=0.05)
        for i in range(10):
            host.on_event(Event("state", "hall_motion", {"occupancy": i % 2 == 0}, ts=T0))
        assert len(lights(ctx)) == 5
        await asyncio.sleep(0.2)
        published = [json.loads(p) for t, p, _ in ctx.published if t.endswith("hall/trace")]
        assert [t["result"] for t in published] == ["ran", "not_matched"] * 5
        await host.stop()

    asyncio.run(main())


class WaitingContext(LoopContext):
    """Effects that really wait (a notification, a camera) before they are done."""

    def __init__(self, *a, **kw) -> None:
        super().__init__(*a, **kw)
        self.go = asyncio.Event()
        self.done: list[str] = []

    async def execute(self, effect):
        await self.go.wait()
        if effect.state == "off":
            raise RuntimeError("the light is unplugged")
        self.done.append(effect.state)
        return []


def test_an_effect_that_waits_finishes_later_and_its_failure_is_logged(tmp_path, caplog):
    rule = PORCH.replace("delay: 5m", "delay: 0s")

    async def main():
        ctx = WaitingContext(tmp_path / "data", asyncio.get_running_loop(), T0)
        host = RulesHost(rules_dir(tmp_path, porch=rule), poll_interval=0)
        await host.start(ctx)
        host.on_event(Event("state", "porch_button", {"action": "single"}, ts=T0))
        await settle()
        assert ctx.done == []
        ctx.go.set()
        await settle()
        assert ctx.done == ["on"]
        await host.stop()

    asyncio.run(main())
    failed = "effect failed rule=porch effect=LightCommand error=the light is unplugged"
    assert failed in caplog.text
