"""The core nouns every part of edgehub speaks: events and their time-sortable ids."""

from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

_id_lock = threading.Lock()
_last_ms = 0
_counter = 0


def new_event_id(ts: float | None = None) -> str:
    """Return a UUIDv7 string; ids made in one process sort in creation order."""
    global _last_ms, _counter
    ms = int((time.time() if ts is None else ts) * 1000)
    with _id_lock:
        # A 12-bit counter keeps ids monotonic when several share a millisecond
        # (or the clock steps back), which a random tail alone would not.
        if ms <= _last_ms:
            ms = _last_ms
            _counter += 1
            if _counter > 0xFFF:
                ms += 1
                _counter = 0
        else:
            _counter = 0
        _last_ms = ms
        counter = _counter
    # Ids need uniqueness, not secrecy: getrandbits is ~10x cheaper than os.urandom per event.
    rand = random.getrandbits(62)
    value = (ms & 0xFFFF_FFFF_FFFF) << 80 | 0x7 << 76 | counter << 64 | 0b10 << 62 | rand
    h = f"{value:032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def event_id_time(event_id: str) -> float:
    """Return the creation time (epoch seconds) encoded in a UUIDv7 event id."""
    return int(event_id.replace("-", "")[:12], 16) / 1000.0


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: a sensor reading, a detection, a light change, a hub fact.

    kind is a dotted name. The kinds in use:
      state              source=device, data=the attributes this message reported
      camera.motion      source=camera, data={"regions": [...], "phase": "start"|"end"}
      camera.detection   source=camera, data={"label","score","box","track","snapshot"}
      camera.offline / camera.online, recording.started / recording.finished
      mqtt.message       source="mqtt", data={"topic", "payload"} (only topics rules watch)
      time.trigger       source="rule:<id>", data={"trigger": "at 07:30", ...}: the cause of a
                         time-triggered run (at, cron, sun)
      command / command.result   a command on a set topic and the hub's answer
      notify.sent / notify.failed / notify.held, remote.unreachable, sensor.anomaly,
      device.battery_low, storage.full, storage.warning, component.failed, hub.health
      hub.started, hub.stopping, device.offline, device.online, notify.failed, ...
    """

    kind: str
    source: str
    data: dict[str, Any] = field(default_factory=dict)
    ts: float = field(default_factory=time.time)
    id: str = ""
    cause: str | None = None

    def __post_init__(self) -> None:
        if not self.id:
            object.__setattr__(self, "id", new_event_id(self.ts))

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form published on edgehub/<hub>/events and journaled."""
        return {
            "id": self.id,
            "ts": self.ts,
            "source": self.source,
            "kind": self.kind,
            "data": self.data,
            "cause": self.cause,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Event:
        """Rebuild an Event from its JSON form."""
        return cls(
            kind=d["kind"],
            source=d["source"],
            data=d.get("data") or {},
            ts=float(d["ts"]),
            id=d.get("id") or "",
            cause=d.get("cause"),
        )
