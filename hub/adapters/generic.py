"""Plain JSON with a field map, and raw single values."""

from __future__ import annotations

from typing import Any

from hub.adapters.base import Reading
from hub.adapters.errors import MalformedPayload
from hub.adapters.normalize import BOOL_KEYS, normalise, parse_object, text, to_bool, to_number

_MISSING = object()
RAW_DEFAULTS = {"motion": "occupancy", "contact": "contact", "button": "action", "sensor": "value"}


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(obj, dict) and part in obj:
            obj = obj[part]
        elif isinstance(obj, list) and part.isdigit() and int(part) < len(obj):
            obj = obj[int(part)]
        else:
            return _MISSING
    return obj


class JsonAdapter:
    """A JSON object; `fields` maps attribute -> dotted path, else top-level keys are used."""

    def __init__(self, topic: str, fields: dict[str, str] | None = None):
        self.topic = topic
        self.fields = fields or {}

    def topics(self) -> list[str]:
        """Return the device's topic."""
        return [self.topic]

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return the mapped attributes of a JSON message."""
        if not payload:
            return None
        msg = parse_object(payload)
        if self.fields:
            picked = {k: _lookup(msg, p) for k, p in self.fields.items()}
            msg = {k: v for k, v in picked.items() if v is not _MISSING}
        attrs, problems = normalise(msg)
        return Reading(attrs, problems) if attrs or problems else None


class RawAdapter:
    """A plain value (21.5, ON, open, single) that sets one attribute."""

    def __init__(self, topic: str, attribute: str):
        self.topic = topic
        self.attribute = attribute

    def topics(self) -> list[str]:
        """Return the device's topic."""
        return [self.topic]

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return {attribute: value} from a plain payload."""
        if not payload:
            return None
        value: Any = text(payload)
        if self.attribute in BOOL_KEYS:
            value = to_bool(value)
        elif self.attribute == "action":
            if not value:
                return None
        else:
            try:
                value = to_number(value)
            except MalformedPayload:
                if self.attribute != "value":
                    raise
        attrs, problems = normalise({self.attribute: value})
        if problems:
            raise MalformedPayload(problems[0])
        return Reading(attrs)
