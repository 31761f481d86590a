"""Anomaly detector on simulated weeks: false alarms per week, delay to catch the fault, cost.

Run: .venv/bin/python bench/anomaly.py [--weeks 50]
Each week: 5-minute readings with a daily cycle, weather drift, day-to-day amplitude change,
sensor noise and resolution, 2 % lost reports, and (unless "none") one fault on day 5:
"heater" = +6 °C ramp over 2 h (a heater stuck on), then cooling back; "drop" = the sensor reads
-40 °C for an hour. A false alarm is any alarm outside the fault's window.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

# bench/rules.py would shadow the `rules` package: import from the repository, not from bench/.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

from hub.config import validate_config  # noqa: E402
from hub.health.anomaly import AnomalyDetector  # noqa: E402
from hub.health.component import HealthComponent  # noqa: E402
from hub.health.simweek import INDOOR, OUTDOOR, run_week, simulated_week  # noqa: E402

CASES = [
    ("indoor 18-23 °C", INDOOR, "heater"),
    ("indoor 18-23 °C", INDOOR, "drop"),
    ("indoor 18-23 °C", INDOOR, "none"),
    ("outdoor 5-15 °C", OUTDOOR, "drop"),
    ("outdoor 5-15 °C", OUTDOOR, "none"),
]


def main() -> None:
    """Print one table row per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weeks", type=int, default=50, help="seeds per case")
    args = parser.parse_args()
    print(
        f"{'case':<28} {'weeks':>5} {'false/week':>10} {'worst week':>10} "
        f"{'caught':>7} {'delay p50':>9} {'p90':>6} {'max':>6} {'us/reading':>10}"
    )
    for label, climate, fault in CASES:
        false_alarms, delays, caught, readings_n, spent = [], [], 0, 0, 0.0
        for seed in range(1, args.weeks + 1):
            readings, spec = simulated_week(climate, fault, seed=seed)
            t0 = time.perf_counter()
            result = run_week(AnomalyDetector(), readings, spec)
            spent += time.perf_counter() - t0
            readings_n += len(readings)
            false_alarms.append(result.false_alarms)
            if result.delay is not None:
                caught += 1
                delays.append(result.delay / 60)
        row = f"{label + ' ' + fault:<28} {args.weeks:>5} {statistics.mean(false_alarms):>10.2f} "
        row += f"{max(false_alarms):>10d} "
        if fault == "none":
            row += f"{'-':>7} {'-':>9} {'-':>6} {'-':>6} "
        else:
            delays.sort()
            p90 = delays[min(len(delays) - 1, int(0.9 * len(delays)))]
            row += f"{caught:>3}/{args.weeks:<3} {statistics.median(delays):>7.0f}m "
            row += f"{p90:>5.0f}m {delays[-1]:>5.0f}m "
        row += f"{1e6 * spent / readings_n:>10.0f}"
        print(row)
    print(f"one simulated week: {spent / args.weeks * 1000:.0f} ms (last case)")
    print(f"health component: {component_cost():.1f} us per state event at 1,000 events/s")
    print(f"start-up replay from the journal: {replay_cost():.0f} ms per sensor (2,016 readings)")


def replay_cost(sensors: int = 5) -> float:
    """Return the start-up cost of reading and replaying a week of one sensor's readings."""
    import tempfile

    from hub.store import Store
    from rules.events import Event

    with tempfile.TemporaryDirectory() as tmp:
        readings, _ = simulated_week(INDOOR, "none", seed=1)
        shift = (time.time() - 8 * 86400 - readings[0][0]) // 86400 * 86400
        store = Store(tmp).open()
        devices = {}
        for n in range(sensors):
            name = f"sensor_{n}"
            devices[name] = {"type": "sensor", "topic": f"tele/{name}/SENSOR", "format": "tasmota"}
            for ts, v in readings:
                store.append(Event("state", name, {"temperature": v}, ts=ts + shift))
        store.flush()
        store.close()
        health = HealthComponent(validate_config({"devices": devices}))
        t0 = time.perf_counter()
        health._learn_history(Path(tmp) / "edgehub.db")
        return 1000 * (time.perf_counter() - t0) / sensors


def component_cost(n: int = 100_000) -> float:
    """Return the health component's on_event cost per state event (10 sensors, 1,000 ev/s)."""
    from rules.events import Event

    health = HealthComponent(validate_config({}))
    events = [
        Event(
            "state",
            f"sensor_{i % 10}",
            {"temperature": 20 + (i % 7) * 0.1, "battery": 90},
            ts=1_780_000_000 + i / 1000,
        )
        for i in range(n)
    ]
    t0 = time.perf_counter()
    for ev in events:
        health.on_event(ev)
    return 1e6 * (time.perf_counter() - t0) / n


if __name__ == "__main__":
    main()
