"""Write a replayed window as a rule-test file (given, events, expected effects) that
rules/testing.py (`edgehub test`) runs, so a surprising day becomes a regression test."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from hub.replay.errors import ReplayError
from rules import effects as fx
from rules.events import Event
from rules.timeutil import zone


def event_spec(event: Event, at: float) -> dict[str, Any]:
    """Return an input event in the rule-test format, at an offset in seconds."""
    d = event.data
    if event.kind == "state":
        return {"at": at, "device": event.source, "state": dict(d)}
    if event.kind == "camera.detection" and "label" in d and "score" in d:
        return {"at": at, "camera": event.source, "detection": dict(d)}
    if event.kind == "mqtt.message" and set(d) == {"topic", "payload"} and event.source == "mqtt":
        return {"at": at, "mqtt": d["topic"], "payload": d["payload"]}
    return {"at": at, "event": event.kind, "source": event.source, "data": dict(d)}


def expectation(e: fx.Effect, at: float) -> dict[str, Any]:
    """Return an effect as a rule-test expectation, with its rule and its offset."""
    out: dict[str, Any]
    if isinstance(e, fx.LightCommand):
        out = {"light": e.device, "state": e.state}
        if e.brightness is not None:
            out["brightness"] = e.brightness
        if e.transition is not None:
            out["transition"] = e.transition
    elif isinstance(e, fx.Notify):
        out = {"notify": list(e.owners)}
        if e.title:
            out["title"] = e.title
    elif isinstance(e, fx.Record):
        out = {"record": e.camera}
        if e.duration is not None:
            out["for"] = e.duration
    elif isinstance(e, fx.Snapshot):
        out = {"snapshot": e.camera}
    elif isinstance(e, fx.Publish):
        out = {"publish": e.topic, "payload": e.payload}
    elif isinstance(e, fx.SetState):
        out = {"set": e.device, **e.attributes}
    elif isinstance(e, fx.Emit):
        out = {"emit": e.kind}
    else:
        raise ReplayError(f"cannot export an effect of type {type(e).__name__}")
    return {**out, "rule": e.rule, "at": at}


class TestExport:
    """Gathers a replay's inputs and its new effects, then writes one rule-test case."""

    __test__ = False  # not a pytest class

    def __init__(self, path: str | Path, rules_dir: str | Path, timezone: str) -> None:
        self.path = Path(path)
        self.rules_dir = Path(rules_dir)
        self.timezone = timezone
        self.t0 = 0.0
        self.given: dict[str, dict[str, Any]] = {}
        self.events: list[dict[str, Any]] = []
        self.expect: list[dict[str, Any]] = []

    def start(self, t0: float, given: dict[str, dict[str, Any]]) -> None:
        """Note the start time (a whole second) and the devices' state then."""
        self.t0, self.given = t0, {k: dict(v) for k, v in given.items()}

    def add_event(self, event: Event, ts: float) -> None:
        """Add one fed input at its virtual time."""
        self.events.append(event_spec(event, round(ts - self.t0, 6)))

    def add_effect(self, effect: fx.Effect, ts: float) -> None:
        """Add one effect of the new rules at its virtual time."""
        self.expect.append(expectation(effect, round(ts - self.t0, 6)))

    def write(self, end: float, source: str) -> Path:
        """Write the file; `rules:` points at the new rules folder, relative to the file."""
        start = datetime.fromtimestamp(self.t0, zone(self.timezone))
        rel = os.path.relpath(self.rules_dir.resolve(), self.path.resolve().parent)
        doc = {
            "rules": rel,
            "timezone": self.timezone,
            "tests": [
                {
                    "name": f"replay of {source} from {start.isoformat()}",
                    "start": start.isoformat(),
                    "until": round(end - self.t0, 6),
                    "given": self.given,
                    "events": self.events,
                    "expect": self.expect,
                }
            ],
        }
        header = (
            f"# Exported by `edgehub replay` from {source}: the recorded inputs and what the\n"
            f"# rules in {self.rules_dir} did with them. Edit `expect` to what should happen.\n"
        )
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            text = yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)
            self.path.write_text(header + text, encoding="utf-8")
        except OSError as exc:
            raise ReplayError(f"cannot write {self.path}: {exc}") from exc
        return self.path
