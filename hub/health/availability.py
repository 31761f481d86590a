"""Availability topics that devices already publish: Zigbee2MQTT, Tasmota LWT, Shelly online."""

from __future__ import annotations

import json


def availability_topic(topic: str, fmt: str) -> str | None:
    """Return the availability topic of a device from its state topic and format, if any."""
    parts = topic.strip("/").split("/")
    if fmt == "zigbee2mqtt":
        # zigbee2mqtt/<friendly name, may hold slashes>/availability
        return f"{topic.rstrip('/')}/availability"
    if fmt == "tasmota" and len(parts) >= 2 and parts[0] in ("tele", "stat", "cmnd"):
        return f"tele/{parts[1]}/LWT"
    if fmt == "shelly" and parts:
        if parts[0] == "shellies" and len(parts) >= 2:
            return f"shellies/{parts[1]}/online"
        return f"{parts[0]}/online"
    return None


def parse_availability(payload: bytes | str) -> bool | None:
    """Return True (online), False (offline) or None (not an availability payload)."""
    text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else payload
    text = text.strip()
    if text.startswith("{"):
        try:
            value = json.loads(text)
        except ValueError:
            return None
        text = str(value.get("state", "")) if isinstance(value, dict) else ""
    word = text.strip().lower()
    if word in ("online", "true", "1"):
        return True
    if word in ("offline", "false", "0"):
        return False
    return None
