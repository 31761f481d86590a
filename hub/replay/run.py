"""Run a recorded window of the journal through the current and the new rules, side by side."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from hub.replay.compare import Comparison, JournalTally, light_changes, time_format
from hub.replay.errors import ReplayError, RulesLoadError
from hub.replay.export import TestExport
from hub.replay.journal import Journal
from hub.replay.report import Report
from hub.replay.sim import LightClock, RuleSim
from rules.loader import LoadedRule, load_rules
from rules.timeutil import zone

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]
"""progress(done, total): called every few thousand events and once at the end."""

_PROGRESS_EVERY = 2000
_LIGHT_TOLERANCE_S = 2.0  # live timing jitter allowed between the journal and a recompute
_LIGHT_TOLERANCE = 0.02


def load_rule_dir(folder: str | Path | None, known_devices: dict[str, str] | None) -> list:
    """Load a rules folder for a replay; any error stops the replay (RulesLoadError)."""
    if folder is None:
        return []
    if not Path(folder).exists():
        raise ReplayError(f"no rules folder at {folder}")
    res = load_rules(folder, known_devices)
    if res.errors:
        raise RulesLoadError(str(folder), list(res.errors))
    return res.rules


def replay(
    journal_path: str | Path,
    new_rules: str | Path,
    *,
    current_rules: str | Path | None = None,
    start: float | None = None,
    end: float | None = None,
    known_devices: dict[str, str] | None = None,
    lights: Iterable[str] = (),
    location: Any = None,
    timezone: str = "UTC",
    progress: Progress | None = None,
    export: str | Path | None = None,
) -> Report:
    """Replay [start, end) of the journal through both rule sets; nothing is ever executed.

    start defaults to the first journaled event, end to just after the last one. Time
    passes between events on a virtual clock, so for:, delays and time triggers fire.
    """
    t_begin = time.perf_counter()
    journal = Journal(journal_path)
    journal.check()
    before_rules = load_rule_dir(current_rules, known_devices)
    after_rules = load_rule_dir(new_rules, known_devices)
    bounds = journal.bounds()
    early = bounds is not None and start is not None and start < bounds[0]
    if start is None or (early and (end is None or end > bounds[0])):
        # Nothing happened before the first event: the replay starts there, not at --since.
        start = bounds[0] if bounds else time.time()
    if end is None:
        end = bounds[1] + 0.001 if bounds else start
    if end < start:
        raise ReplayError(f"the window ends ({end}) before it starts ({start})")
    # A whole-second start keeps exported rule tests exact (ISO start + offsets in seconds).
    t0 = float(math.floor(start))
    light_set = set(lights) | _commanded_lights(before_rules) | _commanded_lights(after_rules)
    kw = {"lights": light_set, "location": location, "timezone": timezone}
    before, after = RuleSim(before_rules, **kw), RuleSim(after_rules, **kw)
    tally = JournalTally(LightClock(light_set, timezone))
    cmp = Comparison()
    given = journal.states_before(start)
    ex = TestExport(export, new_rules, timezone) if export else None
    total = journal.count(start, end)
    report = Report(str(journal.path), start, end, timezone,
                    str(current_rules) if current_rules else None, str(new_rules))  # fmt: skip

    for sim in (before, after):
        sim.start(t0, given)
    for dev, attrs in given.items():
        tally.lights.update(dev, attrs, t0)
    if ex is not None:
        ex.start(t0, given)
    _step(cmp, before, after, ex)
    now = t0
    for row in journal.rows(start, end):
        report.events += 1
        tally.add(row.event, row.by_rule)
        if not row.by_rule:
            # Quantised to microseconds from t0, as an exported rule test will replay them.
            now = max(now, t0 + round(row.event.ts - t0, 6))
            before.handle(row.event, now)
            after.handle(row.event, now)
            if ex is not None:
                ex.add_event(row.event, now)
            _step(cmp, before, after, ex)
        if progress is not None and report.events % _PROGRESS_EVERY == 0:
            progress(report.events, total)
    t_end = max(now, t0 + round(end - t0, 6))
    for sim in (before, after):
        sim.finish(t_end)
    _step(cmp, before, after, ex)
    tally.lights.close(t_end)
    if progress is not None:
        progress(report.events, max(total, report.events))

    report.inputs, report.old_effects = tally.inputs, tally.old_effects
    _fill(report, journal.trace_runs(start, end), before, after, tally, cmp)
    fmt = time_format(zone(timezone), t_end - t0)
    report.light_changes = light_changes(before.lights, after.lights, fmt)
    if ex is not None:
        report.exported = str(ex.write(t_end, str(journal.path)))
    report.elapsed_s = time.perf_counter() - t_begin
    log.info(
        "replay done events=%d differences=%d elapsed_s=%.2f",
        report.events,
        report.differences_total,
        report.elapsed_s,
    )
    return report


def _step(cmp: Comparison, before: RuleSim, after: RuleSim, ex: TestExport | None) -> None:
    fb, fa = before.take_step(), after.take_step()
    if ex is not None:
        for f in fa[0]:
            ex.add_effect(f.effect, f.ts)
    cmp.step(fb, fa)


def _commanded_lights(rules: list[LoadedRule]) -> set[str]:
    out: set[str] = set()
    for r in rules:
        if r.rule is not None:
            _walk_lights(r.rule.actions, out)
    return out


def _walk_lights(actions: list, out: set[str]) -> None:
    for a in actions:
        light = getattr(a, "light", None)
        if isinstance(light, str):
            out.add(light)
        elif isinstance(light, list | tuple):
            out.update(x for x in light if isinstance(x, str))
        for attr in ("then", "else_", "default"):
            _walk_lights(getattr(a, attr, None) or [], out)
        for opt in getattr(a, "choose", None) or []:
            _walk_lights(getattr(opt, "actions", None) or [], out)


def _fill(
    report: Report,
    journal_runs: dict[str, int] | None,
    before: RuleSim,
    after: RuleSim,
    tally: JournalTally,
    cmp: Comparison,
) -> None:
    ids = sorted(
        {r.id for r in before.engine.rules()}
        | {r.id for r in after.engine.rules()}
        | set(cmp.added)
        | set(cmp.removed)
    )
    for rid in ids:
        report.rules.append(
            {
                "rule": rid,
                "runs_journal": None if journal_runs is None else journal_runs.get(rid, 0),
                "runs_before": before.runs[rid],
                "runs_after": after.runs[rid],
                "effects_before": cmp.effects["before"][rid],
                "effects_after": cmp.effects["after"][rid],
                "added": cmp.added[rid],
                "removed": cmp.removed[rid],
            }
        )
        j = None if journal_runs is None else journal_runs.get(rid, 0)
        if j is not None and j != before.runs[rid]:
            report.journal_mismatches.append(
                f"{rid}: {j} runs in the journal's traces, {before.runs[rid]} recomputed"
            )
    report.differences, report.differences_total = cmp.differences, cmp.total
    report.traces = cmp.traces
    keys = sorted(
        set(tally.lights.seconds) | set(before.lights.seconds) | set(after.lights.seconds)
    )
    for dev, day in keys:
        j, b = tally.lights.seconds[(dev, day)], before.lights.seconds[(dev, day)]
        a = after.lights.seconds[(dev, day)]
        report.on_time.append({"light": dev, "day": day, "journal_s": round(j, 3),
                               "before_s": round(b, 3), "after_s": round(a, 3)})  # fmt: skip
        if abs(j - b) > max(_LIGHT_TOLERANCE_S, _LIGHT_TOLERANCE * max(j, b)):
            report.journal_mismatches.append(
                f"{dev} on {day}: on {j:.0f} s in the journal, {b:.0f} s recomputed"
            )
    nb, na = cmp.notify["before"], cmp.notify["after"]
    per_rule = {
        r: {"journal": tally.notify[r], "before": nb[r], "after": na[r]}
        for r in sorted(set(nb) | set(na) | set(tally.notify))
    }
    report.notifications = {
        "journal": sum(tally.notify.values()),
        "before": sum(nb.values()),
        "after": sum(na.values()),
        "per_rule": per_rule,
    }
