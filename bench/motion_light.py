"""Motion payload in to light command out, over a real broker, through the real hub and rules.

    .venv/bin/python bench/motion_light.py [--events 10000] [--rate 1000]

A private mosquitto; the hub in this process with a Zigbee2MQTT motion sensor, a Zigbee2MQTT
light and two rules (occupancy true -> light on, false -> light off); a separate sensor
process publishes alternating occupancy at --rate per second and times each
`zigbee2mqtt/porch_light/set` command it receives back. Commands come back in order, so the
k-th command answers the k-th reading.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

from _common import hub_config, nodelay_client, z2m

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

RULES = """
- id: motion_on
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: porch_light, state: on}]
- id: motion_off
  triggers: [{device: hall_motion, attribute: occupancy, to: false}]
  actions: [{light: porch_light, state: off}]
"""


def sensor(port: int, n: int, rate: float, out: mp.Queue) -> None:
    """Child process: publish n alternating readings at rate/s and time the light commands."""
    sent: list[float] = []
    got: list[float] = []

    def on_message(c, u, m) -> None:
        got.append(time.perf_counter())

    c = nodelay_client("bench-motion", port, max_inflight=1000)
    c.on_message = on_message
    c.subscribe("zigbee2mqtt/porch_light/set", qos=1)
    c.loop_start()
    time.sleep(0.5)
    start = time.perf_counter()
    for i in range(n):
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        payload = json.dumps({"occupancy": i % 2 == 0, "battery": 100, "linkquality": 120})
        sent.append(time.perf_counter())
        c.publish("zigbee2mqtt/hall_motion", payload, qos=1)
    deadline = time.monotonic() + 30
    while len(got) < n and time.monotonic() < deadline:
        time.sleep(0.05)
    c.loop_stop()
    out.put([g - s for s, g in zip(sent, got, strict=False)])


def main() -> None:
    """Print p50/p99 of motion-in to light-command-out."""
    from hub.background import HubThread
    from hub.broker import MosquittoBroker

    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--events", type=int, default=10000)
    ap.add_argument("--rate", type=float, default=1000)
    args = ap.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        (t / "rules").mkdir()
        (t / "rules" / "motion.yaml").write_text(RULES)
        broker = MosquittoBroker(t / "broker").start()
        devices = {
            "hall_motion": z2m("motion", "hall_motion"),
            "porch_light": z2m("light", "porch_light"),
        }
        cfg = hub_config(
            broker,
            t / "data",
            "bench",
            devices,
            rules=str(t / "rules"),
            health={"enabled": False},
        )
        hub = HubThread(cfg)
        hub.start()
        try:
            q: mp.Queue = mp.Queue()
            p = mp.Process(target=sensor, args=(broker.port, args.events, args.rate, q))
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            p.start()
            lat = q.get(timeout=args.events / args.rate + 60)
            p.join(10)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
        finally:
            hub.stop()
            broker.stop()
    lat_ms = sorted(x * 1000 for x in lat)
    if not lat_ms:
        print("no light command came back")
        return
    p50 = statistics.median(lat_ms)
    p99 = lat_ms[int(len(lat_ms) * 0.99) - 1]
    print(
        f"motion -> light command over the broker, {args.events} readings at {args.rate:.0f}/s: "
        f"{len(lat_ms)} commands, p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {lat_ms[-1]:.1f} ms; "
        f"hub process CPU {cpu / wall * 100:.0f}% of a core"
    )


if __name__ == "__main__":
    main()
