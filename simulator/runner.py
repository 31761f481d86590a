"""Runs a scenario against a running hub, over MQTT as the real world would.

A subscriber hears the hub's events, states, rule traces and notifications and tells the
story; the world publishes sensor payloads; camera steps switch the scene a `sim:` camera
plays; each expectation is decided against what was heard (and what the phones received).

runner = Runner(host, port, "home", world=world, clock=clock, cameras=..., phones=...)
report = runner.run(scenario)    # report.ok, report.failures (each names its step)
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import paho.mqtt.client as mqtt

from simulator.clock import ScaledClock
from simulator.phones import Phones
from simulator.scenario import Expectation, Scenario, Step
from simulator.story import HOLD_S, Story, explain
from simulator.world import Ambient, World

log = logging.getLogger(__name__)
POLL_S = 0.05  # real seconds between checks: cheap, and fine-grained enough for `within`


class RunnerError(RuntimeError):
    """The runner cannot reach the hub's broker."""


@dataclass
class Failure:
    """An expectation that did not hold."""

    step: str
    expected: str
    saw: str
    traces: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"FAIL {self.step}: expected {self.expected}", f"  saw: {self.saw}"]
        if self.traces:
            lines.append("  rule trace:")
            lines += [f"    {t}" for t in self.traces]
        else:
            lines.append("  rule trace: no rule looked at anything in that window")
        return "\n".join(lines)


