"""Tasmota: tele/<t>/SENSOR and STATE, stat/<t>/RESULT, POWER<n> and PIR<n>.

A switch input (`"Switch1":"ON"`, or `{"Switch1":{"Action":"ON"}}` with SetOption114) is what
the device is: `contact` on a contact device (ON = closed = true, unless `invert`),
`occupancy` on a motion device, `switch1` on anything else. Switch2 and up get a suffix.
"""

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
_SWITCH = re.compile(r"^Switch(\d+)$")
# What a switch input means on a device of each type.
_SWITCH_ATTR = {"contact": "contact", "motion": "occupancy"}


def _snake(name: str) -> str:
    s = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return _RENAME.get(s.replace("_", ""), s)


class TasmotaAdapter:
    """One Tasmota device; topic is its %topic% or one full tele/stat topic."""

    def __init__(self, topic: str, device_type: str | None = None, *, invert: bool = False):
        self.switch_attr = _SWITCH_ATTR.get(device_type or "")
        self.invert = invert
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
            if m := _SWITCH.match(name):
                attrs.update(self._switch(m.group(1), value))
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

    def _switch(self, index: str, value: Any) -> dict[str, Any]:
        """Return the attribute a SwitchN value sets on this device."""
        if isinstance(value, dict):
            value = value.get("Action")
        if value is None:
            return {}
        if self.switch_attr is None:
            return {f"switch{index}": on_off(value)}
        key = self.switch_attr if index == "1" else f"{self.switch_attr}{index}"
        return {key: to_bool(value) != self.invert}

    def _power(self, msg: dict[str, Any]) -> Reading | None:
        attrs: dict[str, Any] = {}
        problems: list[str] = []
        for name, value in msg.items():
            try:
                if m := _POWER.match(name):
                    attrs[_state_key(m.group(1))] = on_off(value)
                elif m := _SWITCH.match(name):
                    attrs.update(self._switch(m.group(1), value))
                elif name == "Dimmer":
                    attrs["brightness"] = round(max(0, min(100, to_number(value))) * 255 / 100)
            except MalformedPayload as exc:
                problems.append(f"{name}: {exc}")
        return Reading(attrs, problems) if attrs or problems else None


def _state_key(index: str) -> str:
    return "state" if index in ("", "1") else f"state{index}"
