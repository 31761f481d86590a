"""Ingest latency and throughput: sensor publish -> journaled event, and -> state topic seen.

    .venv/bin/python bench/ingest.py [--events 10000] [--rate 1000] [--burst 50000]

A private mosquitto, the hub in this process with only its spine (no components), and a
separate sensor process that publishes Zigbee2MQTT payloads stamped with their send time
and subscribes to the device's state topic. Latency to "journaled" is taken in the journal
writer's commit callback; latency to "state seen" in the sensor process. Then a burst is
published as fast as the sensor can, for the sustained events/s with the journal on.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def sensor(port: int, n: int, rate: float) -> None:
    """Child process: publish n stamped readings at rate/s (0 = flat out), time state echoes."""
    import paho.mqtt.client as mqtt

    seen: list[float] = []
    done = threading.Event()

    def on_message(c, u, m) -> None:
        state = json.loads(m.payload)
        if state.get("t") is not None:
            seen.append(time.time() - state["t"])
            # In a burst the hub publishes a device's state once per batch (the latest), so
            # the run ends when the last reading's state is seen, not after n messages.
            if state.get("seq") == n - 1:
                done.set()

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-sensor")
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    # paho leaves Nagle on (DESIGN.md, known traps): without this the sensor's own
    # publishes wait ~40 ms for delayed ACKs, which would be measured as hub latency.
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.subscribe("edgehub/bench/bench_sensor/state", qos=1)
    c.loop_start()
    time.sleep(0.5)
    start = time.perf_counter()
    for i in range(n):
        if rate:
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        payload = json.dumps({"temperature": 20 + (i % 50) / 10, "seq": i, "t": time.time()})
        c.publish("zigbee2mqtt/bench_sensor", payload, qos=1)
    sent = time.perf_counter() - start
    done.wait(120)
    c.loop_stop()
    print(json.dumps({"state_latency": seen, "publish_s": sent}))


def pct(values: list[float], p: float) -> float:
    """Return the p-th percentile (0-100) of values, in ms."""
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, int(p / 100 * len(s)))]


def thread_cpu() -> dict[str, float]:
    """Return CPU seconds (user+system) per thread name of this process, from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {t.native_id: t.name.split("-")[0] for t in threading.enumerate()}
    out: dict[str, float] = {}
    for task in Path("/proc/self/task").iterdir():
        try:
            stat = (task / "stat").read_text()
        except OSError:
            continue
        name = names.get(int(task.name), "other")
        fields = stat[stat.rindex(")") + 2 :].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / tick
    return out


def run_phase(port: int, hub, n: int, rate: float) -> dict:
    """Publish n readings at rate from a child process; return the measured figures."""
    journaled: list[float] = []
    last_commit = [0.0]
    first_pub = [0.0]

    def on_commit(events) -> None:
        now = time.time()
        for e in events:
            t = e.data.get("t")
            if e.source == "bench_sensor" and t is not None:
                if not first_pub[0]:
                    first_pub[0] = t
                journaled.append(now - t)
                last_commit[0] = now

    hub.store._listeners[:] = [on_commit]
    cpu0 = time.process_time()
    threads0 = thread_cpu()
    out = subprocess.run(
        [sys.executable, __file__, "--sensor", str(port), str(n), str(rate)],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = time.process_time() - cpu0
    threads = {k: v - threads0.get(k, 0.0) for k, v in thread_cpu().items()}
    child = json.loads(out.stdout)
    hub.store.flush()
    wall = last_commit[0] - first_pub[0] if journaled else float("nan")
    return {
        "n": n,
        "journaled": len(journaled),
        "state_seen": len(child["state_latency"]),
        "j_p50": pct(journaled, 50),
        "j_p99": pct(journaled, 99),
        "s_p50": pct(child["state_latency"], 50),
        "s_p99": pct(child["state_latency"], 99),
        "events_per_s": len(journaled) / wall if wall > 0 else float("nan"),
        "publish_per_s": n / child["publish_s"],
        "hub_cpu_s": cpu,
        "threads": {k: round(v, 2) for k, v in sorted(threads.items()) if v >= 0.01},
        "dropped": hub.link.inbox.dropped,
    }


def main() -> int:
    """Run both phases and print a Markdown table row for each."""
    p = argparse.ArgumentParser()
    p.add_argument("--events", type=int, default=10000)
    p.add_argument("--rate", type=float, default=1000)
    p.add_argument("--burst", type=int, default=50000)
    p.add_argument("--synchronous", default="normal", choices=["normal", "full"])
    p.add_argument("--switch-interval", type=float, default=None, help="sys.setswitchinterval")
    args = p.parse_args()
    if args.switch_interval:
        sys.setswitchinterval(args.switch_interval)
    logging.basicConfig(level=logging.WARNING)

    from hub.background import HubThread
    from hub.broker import MosquittoBroker
    from hub.config import validate_config

    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker(Path(tmp) / "broker") as broker:
        cfg = validate_config(
            {
                "hub": {"id": "bench", "data_dir": str(Path(tmp) / "data"), "pin_factory": "mock"},
                "mqtt": {"host": broker.host, "port": broker.port, "queue_size": 100000},
                "store": {"synchronous": args.synchronous},
                "devices": {
                    "bench_sensor": {"type": "sensor", "topic": "zigbee2mqtt/bench_sensor"}
                },
            }
        )
        with HubThread(cfg, components=[]) as hub:
            paced = run_phase(broker.port, hub, args.events, args.rate)
            burst = run_phase(broker.port, hub, args.burst, 0)
    print(f"synchronous={args.synchronous}")
    print(
        "| phase | events | journaled | p50 journaled | p99 journaled | p50 state seen | "
        "p99 state seen | states seen | events/s journaled | hub CPU s | dropped |"
    )
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, r in ((f"paced {args.rate:.0f}/s", paced), ("burst (flat out)", burst)):
        print(
            f"| {name} | {r['n']:,} | {r['journaled']:,} | {r['j_p50']:.2f} ms "
            f"| {r['j_p99']:.2f} ms | {r['s_p50']:.2f} ms | {r['s_p99']:.2f} ms "
            f"| {r['state_seen']:,} "
            f"| {r['events_per_s']:,.0f} | {r['hub_cpu_s']:.1f} | {r['dropped']} |"
        )
    print(f"sensor publish rate in the burst: {burst['publish_per_s']:,.0f}/s")
    for name, r in (("paced", paced), ("burst", burst)):
        per = 1e6 * r["hub_cpu_s"] / max(1, r["journaled"])
        print(f"{name}: hub CPU per event {per:.0f} us; CPU s per thread {r['threads']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sensor":
        sensor(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(main())
