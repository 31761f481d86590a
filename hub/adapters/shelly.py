"""Shelly: Gen1 topics under shellies/<id>/, Gen2 status and NotifyStatus under <id>/."""

from __future__ import annotations

from typing import Any

from hub.adapters.base import Reading
from hub.adapters.normalize import normalise, on_off, parse_json, parse_object, text, to_number

_GEN1_SENSOR = {"lux": "illuminance", "battery": "battery", "temperature": "temperature"}
_GEN1_STATUS = {
    "motion": "occupancy",
    "lux": "illuminance",
    "bat": "battery",
    "vibration": "vibration",
    "temperature": "temperature",
}


class ShellyAdapter:
    """One Shelly device; topic is shellies/<model>-<id> (Gen1) or <id> (Gen2)."""

    def __init__(self, topic: str):
        self.topic = topic.rstrip("/")
        self.gen1 = self.topic.startswith("shellies/")

    def topics(self) -> list[str]:
        """Return the device's topic filters."""
        if self.gen1:
            return [f"{self.topic}/#"]
        return [f"{self.topic}/status/+", f"{self.topic}/events/rpc"]

    def decode(self, topic: str, payload: bytes) -> Reading | None:
        """Return the attributes a Shelly message reports."""
        if not payload or not topic.startswith(self.topic + "/"):
            return None
        rel = topic[len(self.topic) + 1 :]
        attrs = self._gen1(rel, payload) if self.gen1 else self._gen2(rel, payload)
        if attrs is None:
            return None
        attrs, problems = normalise(attrs)
        return Reading(attrs, problems) if attrs or problems else None

    def _gen1(self, rel: str, payload: bytes) -> dict[str, Any] | None:
        parts = rel.split("/")
        if parts[0] == "relay" and len(parts) == 2:
            return {_relay_key(parts[1]): on_off(text(payload))}
        if parts[0] == "relay" and len(parts) == 3 and parts[2] in ("power", "energy"):
            return {parts[2]: to_number(text(payload))}
        if rel == "sensor/state":
            state = text(payload).lower()
            if state not in ("open", "close", "closed"):
                return {"contact": state}  # normalise() reports it as a problem
            return {"contact": state != "open"}
        if parts[0] == "sensor" and len(parts) == 2 and parts[1] in _GEN1_SENSOR:
            return {_GEN1_SENSOR[parts[1]]: text(payload)}
        if rel == "status":
            msg = parse_object(payload)
            return {new: msg[old] for old, new in _GEN1_STATUS.items() if old in msg}
        return None  # online, announce, info, commands

    def _gen2(self, rel: str, payload: bytes) -> dict[str, Any] | None:
        if rel.startswith("status/"):
            return _component(rel[len("status/") :], parse_json(payload)) or None
        if rel == "events/rpc":
            msg = parse_object(payload)
            if msg.get("method") != "NotifyStatus":
                return None
            attrs: dict[str, Any] = {}
            for comp, body in (msg.get("params") or {}).items():
                if comp != "ts":
                    attrs.update(_component(comp, body))
            return attrs or None
        return None


def _component(comp: str, body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        return {}
    kind, _, index = comp.partition(":")
    out: dict[str, Any] = {}
    if kind in ("switch", "light"):
        if "output" in body:
            out[_relay_key(index)] = body["output"]
        if "apower" in body:
            out["power"] = body["apower"]
        temp = body.get("temperature")
        if isinstance(temp, dict) and "tC" in temp:
            out["device_temperature"] = temp["tC"]
        if "brightness" in body:
            out["brightness"] = round(to_number(body["brightness"]) * 255 / 100)
    elif kind == "temperature" and "tC" in body:
        out["temperature"] = body["tC"]
    elif kind == "humidity" and "rh" in body:
        out["humidity"] = body["rh"]
    elif kind == "devicepower":
        battery = body.get("battery")
        if isinstance(battery, dict) and "percent" in battery:
            out["battery"] = battery["percent"]
    elif kind == "illuminance" and "lux" in body:
        out["illuminance"] = body["lux"]
    return out


def _relay_key(index: str) -> str:
    return "state" if index in ("", "0") else f"state{index}"
