"""The fake world's sensors: real Zigbee2MQTT and Tasmota payloads with realistic timing.

world = World.from_devices(devices, publish, clock, seed=1)   # devices: name -> config dict
world.report("hall_motion", {"occupancy": True})               # what a scenario step does
world.tick()                                                    # clears, drift, periodic reports

Time is the hub's clock (passed in), so a scenario at speed 10 sees a PIR clear after 9 s.
"""

from __future__ import annotations

import json
import logging
import math
import random
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from simulator.bulbs import SimulatedBulb, Subscribe

log = logging.getLogger(__name__)

Publish = Callable[[str, str, bool], None]
"""(topic, payload, retain): how a device puts a message on the broker."""


class WorldError(ValueError):
    """A device or attribute the fake world cannot simulate."""


def sun_elevation(ts: float, latitude: float, longitude: float) -> float:
    """Return the sun's elevation in degrees (a plain NOAA-style approximation, ±1°)."""
    day = time.gmtime(ts).tm_yday
    hours = (ts % 86400) / 3600
    decl = -23.44 * math.cos(math.radians(360 / 365 * (day + 10)))
    solar_time = hours + longitude / 15
    hour_angle = math.radians(15 * (solar_time - 12))
    lat, d = math.radians(latitude), math.radians(decl)
    sin_el = math.sin(lat) * math.sin(d) + math.cos(lat) * math.cos(d) * math.cos(hour_angle)
    return math.degrees(math.asin(max(-1.0, min(1.0, sin_el))))


class VirtualSensor:
    """One battery device on MQTT; subclasses shape its payloads and timing."""

    kind = "sensor"

    def __init__(
        self, name: str, topic: str, fmt: str, publish: Publish, rng: random.Random
    ) -> None:
        self.name, self.topic, self.fmt = name, topic, fmt
        self._publish, self.rng = publish, rng
        self.battery = 100.0
        self.attrs: dict[str, Any] = {}
        self.sent = 0
        self.zone: ZoneInfo | None = None  # the home's time zone (Tasmota stamps local time)

    def _drain(self) -> None:
        # A coin cell lasts a couple of years: a message costs about a thousandth of a percent.
        self.battery = max(1.0, self.battery - 0.001 - self.rng.random() * 0.002)

    def send(self, topic: str, payload: Any, retain: bool) -> None:
        """Publish one message (JSON for dicts) and count it."""
        text = json.dumps(payload) if isinstance(payload, dict) else str(payload)
        self._publish(topic, text, retain)
        self.sent += 1
        self._drain()

    def report(self, attrs: Mapping[str, Any], now: float) -> None:
        """The device reports these attributes now, in its own format."""
        self.attrs.update(attrs)
        if self.fmt == "tasmota":
            self._tasmota(dict(attrs), now)
        else:
            body = {**self.attrs, "battery": round(self.battery), "linkquality": 120}
            self.send(self.topic, body, True)

    def _tasmota(self, attrs: dict[str, Any], now: float) -> None:
        body = {"Time": _local(now, self.zone).strftime("%Y-%m-%dT%H:%M:%S")}
        body.update({_camel(k): v for k, v in attrs.items()})
        self.send(_tasmota_topic(self.topic, "SENSOR"), body, False)

    def tick(self, now: float) -> None:
        """Let time pass (clear occupancy, drift, send periodic reports)."""


class MotionSensor(VirtualSensor):
    """A PIR: occupancy true on movement, cleared after 90 s; movement ignored for 60 s after."""

    kind = "motion"
    clear_after = 90.0
    cooldown = 60.0

    def __init__(self, *a: Any, **kw: Any) -> None:
        super().__init__(*a, **kw)
        self.clear_at: float | None = None
        self.quiet_until = 0.0
        self.ignored = 0

    def movement(self, now: float) -> bool:
        """Someone moves in front of it; return False while it is in its cool-down."""
        if now < self.quiet_until:
            self.ignored += 1
            return False
        self.report({"occupancy": True}, now)
        return True

    def report(self, attrs: Mapping[str, Any], now: float) -> None:
        """Report; occupancy true re-arms the 90 s clear and the 60 s cool-down."""
        attrs = dict(attrs)
        if attrs.get("occupancy") is True:
            self.clear_at, self.quiet_until = now + self.clear_after, now + self.cooldown
            attrs.setdefault("illuminance", self.rng.randint(5, 60))
            attrs.setdefault("voltage", 3005)
        elif attrs.get("occupancy") is False:
            self.clear_at = None
        if self.fmt == "tasmota":
            self.attrs.update(attrs)
            if "occupancy" in attrs:
                on = "ON" if attrs["occupancy"] else "OFF"
                self.send(_tasmota_topic(self.topic, "PIR1"), on, False)
            return
        super().report(attrs, now)

    def tick(self, now: float) -> None:
        """Clear occupancy once nothing moved for clear_after seconds."""
        if self.clear_at is not None and now >= self.clear_at:
            self.clear_at = None
            self.report({"occupancy": False}, now)


