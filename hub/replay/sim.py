"""One rule engine on a virtual clock: recorded inputs in, effects collected and never executed."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

from rules import effects as fx
from rules.engine import Engine
from rules.events import Event
from rules.loader import LoadedRule
from rules.testing import feedback
from rules.timeutil import zone
from rules.trace import Result, Trace

FEEDBACK_LIMIT = 100  # effects feeding events feeding effects: the same cap as rule tests
MAX_INTERVALS = 100_000  # per light: the on/off history kept for the report's narratives


@dataclass(frozen=True, slots=True)
class Fired:
    """An effect the engine asked for, at its virtual time."""

    ts: float
    effect: fx.Effect


def effect_key(e: fx.Effect) -> tuple:
    """Return what makes two effects the same effect (rule, kind, target, values)."""
    if isinstance(e, fx.LightCommand):
        return (e.rule, "light", e.device, e.state, e.brightness, e.transition)
    if isinstance(e, fx.Notify):
        return (e.rule, "notify", e.owners, e.title, e.message, e.attach, e.priority)
    if isinstance(e, fx.Record):
        return (e.rule, "record", e.camera, e.duration)
    if isinstance(e, fx.Snapshot):
        return (e.rule, "snapshot", e.camera)
    if isinstance(e, fx.Publish):
        return (e.rule, "publish", e.topic, e.payload, e.retain)
    if isinstance(e, fx.SetState):
        return (e.rule, "set", e.device, json.dumps(e.attributes, sort_keys=True, default=str))
    if isinstance(e, fx.Emit):
        return (e.rule, "emit", e.kind, e.source, json.dumps(e.data, sort_keys=True, default=str))
    return (e.rule, type(e).__name__, repr(e))


def summary(e: fx.Effect) -> str:
    """Return an effect in a few words: "porch_light OFF", "notify alice: Door open"."""
    if isinstance(e, fx.LightCommand):
        extra = f" {e.brightness:g}%" if e.brightness is not None else ""
        return f"{e.device} {e.state.upper()}{extra}"
    if isinstance(e, fx.Notify):
        return f"notify {','.join(e.owners) or 'owners'}: {e.title or e.message}"
    if isinstance(e, fx.Record):
        return f"record {e.camera}" + (f" {e.duration:g}s" if e.duration else "")
    if isinstance(e, fx.Snapshot):
        return f"snapshot {e.camera}"
    if isinstance(e, fx.Publish):
        return f"publish {e.topic} {e.payload}"
    if isinstance(e, fx.SetState):
        return f"set {e.device} {json.dumps(e.attributes, default=str)}"
    if isinstance(e, fx.Emit):
        return f"emit {e.kind}"
    return type(e).__name__


class LightClock:
    """On-time per light and local day, and each light's on/off intervals."""

    def __init__(self, lights: Iterable[str], timezone: str) -> None:
        self.lights = set(lights)
        self.tz = zone(timezone)
        self.on_since: dict[str, float] = {}
        self.seconds: Counter[tuple[str, str]] = Counter()
        self.intervals: dict[str, list[tuple[float, float | None]]] = {}

    def update(self, device: str, data: dict[str, Any], ts: float) -> None:
        """Take a state report of a device; only lights' "state" attribute counts."""
        if device not in self.lights or "state" not in data:
            return
        on = str(data["state"]).upper() == "ON"
        if on and device not in self.on_since:
            self.on_since[device] = ts
        elif not on and device in self.on_since:
            self._close(device, ts)

    def close(self, end: float) -> None:
        """End of the replay: count lights still on up to end (their interval stays open)."""
        for device, start in list(self.on_since.items()):
            self._add(device, start, end)
            self._keep(device, start, None)
        self.on_since.clear()

    def _close(self, device: str, ts: float) -> None:
        start = self.on_since.pop(device)
        self._add(device, start, ts)
        self._keep(device, start, ts)

    def _keep(self, device: str, start: float, end: float | None) -> None:
        iv = self.intervals.setdefault(device, [])
        if len(iv) < MAX_INTERVALS:
            iv.append((start, end))

    def _add(self, device: str, a: float, b: float) -> None:
        while a < b:
            day = datetime.fromtimestamp(a, self.tz).date()
            midnight = datetime.combine(day + timedelta(days=1), time(0), self.tz).timestamp()
            end = min(b, midnight)
            self.seconds[(device, day.isoformat())] += end - a
            a = end


class RuleSim:
    """An Engine fed recorded inputs on a virtual clock; its effects are only collected."""

    def __init__(
        self,
        rules: Iterable[LoadedRule],
        *,
        lights: Iterable[str] = (),
        location: Any = None,
        timezone: str = "UTC",
    ) -> None:
        self.engine = Engine(list(rules), location=location, timezone=timezone)
        self.lights = LightClock(lights, timezone)
        self.runs: Counter[str] = Counter()
        self.fired: list[Fired] = []  # this step's effects; taken by take_step()
        self.traces: list[Trace] = []
        self.now = 0.0

    def start(self, t0: float, given: dict[str, dict[str, Any]]) -> None:
        """Set the clock to t0 and the devices to their recorded state (baselines, no triggers)."""
        self.now = t0
        self._feed(self.engine.advance(t0), t0)
        for device, attrs in given.items():
            self.lights.update(device, attrs, t0)
            base = Event("state.baseline", device, dict(attrs), ts=t0)
            self._feed(self.engine.handle(base, t0), t0)

    def run_until(self, t: float) -> None:
        """Let time pass: fire every deadline up to t, each at its own time."""
        while (d := self.engine.next_deadline()) is not None and d <= t:
            self._feed(self.engine.advance(d), d)
        self.now = max(self.now, t)

    def handle(self, event: Event, ts: float) -> None:
        """Feed one recorded input at virtual time ts (time passes up to it first)."""
        self.run_until(ts)
        if event.kind in ("state", "state.baseline"):
            self.lights.update(event.source, event.data, ts)
        self._feed(self.engine.handle(event, ts), ts)

    def finish(self, end: float) -> None:
        """Let time pass up to the end of the replay and close the lights' intervals."""
        self.run_until(end)
        self.lights.close(end)

    def take_step(self) -> tuple[list[Fired], list[Trace]]:
        """Return and forget the effects and traces since the last call."""
        fired, traces = self.fired, self.traces
        self.fired, self.traces = [], []
        return fired, traces

    def _feed(self, res: Result, t: float, depth: int = 0) -> None:
        # Depth-first, as rules/testing.py does, so an exported rule test sees the same order.
        for tr in res.traces:
            if tr.result == "ran":
                self.runs[tr.rule] += 1
        self.traces.extend(res.traces)
        for e in res.effects:
            self.fired.append(Fired(t, e))
            back = feedback(e, t)
            if back is not None and depth < FEEDBACK_LIMIT:
                if back.kind == "state":
                    self.lights.update(back.source, back.data, t)
                self._feed(self.engine.handle(back, t), t, depth + 1)
