"""A synthetic week of temperature readings with one injected fault, for tests and bench/anomaly.py.

Daily cycle, weather drift (a mean-reverting random walk), a day-to-day change of the cycle's
amplitude (sun versus clouds), sensor noise and resolution, a few lost reports, and one fault.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from hub.health.anomaly import Anomaly, AnomalyDetector

DAY = 86400.0
WEEK_START = 1_780_272_000.0  # 2026-06-01 00:00 UTC, a midnight so days line up with dates


@dataclass(frozen=True, slots=True)
class Climate:
    """The shape of one place's temperatures, in °C."""

    mean: float
    amplitude: float  # half the daily swing
    drift_sd: float  # spread of the weather's slow wander
    drift_days: float  # how long the weather takes to revert
    noise_sd: float
    resolution: float


INDOOR = Climate(
    mean=20.5, amplitude=2.5, drift_sd=0.7, drift_days=1.5, noise_sd=0.08, resolution=0.01
)
OUTDOOR = Climate(
    mean=10.0, amplitude=5.0, drift_sd=2.5, drift_days=2.0, noise_sd=0.15, resolution=0.1
)


@dataclass(frozen=True, slots=True)
class Fault:
    """The injected fault: when it starts and when its effect has died away."""

    kind: str
    start: float
    end: float


@dataclass(frozen=True, slots=True)
class WeekResult:
    """How the detector did on one simulated week."""

    alarms: list[Anomaly]
    false_alarms: int
    delay: float | None  # seconds from the fault's start to its first alarm; None if missed


def simulated_week(
    climate: Climate = INDOOR,
    fault: Literal["heater", "drop", "none"] = "heater",
    seed: int = 1,
    step: float = 300.0,
    days: int = 7,
    fault_day: int = 4,
) -> tuple[list[tuple[float, float]], Fault | None]:
    """Return ([(ts, value)] every `step` seconds, the fault) for a simulated week."""
    rng = random.Random(seed)
    n = int(days * DAY / step)
    decay = math.exp(-step / (climate.drift_days * DAY))
    kick = climate.drift_sd * math.sqrt(1 - decay * decay)
    drift = rng.gauss(0, climate.drift_sd)
    amplitudes = [climate.amplitude * (1 + 0.2 * rng.gauss(0, 1)) for _ in range(days + 1)]
    start = WEEK_START + fault_day * DAY + rng.uniform(10, 16) * 3600
    spec: Fault | None = None
    if fault == "heater":
        spec = Fault("heater", start, start + 2 * 3600 + 4 * 3600)
    elif fault == "drop":
        spec = Fault("drop", start, start + 3600)
    readings = []
    for i in range(n):
        ts = WEEK_START + i * step
        day, hour = divmod((ts - WEEK_START) / 3600, 24)
        # The amplitude changes smoothly from one day to the next, not at midnight.
        amp = amplitudes[int(day)] + (amplitudes[int(day) + 1] - amplitudes[int(day)]) * hour / 24
        drift = drift * decay + kick * rng.gauss(0, 1)
        value = climate.mean + drift - amp * math.cos(2 * math.pi * (hour - 5) / 24)
        value += rng.gauss(0, climate.noise_sd)
        if spec is not None and spec.kind == "heater" and ts >= spec.start:
            # Stuck on for two hours (+6 °C), then switched off: the room cools back.
            t = ts - spec.start
            value += 6 * t / 7200 if t < 7200 else 6 * math.exp(-(t - 7200) / 3600)
        if spec is not None and spec.kind == "drop" and spec.start <= ts < spec.end:
            value = -40.0
        if rng.random() < 0.02:
            continue  # a lost report
        readings.append((ts, round(value / climate.resolution) * climate.resolution))
    return readings, spec


def run_week(
    detector: AnomalyDetector, readings: Iterable[tuple[float, float]], fault: Fault | None
) -> WeekResult:
    """Feed a week to a detector; count false alarms and the delay to catch the fault."""
    alarms = [a for ts, v in readings if (a := detector.update(v, ts)) is not None]
    caught = [a for a in alarms if fault is not None and fault.start <= a.ts <= fault.end]
    false = len(alarms) - len(caught)
    delay = caught[0].ts - fault.start if caught and fault is not None else None
    return WeekResult(alarms=alarms, false_alarms=false, delay=delay)
