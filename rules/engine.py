"""The engine: events and time in, effects and traces out. Pure: no I/O, no threads, no clock."""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Iterable
from typing import Any

from rules import schema as s
from rules.errors import RuleRuntimeError
from rules.events import Event, new_event_id
from rules.loader import LoadedRule, digest
from rules.match import holds, match_trigger, same
from rules.runs import Executor, Run, block
from rules.templates import evaluate
from rules.timers import Timers
from rules.timeutil import local
from rules.trace import Result, TimerRecord, Trace


def _loaded(r: LoadedRule | s.Rule) -> LoadedRule:
    if isinstance(r, LoadedRule):
        return r
    return LoadedRule(r.id, r, digest=digest(r.model_dump(by_alias=True, exclude_unset=True)))


class Engine(Executor, Timers):
    """Runs rules on a virtual clock; every call takes `now` (epoch seconds) from the caller."""

    def __init__(
        self,
        rules: Iterable[LoadedRule | s.Rule],
        *,
        location: Any = None,
        timezone: str = "UTC",
    ) -> None:
        self.location, self.tz = location, timezone
        self._state: dict[str, dict[str, Any]] = {}
        self._override: dict[str, bool] = {}
        self._timers: dict[str, TimerRecord] = {}
        self._tseq: dict[str, int] = {}
        self._heap: list[tuple[float, int, str]] = []
        self._seq = itertools.count()
        self._runs: dict[str, Run] = {}
        self._active: dict[tuple[str, str], list[Run]] = {}
        self._waiting: dict[str, Run] = {}
        self._queues: dict[tuple[str, str], deque] = {}
        self._clock: float | None = None
        self.version = 0  # bumps whenever the durable timers change
        self._dirty: set[str] = set()  # durable timer ids changed since timer_changes()
        self._rules: dict[str, LoadedRule] = {}
        self._install([_loaded(r) for r in rules])

    # ------------------------------------------------------------ rules
    def _install(self, rules: list[LoadedRule]) -> None:
        self._rules = {r.id: r for r in rules}
        self._by_device: dict[str, list] = {}
        self._by_camera: dict[str, list] = {}
        self._by_kind: dict[str, list] = {}
        self._mqtt_exact: dict[str, list] = {}
        self._mqtt_wild: list = []
        for r in rules:
            if r.rule is None:
                continue
            for ti, t in enumerate(r.rule.triggers):
                entry = (r.id, ti, t)
                if isinstance(t, s.DeviceTrigger):
                    self._by_device.setdefault(t.device, []).append(entry)
                elif isinstance(t, s.CameraTrigger):
                    self._by_camera.setdefault(t.camera, []).append(entry)
                elif isinstance(t, s.EventTrigger):
                    self._by_kind.setdefault(t.event, []).append(entry)
                elif isinstance(t, s.MqttTrigger):
                    if "+" in t.topic or "#" in t.topic:
                        self._mqtt_wild.append(entry)
                    else:
                        self._mqtt_exact.setdefault(t.topic, []).append(entry)

    def rules(self) -> list[LoadedRule]:
        """Return the loaded rules (invalid ones included, with their error)."""
        return list(self._rules.values())

    def rule(self, rule_id: str) -> LoadedRule | None:
        """Return one loaded rule by id."""
        return self._rules.get(rule_id)

    def is_enabled(self, rule_id: str) -> bool:
        """True when the rule is valid and switched on."""
        lr = self._rules.get(rule_id)
        if lr is None or lr.rule is None or lr.error is not None:
            return False
        return self._override.get(rule_id, lr.rule.enabled)

    def set_enabled(self, rule_id: str, enabled: bool) -> None:
        """Switch a rule on or off; switching off cancels its runs and pending triggers."""
        if rule_id not in self._rules:
            raise RuleRuntimeError(f"unknown rule {rule_id!r}")
        self._override[rule_id] = enabled
        self._drop_rule_state(rule_id)
        if enabled and self._clock is not None:
            self._schedule_time(rule_id, self._clock)

    def replace_rules(self, rules: Iterable[LoadedRule | s.Rule]) -> None:
        """Hot reload: unchanged rules keep their runs and timers; changed ones start fresh."""
        new = [_loaded(r) for r in rules]
        by_id = {r.id: r for r in new}
        fresh = []
        for rid, old in self._rules.items():
            nr = by_id.get(rid)
            if nr is None or nr.digest != old.digest or nr.error != old.error:
                self._drop_rule_state(rid)
                self._override.pop(rid, None)
        for r in new:
            old = self._rules.get(r.id)
            if old is None or old.digest != r.digest or old.error != r.error:
                fresh.append(r.id)
        self._install(new)
        if self._clock is not None:
            for rid in fresh:
                self._schedule_time(rid, self._clock)

    def mqtt_topics(self) -> set[str]:
        """Return the topic filters that MQTT triggers (and waits) of enabled rules watch."""
        out = set()
        for r in self._rules.values():
            if not self.is_enabled(r.id):
                continue
            for t in r.rule.triggers:
                if isinstance(t, s.MqttTrigger):
                    out.add(t.topic)
            out.update(self._wait_topics(r.rule.actions))
        return out

    def _wait_topics(self, actions: list) -> set[str]:
        out = set()
        for a in actions:
            if isinstance(a, s.WaitAction) and isinstance(a.wait, s.MqttTrigger):
                out.add(a.wait.topic)
            elif isinstance(a, s.IfAction):
                out |= self._wait_topics(a.then) | self._wait_topics(a.else_)
            elif isinstance(a, s.ChooseAction):
                for o in a.choose:
                    out |= self._wait_topics(o.actions)
                out |= self._wait_topics(a.default)
        return out

    def state(self, device: str) -> dict[str, Any]:
        """Return the engine's view of a device's attributes."""
        return dict(self._state.get(device, {}))

    # ------------------------------------------------------------ events
    def handle(self, event: Event, now: float) -> Result:
        """Feed one event: update state, match triggers and waits, run what fires."""
        res = self.advance(now)
        t0 = time.perf_counter()
        kind, src = event.kind, event.source
        prev: dict[str, Any] = {}
        if kind == "state" or kind == "state.baseline":
            prev = self._state.get(src) or {}
            self._state[src] = {**prev, **event.data}
            if kind == "state.baseline":
                return res
            cands = self._by_device.get(src, ())
        elif kind == "camera.detection":
            cands = self._by_camera.get(src, ())
        elif kind == "mqtt.message":
            topic = event.data.get("topic", "")
            cands = self._mqtt_exact.get(topic, []) + self._mqtt_wild
        else:
            cands = self._by_kind.get(kind, ())
        for rid, ti, trig in cands:
            if not self.is_enabled(rid):
                continue
            fired, ctx = match_trigger(trig, event, prev)
            if fired is None or (
                isinstance(trig, s.MqttTrigger) and not ctx.get("matched_topic", True)
            ):
                continue
            ctx.update(id=trig.id or str(ti), idx=ti, event_id=event.id)
            if isinstance(trig, s.DeviceTrigger) and trig.for_:
                self._held(rid, ti, trig, fired, ctx, event, now, res)
            elif fired:
                self._start(rid, ctx, event.id, kind, src, now, res, t0)
            else:
                res.traces.append(Trace(rid, now, "not_matched", event.id, kind, src, ctx))
        if self._waiting:
            self._wake_waiters(event, prev, now, res)
        return res

    def _held(
        self,
        rid: str,
        ti: int,
        trig: s.DeviceTrigger,
        fired: bool,
        ctx: dict[str, Any],
        event: Event,
        now: float,
        res: Result,
    ) -> None:
        tid = f"for:{rid}:{ti}:{event.source}"
        if fired and tid in self._timers and same(ctx.get("from_state"), ctx.get("to_state")):
            res.traces.append(
                Trace(rid, now, "not_matched", event.id, event.kind, event.source, ctx)
            )
        elif fired:
            data = {"trigger": dict(ctx), "cause": event.id, "for": trig.for_}
            self._arm(TimerRecord(tid, "for", rid, now + trig.for_, data))
            res.traces.append(
                Trace(rid, now, "for_started", event.id, event.kind, event.source, ctx)
            )
        elif tid in self._timers and not (
            trig.attribute is not None and holds(trig, event.data.get(trig.attribute))
        ):
            self._cancel(tid)
            res.traces.append(
                Trace(rid, now, "for_cancelled", event.id, event.kind, event.source, ctx)
            )
        else:
            res.traces.append(
                Trace(rid, now, "not_matched", event.id, event.kind, event.source, ctx)
            )

    def _wake_waiters(self, event: Event, prev: dict, now: float, res: Result) -> None:
        for run in list(self._waiting.values()):
            act = block(self._rules[run.rule].rule, run.waiting)
            fired, ctx = match_trigger(act.wait, event, prev)
            if fired:
                self._waiting.pop(run.id, None)
                self._cancel(f"wait:{run.id}")
                run.wait = {"trigger": ctx, "timed_out": False}
                self.resume(run, now, res)

    def run_now(self, rule_id: str, now: float) -> Result:
        """Run a rule's actions now, as the dashboard's "run" button (conditions skipped)."""
        if rule_id not in self._rules or self._rules[rule_id].rule is None:
            raise RuleRuntimeError(f"unknown or invalid rule {rule_id!r}")
        res = self.advance(now)
        ctx = {"platform": "manual", "id": "manual", "detail": "run now"}
        self._start(rule_id, ctx, None, "manual", None, now, res, None, conditions=False)
        return res

    # ------------------------------------------------------------ runs
    def _vars(self, run: Run, now: float) -> dict[str, Any]:
        st = self._state

        def state(device: str, attribute: str | None = None) -> Any:
            d = st.get(device, {})
            return d if attribute is None else d.get(attribute)

        return {
            "trigger": run.trigger, "now": local(now, self.tz), "state": state,
            "states": st, "rule": run.rule, "wait": run.wait,
        }  # fmt: skip

    def _new_run_id(self, now: float) -> str:
        return new_event_id(now)

    def _start(
        self,
        rid: str,
        ctx: dict[str, Any],
        cause: str | None,
        kind: str | None,
        src: str | None,
        now: float,
        res: Result,
        t0: float | None,
        conditions: bool = True,
    ) -> None:
        rule = self._rules[rid].rule
        if cause is None and kind == "time":
            # A time trigger has no event behind it. Its firing gets an event id of its own,
            # the cause of the run's effects; the host journals the event (time.trigger,
            # source rule:<id>) under this id, so a light's cause chain ends at the rule.
            cause = new_event_id(now)
        trace = Trace(rid, now, "ran", cause, kind, src, ctx)
        res.traces.append(trace)
        run = Run("", rid, "", ctx, cause)  # the id is made only if it runs
        try:
            if rule.per:
                run.key = str(evaluate(rule.per, self._vars(run, now)))
            if (
                conditions
                and rule.conditions
                and not self._conds(rule.conditions, "conditions", run, now, trace)
            ):
                trace.result = "conditions_false"
                return
        except RuleRuntimeError as e:
            trace.result, trace.error = "error", str(e)
            return
        active = self._active.get((rid, run.key))
        if active:
            if rule.mode == "single":
                trace.result = "already_running"
                return
            if rule.mode == "restart":
                for old in list(active):
                    self._forget_run(old)
            elif rule.mode == "queued":
                q = self._queues.setdefault((rid, run.key), deque())
                if len(q) >= rule.max:
                    trace.result = "queue_full"
                else:
                    q.append((ctx, cause))
                    trace.result = "queued"
                return
            elif len(active) >= rule.max:
                trace.result = "max_runs"
                return
        self.execute(run, now, trace, res, t0)
