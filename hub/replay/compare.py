"""Compare two replays step by step (bounded memory) and what the journal says happened."""

from __future__ import annotations

import bisect
from collections import Counter
from datetime import datetime
from typing import Any

from hub.replay.sim import Fired, LightClock, effect_key, summary
from rules import effects as fx
from rules.events import Event
from rules.trace import Trace

MAX_LISTED = 500  # differences listed one by one; the rest are only counted
MAX_TRACE_EXAMPLES = 3


class Comparison:
    """Effects before and after, matched per step: same virtual time, same effect = unchanged.

    Both engines see the same inputs at the same virtual times, so an unchanged effect
    happens in the same step on both sides; a step's leftovers are the differences.
    """

    def __init__(self, max_listed: int = MAX_LISTED, max_traces: int = MAX_TRACE_EXAMPLES):
        self.max_listed, self.max_traces = max_listed, max_traces
        self.effects: dict[str, Counter[str]] = {"before": Counter(), "after": Counter()}
        self.notify: dict[str, Counter[str]] = {"before": Counter(), "after": Counter()}
        self.added: Counter[str] = Counter()
        self.removed: Counter[str] = Counter()
        self.differences: list[dict[str, Any]] = []
        self.total = 0
        self.traces: list[dict[str, Any]] = []

    def step(
        self,
        before: tuple[list[Fired], list[Trace]],
        after: tuple[list[Fired], list[Trace]],
    ) -> None:
        """Compare one step's effects of both sides; note the differences and their traces."""
        (fb, tb), (fa, ta) = before, after
        for side, fired in (("before", fb), ("after", fa)):
            for f in fired:
                rule = f.effect.rule or "?"
                self.effects[side][rule] += 1
                if isinstance(f.effect, fx.Notify):
                    self.notify[side][rule] += 1
        if not fb and not fa:
            return
        kb = Counter((round(f.ts, 6), effect_key(f.effect)) for f in fb)
        ka = Counter((round(f.ts, 6), effect_key(f.effect)) for f in fa)
        if kb == ka:
            return
        gone, new = kb - ka, ka - kb
        gone0, new0 = Counter(gone), Counter(new)
        rules: set[str] = set()
        for change, fired, left in (("removed", fb, gone), ("added", fa, new)):
            for f in fired:
                k = (round(f.ts, 6), effect_key(f.effect))
                if left[k] <= 0:
                    continue
                left[k] -= 1
                rule = f.effect.rule or "?"
                rules.add(rule)
                (self.removed if change == "removed" else self.added)[rule] += 1
                self.total += 1
                if len(self.differences) < self.max_listed:
                    self.differences.append(_difference(change, f))
        if len(self.traces) < self.max_traces:
            first = min(d for d in (_first(fb, gone0), _first(fa, new0)) if d is not None)
            tb_d = [t.to_dict() for t in tb if t.rule in rules]
            ta_d = [t.to_dict() for t in ta if t.rule in rules]
            both = {_trace_key(t) for t in tb_d} & {_trace_key(t) for t in ta_d}
            self.traces.append(
                {
                    "ts": first,
                    "rules": sorted(rules),
                    "before": [t for t in tb_d if _trace_key(t) not in both],
                    "after": [t for t in ta_d if _trace_key(t) not in both],
                }
            )


def _first(fired: list[Fired], left: Counter) -> float | None:
    ts = [f.ts for f in fired if left[(round(f.ts, 6), effect_key(f.effect))] > 0]
    return min(ts) if ts else None


def _trace_key(t: dict[str, Any]) -> tuple:
    # Run ids and timings differ between two engines even when the decision is the same, and
    # so does the id each engine gives a time trigger's firing.
    acts = tuple(a.get("result") for a in t.get("actions") or ())
    event = None if t.get("event_kind") == "time" else t["event_id"]
    return (t["rule"], t["ts"], t["result"], event, acts)


