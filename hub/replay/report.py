"""The replay report: a JSON-ready dict and its terminal rendering."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from rules.timeutil import zone

BASELINE_NOTE = (
    "before = the current rules recomputed through the same replay (the fair comparison); "
    "journal = what the hub actually did"
)


@dataclass
class Report:
    """What a replay found: per rule, the differences, lights, notifications, traces."""

    journal: str
    start: float
    end: float
    timezone: str
    rules_before: str | None
    rules_after: str
    events: int = 0
    inputs: int = 0
    old_effects: int = 0
    elapsed_s: float = 0.0
    baseline: str = BASELINE_NOTE
    rules: list[dict[str, Any]] = field(default_factory=list)
    differences: list[dict[str, Any]] = field(default_factory=list)
    differences_total: int = 0
    light_changes: list[dict[str, Any]] = field(default_factory=list)
    on_time: list[dict[str, Any]] = field(default_factory=list)
    notifications: dict[str, Any] = field(default_factory=dict)
    journal_mismatches: list[str] = field(default_factory=list)
    traces: list[dict[str, Any]] = field(default_factory=list)
    exported: str | None = None

    @property
    def identical(self) -> bool:
        """True when the new rules would have done exactly what the current rules did."""
        return self.differences_total == 0

    @property
    def events_per_s(self) -> float:
        """Replay speed."""
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON form printed by `edgehub replay --json`."""
        d = asdict(self)
        d.update(identical=self.identical, events_per_s=round(self.events_per_s, 1))
        return d

    def to_json(self) -> str:
        """Return the report as indented JSON."""
        return json.dumps(self.to_dict(), indent=2, default=str)

    def render(self, max_differences: int = 20) -> str:
        """Return the report for a terminal."""
        tz = zone(self.timezone)

        def when(t: float) -> str:
            return datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d %H:%M:%S")

        out = [
            f"Replay of {self.journal}",
            f"  {when(self.start)} → {when(self.end)} ({self.timezone})",
            f"  {self.events:,} events: {self.inputs:,} inputs fed, {self.old_effects:,} "
            f"effects of the current rules; {self.elapsed_s:.1f} s ({self.events_per_s:,.0f}/s)",
            f"  rules: before {self.rules_before or '(none)'}, after {self.rules_after}",
            f"  {self.baseline}",
            "",
            f"{'rule':<24}{'runs: journal':>14}{'before':>8}{'after':>8}"
            f"{'effects: before':>17}{'after':>7}{'added':>7}{'removed':>9}",
        ]
        for r in self.rules:
            j = "-" if r["runs_journal"] is None else str(r["runs_journal"])
            out.append(
                f"{r['rule']:<24}{j:>14}{r['runs_before']:>8}{r['runs_after']:>8}"
                f"{r['effects_before']:>17}{r['effects_after']:>7}"
                f"{'+' + str(r['added']):>7}{'-' + str(r['removed']):>9}"
            )
        out.append("")
        if self.events == 0:
            out.append("The journal has no events in this window.")
        if self.identical:
            out.append("No difference: the new rules would have done exactly the same.")
        else:
            out.append(f"Differences: {self.differences_total}")
            for d in self.differences[:max_differences]:
                sign = "+" if d["change"] == "added" else "-"
                out.append(f"  {sign} {when(d['ts'])}  [{d['rule']}] {d['summary']}")
            if self.differences_total > max_differences:
                out.append(f"  ... and {self.differences_total - max_differences} more (--json)")
        if self.light_changes:
            out += ["", "Lights:"] + [f"  {c['text']}" for c in self.light_changes[:20]]
        if self.on_time:
            out += ["", f"{'on-time per day':<34}{'journal':>10}{'before':>10}{'after':>10}"]
            for o in self.on_time:
                out.append(
                    f"  {o['light'] + ' ' + o['day']:<32}{_dur(o['journal_s']):>10}"
                    f"{_dur(o['before_s']):>10}{_dur(o['after_s']):>10}"
                )
        n = self.notifications
        if n.get("before") or n.get("after") or n.get("journal"):
            delta = n["after"] - n["before"]
            out += [
                "",
                f"Notifications: journal {n['journal']}, before {n['before']}, "
                f"after {n['after']} ({'+' if delta >= 0 else ''}{delta})",
            ]
            for rule, c in sorted(n.get("per_rule", {}).items()):
                if c["after"] != c["before"]:
                    more = "more" if c["after"] > c["before"] else "fewer"
                    out.append(
                        f"  {rule}: {c['before']} → {c['after']} "
                        f"({abs(c['after'] - c['before'])} {more})"
                    )
        out.append("")
        if self.journal_mismatches:
            out.append("The journal and the recomputed current rules differ (live timing, hub")
            out.append("restarts, manual changes); the diff above uses the recomputed baseline:")
            out += [f"  {m}" for m in self.journal_mismatches[:20]]
        else:
            out.append("The recomputed current rules agree with the journal.")
        for ex in self.traces:
            out += ["", f"Differing traces at {when(ex['ts'])} ({', '.join(ex['rules'])}):"]
            for side in ("before", "after"):
                for tr in ex[side]:
                    out.append(f"  {side}: {json.dumps(tr, default=str)}")
        if self.exported:
            out += ["", f"Wrote the rule test {self.exported}"]
        return "\n".join(out)


def _dur(seconds: float) -> str:
    s = round(seconds)
    if s < 60:
        return f"{s}s"
    h, m = divmod(s // 60, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s % 60:02d}s"
