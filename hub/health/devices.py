"""Device health: silence (offline/online), availability topics, low battery, stuck and chattering.

Pure and clock-injected like the rule engine: `observe(device, attrs, now)` and `tick(now)` return
the Events to raise, so a simulated week runs in milliseconds and tests need no sleeping.
"""

from __future__ import annotations

import logging
import math
from collections import deque
from dataclasses import dataclass, field
from itertools import pairwise
from typing import Any

from rules.events import Event

log = logging.getLogger(__name__)

# Attributes whose flapping is "chattering" (two-state inputs); numbers are watched for "stuck".
BINARY_ATTRIBUTES = frozenset(
    {"contact", "occupancy", "water_leak", "smoke", "tamper", "vibration"}
)
# Not illuminance: a sensor in a dark closet reads 0 all day while the others move.
NUMERIC_ATTRIBUTES = frozenset({"temperature", "humidity", "pressure", "co2"})


@dataclass(frozen=True, slots=True)
class DevicePolicy:
    """How one device is judged; every duration is in seconds."""

    expect_every: float | None = None  # None: learn it from the gaps between messages
    offline_after: float = 3.0  # missed intervals before the device is offline
    min_offline: float = 120.0  # never call a device offline sooner than this
    learn_min_gaps: int = 5  # gaps to see before a learned interval is trusted
    battery_low: float | None = 20.0  # percent; None disables the check
    battery_rearm: float = 5.0  # percent above the threshold that re-arms the warning
    chatter_changes: int = 6  # this many changes of a two-state attribute ...
    chatter_window: float = 60.0  # ... within this window is chattering
    chatter_quiet: float = 300.0  # calm time after which chattering may be reported again
    stuck_after: float = 6 * 3600.0  # unchanged this long while a peer's value moved
    stuck_min_reports: int = 6  # and at least this many identical reports


@dataclass(slots=True)
class _Track:
    """What the monitor remembers about one device."""

    policy: DevicePolicy
    last_seen: float
    seen_any: bool = False
    online: bool = True
    offline_reason: str | None = None
    offline_since: float | None = None
    gaps: deque[float] = field(default_factory=lambda: deque(maxlen=50))
    battery_warned: bool = False
    last_values: dict[str, Any] = field(default_factory=dict)
    changes: dict[str, deque[float]] = field(default_factory=dict)
    chattering: dict[str, float] = field(default_factory=dict)  # attribute -> last change
    value_since: dict[str, float] = field(default_factory=dict)  # attribute -> time of last change
    same_reports: dict[str, int] = field(default_factory=dict)
    stuck: set[str] = field(default_factory=set)


def _upper_quantile(values: list[float], q: float = 0.9) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


