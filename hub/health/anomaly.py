"""A robust, streaming anomaly detector for one numeric sensor, aware of the time of day.

The expected value is a time-of-day profile (the median, over recent days, of each half hour's
mean) shifted by a local offset (the median deviation from the profile over the last hours, which
follows the weather). The band is that expectation plus or minus `threshold` robust standard
deviations (1.4826 * MAD) of recent residuals. A value must stay out of the band for `confirm`
samples to raise an anomaly; an episode is raised once and ends after `clear` samples back inside.
Out-of-band values are not learned, so a fault does not teach the detector that it is normal.
"""

from __future__ import annotations

import bisect
import logging
import statistics
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

log = logging.getLogger(__name__)

_MAD_TO_SIGMA = 1.4826


@dataclass(frozen=True, slots=True)
class AnomalyPolicy:
    """Tuning of the detector; durations in seconds, min_scale in the sensor's unit."""

    threshold: float = 5.0  # robust z-score outside which a value is anomalous
    confirm: int = 2  # consecutive out-of-band samples before raising
    clear: int = 3  # consecutive in-band samples that end an episode
    warmup: int = 24  # samples seen before any alarm
    cold_factor: float = 3.0  # threshold multiplier until the time-of-day profile is ready
    bin_seconds: float = 1800.0  # width of a time-of-day slot
    profile_days: int = 14  # days of history each slot keeps
    offset_window: float = 3 * 3600.0  # how far back the weather offset looks
    change_lag: float = 1800.0  # the change score compares with the values this long ago
    residuals: int = 576  # residuals kept for the scale (two days at 5-minute reports)
    min_scale: float = 0.05  # floor of the robust sigma: sensor resolution and noise
    max_episode: float = 6 * 3600.0  # after this long out of band, accept it as the new normal
    min_interval: float = 30.0  # readings closer together than this are skipped


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One anomalous episode's first confirmed value, with the band it left."""

    ts: float
    value: float
    expected: float
    low: float
    high: float
    score: float
    kind: str = "level"  # "level": outside the band; "change": climbing or falling too fast

    def to_data(self) -> dict[str, Any]:
        """Return the JSON-ready data of a sensor.anomaly event."""
        return {
            "value": self.value,
            "expected": round(self.expected, 3),
            "band": [round(self.low, 3), round(self.high, 3)],
            "score": round(self.score, 2),
            "kind": self.kind,
        }


class _RobustScale:
    """A bounded window of residuals and their robust sigma (1.4826 * MAD)."""

    def __init__(self, size: int, floor: float) -> None:
        self._window: deque[float] = deque(maxlen=size)
        self._sorted: list[float] = []
        self._floor = floor
        self._cache: float | None = None
        self._age = 0

    def add(self, residual: float) -> None:
        if len(self._window) == self._window.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._window[0])]
        self._window.append(residual)
        bisect.insort(self._sorted, residual)
        self._age += 1

    def sigma(self) -> float:
        values = self._sorted
        if len(values) < 3:
            return max(self._floor, 1.0)
        # The MAD of hundreds of residuals moves slowly: recompute it every few samples.
        if self._cache is None or self._age >= 6:
            mid = statistics.median(values)
            mad = statistics.median(abs(r - mid) for r in values)
            self._cache = max(self._floor, _MAD_TO_SIGMA * mad)
            self._age = 0
        return self._cache


