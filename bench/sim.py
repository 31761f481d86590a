"""Simulator figures: wall and CPU time of each example scenario, and the sim's round trip.

    .venv/bin/python bench/sim.py [--presses 30]

Round trip: a simulated Zigbee button press published on the broker -> hub -> rule
hall_button -> GPIO hall light toggled -> its retained state heard by the observer (real ms).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hub.broker import free_port  # noqa: E402
from hub.cli.sim import Simulation  # noqa: E402
from hub.config import load_config  # noqa: E402
from simulator.scenario import load_scenario  # noqa: E402


def cpu() -> float:
    """CPU seconds of this process (all threads: hub, cameras, classifier, observer)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def scenarios(config) -> None:
    """Print wall and CPU time per example scenario."""
    print("| scenario | speed | wall s | CPU s | expectations |")
    print("| --- | --- | --- | --- | --- |")
    for path in sorted((ROOT / "examples/home/scenarios").glob("*.yaml")):
        sc = load_scenario(path)
        config.broker.port = free_port()
        w0, c0 = time.monotonic(), cpu()
        with Simulation(config, speed=sc.speed, start=sc.start, out=lambda s: None) as sim:
            rep = sim.runner.run(sc)
        wall, used = time.monotonic() - w0, cpu() - c0
        held = f"{len(rep.passed)}/{len(rep.passed) + len(rep.failures)}"
        print(f"| {path.stem} | {sc.speed:g} | {wall:.1f} | {used:.1f} | {held} |")


def round_trip(config, presses: int) -> None:
    """Print button -> GPIO light -> observer latency percentiles in real ms."""
    config.broker.port = free_port()
    times = []
    with Simulation(config, start="21:00", out=lambda s: None) as sim:
        sim.clock.release()
        runner = sim.runner
        for i in range(presses):
            runner.pump()
            seen = len(runner.states.get("hall_light", []))
            t0 = time.perf_counter()
            sim.world.report("hall_button", {"action": "hold"})
            while len(runner.states.get("hall_light", [])) <= seen:
                time.sleep(0.0005)
                runner.pump()
                if time.perf_counter() - t0 > 5:
                    raise SystemExit(f"press {i}: no light state within 5 s")
            times.append((time.perf_counter() - t0) * 1000)
            # The hub drops the empty action after a press, so the same action twice in a
            # row is no change: press another button action in between.
            sim.world.report("hall_button", {"action": "double"})
            time.sleep(0.05)
    times.sort()
    p95 = times[int(0.95 * (len(times) - 1))]
    med = statistics.median(times)
    print(f"button -> hall_light state: p50 {med:.1f} ms, p95 {p95:.1f} ms ({presses} presses)")


def main() -> int:
    """Run both figures on the example home with an embedded broker."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--presses", type=int, default=30)
    args = p.parse_args()
    config = load_config(ROOT / "examples/home/hub.yaml")
    round_trip(config, args.presses)
    scenarios(config)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
