"""What the rule engine asks the world to do. The hub's runtime carries these out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal


@dataclass(frozen=True, slots=True)
class Effect:
    """Base of all effects: the rule that asked and the event that caused it."""

    rule: str | None = None
    cause: str | None = None


@dataclass(frozen=True, slots=True)
class LightCommand(Effect):
    """Turn a light on, off or toggle it; brightness in percent, transition in seconds."""

    device: str = ""
    state: Literal["on", "off", "toggle"] = "on"
    brightness: float | None = None
    transition: float | None = None
    # For a light of another hub (`<hub>/<device>`): queue until reachable or fail at once.
    on_unreachable: Literal["queue", "fail"] = "queue"
    deadline: float | None = None


@dataclass(frozen=True, slots=True)
class Record(Effect):
    """Start (or extend) a recording on a camera for at least `duration` seconds."""

    camera: str = ""
    duration: float | None = None


@dataclass(frozen=True, slots=True)
class Snapshot(Effect):
    """Take a JPEG snapshot on a camera."""

    camera: str = ""


@dataclass(frozen=True, slots=True)
class Notify(Effect):
    """Send a message to owners; attach is None, "snapshot" or "clip"."""

    owners: tuple[str, ...] = ()
    title: str = ""
    message: str = ""
    attach: str | None = None
    priority: Literal["normal", "high", "critical"] = "normal"
    camera: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Publish(Effect):
    """Publish an MQTT message."""

    topic: str = ""
    payload: str = ""
    retain: bool = False
    qos: int = 1


@dataclass(frozen=True, slots=True)
class SetState(Effect):
    """Set attributes of a virtual device (for example alarm.mode)."""

    device: str = ""
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Emit(Effect):
    """Raise an Event (for example rule.run, or an event a rule fires for other rules)."""

    kind: str = ""
    source: str = ""
    data: dict[str, Any] = field(default_factory=dict)