class DeviceMonitor:
    """Watches input devices through their messages and raises device.* events."""

    def __init__(self, default_policy: DevicePolicy | None = None) -> None:
        self.default_policy = default_policy or DevicePolicy()
        self._tracks: dict[str, _Track] = {}

    def add_device(self, device: str, now: float, policy: DevicePolicy | None = None) -> None:
        """Register a configured device; it gets a full grace period from now."""
        self._tracks[device] = _Track(policy=policy or self.default_policy, last_seen=now)

    def seed(self, device: str, times: list[float]) -> None:
        """Learn a device's interval from the times of its past messages (from the journal)."""
        track = self._tracks.get(device)
        if track is None:
            return
        ordered = sorted(times)
        track.gaps.extend(b - a for a, b in pairwise(ordered) if b > a)

    def expected_interval(self, device: str) -> float | None:
        """Return the configured or learned reporting interval of a device, if known yet."""
        track = self._tracks.get(device)
        if track is None:
            return None
        if track.policy.expect_every is not None:
            return track.policy.expect_every
        if len(track.gaps) < track.policy.learn_min_gaps:
            return None
        # An upper quantile, not the median: event-driven sensors send bursts, then calm.
        return _upper_quantile(list(track.gaps))

    def offline_deadline(self, device: str) -> float | None:
        """Return the time at which a silent device will be reported offline."""
        track = self._tracks.get(device)
        interval = self.expected_interval(device)
        if track is None or interval is None:
            return None
        policy = track.policy
        return track.last_seen + max(policy.min_offline, policy.offline_after * interval)

    def is_online(self, device: str) -> bool | None:
        """Return whether a device is online (None when unknown)."""
        track = self._tracks.get(device)
        return None if track is None else track.online

    def offline_reason(self, device: str) -> str | None:
        """Return why a device is offline ("silent", "availability", ...), None when online."""
        track = self._tracks.get(device)
        return None if track is None else track.offline_reason

    def offline_devices(self) -> list[str]:
        """Return the names of devices currently offline, sorted."""
        return sorted(d for d, t in self._tracks.items() if not t.online)

    def observe(self, device: str, attrs: dict[str, Any], now: float) -> list[Event]:
        """Take one message's attributes from a device; return the events it raises."""
        track = self._tracks.get(device)
        if track is None:
            track = self._tracks[device] = _Track(policy=self.default_policy, last_seen=now)
        events: list[Event] = []
        if not track.online:
            events.append(self._back_online(device, track, now))
        elif track.seen_any:
            gap = now - track.last_seen
            if gap > 0:
                track.gaps.append(gap)
        track.seen_any = True
        track.last_seen = now
        events += self._battery(device, track, attrs, now)
        for attr, value in attrs.items():
            if attr == "online":
                continue  # our own availability flag, not a reading
            if attr in BINARY_ATTRIBUTES:
                events += self._chatter(device, track, attr, value, now)
            elif attr in NUMERIC_ATTRIBUTES and isinstance(value, int | float):
                events += self._stuck(device, track, attr, value, now)
        return events

    def availability(
        self, device: str, online: bool, now: float, reason: str = "availability"
    ) -> list[Event]:
        """Take an availability message (Zigbee2MQTT, Tasmota LWT, Shelly online)."""
        track = self._tracks.get(device)
        if track is None:
            track = self._tracks[device] = _Track(policy=self.default_policy, last_seen=now)
        if online and not track.online:
            track.last_seen = now
            return [self._back_online(device, track, now)]
        if not online and track.online:
            return [self._go_offline(device, track, now, reason=reason)]
        return []

    def tick(self, now: float) -> list[Event]:
        """Check every device for silence at time now; return the offline events."""
        events = []
        for device, track in self._tracks.items():
            if not track.online:
                continue
            deadline = self.offline_deadline(device)
            if deadline is not None and now >= deadline:
                events.append(self._go_offline(device, track, now, reason="silent"))
        return events

    def _go_offline(self, device: str, track: _Track, now: float, reason: str) -> Event:
        track.online = False
        track.offline_reason = reason
        track.offline_since = now
        data = {
            "device": device,
            "reason": reason,
            "last_seen": track.last_seen if track.seen_any else None,
            "silent_for": round(now - track.last_seen, 1),
            "expected_every": self.expected_interval(device),
        }
        log.info("device offline device=%s reason=%s", device, reason)
        return Event(kind="device.offline", source=device, data=data, ts=now)

    def _back_online(self, device: str, track: _Track, now: float) -> Event:
        offline_for = now - (track.offline_since or now)
        track.online = True
        track.offline_reason = None
        track.offline_since = None
        log.info("device online device=%s offline_for=%.0f", device, offline_for)
        data = {"device": device, "offline_for": round(offline_for, 1)}
        return Event(kind="device.online", source=device, data=data, ts=now)

    def _battery(
        self, device: str, track: _Track, attrs: dict[str, Any], now: float
    ) -> list[Event]:
        threshold = track.policy.battery_low
        level = attrs.get("battery")
        flag = attrs.get("battery_low")
        if threshold is not None and level is None and isinstance(flag, bool):
            level = 0 if flag else 100  # devices that only say "low" (Zigbee2MQTT battery_low)
        if threshold is None or isinstance(level, bool) or not isinstance(level, int | float):
            return []
        if level <= threshold and not track.battery_warned:
            track.battery_warned = True
            data = {"device": device, "battery": level, "threshold": threshold}
            return [Event(kind="device.battery_low", source=device, data=data, ts=now)]
        if level > threshold + track.policy.battery_rearm:
            track.battery_warned = False  # a new battery: warn again next time
        return []

    def _chatter(
        self, device: str, track: _Track, attr: str, value: Any, now: float
    ) -> list[Event]:
        previous = track.last_values.get(attr, value)
        track.last_values[attr] = value
        if previous == value:
            return []
        policy = track.policy
        changes = track.changes.setdefault(attr, deque(maxlen=policy.chatter_changes * 4))
        changes.append(now)
        while changes and changes[0] < now - policy.chatter_window:
            changes.popleft()
        last_flap = track.chattering.get(attr)
        if last_flap is not None:
            if now - last_flap < policy.chatter_quiet:
                track.chattering[attr] = now  # still flapping: stay quiet, extend the episode
                return []
            del track.chattering[attr]
        if len(changes) < policy.chatter_changes:
            return []
        track.chattering[attr] = now
        data = {
            "device": device,
            "attribute": attr,
            "changes": len(changes),
            "window": policy.chatter_window,
        }
        log.info("device chattering device=%s attribute=%s changes=%d", device, attr, len(changes))
        return [Event(kind="device.chattering", source=device, data=data, ts=now)]

    def _stuck(
        self, device: str, track: _Track, attr: str, value: float, now: float
    ) -> list[Event]:
        if track.last_values.get(attr) != value or attr not in track.value_since:
            track.last_values[attr] = value
            track.value_since[attr] = now
            track.same_reports[attr] = 0
            track.stuck.discard(attr)
            return []
        track.same_reports[attr] += 1
        since = track.value_since[attr]
        policy = track.policy
        if (
            attr in track.stuck
            or now - since < policy.stuck_after
            or track.same_reports[attr] < policy.stuck_min_reports
        ):
            return []
        # Only peers that are alive and moved meanwhile prove this one is stuck, not the weather.
        peers = [
            name
            for name, other in self._tracks.items()
            if name != device and other.online and other.value_since.get(attr, -math.inf) > since
        ]
        if not peers:
            return []
        track.stuck.add(attr)
        data = {
            "device": device,
            "attribute": attr,
            "value": value,
            "unchanged_for": round(now - since, 1),
            "peers": sorted(peers),
        }
        log.info("device stuck device=%s attribute=%s value=%s", device, attr, value)
        return [Event(kind="device.stuck", source=device, data=data, ts=now)]
