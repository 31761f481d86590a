"""Tasmota: tele/<t>/SENSOR and STATE, stat/<t>/RESULT, POWER<n> and PIR<n>."""

from __future__ import annotations

import re
from typing import Any

from hub.adapters.base import Reading
from hub.adapters.errors import MalformedPayload
from hub.adapters.normalize import normalise, on_off, parse_object, text, to_bool, to_number

_SKIP = {"Time", "TempUnit", "PressureUnit", "SpeedUnit"}
_RENAME = {"total": "energy", "dewpoint": "dew_point", "illuminance": "illuminance"}
_POWER = re.compile(r"^POWER(\d*)$")
_PIR = re.compile(r"^PIR(\d*)$")


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return _RENAME.get(s.replace("_", ""), s)


class TasmotaAdapter:
    """One Tasmota device; topic is its %topic% or one full tele/stat topic."""

    def __init__(self, topic: str):
        parts = topic.split("/")
        self.exact = len(parts) == 3 and parts[0] in ("tele", "stat")
        self.topic = topic
        self.name = parts[1] if self.exact else topic

    def topics(self) -> list[str]:
        """Return the exact topic, or the device's tele and stat topics."""
        return [self.topic] if self.exact else [f"tele/{self.name}/+", f"stat/{self.name}/+"]

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return the attributes of a telemetry or status message."""
        if not payload:
            return None
        kind = topic.rsplit("/", 1)[-1]
        if kind == "SENSOR":
            return self._sensor(parse_object(payload))
        if kind in ("STATE", "RESULT"):
            return self._power(parse_object(payload))
        if m := _POWER.match(kind):
            return Reading({_state_key(m.group(1)): on_off(text(payload))})
        if m := _PIR.match(kind):
            key = "occupancy" if m.group(1) in ("", "1") else f"occupancy{m.group(1)}"
            return Reading({key: to_bool(text(payload))})
        return None  # LWT, INFO, UPTIME...: not device state

    def _sensor(self, msg: dict[str, Any]) -> Reading | None:
        attrs: dict[str, Any] = {}
        fahrenheit = msg.get("TempUnit") == "F"
        for name, value in msg.items():
            if name in _SKIP:
                continue
            if name.startswith("Switch"):
                if isinstance(value, dict):
                    value = value.get("Action")
                attrs[name.lower()] = on_off(value) if value is not None else None
            elif isinstance(value, dict):
                for k, v in value.items():
                    if k == "Id" or isinstance(v, dict | list):
                        continue
                    key = _snake(k)
                    if key in attrs:
                        key = f"{_snake(name)}_{key}"
                    if fahrenheit and key.endswith(("temperature", "dew_point")) and v is not None:
                        v = round((to_number(v) - 32) * 5 / 9, 2)
                    attrs[key] = v
            else:
                attrs[_snake(name)] = value
        attrs, problems = normalise(attrs)
        return Reading(attrs, problems) if attrs or problems else None

    def _power(self, msg: dict[str, Any]) -> Reading | None:
        attrs: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in msg.items():
            try:
                if m := _POWER.match(name):
                    attrs[_state_key(m.group(1))] = on_off(value)
                elif name == "Dimmer":
                    attrs["brightness"] = round(max(0, min(100, to_number(value))) * 255 / 100)
            except MalformedPayload as exc:
                problems.append(f"{name}: {exc}")
        return Reading(attrs, problems) if attrs or problems else None


def _state_key(index: str) -> str:
    return "state" if index in ("", "1") else f"state{index}"
