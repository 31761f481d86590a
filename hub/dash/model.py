"""What the dashboard knows about the home, built only from the hub's MQTT topics (no Textual)."""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from hub.dash.text import describe, notification_status

log = logging.getLogger(__name__)

VIEWS = ("home", "events", "rules", "cameras", "notifications", "hub")
_RAN = ("ran", "resumed", "stopped")


@dataclass
class Device:
    """One device of the manifest (or seen on a state topic) with its last known state."""

    name: str
    type: str = "?"
    dimmable: bool = False
    state: dict[str, Any] = field(default_factory=dict)
    last_seen: float | None = None
    online: bool | None = None


@dataclass
class Camera:
    """What a camera has shown lately: snapshot bytes, detections, recordings."""

    name: str
    snapshot: bytes | None = None
    snapshot_seq: int = 0
    detections: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))
    recordings: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=50))


@dataclass
class Rule:
    """A rule's retained state and its latest traces."""

    name: str
    state: dict[str, Any] = field(default_factory=dict)
    traces: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=20))


@dataclass(frozen=True, slots=True)
class DashEvent:
    """An event as received on edgehub/<hub>/events."""

    id: str
    ts: float
    source: str
    kind: str
    data: dict[str, Any]
    cause: str | None


def _json(payload: bytes) -> Any:
    try:
        return json.loads(payload)
    except (ValueError, UnicodeDecodeError):
        return None