@dataclass
class Report:
    """What a scenario run found."""

    scenario: str
    passed: list[str] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when every expectation held."""
        return not self.failures


@dataclass
class _Check:
    step: Step
    exp: Expectation
    since: float  # absolute hub time the window opens
    at: float  # absolute hub time of the step
    deadline: float


class Runner:
    """The observer and the scenario player."""

    def __init__(
        self,
        host: str,
        port: int,
        hub_id: str = "home",
        *,
        world: World,
        clock: ScaledClock,
        cameras: Mapping[str, Any] | None = None,
        phones: Phones | None = None,
        out: Callable[[str], None] = print,
        tz: str = "UTC",
        probe: Callable[[str], str | None] | None = None,
    ) -> None:
        self.host, self.port, self.hub_id = host, port, hub_id
        self.world, self.clock = world, clock
        self.cameras = dict(cameras or {})
        self.phones, self.out = phones, out
        self.story = Story(out, tz, probe, speed=clock.speed)
        self._lock = threading.Lock()
        self.events: list[tuple[float, dict[str, Any]]] = []
        self.states: dict[str, list[tuple[float, dict[str, Any]]]] = {}
        self.traces: list[tuple[float, dict[str, Any]]] = []
        self._inbox: list[tuple[str, bytes]] = []
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"edgehub-sim-observer-{id(self):x}",
            protocol=mqtt.MQTTv311,  # the amqtt fallback speaks only 3.1.1
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe
        if phones is not None:
            phones.on_receive = lambda item: self._queue("phone", json.dumps(item).encode())

    # -- MQTT ------------------------------------------------------------------------------
    def connect(self, timeout: float = 15.0) -> None:
        """Connect and subscribe to the hub's topics."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._subscribed.wait(timeout):
            self.client.loop_stop()
            raise RunnerError(f"cannot reach the broker at {self.host}:{self.port}")

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()

    def _on_connect(self, client: mqtt.Client, u: Any, f: Any, rc: Any, p: Any) -> None:
        if rc.is_failure:
            return
        base = f"edgehub/{self.hub_id}"
        client.subscribe([(f"{base}/#", 1)])

    def _on_subscribe(self, client: mqtt.Client, u: Any, mid: int, codes: Any, p: Any) -> None:
        # Ready only once the broker holds the subscription: the scenario's first sensor
        # reading must not beat it, or its (QoS 0, unretained) events are missing from the story.
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        self._queue(msg.topic, msg.payload)

    def _queue(self, topic: str, payload: bytes) -> None:
        with self._lock:
            self._inbox.append((topic, payload))

    def pump(self) -> None:
        """Take in what arrived (on the caller's thread) and tell the story."""
        with self._lock:
            batch, self._inbox = self._inbox, []
        base = f"edgehub/{self.hub_id}/"
        for topic, payload in batch:
            now = self.clock()
            if topic == "phone":
                self.story.phone(json.loads(payload))
                continue
            rest = topic[len(base) :] if topic.startswith(base) else ""
            parts = rest.split("/")
            try:
                if rest == "events":
                    ev = json.loads(payload)
                    self.events.append((now, ev))
                    self.story.event(ev, now)
                elif parts[0] == "rules" and parts[-1] == "trace":
                    tr = json.loads(payload)
                    self.traces.append((now, tr))
                    self.story.trace(tr)
                elif len(parts) == 2 and parts[1] == "state" and parts[0] != "rules":
                    self.states.setdefault(parts[0], []).append((now, json.loads(payload)))
            except ValueError:
                continue
        self.story.flush()

    # -- running ---------------------------------------------------------------------------
    def run(self, scenario: Scenario) -> Report:
        """Play the scenario's timeline; return which expectations held."""
        report = Report(scenario.name)
        self.clock.release()
        t0 = self.clock()
        pending: list[_Check] = []
        last_action = 0.0
        for step in scenario.steps:
            self._wait_until(t0 + step.at, pending, report, scenario)
            if step.publish is not None:
                attrs = {k: v for k, v in step.publish.items() if k != "device"}
                self.world.report(str(step.publish["device"]), attrs)
                last_action = step.at
            if step.camera is not None:
                for cam, scene in step.camera.items():
                    src = self.cameras.get(cam)
                    if src is None:
                        known = ", ".join(sorted(self.cameras)) or "none"
                        raise RunnerError(
                            f"{step.label(scenario.source)}: no sim camera {cam!r} ({known})"
                        )
                    src.play(scene)
                last_action = step.at
            for exp in step.expect:
                since = t0 + (exp.since if exp.since is not None else last_action)
                at = t0 + step.at
                chk = _Check(step, exp, since, at, at + exp.within)
                pending.append(chk)
        self._wait_until(None, pending, report, scenario)
        self._settle()
        self.story.flush(force=True)
        return report

    def _settle(self) -> None:
        """Take in what is still on its way before the story is told to the end.

        The last expectation can be decided on what the phones already hold while the
        story has not yet taken in the same notification, or the traces that follow a
        light command in 20 ms groups; told now, they would be missing from it.
        """
        deadline = time.monotonic() + HOLD_S
        while time.monotonic() < deadline:
            self.pump()
            time.sleep(POLL_S)
        self.pump()

    def _wait_until(
        self, t: float | None, pending: list[_Check], report: Report, scenario: Scenario
    ) -> None:
        """Tick the world and decide checks until the clock reads t (None: all decided)."""
        while True:
            self.pump()
            self.world.tick()
            now = self.clock()
            for chk in list(pending):
                verdict, saw = self._decide(chk, now)
                if verdict is None:
                    continue
                pending.remove(chk)
                label = f"{chk.step.label(scenario.source)}: {chk.exp.describe()}"
                if verdict:
                    report.passed.append(label)
                    self.out(f"  ✓ {label}")
                else:
                    fail = Failure(
                        chk.step.label(scenario.source), chk.exp.describe(), saw, self._why(chk)
                    )
                    report.failures.append(fail)
                    self.out(f"  ✗ {label}: saw {saw}")
            if (t is None and not pending) or (t is not None and now >= t):
                return
            time.sleep(POLL_S)

    def _why(self, chk: _Check) -> list[str]:
        return [
            explain(tr)
            for at, tr in self.traces
            if chk.since - 1 <= at <= chk.deadline + 1 and tr.get("result") != "not_matched"
        ][-8:]

    # -- expectations ----------------------------------------------------------------------
    def _decide(self, chk: _Check, now: float) -> tuple[bool | None, str]:
        """Return (True/False, what was seen) once decided, (None, "") while it may still hold."""
        exp = chk.exp
        if now < chk.at:
            return None, ""
        if exp.kind == "no_event":
            hits = [
                ev for at, ev in self.events if chk.since <= at <= chk.at and _event_is(ev, exp)
            ]
            return (not hits), (_short(hits[0]) if hits else "none")
        found, saw = self._find(chk, now)
        if found:
            return True, saw
        if now >= chk.deadline:
            return False, saw
        return None, ""

    def _find(self, chk: _Check, now: float) -> tuple[bool, str]:
        exp = chk.exp
        if exp.kind == "device":
            hist = self.states.get(exp.target, [])
            before = [s for at, s in hist if at <= chk.at][-1:]
            window = before + [s for at, s in hist if chk.at < at <= now]
            for st in window:
                if _matches(st, exp.match):
                    return True, json.dumps(st)
            return False, json.dumps(window[-1]) if window else "no state published"
        if exp.kind == "event":
            hits = [ev for at, ev in self.events if chk.since <= at <= now and _event_is(ev, exp)]
            kinds = [
                ev for at, ev in self.events if chk.since <= at and ev.get("kind") == exp.target
            ]
            if hits:
                return True, _short(hits[0])
            return False, (_short(kinds[-1]) if kinds else f"no {exp.target} event")
        if exp.kind == "recording":
            recs = [
                ev
                for at, ev in self.events
                if chk.since <= at <= now
                and ev.get("kind") == "recording.started"
                and ev.get("source") == exp.target
            ]
            for ev in recs:
                pre = float(ev["ts"]) - float((ev.get("data") or {}).get("start") or ev["ts"])
                if exp.min_pre_roll is None or pre >= exp.min_pre_roll:
                    return True, f"recording with {pre:.1f} s of pre-roll"
            if recs:
                pre = float(recs[-1]["ts"]) - float(recs[-1]["data"].get("start") or 0)
                return False, f"recording with only {pre:.1f} s of pre-roll"
            return False, f"no recording.started from {exp.target}"
        if exp.kind == "notification":
            if self.phones is None:
                return False, "no phones (loopback HTTP server) in this simulation"
            got = [g for g in self.phones.received(exp.target) if g["at"] >= chk.since]
            for g in got:
                if exp.attach and not g["attachments"]:
                    continue
                if all(str(v).lower() in str(g.get(k, "")).lower() for k, v in exp.match.items()):
                    return True, f'"{g["title"]}" with {len(g["attachments"])} attachment(s)'
            if got:
                g = got[-1]
                return False, f'"{g["title"]}" with {len(g["attachments"])} attachment(s)'
            return False, f"nothing reached {exp.target}'s phone"
        return False, f"unknown expectation {exp.kind}"

    # -- free running (make run) -----------------------------------------------------------
    def live(self, ambient: Ambient, stop: threading.Event, camera_every: float = 0.0) -> None:
        """Let the home live until stop is set: ambient sensors and, now and then, a scene."""
        rng = ambient.rng
        self.clock.release()
        scenes = [
            "person_walks_left_to_right",
            "cat_crosses",
            "branches_sway_in_wind",
            "car_passes",
        ]
        next_scene = self.clock() + min(15.0, camera_every) if camera_every else None
        while not stop.is_set():
            self.pump()
            self.world.tick()
            ambient.tick()
            if next_scene is not None and self.clock() >= next_scene and self.cameras:
                cam, src = rng.choice(sorted(self.cameras.items()))
                scene = rng.choice(scenes)
                self.out(f"{self.story.clock(self.clock())} {cam} scene: {scene}")
                src.play(scene)
                next_scene = self.clock() + camera_every
            stop.wait(0.1)


def _matches(state: dict[str, Any], want: dict[str, Any]) -> bool:
    return all(_same(v, state.get(k)) for k, v in want.items())


def _same(want: Any, got: Any) -> bool:
    if isinstance(want, str) and want.strip().endswith("%") and isinstance(got, int | float):
        return abs(float(want.strip()[:-1]) / 100 * 255 - float(got)) <= 1.5
    if isinstance(want, bool) or isinstance(got, bool):
        return want == got
    if isinstance(want, int | float) and isinstance(got, int | float):
        return abs(want - got) <= 1e-6 * max(1.0, abs(want))
    return str(want).lower() == str(got).lower()


def _event_is(ev: dict[str, Any], exp: Expectation) -> bool:
    if ev.get("kind") != exp.target:
        return False
    data = ev.get("data") or {}
    for k, v in exp.match.items():
        got = ev.get("source") if k == "source" else data.get(k)
        if k == "min_score":
            if not isinstance(data.get("score"), int | float) or data["score"] < float(v):
                return False
        elif not _same(v, got):
            return False
    return True


def _short(ev: dict[str, Any]) -> str:
    data = json.dumps(ev.get("data"), default=str)
    return f"{ev.get('kind')} from {ev.get('source')} {data[:160]}"
