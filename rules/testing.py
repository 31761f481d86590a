"""Rule tests: YAML files of given states, events at virtual times and expected effects,
run on the real engine with a virtual clock (a day passes in milliseconds)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from rules import effects as fx
from rules.engine import Engine
from rules.events import Event
from rules.loader import load_rules
from rules.match import same
from rules.parse import parse_duration
from rules.timeutil import zone
from rules.trace import Trace

_FEEDBACK_LIMIT = 100  # effects feeding events feeding effects: stop runaway loops


@dataclass
class TestOutcome:
    """The verdict of one rule test."""

    __test__ = False  # not a pytest class

    file: str
    name: str
    ok: bool
    problems: list[str] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)
    effects: list[tuple[float, fx.Effect]] = field(default_factory=list)

    def report(self) -> str:
        """Return a human report; failures include the traces of the rules involved."""
        head = f"{'PASS' if self.ok else 'FAIL'} {self.file}: {self.name}"
        if self.ok:
            return head
        lines = [head, *(f"  {p}" for p in self.problems), "  what happened:"]
        lines += [f"    +{t:>7g}s {describe(e)}" for t, e in self.effects[:30]] or [
            "    (no effects)"
        ]
        lines.append("  traces:")
        for tr in self.traces:
            lines.append(f"    [{tr.rule}] {tr.explain()}")
            for c in tr.conditions:
                lines.append(f"      {c['path']}: {c.get('verdict')} ({c.get('detail', '')})")
        return "\n".join(lines)


def describe(e: fx.Effect) -> str:
    """Return an effect in one short line."""
    body = {k: getattr(e, k) for k in e.__dataclass_fields__ if k not in ("rule", "cause")}
    body = {k: v for k, v in body.items() if v not in (None, "", (), {})}
    return f"{type(e).__name__} {json.dumps(body, default=str)} (rule {e.rule})"


def _start_ts(value: Any, tz: str) -> float:
    text = str(value or "2026-01-05 12:00")
    if len(text) <= 8:  # a time of day only
        text = f"2026-01-05 {text}"
    dt = datetime.fromisoformat(text)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    return dt.timestamp()


def _event(spec: dict[str, Any], ts: float) -> Event:
    if "device" in spec:
        return Event("state", spec["device"], dict(spec.get("state") or {}), ts=ts)
    if "camera" in spec:
        data = {"label": "person", "score": 1.0, **(spec.get("detection") or {})}
        return Event("camera.detection", spec["camera"], data, ts=ts)
    if "mqtt" in spec:
        p = spec.get("payload", "")
        p = p if isinstance(p, str) else json.dumps(p)
        return Event("mqtt.message", "mqtt", {"topic": spec["mqtt"], "payload": p}, ts=ts)
    if "event" in spec:
        return Event(spec["event"], spec.get("source", "hub"), dict(spec.get("data") or {}), ts=ts)
    raise ValueError(f"an event needs device, camera, mqtt or event: {spec}")


def feedback(e: fx.Effect, ts: float) -> Event | None:
    """Return what the device would report back, so rules that react to lights and modes work."""
    if isinstance(e, fx.SetState):
        return Event("state", e.device, dict(e.attributes), ts=ts, cause=e.cause)
    if isinstance(e, fx.Emit):
        return Event(e.kind, e.source, dict(e.data), ts=ts, cause=e.cause)
    if isinstance(e, fx.LightCommand) and e.state != "toggle":
        data: dict[str, Any] = {"state": e.state.upper()}
        if e.brightness is not None:
            data["brightness"] = round(e.brightness * 255 / 100)
        return Event("state", e.device, data, ts=ts, cause=e.cause)
    return None


_KIND = {
    "light": fx.LightCommand, "record": fx.Record, "snapshot": fx.Snapshot,
    "notify": fx.Notify, "publish": fx.Publish, "set": fx.SetState, "emit": fx.Emit,
}  # fmt: skip
_MAIN = {"light": "device", "record": "camera", "snapshot": "camera", "notify": "owners",
         "publish": "topic", "set": "device", "emit": "kind"}  # fmt: skip


def _matches(exp: dict[str, Any], t: float, e: fx.Effect) -> str | None:
    """Return None when effect e at time t satisfies exp, else why not."""
    kind = next((k for k in _KIND if k in exp), None)
    if kind is None:
        return f"an expectation needs one of {', '.join(_KIND)}: {exp}"
    if not isinstance(e, _KIND[kind]):
        return f"expected {kind}, got {type(e).__name__}"
    main = exp[kind]
    if kind == "notify":
        main = tuple([main] if isinstance(main, str) else main)
    if getattr(e, _MAIN[kind]) != main:
        return f"expected {kind} {main}, got {getattr(e, _MAIN[kind])}"
    if "at" in exp and abs(parse_duration(exp["at"]) - t) > 1e-6:
        return f"expected at {parse_duration(exp['at']):g}s, happened at {t:g}s"
    for k, want in exp.items():
        if k in (kind, "at"):
            continue
        if k == "message_contains":
            if str(want) not in e.message:
                return f"message {e.message!r} does not contain {want!r}"
            continue
        attr = {"for": "duration"}.get(k, k)
        if kind == "set" and attr != "rule":
            got = e.attributes.get(attr)
        elif kind == "light" and attr == "state":
            want = "on" if want is True else "off" if want is False else want
            got = e.state
        else:
            got = getattr(e, attr, None)
            if attr == "duration" and want is not None:
                want = parse_duration(want)
        if isinstance(want, str) and k == "brightness":
            want = float(want.rstrip("%"))
        if not (same(got, want) or (isinstance(got, tuple) and list(got) == want)):
            return f"{k}: expected {want!r}, got {got!r}"
    return None


def run_case(
    case: dict[str, Any], engine: Engine, tz: str, file: str, defaults: dict[str, Any] | None = None
) -> TestOutcome:
    """Run one test case on a fresh engine; `only`/`ignore` list the rules whose effects count."""
    try:
        return _run_case(case, engine, tz, file, defaults)
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        name = str(case.get("name", "unnamed")) if isinstance(case, dict) else "unnamed"
        return TestOutcome(file, name, False, [f"bad test: {type(e).__name__}: {e}"])


def _run_case(
    case: dict[str, Any], engine: Engine, tz: str, file: str, defaults: dict[str, Any] | None
) -> TestOutcome:
    name = str(case.get("name", "unnamed"))
    defaults = defaults or {}
    only = case.get("only", defaults.get("only"))
    ignore = set(case.get("ignore", [] if "only" in case else defaults.get("ignore")) or [])
    t0 = _start_ts(case.get("start"), tz)
    out = TestOutcome(file, name, True)
    engine.advance(t0)
    for dev, attrs in (case.get("given") or {}).items():
        engine.handle(Event("state.baseline", dev, dict(attrs), ts=t0), t0)
    events = sorted(
        ((parse_duration(ev.get("at", 0)), ev) for ev in case.get("events") or []),
        key=lambda x: x[0],
    )

    def feed(res: Any, t: float, depth: int = 0) -> None:
        out.traces.extend(res.traces)
        for e in res.effects:
            out.effects.append((round(t - t0, 6), e))
            back = feedback(e, t)
            if back is not None and depth < _FEEDBACK_LIMIT:
                feed(engine.handle(back, t), t, depth + 1)

    def run_until(t: float) -> None:
        while (d := engine.next_deadline()) is not None and d <= t:
            feed(engine.advance(d), d)

    for off, spec in events:
        run_until(t0 + off)
        feed(engine.handle(_event(spec, t0 + off), t0 + off), t0 + off)
    expected = case.get("expect") or []
    last = max(
        [off for off, _ in events] + [parse_duration(x.get("at", 0)) for x in expected] + [0]
    )
    run_until(t0 + (parse_duration(case["until"]) if "until" in case else last + 3600))

    out.effects = [
        (t, e) for t, e in out.effects if e.rule not in ignore and (only is None or e.rule in only)
    ]
    actual = list(out.effects)
    for i, exp in enumerate(expected):
        if i >= len(actual):
            out.problems.append(f"expect[{i}]: missing {json.dumps(exp, default=str)}")
            continue
        why = _matches(exp, *actual[i])
        if why:
            out.problems.append(f"expect[{i}]: {why}")
    extra = actual[len(expected) :]
    for t, e in extra[:10]:
        out.problems.append(f"unexpected at +{t:g}s: {describe(e)}")
    if len(extra) > 10:
        out.problems.append(f"... and {len(extra) - 10} more unexpected effects")
    out.ok = not out.problems
    involved = {e.rule for _, e in actual} | {x.get("rule") for x in expected}
    if not out.ok:
        keep = [t for t in out.traces if t.rule in involved or t.result != "ran"]
        out.traces = keep or out.traces
    return out


def run_test_file(
    path: str | Path,
    known_devices: dict[str, str] | None = None,
    location: Any = None,
    timezone: str | None = None,
) -> list[TestOutcome]:
    """Run every test case of one *.test.yaml file (location/timezone: defaults from hub.yaml)."""
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as e:
        return [TestOutcome(str(path), "read tests", False, [str(e)])]
    tz = doc.get("timezone", timezone or "UTC")
    rules_path = path.parent / doc["rules"] if doc.get("rules") else path.parent
    loaded = load_rules(rules_path, known_devices)
    if loaded.errors:
        return [TestOutcome(str(path), "load rules", False, list(loaded.errors))]
    outcomes = []
    for case in doc.get("tests") or []:
        eng = Engine(loaded.rules, location=doc.get("location", location), timezone=tz)
        outcomes.append(run_case(case, eng, tz, str(path), doc))
    return outcomes


def find_tests(paths: list[str | Path]) -> list[Path]:
    """Return the *.test.yaml files under paths (files are taken as given)."""
    found: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found += sorted(p.rglob("*.test.yaml")) + sorted(p.rglob("*.test.yml"))
        elif p.exists():
            found.append(p)
    return found
