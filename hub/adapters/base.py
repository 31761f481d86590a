"""The adapter protocol: topics to subscribe, and payload -> normalised attributes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class Reading:
    """What one message reported: normalised attributes and any attributes it got wrong."""

    attrs: dict[str, Any]
    problems: list[str] = field(default_factory=list)


class Adapter(Protocol):
    """Turns one device's MQTT messages into attributes."""

    def topics(self) -> list[str]:
        """Return the topic filters to subscribe to for this device."""

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return the reading, None when the message is not state, or raise MalformedPayload."""
