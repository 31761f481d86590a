"""Simulated smart bulbs: they obey commands on MQTT and report their state, as real ones do.

Zigbee2MQTT: commands on <topic>/set ({"state":"ON","brightness":200}), state on <topic>.
Tasmota: cmnd/<t>/POWER and cmnd/<t>/Dimmer, replies on stat/<t>/RESULT.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

Publish = Callable[[str, str, bool], None]
Subscribe = Callable[[str, Callable[[str, bytes], None]], None]


class SimulatedBulb:
    """A dimmable bulb on MQTT; `state` and `brightness` (0-255) are what it shows."""

    kind = "light"

    def __init__(self, name: str, topic: str, fmt: str, publish: Publish) -> None:
        self.name, self.topic, self.fmt, self._publish = name, topic.rstrip("/"), fmt, publish
        self.state = "OFF"
        self.brightness = 254
        self.commands = 0

    def topics(self) -> list[str]:
        """Return the command topics it listens on."""
        if self.fmt == "tasmota":
            return [f"cmnd/{self.topic}/POWER", f"cmnd/{self.topic}/Dimmer"]
        return [f"{self.topic}/set", f"{self.topic}/set/state"]

    def on_command(self, topic: str, payload: bytes) -> None:
        """Obey one command and report the new state."""
        self.commands += 1
        text = payload.decode("utf-8", "replace").strip()
        if self.fmt == "tasmota":
            if topic.endswith("/Dimmer"):
                try:
                    self.brightness = round(float(text) * 2.55)
                    self.state = "ON" if self.brightness else "OFF"
                except ValueError:
                    return
            else:
                self.state = self._next(text.upper())
            body = {"POWER": self.state, "Dimmer": round(self.brightness / 2.55)}
            self._publish(f"stat/{self.topic}/RESULT", json.dumps(body), False)
            return
        try:
            cmd: Any = json.loads(text) if text.startswith("{") else {"state": text}
        except ValueError:
            log.info("bulb.bad_command name=%s payload=%r", self.name, text[:80])
            return
        if "state" in cmd:
            self.state = self._next(str(cmd["state"]).upper())
        if cmd.get("brightness") is not None:
            self.brightness = max(0, min(254, int(float(cmd["brightness"]))))
        body = {"state": self.state, "brightness": self.brightness, "linkquality": 120}
        self._publish(self.topic, json.dumps(body), True)

    def _next(self, want: str) -> str:
        if want == "TOGGLE":
            return "OFF" if self.state == "ON" else "ON"
        return "ON" if want == "ON" else "OFF"

    def tick(self, now: float) -> None:
        """Bulbs do nothing by themselves."""
