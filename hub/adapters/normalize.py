"""Shared normalisation of attribute values: strings for numbers, ON/OFF, nulls."""

from __future__ import annotations

import json
import math
from typing import Any

from hub.adapters.errors import MalformedPayload

MAX_PAYLOAD = 256 * 1024
_TRUE = {"true", "on", "1", "yes", "closed", "close", "detected", "active"}
_FALSE = {"false", "off", "0", "no", "open", "clear", "inactive"}
BOOL_KEYS = {"occupancy", "contact", "water_leak", "smoke", "tamper", "vibration", "presence"}
NUMBER_KEYS = {
    "temperature",
    "humidity",
    "illuminance",
    "illuminance_lux",
    "battery",
    "pressure",
    "power",
    "voltage",
    "current",
    "energy",
    "linkquality",
    "co2",
    "dew_point",
    "device_temperature",
}


def parse_json(payload: bytes) -> Any:
    """Decode a JSON payload or raise MalformedPayload saying why."""
    if len(payload) > MAX_PAYLOAD:
        raise MalformedPayload(f"payload of {len(payload)} bytes is larger than {MAX_PAYLOAD}")
    try:
        return json.loads(payload)
    except UnicodeDecodeError:
        raise MalformedPayload("binary payload, expected JSON") from None
    except ValueError as exc:
        raise MalformedPayload(f"not JSON ({exc.msg} at {exc.pos})") from None


def parse_object(payload: bytes) -> dict[str, Any]:
    """Decode a JSON object or raise MalformedPayload."""
    value = parse_json(payload)
    if not isinstance(value, dict):
        raise MalformedPayload(f"expected a JSON object, got {type(value).__name__}")
    return value


def text(payload: bytes) -> str:
    """Decode a short plain-text payload or raise MalformedPayload."""
    if len(payload) > 4096:
        raise MalformedPayload(f"plain payload of {len(payload)} bytes is too large")
    try:
        return payload.decode().strip()
    except UnicodeDecodeError:
        raise MalformedPayload("binary payload, expected text") from None


def to_bool(value: Any) -> bool:
    """Return a bool from true/false, ON/OFF, 1/0, open/closed; else raise MalformedPayload."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        low = value.strip().lower()
        if low in _TRUE:
            return True
        if low in _FALSE:
            return False
    raise MalformedPayload(f"expected true/false, got {value!r:.40}")


def to_number(value: Any) -> float | int:
    """Return a finite number from a number or numeric string; else raise MalformedPayload."""
    if isinstance(value, bool):
        raise MalformedPayload(f"expected a number, got {value!r}")
    if isinstance(value, int):
        return value
    try:
        num = float(value)
    except (TypeError, ValueError):
        raise MalformedPayload(f"expected a number, got {value!r:.40}") from None
    if not math.isfinite(num):
        raise MalformedPayload(f"expected a finite number, got {value!r:.40}")
    return int(num) if isinstance(value, str) and num.is_integer() and "." not in value else num


def on_off(value: Any) -> str:
    """Return "ON" or "OFF" from a bool or on/off string; else raise MalformedPayload."""
    if isinstance(value, str) and value.strip().upper() == "TOGGLE":
        raise MalformedPayload("TOGGLE is a command, not a state")
    return "ON" if to_bool(value) else "OFF"


def normalise(attrs: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Coerce known attributes, drop nulls; return (attributes, problems with dropped ones)."""
    out: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in attrs.items():
        if value is None:
            continue  # the device does not know this value yet
        try:
            if key in BOOL_KEYS:
                out[key] = to_bool(value)
            elif key in NUMBER_KEYS:
                out[key] = to_number(value)
            elif key == "state":
                out[key] = on_off(value)
            elif key == "brightness":
                out[key] = max(0, min(255, round(to_number(value))))
            elif key == "action":
                if value != "":  # the empty action that follows a press is not an event
                    out[key] = str(value)
            else:
                out[key] = value
        except MalformedPayload as exc:
            problems.append(f"{key}: {exc}")
    return out, problems
