"""Payload adapters: what sensors people already have say, as normalised attributes."""

from __future__ import annotations

from typing import Any

from hub.adapters.base import Adapter, Reading
from hub.adapters.errors import AdapterError, MalformedPayload
from hub.adapters.generic import RAW_DEFAULTS, JsonAdapter, RawAdapter
from hub.adapters.shelly import ShellyAdapter
from hub.adapters.tasmota import TasmotaAdapter
from hub.adapters.zigbee2mqtt import Zigbee2MqttAdapter


def adapter_for(device: Any) -> Adapter:
    """Return the adapter for a device config with `type`, `topic` and `format`."""
    fmt = device.format
    if fmt == "zigbee2mqtt":
        return Zigbee2MqttAdapter(device.topic)
    if fmt == "tasmota":
        invert = bool(getattr(device, "invert", False))
        return TasmotaAdapter(device.topic, getattr(device, "type", None), invert=invert)
    if fmt == "shelly":
        return ShellyAdapter(device.topic)
    if fmt == "json":
        return JsonAdapter(device.topic, getattr(device, "fields", None))
    if fmt == "raw":
        attribute = getattr(device, "attribute", None) or RAW_DEFAULTS.get(device.type, "value")
        return RawAdapter(device.topic, attribute)
    raise AdapterError(f"unknown format {fmt!r}")


__all__ = [
    "Adapter",
    "AdapterError",
    "JsonAdapter",
    "MalformedPayload",
    "RawAdapter",
    "Reading",
    "ShellyAdapter",
    "TasmotaAdapter",
    "Zigbee2MqttAdapter",
    "adapter_for",
]