class HomeModel:
    """The home as seen over MQTT; apply() takes one message and says which views changed."""

    def __init__(
        self, hub_id: str = "home", clock: Callable[[], float] | None = None, history: int = 2000
    ) -> None:
        import time

        self.hub_id = hub_id
        self.prefix = f"edgehub/{hub_id}/"
        self.clock = clock or time.time
        self.history = history
        self.hub_status: str | None = None
        self.devices: dict[str, Device] = {}
        self.cameras: dict[str, Camera] = {}
        self.rules: dict[str, Rule] = {}
        self.events: deque[DashEvent] = deque()
        self.by_id: dict[str, DashEvent] = {}
        self._rule_runs: dict[str, list[DashEvent]] = {}
        self._traced_runs: dict[str, list[str]] = {}  # trigger event id -> rules that ran
        self.event_seq = 0  # total events ever received; views use it to append only new ones
        self.notifications: dict[str, dict[str, Any]] = {}
        self.health: dict[str, Any] = {}
        self.command_results: deque[DashEvent] = deque(maxlen=50)
        self.command_seq = 0
        self._rate: deque[tuple[int, int]] = deque()  # (second, count) buckets
        self.malformed = 0

    # --- ingest -----------------------------------------------------------------------------

    def apply(self, topic: str, payload: bytes, retained: bool = False) -> set[str]:
        """Take one MQTT message; return the names of the views it changed."""
        if not topic.startswith(self.prefix):
            return set()
        rest = topic[len(self.prefix) :]
        if rest == "status":
            self.hub_status = payload.decode(errors="replace").strip() or None
            return {"hub"}
        if rest == "devices":
            return self._apply_manifest(_json(payload))
        if rest == "events":
            data = _json(payload)
            if not isinstance(data, dict):
                self.malformed += 1
                return set()
            return self.add_event(data)
        if rest == "notifications":
            return self._apply_notification(_json(payload))
        if rest == "health":
            data = _json(payload)
            self.health = data if isinstance(data, dict) else {}
            return {"hub"}
        parts = rest.split("/")
        if len(parts) == 3 and parts[0] == "rules":
            return self._apply_rule(parts[1], parts[2], payload)
        if len(parts) == 2 and parts[1] == "state":
            return self._apply_state(parts[0], payload, retained)
        if len(parts) == 2 and parts[1] == "snapshot":
            cam = self.camera(parts[0])
            cam.snapshot = payload or None
            cam.snapshot_seq += 1
            return {"cameras"}
        return set()

    def device(self, name: str) -> Device:
        """Return the device called name, creating it when first heard of."""
        dev = self.devices.get(name)
        if dev is None:
            dev = self.devices[name] = Device(name)
        return dev

    def camera(self, name: str) -> Camera:
        """Return the camera called name, creating it when first heard of."""
        cam = self.cameras.get(name)
        if cam is None:
            cam = self.cameras[name] = Camera(name)
        dev = self.device(name)
        if dev.type == "?":
            dev.type = "camera"
        return cam

    def rule(self, name: str) -> Rule:
        """Return the rule called name, creating it when first heard of."""
        rule = self.rules.get(name)
        if rule is None:
            rule = self.rules[name] = Rule(name)
        return rule

    def _apply_manifest(self, data: Any) -> set[str]:
        if not isinstance(data, dict):
            self.malformed += 1
            return set()
        devices = data.get("devices") or {}
        if isinstance(devices, list):
            devices = {name: {} for name in devices}
        for name, info in devices.items():
            info = info if isinstance(info, dict) else {}
            dev = self.device(name)
            dev.type = str(info.get("type") or dev.type)
            dev.dimmable = bool(info.get("dimmable", dev.dimmable))
            if dev.type == "camera":
                self.camera(name)
        for name in data.get("rules") or []:
            self.rule(str(name))
        return {"home", "rules", "cameras"}

    def _apply_state(self, name: str, payload: bytes, retained: bool) -> set[str]:
        data = _json(payload)
        if not payload:
            return set()  # a retained message being cleared
        if not isinstance(data, dict):
            data = {"state": payload.decode(errors="replace").strip()}
        dev = self.device(name)
        dev.state.update(data)
        ts = data.get("last_seen")
        if isinstance(ts, int | float):
            dev.last_seen = float(ts)
        elif not retained:
            dev.last_seen = self.clock()
        if isinstance(data.get("online"), bool):
            dev.online = data["online"]
        changed = {"home"}
        if dev.type == "camera":
            self.camera(name)
            changed.add("cameras")
        return changed

    def _apply_rule(self, name: str, leaf: str, payload: bytes) -> set[str]:
        data = _json(payload)
        if not isinstance(data, dict):
            return set()
        rule = self.rule(name)
        if leaf == "state":
            rule.state = data
        elif leaf == "trace":
            rule.traces.appendleft(data)
            event_id = data.get("event_id") or data.get("event")
            if isinstance(event_id, str) and data.get("result") in _RAN:
                # The hub's traces name the event that triggered a run: the cause chain of
                # an effect uses this to name the rule between trigger and effect.
                runs = self._traced_runs.pop(event_id, [])
                self._traced_runs[event_id] = [*runs, name]
                while len(self._traced_runs) > self.history:
                    self._traced_runs.pop(next(iter(self._traced_runs)))
        else:
            return set()
        return {"rules"}

    def _apply_notification(self, data: Any) -> set[str]:
        if not isinstance(data, dict):
            self.malformed += 1
            return set()
        if data.get("notification"):
            # The hub announces a notification per owner when queued or held, then once per
            # channel when sent or failed: one row per notification and owner.
            key = f"{data['notification']}:{data.get('owner', '')}"
        else:
            key = str(data.get("id") or data.get("key") or f"n{len(self.notifications)}")
        merged = {**self.notifications.get(key, {}), **data}
        if "ts" not in merged:
            merged["ts"] = data.get("created") or self.clock()
        self.notifications.pop(key, None)
        self.notifications[key] = merged  # re-insert: the newest change sorts last
        while len(self.notifications) > 200:
            self.notifications.pop(next(iter(self.notifications)))
        return {"notifications"}

    def add_event(self, d: dict[str, Any]) -> set[str]:
        """Record one event (the JSON form of rules.events.Event) and its effect on state."""
        try:
            ev = DashEvent(
                id=str(d.get("id") or f"local-{self.event_seq}"),
                ts=float(d.get("ts") or self.clock()),
                source=str(d.get("source") or "?"),
                kind=str(d.get("kind") or "?"),
                data=d.get("data") if isinstance(d.get("data"), dict) else {},
                cause=d.get("cause") or None,
            )
        except (TypeError, ValueError):
            self.malformed += 1
            return set()
        self.events.append(ev)
        self.by_id[ev.id] = ev
        self.event_seq += 1
        if ev.kind == "rule.run" and ev.cause:
            self._rule_runs.setdefault(ev.cause, []).append(ev)
        while len(self.events) > self.history:
            self._forget(self.events.popleft())
        self._count_rate(ev)
        return {"events", "hub"} | self._event_effects(ev)

    def _forget(self, old: DashEvent) -> None:
        self.by_id.pop(old.id, None)
        if old.kind == "rule.run" and old.cause:
            runs = self._rule_runs.get(old.cause, [])
            if old in runs:
                runs.remove(old)
            if not runs:
                self._rule_runs.pop(old.cause, None)

    def _count_rate(self, ev: DashEvent) -> None:
        sec = int(self.clock())
        if self._rate and self._rate[-1][0] == sec:
            self._rate[-1] = (sec, self._rate[-1][1] + 1)
        else:
            self._rate.append((sec, 1))
        while self._rate and self._rate[0][0] < sec - 10:
            self._rate.popleft()

    def event_rate(self) -> float:
        """Return events per second over the last ten seconds, as received here."""
        now = int(self.clock())
        return sum(n for s, n in self._rate if s >= now - 10 and s < now) / 10.0

    def _event_effects(self, ev: DashEvent) -> set[str]:
        kind, data = ev.kind, ev.data
        if kind in ("state", "state.baseline") and ev.source in self.devices:
            dev = self.devices[ev.source]
            dev.state.update(data)
            dev.last_seen = ev.ts
            return {"home"}
        if kind in ("device.offline", "device.online", "camera.offline", "camera.online"):
            dev = self.device(str(data.get("device") or ev.source))
            dev.online = kind.endswith(".online")
            return {"home", "cameras"}
        if kind == "camera.detection":
            self.camera(ev.source).detections.appendleft({"ts": ev.ts, **data})
            return {"home", "cameras"}
        if kind == "camera.motion":
            self.device(ev.source).state["motion"] = data.get("phase") != "end"
            return {"home", "cameras"}
        if kind == "recording.finished":
            self.camera(ev.source).recordings.appendleft({"ts": ev.ts, **data})
            return {"cameras"}
        if kind == "rule.run":
            rule = self.rule(ev.source.removeprefix("rule:"))
            rule.state.setdefault("last_run", ev.ts)
            return {"rules"}
        if kind == "command.result":
            self.command_results.append(ev)
            self.command_seq += 1
        return set()

    # --- queries ----------------------------------------------------------------------------

    def cause_chain(self, event_id: str, limit: int = 12) -> list[str]:
        """Return the descriptions of an event and its causes, newest first."""
        chain: list[str] = []
        ev = self.by_id.get(event_id)
        seen: set[str] = set()
        while ev is not None and ev.id not in seen and len(chain) < limit:
            seen.add(ev.id)
            chain.append(describe(ev))
            if not ev.cause:
                break
            cause = self.by_id.get(ev.cause)
            if ev.kind != "rule.run" and (cause is None or cause.kind != "rule.run"):
                # The hub gives a rule's effects the rule's trigger as their cause; name the
                # rule that stood between them (carried in the data, or the run it left).
                rule = ev.data.get("rule")
                runs = self._rule_runs.get(ev.cause, [])
                names = [str(rule)] if rule else [r.source.removeprefix("rule:") for r in runs]
                names = names or self._traced_runs.get(ev.cause, [])
                chain.extend(f"rule {n}" for n in names[:1])
            if cause is None:
                chain.append(f"({ev.cause[:8]}… not in history)")
                break
            ev = cause
        return chain

    def filtered(
        self, device: str = "", kind: str = "", events: Iterable[DashEvent] | None = None
    ) -> Iterable[DashEvent]:
        """Yield the events whose source starts with device and whose kind contains kind."""
        device, kind = device.strip(), kind.strip()
        for ev in self.events if events is None else events:
            if device and not ev.source.startswith(device) and device != ev.data.get("device"):
                continue
            if kind and kind not in ev.kind:
                continue
            yield ev

    def notification_counts(self) -> dict[str, int]:
        """Return how many notifications are in each status (sent, pending, failed...)."""
        counts: dict[str, int] = {}
        for n in self.notifications.values():
            status = notification_status(n)
            counts[status] = counts.get(status, 0) + 1
        return counts