class AnomalyDetector:
    """Streaming detector for one sensor attribute; feed it with update(value, now)."""

    def __init__(self, policy: AnomalyPolicy | None = None, tz: tzinfo | None = None) -> None:
        self.policy = policy or AnomalyPolicy()
        self.tz = tz or UTC
        self._bins = max(1, round(86400 / self.policy.bin_seconds))
        # Per slot: the means of past days (and their median), and the running (sum, count) now.
        self._profile: list[deque[float]] = [
            deque(maxlen=self.policy.profile_days) for _ in range(self._bins)
        ]
        self._medians: list[float | None] = [None] * self._bins
        self._open: dict[int, tuple[float, int]] = {}
        self._pending: list[tuple[int, float]] = []  # closed slots waiting for a day's mean
        self._day: deque[tuple[float, float]] = deque()
        self._day_sum = 0.0
        self._first: float | None = None
        self._recent: deque[tuple[float, float, float]] = deque()  # (ts, value, time of day)
        self._level = _RobustScale(self.policy.residuals, self.policy.min_scale)
        self._change = _RobustScale(self.policy.residuals, self.policy.min_scale)
        self._ready = False
        self._seen = 0
        self._last: float | None = None
        self._out = 0
        self._in = 0
        self._episode_start: float | None = None

    @property
    def in_anomaly(self) -> bool:
        """Whether an anomalous episode is under way."""
        return self._episode_start is not None

    @property
    def profile_ready(self) -> bool:
        """Whether every time-of-day slot has at least one finished day."""
        if not self._ready:
            self._ready = all(m is not None for m in self._medians)
        return self._ready

    def expected(self, now: float) -> tuple[float, float] | None:
        """Return (expected value, robust sigma) at time now, or None before any history."""
        tod = self._time_of_day(now)
        if not self._recent:
            return None
        offset = statistics.median(v - self._seasonal(t) for _, v, t in self._recent)
        return self._seasonal(tod) + offset, self._level.sigma()

    def _change_residual(self, value: float, now: float) -> float | None:
        """Return the deseasonalised change since `change_lag` ago (None without history)."""
        lag = self.policy.change_lag
        past = [
            v - self._seasonal(t) for ts, v, t in self._recent if now - 2 * lag <= ts <= now - lag
        ]
        if len(past) < 2:
            return None
        return value - self._seasonal(self._time_of_day(now)) - statistics.median(past)

    def update(self, value: float, now: float) -> Anomaly | None:
        """Take one reading at time now; return an Anomaly when an episode starts."""
        policy = self.policy
        # A chatty sensor (every second) would grow the windows and the cost without telling
        # more about the daily cycle: take at most one reading per min_interval.
        if self._last is not None and now - self._last < policy.min_interval:
            return None
        self._last = now
        self._expire(now)
        prediction = self.expected(now)
        self._seen += 1
        if prediction is None:
            self._learn(value, now)
            return None
        expected, scale = prediction
        residual = value - expected
        change = self._change_residual(value, now)
        score = abs(residual) / scale
        kind = "level"
        # A fast climb (a heater stuck on) shows in the change long before it leaves the band.
        if change is not None and abs(change) / self._change.sigma() > score:
            kind = "change"
            score = abs(change) / self._change.sigma()
            expected, scale = value - change, self._change.sigma()
        # Until a whole day is profiled the daily cycle looks like a trend: only gross faults count.
        threshold = policy.threshold
        if not self.profile_ready:
            threshold *= policy.cold_factor
        if score <= threshold:
            self._out = 0
            self._in += 1
            if self._episode_start is not None and self._in >= policy.clear:
                log.info("anomaly ended after %.0fs", now - self._episode_start)
                self._episode_start = None
            self._learn(value, now, residual, change)
            return None
        self._in = 0
        self._out += 1
        if self._episode_start is not None:
            if now - self._episode_start >= policy.max_episode:
                # A lasting change (a moved sensor, a new season): start again from here.
                self._recent.clear()
                self._episode_start = None
                self._out = 0
                self._learn(value, now)
            return None
        if self._out < policy.confirm or self._seen <= policy.warmup:
            return None
        self._episode_start = now
        band = threshold * scale
        return Anomaly(now, value, expected, expected - band, expected + band, score, kind)

    def _time_of_day(self, now: float) -> float:
        dt = datetime.fromtimestamp(now, self.tz)
        return dt.hour * 3600 + dt.minute * 60 + dt.second + dt.microsecond / 1e6

    def _seasonal(self, tod: float) -> float:
        """Return the profile at a time of day, interpolated between slot centres."""
        if not self.profile_ready:
            return 0.0
        pos = tod / self.policy.bin_seconds - 0.5
        lo = int(pos // 1) % self._bins
        hi = (lo + 1) % self._bins
        frac = pos - (pos // 1)
        a = self._medians[lo]
        b = self._medians[hi]
        assert a is not None and b is not None
        return a + (b - a) * frac

    def _expire(self, now: float) -> None:
        horizon = now - self.policy.offset_window
        while self._recent and self._recent[0][0] < horizon:
            self._recent.popleft()

    def _learn(
        self, value: float, now: float, residual: float | None = None, change: float | None = None
    ) -> None:
        tod = self._time_of_day(now)
        self._recent.append((now, value, tod))
        if residual is not None:
            self._level.add(residual)
        if change is not None:
            self._change.add(change)
        self._day.append((now, value))
        self._day_sum += value
        while self._day[0][0] <= now - 86400:
            self._day_sum -= self._day.popleft()[1]
        if self._first is None:
            self._first = now
        slot = int(tod // self.policy.bin_seconds) % self._bins
        # A slot's mean joins the profile once the clock has moved on to another slot. Slots hold
        # the shape only (the slot mean less the day's mean): the weather moves the level from
        # one day to the next, and the median of levels from different days would be jagged.
        for other in [o for o in self._open if o != slot]:
            total, count = self._open.pop(other)
            self._pending.append((other, total / count))
        if self._pending and now - self._first >= 86400 - self.policy.bin_seconds:
            day_mean = self._day_sum / len(self._day)
            for other, mean in self._pending:
                self._profile[other].append(mean - day_mean)
                self._medians[other] = statistics.median(self._profile[other])
            self._pending.clear()
        total, count = self._open.get(slot, (0.0, 0))
        self._open[slot] = (total + value, count + 1)
