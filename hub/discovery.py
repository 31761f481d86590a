"""Home Assistant MQTT discovery: the hub's devices appear in Home Assistant with no setup.

Lights (JSON schema), motion and contact sensors (binary_sensor), sensor readings (sensor,
announced as each attribute is first seen), cameras (the snapshot topic, plus a motion
binary_sensor) and the hub itself (connectivity). Re-sent when `homeassistant/status` is
`online`, which Home Assistant publishes when it starts.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from hub.component import HubContext
from rules.events import Event

log = logging.getLogger(__name__)

PREFIX = "homeassistant"
# attribute -> (device_class, unit); only these become sensors, so ids and junk stay out.
SENSOR_ATTRS: dict[str, tuple[str | None, str | None]] = {
    "temperature": ("temperature", "°C"),
    "humidity": ("humidity", "%"),
    "pressure": ("pressure", "hPa"),
    "illuminance": ("illuminance", "lx"),
    "battery": ("battery", "%"),
    "power": ("power", "W"),
    "energy": ("energy", "kWh"),
    "voltage": ("voltage", "V"),
    "co2": ("carbon_dioxide", "ppm"),
    "linkquality": (None, "lqi"),
}


class DiscoveryComponent:
    """Publishes retained discovery configs for every device, and again when HA restarts."""

    name = "discovery"

    def __init__(self, devices: Mapping[str, Any], prefix: str = PREFIX) -> None:
        self.devices = dict(devices)
        self.prefix = prefix
        self.ctx: HubContext | None = None
        self._sensor_attrs: dict[str, set[str]] = {}

    async def start(self, ctx: HubContext) -> None:
        """Announce every device and listen for Home Assistant's birth message."""
        self.ctx = ctx
        ctx.subscribe(f"{self.prefix}/status", self._on_ha_status)
        for name, dev in self.devices.items():
            if dev.type in ("sensor", "motion", "contact", "button"):
                attrs = ctx.device_state(name)
                self._sensor_attrs[name] = {
                    a
                    for a in attrs
                    if a in SENSOR_ATTRS and (dev.type == "sensor" or a == "battery")
                }
        self.announce()

    async def stop(self) -> None:
        """Nothing to release: the retained configs stay for Home Assistant."""

    def configs(self) -> dict[str, dict[str, Any]]:
        """Return every discovery topic with its payload."""
        assert self.ctx is not None
        hub = self.ctx.hub_id
        out: dict[str, dict[str, Any]] = {}
        hub_dev = {
            "identifiers": [f"edgehub_{hub}"],
            "name": f"edgehub {hub}",
            "manufacturer": "edgehub",
        }
        out[self._topic("binary_sensor", hub, "status")] = {
            "name": "Hub",
            "device_class": "connectivity",
            "state_topic": f"edgehub/{hub}/status",
            "payload_on": "online",
            "payload_off": "offline",
            "unique_id": f"edgehub_{hub}_status",
            "device": hub_dev,
        }
        for name, dev in self.devices.items():
            out.update(self._device_configs(hub, name, dev))
        return out

    def announce(self) -> None:
        """Publish every config, retained."""
        assert self.ctx is not None
        configs = self.configs()
        for topic, payload in configs.items():
            self.ctx.publish(topic, json.dumps(payload), retain=True, qos=1)
        log.info("discovery sent %d configs", len(configs))

    def on_event(self, event: Event) -> None:
        """Announce sensor attributes the first time a device reports them."""
        if event.kind not in ("state", "state.baseline") or event.source not in self.devices:
            return
        dev = self.devices[event.source]
        if dev.type not in ("sensor", "motion", "contact", "button"):
            return
        seen = self._sensor_attrs.setdefault(event.source, set())
        new = {
            a
            for a, v in event.data.items()
            if a in SENSOR_ATTRS
            and a not in seen
            and isinstance(v, int | float)
            and (dev.type == "sensor" or a == "battery")
        }
        if not new or self.ctx is None:
            return
        seen |= new
        hub = self.ctx.hub_id
        for attr in sorted(new):
            topic, payload = self._sensor(hub, event.source, dev, attr)
            self.ctx.publish(topic, json.dumps(payload), retain=True, qos=1)

    def _on_ha_status(self, topic: str, payload: bytes, retained: bool) -> None:
        if payload.strip().lower() == b"online":
            self.announce()

    # -- payloads ----------------------------------------------------------------------------

    def _topic(self, component: str, hub: str, obj: str) -> str:
        return f"{self.prefix}/{component}/{hub}_{obj}/config"

    def _base(self, hub: str, name: str, dev: Any, uid: str) -> dict[str, Any]:
        device: dict[str, Any] = {
            "identifiers": [f"edgehub_{hub}_{name}"],
            "name": name,
            "via_device": f"edgehub_{hub}",
        }
        if getattr(dev, "room", None):
            device["suggested_area"] = dev.room
        return {
            "unique_id": uid,
            "device": device,
            "availability_topic": f"edgehub/{hub}/status",
            "origin": {"name": "edgehub"},
        }

    def _device_configs(self, hub: str, name: str, dev: Any) -> dict[str, dict[str, Any]]:
        state = f"edgehub/{hub}/{name}/state"
        uid = f"edgehub_{hub}_{name}"
        out: dict[str, dict[str, Any]] = {}
        if dev.type == "light":
            gpio = getattr(dev, "gpio", None)
            dimmable = gpio.dimmable if gpio is not None else dev.format != "shelly"
            if getattr(dev, "dimmable", None) is not None:
                dimmable = dev.dimmable
            out[self._topic("light", hub, name)] = {
                "name": None,
                "schema": "json",
                "brightness": bool(dimmable),
                "brightness_scale": 255,
                "command_topic": f"edgehub/{hub}/{name}/set",
                "state_topic": state,
                **self._base(hub, name, dev, uid),
            }
        elif dev.type == "motion":
            out[self._topic("binary_sensor", hub, name)] = {
                "name": None,
                "device_class": "motion",
                "state_topic": state,
                "value_template": "{{ 'ON' if value_json.occupancy else 'OFF' }}",
                **self._base(hub, name, dev, uid),
            }
        elif dev.type == "contact":
            # contact true means closed; Home Assistant's door is ON when open.
            out[self._topic("binary_sensor", hub, name)] = {
                "name": None,
                "device_class": "door",
                "state_topic": state,
                "value_template": "{{ 'OFF' if value_json.contact else 'ON' }}",
                **self._base(hub, name, dev, uid),
            }
        elif dev.type == "camera":
            out[self._topic("camera", hub, name)] = {
                "name": None,
                "topic": f"edgehub/{hub}/{name}/snapshot",
                **self._base(hub, name, dev, uid),
            }
            out[self._topic("binary_sensor", hub, f"{name}_motion")] = {
                "name": "Motion",
                "device_class": "motion",
                "state_topic": state,
                "value_template": "{{ 'ON' if value_json.motion else 'OFF' }}",
                **self._base(hub, name, dev, f"{uid}_motion"),
            }
        for attr in sorted(self._sensor_attrs.get(name, ())):
            topic, payload = self._sensor(hub, name, dev, attr)
            out[topic] = payload
        return out

    def _sensor(self, hub: str, name: str, dev: Any, attr: str) -> tuple[str, dict[str, Any]]:
        device_class, unit = SENSOR_ATTRS[attr]
        payload: dict[str, Any] = {
            "name": attr.replace("_", " ").capitalize(),
            "state_topic": f"edgehub/{hub}/{name}/state",
            "value_template": f"{{{{ value_json.{attr} }}}}",
            "state_class": "measurement",
            **self._base(hub, name, dev, f"edgehub_{hub}_{name}_{attr}"),
        }
        if device_class:
            payload["device_class"] = device_class
        if unit:
            payload["unit_of_measurement"] = unit
        return self._topic("sensor", hub, f"{name}_{attr}"), payload