def _difference(change: str, f: Fired) -> dict[str, Any]:
    e = f.effect
    d: dict[str, Any] = {
        "ts": f.ts, "change": change, "rule": e.rule, "effect": type(e).__name__,
        "summary": summary(e),
    }  # fmt: skip
    if isinstance(e, fx.LightCommand):
        d.update(device=e.device, state=e.state)
    return d


class JournalTally:
    """What actually happened, from the journal: lights' on-time, notifications, old effects."""

    def __init__(self, lights: LightClock) -> None:
        self.lights = lights
        self.inputs = 0
        self.old_effects = 0
        self.notify: Counter[str] = Counter()
        self._seen_notes: set[str] = set()

    def add(self, event: Event, by_rule: bool) -> None:
        """Count one journaled event."""
        if by_rule:
            self.old_effects += 1
        else:
            self.inputs += 1
        if event.kind in ("state", "state.baseline"):
            self.lights.update(event.source, event.data, event.ts)
        elif event.kind in ("notify.sent", "notify.failed"):
            # One event per owner and channel: count each notification once.
            note = str(event.data.get("notification") or event.id)
            if note not in self._seen_notes and len(self._seen_notes) < 1_000_000:
                self._seen_notes.add(note)
                self.notify[str(event.data.get("rule") or "?")] += 1


def light_changes(
    before: LightClock, after: LightClock, fmt: Any, tol: float = 1e-3
) -> list[dict[str, Any]]:
    """Return each changed light interval in words: "porch_light ON 23:04 → stays on ..."."""
    out: list[dict[str, Any]] = []
    for dev in sorted(set(before.intervals) | set(after.intervals)):
        ib, ia = before.intervals.get(dev, []), after.intervals.get(dev, [])
        same = _same_set(ib, ia, tol)
        for on, off in ib:
            if (on, off) in same:
                continue
            cover = _covering(ia, on, tol)
            if cover is None:
                text = f"{dev} ON {fmt(on)} → no longer turns on (was OFF {_t(fmt, off)})"
                new_off = None
            else:
                new_off = cover[1]
                if new_off is None:
                    text = f"{dev} ON {fmt(on)} → stays on, no OFF before the replay ends"
                elif off is None or new_off > off:
                    text = f"{dev} ON {fmt(on)} → stays on, no OFF until {fmt(new_off)}"
                else:
                    text = f"{dev} ON {fmt(on)} → OFF {fmt(new_off)}"
                text += f" (was OFF {_t(fmt, off)})"
            out.append({"device": dev, "on": on, "off_before": off, "off_after": new_off,
                        "text": text})  # fmt: skip
        for on, off in ia:
            if (on, off) in same or _covering(ib, on, tol) is not None:
                continue
            text = f"{dev} now turns ON {fmt(on)} → OFF {_t(fmt, off)} (was off)"
            out.append({"device": dev, "on": on, "off_before": None, "off_after": off,
                        "text": text})  # fmt: skip
    return out


def _t(fmt: Any, t: float | None) -> str:
    return "after the replay ends" if t is None else fmt(t)


def _same_set(a: list, b: list, tol: float) -> set:
    def k(iv: tuple) -> tuple:
        return (round(iv[0] / tol), None if iv[1] is None else round(iv[1] / tol))

    ka, kb = {k(iv) for iv in a}, {k(iv) for iv in b}
    return {iv for iv in a if k(iv) in kb} | {iv for iv in b if k(iv) in ka}


def _covering(intervals: list, t: float, tol: float) -> tuple | None:
    # Intervals of one light never overlap and come in time order: look at the last one
    # that started at or before t.
    i = bisect.bisect_right(intervals, t + tol, key=lambda iv: iv[0]) - 1
    if i >= 0:
        on, off = intervals[i]
        if off is None or t < off - tol:
            return (on, off)
    return None


def time_format(tz: Any, span: float) -> Any:
    """Return a formatter of epoch times: HH:MM:SS within a day, weekday HH:MM beyond."""
    pattern = "%H:%M:%S" if span <= 86400 else "%a %d %H:%M"

    def fmt(t: float) -> str:
        return datetime.fromtimestamp(t, tz).strftime(pattern)

    return fmt