class ContactSensor(VirtualSensor):
    """A door or window contact: contact true means closed."""

    kind = "contact"

    def report(self, attrs: Mapping[str, Any], now: float) -> None:
        """Report; on Tasmota a contact is Switch1 (ON = closed)."""
        if self.fmt == "tasmota" and "contact" in attrs:
            self.attrs.update(attrs)
            sw = "ON" if attrs["contact"] else "OFF"
            self.send(_tasmota_topic(self.topic, "SENSOR"), {"Switch1": sw}, False)
            return
        super().report(attrs, now)


class ButtonSensor(VirtualSensor):
    """A remote: each action is followed by the empty action Zigbee2MQTT sends after it."""

    kind = "button"

    def report(self, attrs: Mapping[str, Any], now: float) -> None:
        """Press with attrs["action"] (single, double, hold, release)."""
        action = attrs.get("action", "single")
        if self.fmt == "tasmota":
            body = {"Switch1": {"Action": str(action).upper()}}
            self.send(_tasmota_topic(self.topic, "SENSOR"), body, False)
            return
        body = {"action": action, "battery": round(self.battery), "linkquality": 120}
        self.send(self.topic, body, False)
        if action:
            self.send(self.topic, {"action": ""}, False)


class ClimateSensor(VirtualSensor):
    """Temperature and humidity that drift around a daily cycle; illuminance follows the sun."""

    kind = "sensor"

    def __init__(
        self,
        *a: Any,
        every: float = 300.0,
        location: tuple[float, float] = (52.37, 4.89),
        outdoor: bool = False,
        **kw: Any,
    ) -> None:
        super().__init__(*a, **kw)
        self.every, self.location, self.outdoor = every, location, outdoor
        self.next_at: float | None = None
        self.offset_t = 0.0
        self.offset_h = 0.0
        self.last_tick: float | None = None

    def reading(self, now: float) -> dict[str, Any]:
        """Return what the sensor measures now."""
        local = _local(now, self.zone)
        hour = local.hour + local.minute / 60
        cycle = math.sin((hour - 9) / 24 * 2 * math.pi)
        base_t, amp = (8.0, 5.0) if self.outdoor else (20.5, 1.0)
        elev = sun_elevation(now, *self.location)
        lux = max(0.0, 110000 * math.sin(math.radians(elev))) if elev > 0 else 0.0
        if not self.outdoor:
            lux = lux * 0.004 + 3
        return {
            "temperature": round(base_t + amp * cycle + self.offset_t, 2),
            "humidity": round(min(100.0, max(5.0, 55 - 10 * cycle + self.offset_h)), 2),
            "illuminance": round(lux),
        }

    def tick(self, now: float) -> None:
        """Drift (mean-reverting random walk) and report every `every` seconds."""
        if self.last_tick is not None:
            dt = max(0.0, now - self.last_tick)
            k = min(1.0, dt / 3600)  # revert over about an hour
            self.offset_t += -self.offset_t * k + self.rng.gauss(0, 0.05) * math.sqrt(dt / 60)
            self.offset_h += -self.offset_h * k + self.rng.gauss(0, 0.2) * math.sqrt(dt / 60)
        self.last_tick = now
        if self.next_at is None:
            self.next_at = now + self.rng.uniform(0, min(self.every, 10))
        if now >= self.next_at:
            self.next_at = now + self.every
            self.report(self.reading(now), now)

    def _tasmota(self, attrs: dict[str, Any], now: float) -> None:
        body: dict[str, Any] = {"Time": _local(now, self.zone).strftime("%Y-%m-%dT%H:%M:%S")}
        if "humidity" in attrs:
            body["AM2301"] = {
                "Temperature": attrs.get("temperature"),
                "Humidity": attrs["humidity"],
            }
        elif "temperature" in attrs:
            body["DS18B20"] = {"Id": "0316A2794A1C", "Temperature": attrs["temperature"]}
        if "illuminance" in attrs and self.outdoor:
            body["BH1750"] = {"Illuminance": attrs["illuminance"]}
        body["TempUnit"] = "C"
        self.send(_tasmota_topic(self.topic, "SENSOR"), body, False)

    def report(self, attrs: Mapping[str, Any], now: float) -> None:
        """Report readings (a scenario may force a value, e.g. temperature -0.5)."""
        attrs = dict(attrs)
        if self.fmt == "tasmota":
            self.attrs.update(attrs)
            self._tasmota(attrs, now)
            return
        attrs.pop("illuminance", None) if not self.outdoor else None
        attrs.setdefault("pressure", 1012.3)
        super().report(attrs, now)


