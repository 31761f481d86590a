"""The timer half of the Engine (mixed in): durable timers, time triggers, advance()."""

from __future__ import annotations

import heapq
import logging
from collections.abc import Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from rules import schema as s
from rules.effects import LightCommand
from rules.errors import RuleRuntimeError
from rules.runs import Run, block
from rules.timeutil import local, next_at, next_cron, next_sun
from rules.trace import Result, TimerRecord, Trace

if TYPE_CHECKING:
    from rules.engine import Engine

log = logging.getLogger("rules.engine")
DURABLE = ("for", "delay", "wait", "auto_off")
_TIME_TRIGGERS = (s.TimeTrigger, s.CronTrigger, s.SunTrigger)


class Timers:
    """Timers on the virtual clock: a heap of deadlines with lazy deletion."""

    # ------------------------------------------------------------ timers
    def _arm(self: Engine, rec: TimerRecord) -> None:
        rec.digest = rec.digest or (self._rules[rec.rule].digest if rec.rule in self._rules else "")
        seq = next(self._seq)
        self._timers[rec.id], self._tseq[rec.id] = rec, seq
        if rec.deadline is not None:
            heapq.heappush(self._heap, (rec.deadline, seq, rec.id))
        if rec.kind in DURABLE:
            self.version += 1
            self._dirty.add(rec.id)

    def _cancel(self: Engine, tid: str) -> None:
        rec = self._timers.pop(tid, None)
        self._tseq.pop(tid, None)
        if rec is not None and rec.kind in DURABLE:
            self.version += 1
            self._dirty.add(rec.id)

    def next_deadline(self: Engine) -> float | None:
        """Return when advance() next has work to do, or None."""
        h = self._heap
        while h and self._tseq.get(h[0][2]) != h[0][1]:
            heapq.heappop(h)
        return h[0][0] if h else None

    def _record_of(self: Engine, rec: TimerRecord) -> TimerRecord | None:
        data = dict(rec.data)
        if rec.kind in ("delay", "wait"):
            run = self._runs.get(rec.id.split(":", 1)[1])
            if run is None:
                return None
            data["run"] = run.to_dict()
        return TimerRecord(rec.id, rec.kind, rec.rule, rec.deadline, data, rec.digest)

    def timers(self: Engine) -> list[TimerRecord]:
        """Return every durable timer as a serialisable record with its deadline."""
        out = (self._record_of(r) for r in self._timers.values() if r.kind in DURABLE)
        return [r for r in out if r is not None]

    def timer_changes(self: Engine) -> tuple[list[TimerRecord], list[str]]:
        """Return the durable timers (re)armed and the ids gone since the last call."""
        upserts, gone = [], []
        for tid in self._dirty:
            rec = self._timers.get(tid)
            rec = self._record_of(rec) if rec is not None else None
            if rec is None:
                gone.append(tid)
            else:
                upserts.append(rec)
        self._dirty.clear()
        return upserts, gone

    def restore(self: Engine, timers: Iterable[TimerRecord], now: float) -> Result:
        """Re-arm timers saved before a restart; ones already due fire now (or drop)."""
        res = Result()
        if self._clock is None:
            self._ensure_clock(now)
        for rec in timers:
            lr = self._rules.get(rec.rule)
            if rec.kind != "auto_off" and (
                lr is None or not self.is_enabled(rec.rule) or lr.digest != rec.digest
            ):
                log.info("timer dropped rule=%s timer=%s reason=rule changed", rec.rule, rec.id)
                continue
            due = rec.deadline is not None and rec.deadline <= now
            if due and lr is not None and lr.rule is not None and lr.rule.on_restart == "drop":
                res.traces.append(Trace(rec.rule, now, "dropped", trigger={"timer": rec.id}))
                continue
            data = dict(rec.data)
            if rec.kind in ("delay", "wait"):
                run = Run.from_dict(data.pop("run"))
                self._runs[run.id] = run
                self._active.setdefault((run.rule, run.key), []).append(run)
                if rec.kind == "wait":
                    self._waiting[run.id] = run
            self._arm(TimerRecord(rec.id, rec.kind, rec.rule, rec.deadline, data, rec.digest))
        return res.extend(self.advance(now))

    def _ensure_clock(self: Engine, now: float) -> None:
        if self._clock is None:
            self._clock = now
            for rid in self._rules:
                self._schedule_time(rid, now)

    def _schedule_time(self: Engine, rid: str, after: float, only: int | None = None) -> None:
        lr = self._rules.get(rid)
        if lr is None or lr.rule is None or not self.is_enabled(rid):
            return
        for ti, t in enumerate(lr.rule.triggers):
            if not isinstance(t, _TIME_TRIGGERS) or (only is not None and ti != only):
                continue
            try:
                if isinstance(t, s.TimeTrigger):
                    nxt = next_at(s.clock(t.at), after, self.tz)
                elif isinstance(t, s.CronTrigger):
                    nxt = next_cron(t.cron, after, self.tz)
                else:
                    nxt = next_sun(self.location, t.sun, t.offset, after, self.tz)
            except RuleRuntimeError as e:
                log.warning("time trigger skipped rule=%s trigger=%d error=%s", rid, ti, e)
                continue
            if nxt is not None:
                self._arm(TimerRecord(f"time:{rid}:{ti}", "time", rid, nxt, {"ti": ti}))

    def _drop_rule_state(self: Engine, rid: str) -> None:
        for run in [r for r in self._runs.values() if r.rule == rid]:
            self._forget_run(run)
        for key in [k for k in self._queues if k[0] == rid]:
            del self._queues[key]
        for tid in [
            t for t, r in self._timers.items() if r.rule == rid and r.kind in ("for", "time")
        ]:
            self._cancel(tid)

    # ------------------------------------------------------------ time
    def advance(self: Engine, now: float) -> Result:
        """Fire every timer due at or before now, each at its own deadline."""
        res = Result()
        self._ensure_clock(now)
        h = self._heap
        while h and h[0][0] <= now:
            deadline, seq, tid = heapq.heappop(h)
            if self._tseq.get(tid) != seq:
                continue
            rec = self._timers.pop(tid)
            del self._tseq[tid]
            if rec.kind in DURABLE:
                self.version += 1
                self._dirty.add(rec.id)
            self._clock = max(self._clock, deadline)
            self._fire(rec, deadline, res)
        self._clock = max(self._clock, now)
        return res

    def _fire(self: Engine, rec: TimerRecord, t: float, res: Result) -> None:
        if rec.kind == "auto_off":
            dev = rec.data["device"]
            off = LightCommand(rule=rec.rule, cause=rec.data.get("cause"), device=dev, state="off")
            lr = self._rules.get(rec.rule)
            if "/" in dev and lr is not None and lr.rule is not None:
                # Another hub's light: its rule's remote policy, as for the light action itself.
                remote = lr.rule.remote
                off = replace(off, on_unreachable=remote.on_unreachable, deadline=remote.deadline)
            res.effects.append(off)
            tr = Trace(rec.rule, t, "ran", rec.data.get("cause"), "timer", dev)
            tr.actions.append({"path": "for", "type": "light", "result": f"{dev} off (auto-off)"})
            res.traces.append(tr)
        elif rec.kind == "time":
            ti = rec.data["ti"]
            self._schedule_time(rec.rule, t, only=ti)
            trig = self._rules[rec.rule].rule.triggers[ti]
            ctx = {"platform": type(trig).__name__.removesuffix("Trigger").lower(), "idx": ti}
            ctx["id"] = trig.id or str(ti)
            ctx["detail"] = f"time {local(t, self.tz):%Y-%m-%d %H:%M:%S}"
            self._start(rec.rule, ctx, None, "time", None, t, res, None)
        elif rec.kind == "for":
            ctx = dict(rec.data["trigger"])
            ctx["detail"] = ctx.get("detail", "") + f"; held for {rec.data.get('for', 0):g}s"
            self._start(
                rec.rule, ctx, rec.data.get("cause"), "for", ctx.get("device"), t, res, None
            )
        elif rec.kind == "delay":
            run = self._runs.get(rec.id.split(":", 1)[1])
            if run is not None:
                self.resume(run, t, res)
        elif rec.kind == "wait":
            run = self._runs.get(rec.id.split(":", 1)[1])
            if run is None:
                return
            self._waiting.pop(run.id, None)
            act = block(self._rules[run.rule].rule, run.waiting)
            run.wait = {"trigger": None, "timed_out": True}
            if act.continue_on_timeout:
                self.resume(run, t, res, "timeout")
            else:
                res.traces.append(Trace(run.rule, t, "timeout", run.cause, run_id=run.id))
                self._finish(run, t, res)
