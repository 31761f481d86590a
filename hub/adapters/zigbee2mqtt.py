"""Zigbee2MQTT: JSON state on zigbee2mqtt/<friendly_name>."""

from __future__ import annotations

from hub.adapters.base import Reading
from hub.adapters.normalize import normalise, parse_object


class Zigbee2MqttAdapter:
    """State messages of one Zigbee2MQTT device (its availability is the health monitor's)."""

    def __init__(self, topic: str):
        self.topic = topic

    def topics(self) -> list[str]:
        """Return the device's state topic."""
        return [self.topic]

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return the attributes of a state message (None for an empty retained clear)."""
        if not payload:
            return None
        attrs, problems = normalise(parse_object(payload))
        attrs.pop("last_seen", None)
        if not attrs and not problems:
            return None
        return Reading(attrs, problems)
