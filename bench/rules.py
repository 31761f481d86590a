"""Events per second through the rule engine with 10 to 10,000 rules (flat is the goal).

Each rule is the issue's hall rule on its own motion sensor (device trigger, a time window
crossing midnight, a light with auto-off), so every event is matched by the index to one rule,
evaluated, traced and usually fires. Run: .venv/bin/python bench/rules.py [--events N]
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import time
from typing import Any

# This file is named rules.py: drop its own folder from the path so `rules` is the package.
sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != os.path.dirname(__file__)]
from rules import Engine, Event, load_text  # noqa: E402

RULE = """
- id: hall_{i}
  triggers: [{{device: motion_{i}, attribute: occupancy, to: true}}]
  conditions: [{{time: {{after: "18:00", before: "07:00"}}}}]
  actions: [{{light: light_{i}, state: on, brightness: 60%, for: 2m}}]
  mode: restart
"""
T0 = 1_795_820_400.0  # 2026-11-27 20:00 UTC: inside the window


def bench(n_rules: int, n_events: int, seed: int = 1) -> dict[str, float]:
    """Load n_rules rules and push n_events state events through handle(); return figures."""
    text = "".join(RULE.format(i=i) for i in range(n_rules))
    t = time.perf_counter()
    loaded = load_text(text)
    load_s = time.perf_counter() - t
    assert loaded.ok, loaded.errors[:3]
    eng = Engine(loaded.rules, timezone="UTC")
    del loaded
    gc.collect()  # start each size from a clean heap
    eng.advance(T0)
    rnd = random.Random(seed)
    occ: dict[int, bool] = {}
    events = []
    for k in range(n_events):
        i = rnd.randrange(n_rules)
        occ[i] = not occ.get(i, False)
        events.append(Event("state", f"motion_{i}", {"occupancy": occ[i]}, ts=T0 + k * 0.001))
    lat = []
    effects = 0
    t_all = time.perf_counter()
    for ev in events:
        t = time.perf_counter()
        res = eng.handle(ev, ev.ts)
        lat.append(time.perf_counter() - t)
        effects += len(res.effects)
    total = time.perf_counter() - t_all
    lat.sort()
    return {
        "rules": n_rules,
        "load_s": load_s,
        "events_per_s": n_events / total,
        "p50_us": lat[len(lat) // 2] * 1e6,
        "p99_us": lat[int(len(lat) * 0.99)] * 1e6,
        "mean_us": statistics.fmean(lat) * 1e6,
        "effects": effects,
    }


class _Ctx:
    """The least a RulesHost needs from the hub, to time the host's own share per event."""

    hub_id = "bench"

    def __init__(self, data_dir: str, loop: Any) -> None:
        self.data_dir, self.loop, self.t = data_dir, loop, T0
        self.executed = 0

    def now(self) -> float:
        return self.t

    def emit(self, event: Any) -> None:
        pass

    def publish(self, topic: str, payload: Any, retain: bool = False, qos: int = 1) -> None:
        pass

    def subscribe(self, topic: str, handler: Any) -> None:
        pass

    def device_state(self, device: str) -> dict:
        return {}

    async def execute(self, effect: Any) -> list:
        self.executed += 1
        return []


def bench_host(n_rules: int, n_events: int) -> dict[str, float]:
    """Time RulesHost.on_event (engine, effects) and, apart, its deferred trace bookkeeping.

    on_event runs the engine and starts the effects; the traces wait for the host's next
    group (every trace_delay), where they are serialised, published and queued for SQLite.
    events/s counts both.
    """
    import asyncio
    import tempfile
    from pathlib import Path

    from hub.rules_host import RulesHost

    async def run() -> dict[str, float]:
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp) / "rules"
            d.mkdir()
            (d / "bench.yaml").write_text("".join(RULE.format(i=i) for i in range(n_rules)))
            ctx = _Ctx(tmp, asyncio.get_running_loop())
            host = RulesHost(d, poll_interval=0)
            await host.start(ctx)
            flush_traces, spent = host._flush_traces, [0.0, 0]

            def timed_flush() -> None:
                t = time.perf_counter()
                spent[1] += len(host._traces)
                flush_traces()
                spent[0] += time.perf_counter() - t

            host._flush_traces = timed_flush  # type: ignore[method-assign]
            rnd, occ, lat = random.Random(2), {}, []
            t_all = time.perf_counter()
            for k in range(n_events):
                i = rnd.randrange(n_rules)
                occ[i] = not occ.get(i, False)
                ctx.t = T0 + k * 0.001
                ev = Event("state", f"motion_{i}", {"occupancy": occ[i]}, ts=ctx.t)
                t = time.perf_counter()
                host.on_event(ev)
                lat.append(time.perf_counter() - t)
                if k % 100 == 0:
                    await asyncio.sleep(0)  # let the trace group (and any effect task) run
            host.flush()
            total = time.perf_counter() - t_all
            await host.stop()
        lat.sort()
        return {
            "events_per_s": n_events / total,
            "p50_us": lat[len(lat) // 2] * 1e6,
            "p99_us": lat[int(len(lat) * 0.99)] * 1e6,
            "trace_us": spent[0] / max(1, spent[1]) * 1e6,
        }

    return asyncio.run(run())


def main() -> None:
    """Print one line per rule count."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=20000)
    ap.add_argument("--sizes", default="10,100,1000,10000")
    args = ap.parse_args()
    print(f"{'rules':>6} {'load s':>7} {'events/s':>9} {'p50 us':>7} {'p99 us':>7} {'effects':>8}")
    for n in map(int, args.sizes.split(",")):
        r = bench(n, args.events)
        print(
            f"{r['rules']:>6} {r['load_s']:>7.2f} {r['events_per_s']:>9.0f} "
            f"{r['p50_us']:>7.1f} {r['p99_us']:>7.1f} {r['effects']:>8}"
        )
    h = bench_host(1000, args.events // 2)
    print(
        f"host, 1000 rules: on_event (engine, effects started) p50 {h['p50_us']:.1f} us, "
        f"p99 {h['p99_us']:.1f} us; deferred trace JSON + publish + row "
        f"{h['trace_us']:.1f} us per trace; {h['events_per_s']:.0f} events/s in all"
    )


if __name__ == "__main__":
    main()
