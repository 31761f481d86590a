"""Scenarios: a YAML timeline of what the world does and what the hub must do in answer.

name: evening at home
start: "21:00"            # hub-local time of day (or "2026-11-27 21:00"); default now
speed: 10                 # the hub's clock runs ten times faster (rule timers follow it)
steps:
  - at: 0s
    publish: {device: hall_motion, occupancy: true}
  - at: 2s
    expect: {device: hall_light, state: "ON", within: 1s}
  - at: 5s
    camera: {porch_cam: person_walks_left_to_right}
  - at: 8s
    expect:
      - {event: camera.detection, camera: porch_cam, label: person, within: 3s}
      - {recording: porch_cam, min_pre_roll: 3s}
      - {notification: alice, attach: snapshot, within: 5s}
  - at: 40s
    expect: {no_event: camera.detection, camera: porch_cam, since: 20s}
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|min|s|m|h)")
_WITHIN = {"device": 2.0, "event": 5.0, "recording": 5.0, "notification": 10.0}
_EXPECT_KINDS = ("device", "event", "recording", "notification", "no_event")


class ScenarioError(ValueError):
    """A scenario file that cannot be run; the message starts with file:line."""


def parse_duration(value: Any) -> float:
    """Return seconds from 5, 2.5, "5s", "2m10s", "1h" or "250ms"."""
    if isinstance(value, bool):
        raise ValueError("expected a duration such as 5s or 2m")
    if isinstance(value, int | float):
        return float(value)
    text = str(value).strip()
    try:
        return float(text)
    except ValueError:
        pass
    parts = _PART.findall(text)
    if not parts or _PART.sub("", text).strip():
        raise ValueError(f"expected a duration such as 5s, 2m or 2m10s, got {value!r}")
    return sum(float(n) * _UNITS[u] for n, u in parts)


@dataclass
class Expectation:
    """One thing the hub must do (or must not do)."""

    kind: str  # device, event, recording, notification, no_event
    target: str  # device / event kind / camera / owner
    match: dict[str, Any] = field(default_factory=dict)
    within: float = 0.0
    since: float | None = None  # no_event: scenario time the window opens
    min_pre_roll: float | None = None
    attach: str | None = None

    def describe(self) -> str:
        """Return the expectation in words."""
        extra = " ".join(f"{k}={v}" for k, v in self.match.items())
        if self.kind == "device":
            what = f"{self.target} {extra}".strip()
        elif self.kind == "event":
            what = f"event {self.target} {extra}".strip()
        elif self.kind == "recording":
            what = f"a recording on {self.target}"
            if self.min_pre_roll is not None:
                what += f" with at least {self.min_pre_roll:g} s of pre-roll"
        elif self.kind == "notification":
            what = f"a notification to {self.target}'s phone"
            if self.attach:
                what += f" with a {self.attach} attached"
            if extra:
                what += f" ({extra})"
        else:
            what = f"no {self.target} event {extra}".strip()
            return f"{what} since {self.since or 0:g}s"
        return f"{what} within {self.within:g}s"


@dataclass
class Step:
    """One line of the timeline."""

    index: int
    at: float
    line: int
    publish: dict[str, Any] | None = None
    camera: dict[str, str] | None = None
    expect: list[Expectation] = field(default_factory=list)

    def label(self, source: str = "") -> str:
        """Return how a report names this step: "step 3 (at 2s, file.yaml:12)"."""
        where = f"{source}:{self.line}" if source else f"line {self.line}"
        return f"step {self.index + 1} (at {self.at:g}s, {where})"


@dataclass
class Scenario:
    """A parsed scenario."""

    name: str
    steps: list[Step]
    speed: float = 1.0
    start: str | None = None
    source: str = ""

    @property
    def duration(self) -> float:
        """Scenario seconds until the last expectation can be decided."""
        end = 0.0
        for s in self.steps:
            end = max(end, s.at, *(s.at + e.within for e in s.expect))
        return end


def _expectation(raw: Any, where: str) -> Expectation:
    if not isinstance(raw, dict):
        raise ScenarioError(f"{where}: expected a mapping such as {{device: x, state: ON}}")
    d = dict(raw)
    kinds = [k for k in _EXPECT_KINDS if k in d]
    if len(kinds) != 1:
        raise ScenarioError(f"{where}: expected exactly one of {', '.join(_EXPECT_KINDS)}")
    kind = kinds[0]
    target = str(d.pop(kind))
    try:
        within = parse_duration(d.pop("within", _WITHIN.get(kind, 0.0)))
        since = parse_duration(d.pop("since")) if "since" in d else None
        pre = parse_duration(d.pop("min_pre_roll")) if "min_pre_roll" in d else None
    except ValueError as e:
        raise ScenarioError(f"{where}: {e}") from None
    attach = d.pop("attach", None)
    if kind in ("event", "no_event") and "camera" in d:
        d["source"] = d.pop("camera")
    return Expectation(kind, target, d, within, since, pre, attach)


def _lines(text: str) -> list[int]:
    """Return the 1-based line of each item of the top-level `steps` list."""
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return []
    if not isinstance(root, yaml.MappingNode):
        return []
    for key, value in root.value:
        if key.value == "steps" and isinstance(value, yaml.SequenceNode):
            return [item.start_mark.line + 1 for item in value.value]
    return []


def parse_scenario(text: str, source: str = "<scenario>") -> Scenario:
    """Parse scenario YAML; raise ScenarioError naming file:line for what is wrong."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise ScenarioError(f"{source}:{line}: invalid YAML: {getattr(e, 'problem', e)}") from None
    if not isinstance(data, dict) or not isinstance(data.get("steps"), list):
        raise ScenarioError(f"{source}:1: expected a mapping with a `steps:` list")
    lines = _lines(text)
    steps: list[Step] = []
    for i, raw in enumerate(data["steps"]):
        line = lines[i] if i < len(lines) else 1
        where = f"{source}:{line}: steps[{i}]"
        if not isinstance(raw, dict) or "at" not in raw:
            raise ScenarioError(f"{where}: expected a mapping with `at:`")
        unknown = set(raw) - {"at", "publish", "camera", "expect"}
        if unknown:
            raise ScenarioError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        try:
            at = parse_duration(raw["at"])
        except ValueError as e:
            raise ScenarioError(f"{where}: at: {e}") from None
        step = Step(i, at, line)
        if "publish" in raw:
            pub = raw["publish"]
            if not isinstance(pub, dict) or "device" not in pub:
                raise ScenarioError(f"{where}: publish: expected {{device: name, attr: value}}")
            step.publish = dict(pub)
        if "camera" in raw:
            cam = raw["camera"]
            if not isinstance(cam, dict) or not cam:
                raise ScenarioError(f"{where}: camera: expected {{camera_name: scene}}")
            step.camera = {str(k): str(v) for k, v in cam.items()}
        if "expect" in raw:
            items = raw["expect"] if isinstance(raw["expect"], list) else [raw["expect"]]
            step.expect = [_expectation(e, f"{where}.expect[{j}]") for j, e in enumerate(items)]
        steps.append(step)
    steps.sort(key=lambda s: s.at)
    try:
        speed = float(data.get("speed", 1))
    except (TypeError, ValueError):
        raise ScenarioError(f"{source}:1: speed: expected a number") from None
    if speed <= 0:
        raise ScenarioError(f"{source}:1: speed: expected a number > 0")
    start = data.get("start")
    return Scenario(
        str(data.get("name") or Path(source).stem),
        steps,
        speed,
        None if start is None else str(start),
        source,
    )


def load_scenario(path: str | Path) -> Scenario:
    """Read and parse a scenario file."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as e:
        raise ScenarioError(f"{p}: cannot read: {e.strerror}") from None
    return parse_scenario(text, str(p))


def scenario_files(path: str | Path) -> list[Path]:
    """Return the scenario files at path: the file itself, or a folder's *.yaml sorted."""
    p = Path(path)
    if p.is_dir():
        return sorted(q for q in p.iterdir() if q.suffix in (".yaml", ".yml"))
    return [p]
