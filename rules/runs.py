"""Runs: the action interpreter. A run is a stack of positions, so it can sleep in a timer,
be written to disk, and resume after a restart."""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from rules import effects as fx
from rules import schema as s
from rules.errors import RuleRuntimeError
from rules.loader import keypath
from rules.match import Conditions
from rules.templates import render, render_value
from rules.trace import Result, TimerRecord, Trace

if TYPE_CHECKING:
    from rules.engine import Engine

_ATTR = {"if": "if_", "else": "else_"}
SUSPEND, NEXT, STOP = "suspend", "next", "stop"


@dataclass
class Run:
    """One execution of a rule's actions; frames are [block path, next index] pairs."""

    id: str
    rule: str
    key: str
    trigger: dict[str, Any]
    cause: str | None
    frames: list[list[Any]] = field(default_factory=lambda: [[["actions"], 0]])
    wait: dict[str, Any] | None = None
    waiting: list[Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form stored inside delay and wait timers."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Run:
        """Rebuild a run from its JSON form."""
        return cls(**d)


def block(rule: s.Rule, path: list[Any]) -> Any:
    """Return the object at a path such as ["actions", 2, "then"]."""
    obj: Any = rule
    for p in path:
        obj = obj[p] if isinstance(p, int) else getattr(obj, _ATTR.get(p, p))
    return obj


def _type(a: Any) -> str:
    return type(a).__name__.removesuffix("Action").lower()


class Executor:
    """The action half of the Engine (mixed in): runs actions, sleeps, waits, finishes runs."""

    def execute(
        self: Engine, run: Run, now: float, trace: Trace, res: Result, t0: float | None
    ) -> None:
        """Run actions from the run's position until it ends, stops or sleeps."""
        rule = self._rules[run.rule].rule
        if not run.id:
            run.id = self._new_run_id(now)
        self._runs[run.id] = run
        active = self._active.setdefault((run.rule, run.key), [])
        if run not in active:
            active.append(run)
        trace.run_id = run.id
        outcome = NEXT
        while run.frames:
            path, i = run.frames[-1]
            try:
                actions = block(rule, path)
            except (AttributeError, IndexError, KeyError):
                trace.result, trace.error = "error", f"lost position {path} (rule changed)"
                break
            if i >= len(actions):
                run.frames.pop()
                continue
            run.frames[-1][1] = i + 1
            a, apath = actions[i], [*path, i]
            t1 = time.perf_counter()
            if trace.latency_ms is None and t0 is not None:
                trace.latency_ms = round((t1 - t0) * 1000, 3)
            try:
                outcome, text = self._act(a, apath, run, now, trace, res)
            except RuleRuntimeError as e:
                outcome, text = STOP, f"error: {e}"
                trace.result, trace.error = "error", str(e)
            trace.actions.append(
                {
                    "path": keypath(tuple(apath)),
                    "type": _type(a),
                    "result": text,
                    "duration_ms": round((time.perf_counter() - t1) * 1000, 3),
                }
            )
            if outcome == SUSPEND:
                return
            if outcome == STOP:
                if trace.result == "ran" or trace.result == "resumed":
                    trace.result = "stopped"
                break
        self._finish(run, now, res)

    def _act(
        self: Engine, a: Any, path: list[Any], run: Run, now: float, trace: Trace, res: Result
    ) -> tuple[str, str]:
        base = {"rule": run.rule, "cause": run.cause}
        out = res.effects
        if isinstance(a, s.LightAction):
            remote = self._rules[run.rule].rule.remote  # type: ignore[union-attr]
            for dev in a.light:
                # `<hub>/<device>` is another hub's light: the rule's remote policy goes along.
                far = "/" in dev
                out.append(
                    fx.LightCommand(
                        **base,
                        device=dev,
                        state=a.state,
                        brightness=a.brightness,
                        transition=a.transition,
                        on_unreachable=remote.on_unreachable if far else "queue",
                        deadline=remote.deadline if far else None,
                    )
                )
                tid = f"off:{dev}"
                if a.for_ is not None and a.state == "on":
                    data = {"device": dev, "cause": run.cause}
                    self._arm(TimerRecord(tid, "auto_off", run.rule, now + a.for_, data))
                elif a.state != "toggle" and tid in self._timers:
                    self._cancel(tid)
            txt = f"{','.join(a.light)} {a.state}"
            txt += f" {a.brightness:g}%" if a.brightness is not None else ""
            return NEXT, txt + (f", off after {a.for_:g}s" if a.for_ is not None else "")
        if isinstance(a, s.RecordAction):
            out.append(fx.Record(**base, camera=a.record, duration=a.for_))
            return NEXT, f"record {a.record}" + (f" for {a.for_:g}s" if a.for_ else "")
        if isinstance(a, s.SnapshotAction):
            out.append(fx.Snapshot(**base, camera=a.snapshot))
            return NEXT, f"snapshot {a.snapshot}"
        if isinstance(a, s.NotifyAction):
            v = self._vars(run, now)
            trig = run.trigger
            data = {k: trig[k] for k in ("snapshot", "label", "score") if trig.get(k) is not None}
            n = fx.Notify(
                **base, owners=tuple(a.notify), title=render(a.title, v),
                message=render(a.message, v), attach=a.attach, priority=a.priority,
                camera=a.camera or trig.get("camera"), data=data,
            )  # fmt: skip
            out.append(n)
            return NEXT, f"notify {','.join(a.notify)}: {n.title or n.message}"[:200]
        if isinstance(a, s.PublishAction):
            v = self._vars(run, now)
            p = a.payload
            payload = render(p, v) if isinstance(p, str) else json.dumps(render_value(p, v))
            topic = render(a.publish, v)
            out.append(fx.Publish(**base, topic=topic, payload=payload, retain=a.retain, qos=a.qos))
            return NEXT, f"publish {topic} {payload[:80]}"
        if isinstance(a, s.SetAction):
            attrs = render_value(dict(a.model_extra or {}), self._vars(run, now))
            out.append(fx.SetState(**base, device=a.set, attributes=attrs))
            return NEXT, f"set {a.set} {json.dumps(attrs, default=str)}"
        if isinstance(a, s.EmitAction):
            data = render_value(a.data, self._vars(run, now))
            out.append(fx.Emit(**base, kind=a.emit, source=f"rule:{run.rule}", data=data))
            return NEXT, f"emit {a.emit}"
        if isinstance(a, s.DelayAction):
            self._arm(TimerRecord(f"delay:{run.id}", "delay", run.rule, now + a.delay))
            return SUSPEND, f"delay {a.delay:g}s"
        if isinstance(a, s.WaitAction):
            run.waiting, run.wait = path, None
            self._waiting[run.id] = run
            deadline = now + a.timeout if a.timeout is not None else None
            self._arm(TimerRecord(f"wait:{run.id}", "wait", run.rule, deadline))
            return SUSPEND, "wait for trigger" + (f" up to {a.timeout:g}s" if a.timeout else "")
        if isinstance(a, s.IfAction):
            ok = self._conds(a.if_, keypath((*path, "if")), run, now, trace)
            branch = "then" if ok else "else"
            run.frames.append([[*path, branch], 0])
            return NEXT, f"if -> {branch}"
        if isinstance(a, s.ChooseAction):
            for j, opt in enumerate(a.choose):
                cpath = keypath((*path, "choose", j, "conditions"))
                if self._conds(opt.conditions, cpath, run, now, trace):
                    run.frames.append([[*path, "choose", j, "actions"], 0])
                    return NEXT, f"choose option {j}"
            run.frames.append([[*path, "default"], 0])
            return NEXT, "choose default"
        if isinstance(a, s.StopAction):
            return STOP, f"stop: {a.stop}" if a.stop else "stop"
        raise RuleRuntimeError(f"unknown action {type(a).__name__}")

    def _conds(self: Engine, conds: list, path: str, run: Run, now: float, trace: Trace) -> bool:
        c = Conditions(
            self._state, self.tz, self.location, lambda: self._vars(run, now), run.trigger
        )
        ok = c.all(conds, path, now)
        trace.conditions.extend(c.log)
        return ok

    def resume(self: Engine, run: Run, now: float, res: Result, result: str = "resumed") -> None:
        """Continue a run after its delay or wait."""
        trace = Trace(run.rule, now, result, run.cause, trigger=run.trigger, run_id=run.id)
        res.traces.append(trace)
        self.execute(run, now, trace, res, None)

    def _finish(self: Engine, run: Run, now: float, res: Result) -> None:
        self._forget_run(run)
        q = self._queues.get((run.rule, run.key))
        if q:
            ctx, cause = q.popleft()
            nxt = Run(self._new_run_id(now), run.rule, run.key, ctx, cause)
            trace = Trace(run.rule, now, "ran", cause, trigger=ctx)
            res.traces.append(trace)
            self.execute(nxt, now, trace, res, None)

    def _forget_run(self: Engine, run: Run) -> None:
        self._runs.pop(run.id, None)
        self._waiting.pop(run.id, None)
        for tid in (f"delay:{run.id}", f"wait:{run.id}"):
            if tid in self._timers:
                self._cancel(tid)
        active = self._active.get((run.rule, run.key))
        if active and run in active:
            active.remove(run)
            if not active:
                del self._active[(run.rule, run.key)]