_KINDS: dict[str, type[VirtualSensor]] = {
    "motion": MotionSensor,
    "contact": ContactSensor,
    "button": ButtonSensor,
    "sensor": ClimateSensor,
}


def _local(now: float, zone: ZoneInfo | None) -> datetime:
    return datetime.fromtimestamp(now, zone) if zone is not None else datetime.fromtimestamp(now)


def _camel(key: str) -> str:
    return "".join(p.capitalize() for p in key.split("_"))


def _tasmota_topic(topic: str, kind: str) -> str:
    parts = topic.split("/")
    if len(parts) == 3 and parts[0] in ("tele", "stat"):
        return topic  # configured with one exact topic
    prefix = "stat" if kind.startswith("PIR") else "tele"
    return f"{prefix}/{topic}/{kind}"


class World:
    """Every simulated input device of a home, driven by one clock."""

    def __init__(
        self,
        sensors: dict[str, VirtualSensor],
        clock: Callable[[], float],
        bulbs: dict[str, SimulatedBulb] | None = None,
    ) -> None:
        self.sensors = sensors
        self.clock = clock
        self.bulbs = bulbs or {}

    @classmethod
    def from_devices(
        cls,
        devices: Mapping[str, Mapping[str, Any]],
        publish: Publish,
        clock: Callable[[], float],
        *,
        seed: int = 1,
        location: tuple[float, float] = (52.37, 4.89),
        subscribe: Subscribe | None = None,
        tz: str | None = None,
    ) -> World:
        """Build a sensor for every input device, and a bulb for every MQTT light."""
        rng = random.Random(seed)
        sensors: dict[str, VirtualSensor] = {}
        bulbs: dict[str, SimulatedBulb] = {}
        for name, dev in devices.items():
            if dev.get("type") == "light" and dev.get("topic") and subscribe is not None:
                fmt = str(dev.get("format") or "zigbee2mqtt")
                if fmt in ("zigbee2mqtt", "tasmota"):
                    bulb = SimulatedBulb(name, str(dev["topic"]), fmt, publish)
                    for topic in bulb.topics():
                        subscribe(topic, bulb.on_command)
                    bulbs[name] = bulb
                continue
            make = _KINDS.get(str(dev.get("type")))
            if make is None or not dev.get("topic"):
                continue
            fmt = str(dev.get("format") or "zigbee2mqtt")
            if fmt not in ("zigbee2mqtt", "tasmota", "json"):
                log.info("world.skip device=%s format=%s", name, fmt)
                continue
            sub = random.Random(rng.random())
            if make is ClimateSensor:
                outdoor = "garden" in name or "outdoor" in name or dev.get("room") == "garden"
                s: VirtualSensor = ClimateSensor(
                    name, dev["topic"], fmt, publish, sub, location=location, outdoor=outdoor
                )
            else:
                s = make(name, dev["topic"], fmt, publish, sub)
            s.zone = ZoneInfo(tz) if tz else None
            sensors[name] = s
        return cls(sensors, clock, bulbs)

    def sensor(self, name: str) -> VirtualSensor:
        """Return the simulated device called name."""
        try:
            return self.sensors[name]
        except KeyError:
            known = ", ".join(sorted(self.sensors)) or "none"
            raise WorldError(f"no simulated device {name!r} (simulated: {known})") from None

    def report(self, name: str, attrs: Mapping[str, Any]) -> None:
        """Make a device report these attributes now, in its own payload format."""
        self.sensor(name).report(attrs, self.clock())

    def tick(self) -> None:
        """Advance every device to the clock's now."""
        now = self.clock()
        for s in self.sensors.values():
            s.tick(now)


class Ambient:
    """Life in the home for `make run`: walk-bys, doors, button presses, now and then."""

    def __init__(self, world: World, rng: random.Random, mean_gap: float = 8.0) -> None:
        self.world, self.rng, self.mean_gap = world, rng, mean_gap
        self.next_at: float | None = None
        self.door_open: dict[str, float] = {}

    def tick(self) -> str | None:
        """Maybe make something happen; return what, for the story."""
        now = self.world.clock()
        for name, close_at in list(self.door_open.items()):
            if now >= close_at:
                del self.door_open[name]
                self.world.report(name, {"contact": True})
        if self.next_at is None:
            self.next_at = now + 2
        if now < self.next_at:
            return None
        self.next_at = now + self.rng.expovariate(1 / self.mean_gap)
        choices = [s for s in self.world.sensors.values() if s.kind != "sensor"]
        if not choices:
            return None
        s = self.rng.choice(choices)
        if isinstance(s, MotionSensor):
            s.movement(now)
        elif isinstance(s, ContactSensor) and s.name not in self.door_open:
            s.report({"contact": False}, now)
            self.door_open[s.name] = now + self.rng.uniform(3, 12)
        elif isinstance(s, ButtonSensor):
            s.report({"action": self.rng.choice(["single", "double", "hold"])}, now)
        return s.name
