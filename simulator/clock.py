"""The simulation's clock: starts at a chosen time of day and runs `speed` times faster.

It is the hub's clock (Backends.clock), the world's and the runner's, so rule timers,
sensor timing and scenario steps all see one time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo


class ScaledClock:
    """clock() -> epoch seconds: start + (monotonic elapsed) * speed.

    With held=True it reads `start` until release(): the hub starts up at the scenario's
    start time, and the scenario's 0s is the moment the timeline begins.
    """

    def __init__(
        self,
        start: float | None = None,
        speed: float = 1.0,
        monotonic: Callable[[], float] = time.monotonic,
        *,
        held: bool = False,
    ) -> None:
        self.speed = float(speed)
        self._mono = monotonic
        self._m0 = monotonic()
        self.start = time.time() if start is None else float(start)
        self.held = held

    def release(self) -> None:
        """Start running from `start` now (no-op when already running)."""
        if self.held:
            self._m0, self.held = self._mono(), False

    def __call__(self) -> float:
        """Return the simulated epoch time."""
        if self.held:
            return self.start
        return self.start + (self._mono() - self._m0) * self.speed

    def real_delay(self, seconds: float) -> float:
        """Return how many real seconds pass while the clock moves `seconds`."""
        return max(0.0, seconds) / self.speed

    def sleep_until(self, t: float, sleep: Callable[[float], None] = time.sleep) -> None:
        """Sleep (really) until the clock reads t."""
        delay = self.real_delay(t - self())
        if delay > 0:
            sleep(delay)


def start_time(spec: str | None, tz: str = "UTC", now: float | None = None) -> float:
    """Return epoch seconds for "21:00" (today, hub-local), "2026-11-27 21:00", or now (None)."""
    now = time.time() if now is None else now
    if spec is None or str(spec).strip() in ("", "now"):
        return now
    zone = ZoneInfo(tz)
    text = str(spec).strip()
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"):
        try:
            return datetime.strptime(text, fmt).replace(tzinfo=zone).timestamp()
        except ValueError:
            pass
    for fmt in ("%H:%M:%S", "%H:%M"):
        try:
            t = datetime.strptime(text, fmt).time()
        except ValueError:
            continue
        today = datetime.fromtimestamp(now, zone).date()
        day = datetime.combine(today, t, zone)
        return (day if day.timestamp() >= now - 43200 else day + timedelta(days=1)).timestamp()
    raise ValueError(f"expected a start such as 21:00 or 2026-11-27 21:00, got {spec!r}")
