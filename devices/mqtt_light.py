"""Lights reached over MQTT: Zigbee2MQTT, Tasmota and Shelly (gen1 and gen2) formats.

An MqttLight owns no client: it is given a publish(topic, payload) callable, tells which
topics to subscribe with topics(), and reads the device's reported state from on_message().
"""

from __future__ import annotations

import itertools
import json
import logging
from collections.abc import Callable
from typing import Any

from devices.errors import LightError
from devices.lights import Light, LightState, from_255, pct_to_255

log = logging.getLogger(__name__)

Publisher = Callable[[str, str], None]
FORMATS = ("zigbee2mqtt", "tasmota", "shelly")
_rpc_ids = itertools.count(1)


def _text(payload: bytes | str) -> str:
    if isinstance(payload, bytes):
        return payload.decode("utf-8", errors="replace").strip()
    return payload.strip()


def _json(payload: bytes | str) -> Any:
    try:
        return json.loads(_text(payload))
    except ValueError:
        return None


def _onoff(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        v = value.strip().lower()
        if v in ("on", "true", "1"):
            return True
        if v in ("off", "false", "0"):
            return False
    return None


def _number(value: Any) -> float | None:
    try:
        n = float(value)
    except (TypeError, ValueError):
        return None
    return n if n == n else None  # NaN is not a number a light reports


class MqttLight(Light):
    """A light commanded and read back over MQTT in one of FORMATS."""

    def __init__(
        self,
        name: str,
        topic: str,
        fmt: str,
        publish: Publisher,
        *,
        dimmable: bool | None = None,
        optimistic: bool = False,
        relay_index: int = 0,
    ) -> None:
        super().__init__(name)
        if fmt not in FORMATS:
            raise LightError(f"{name}: unknown light format {fmt!r} (one of {', '.join(FORMATS)})")
        self.topic = topic.rstrip("/")
        self.fmt = fmt
        self._publish = publish
        self.optimistic = optimistic
        self.relay_index = relay_index
        self.gen = 1 if self.topic.startswith("shellies/") else 2
        self.dimmable = (fmt != "shelly") if dimmable is None else dimmable
        self.reported = False  # True once the device has told us its state

    def topics(self) -> list[str]:
        """Return the topics to subscribe for the device's reported state."""
        t, i = self.topic, self.relay_index
        if self.fmt == "zigbee2mqtt":
            return [t]
        if self.fmt == "tasmota":
            return [f"stat/{t}/RESULT", f"stat/{t}/POWER", f"tele/{t}/STATE"]
        if self.gen == 1:
            return [f"{t}/relay/{i}"]
        return [f"{t}/status/switch:{i}", f"{t}/events/rpc"]

    def on_message(self, topic: str, payload: bytes | str) -> bool:
        """Read a reported state; return True when the message was understood."""
        try:
            parsed = self._decode(topic, payload)
        except Exception:  # a device's garbage must never break the hub
            parsed = None
        if parsed is None:
            log.debug("light %s ignored payload on %s", self.name, topic)
            return False
        on, brightness = parsed
        self.reported = True
        cur = self._state
        self._set_state(
            LightState(
                cur.on if on is None else on,
                cur.brightness if brightness is None else brightness,
            )
        )
        return True

    def _decode(self, topic: str, payload: bytes | str) -> tuple[bool | None, float | None] | None:
        t, i = self.topic, self.relay_index
        if self.fmt == "zigbee2mqtt":
            if topic != t:
                return None
            d = _json(payload)
            if not isinstance(d, dict) or ("state" not in d and "brightness" not in d):
                return None
            on = _onoff(d.get("state"))
            b = _number(d.get("brightness"))
            return on, None if b is None else from_255(b)
        if self.fmt == "tasmota":
            if topic == f"stat/{t}/POWER":
                on = _onoff(_text(payload))
                return None if on is None else (on, None)
            d = _json(payload)
            if not isinstance(d, dict):
                return None
            key = "POWER" if "POWER" in d else f"POWER{i + 1}"
            on = _onoff(d.get(key))
            dim = _number(d.get("Dimmer"))
            if on is None and dim is None:
                return None
            return on, None if dim is None else max(0.0, min(100.0, dim))
        if self.gen == 1:
            on = _onoff(_text(payload)) if topic == f"{t}/relay/{i}" else None
            return None if on is None else (on, None)
        d = _json(payload)
        if not isinstance(d, dict):
            return None
        if topic.endswith("/events/rpc"):
            d = (d.get("params") or {}).get(f"switch:{i}")
            if not isinstance(d, dict):
                return None
        out = d.get("output")
        return (out, None) if isinstance(out, bool) else None

    def toggle(self, transition: float | None = None) -> None:
        """Toggle on the device itself, which knows its state better than we may."""
        if self.optimistic:
            super().toggle(transition)
            return
        self._send("toggle", None, transition)

    def command(
        self, state: str, brightness: float | None = None, transition: float | None = None
    ) -> None:
        """Carry out "on" / "off" / "toggle" with optional brightness and transition."""
        if state.lower() == "toggle" and brightness is None:
            self.toggle(transition)
        else:
            super().command(state, brightness, transition)

    def _apply(
        self, on: bool, brightness: float, transition: float | None, level_given: bool = False
    ) -> None:
        level = brightness if on and self.dimmable and level_given else None
        self._send("on" if on else "off", level, transition)
        if self.optimistic:
            self._set_state(LightState(on, brightness))

    def _send(self, state: str, brightness: float | None, transition: float | None) -> None:
        t, i = self.topic, self.relay_index
        if self.fmt == "zigbee2mqtt":
            cmd: dict[str, Any] = {"state": state.upper()}
            if brightness is not None:
                cmd["brightness"] = pct_to_255(brightness)
            if transition:
                cmd["transition"] = transition
            self._publish(f"{t}/set", json.dumps(cmd))
        elif self.fmt == "tasmota":
            # Dimmer also switches the light on, so send it alone when turning on at a level.
            if brightness is not None and state == "on":
                self._publish(f"cmnd/{t}/Dimmer", str(round(brightness)))
            else:
                self._publish(f"cmnd/{t}/POWER", state.upper())
        elif self.gen == 1:
            self._publish(f"{t}/relay/{i}/command", state)
        else:
            method = "Switch.Toggle" if state == "toggle" else "Switch.Set"
            params: dict[str, Any] = {"id": i}
            if state != "toggle":
                params["on"] = state == "on"
            msg = {"id": next(_rpc_ids), "src": "edgehub", "method": method, "params": params}
            self._publish(f"{t}/rpc", json.dumps(msg))
