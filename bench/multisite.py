"""Bench: many hubs over bridged brokers.

1. Cross-site latency: three real mosquitto processes (two sites bridged to a centre) and two
   real hubs; a Zigbee2MQTT motion message on site north switches a light on site south
   through a rule. Timed from the sensor's publish to the light's new retained state as a
   client on site south sees it, with the local motion-to-light time beside it.
2. The centre's load: 20 simulated hubs, each one bridge connection to the central mosquitto
   (subscribed to edgehub/#, as the bridge in examples/multisite is), publishing what a hub
   publishes at its normal rates. CPU and RSS of the centre's mosquitto are read from /proc.

    .venv/bin/python bench/multisite.py [--runs 200] [--hubs 20] [--seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from gpiozero.pins.mock import MockFactory, MockPWMPin

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
# Last, so tests/ (for tests/testkit.py) never shadows the project's own packages.
sys.path.append(str(Path(__file__).resolve().parents[1] / "tests"))

from hub.broker import MosquittoBroker
from tests.multisite.sites import SiteHub, Sites, Watcher, wait

NORTH_RULES = """
- id: local
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: hall_light, state: toggle}]
- id: cross
  triggers: [{device: hall_motion, attribute: occupancy, to: true}]
  actions: [{light: south/porch_light, state: toggle}]
"""
SOUTH_RULES = """
- id: noop
  triggers: [{event: never.happens}]
  actions: [{emit: nothing}]
"""

# What one hub publishes in a normal hour, as messages per second (a busy house: ~25 devices).
RATES = {
    "events": 2.0,  # edgehub/<hub>/events, QoS 0: every event
    "state": 1.0,  # edgehub/<hub>/<device>/state, retained QoS 1
    "trace": 0.3,  # edgehub/<hub>/rules/<rule>/trace, QoS 0
    "alive": 0.2,  # edgehub/<hub>/alive, QoS 0, every 5 s
    "health": 1 / 30,  # edgehub/<hub>/health, retained
}


def pct(xs: list[float], q: float) -> float:
    """Return the q-quantile of xs."""
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def bridge_hop(runs: int) -> None:
    """A plain message from a client on site north to a client on site south, no hubs."""
    with tempfile.TemporaryDirectory() as tmp:
        sites = Sites(Path(tmp), ["north", "south"])
        wn, ws = Watcher(sites.site["north"], "n"), Watcher(sites.site["south"], "s")
        topic = "edgehub/north/x/state"
        wait(lambda: wn.client.is_connected() and ws.client.is_connected(), "clients")
        time.sleep(1.0)  # the bridges connect
        try:
            for qos in (0, 1):
                xs = []
                for i in range(runs):
                    n = len(ws.on(topic))
                    t0 = time.monotonic()
                    wn.client.publish(topic, str(i), qos=qos)
                    wait(lambda n=n: len(ws.on(topic)) > n, "hop")
                    xs.append([t for t, tp, _ in ws.msgs if tp == topic][-1] - t0)
                    time.sleep(0.005)
                print(
                    f"bridge hop, client QoS {qos} (north -> centre -> south): n={runs} "
                    f"p50={pct(xs, 0.5) * 1000:.1f} ms p99={pct(xs, 0.99) * 1000:.1f} ms"
                )
        finally:
            wn.close()
            ws.close()
            sites.stop()


def latency(runs: int, share: str = "all", gap: float = 0.0) -> None:
    """Motion on site north to a light on site south, over the bridges."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        pins = MockFactory(pin_class=MockPWMPin)
        sites = Sites(root, ["north", "south"], share)
        wn, ws = Watcher(sites.site["north"], "n"), Watcher(sites.site["south"], "s")
        south = SiteHub(
            "south",
            sites.site["south"],
            root / "s",
            {"porch_light": {"type": "light", "gpio": {"pin": 22}}},
            SOUTH_RULES,
            pins,
        )
        north_devices = {
            "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
            "hall_light": {"type": "light", "gpio": {"pin": 17}},
        }
        north = SiteHub("north", sites.site["north"], root / "n", north_devices, NORTH_RULES, pins)
        rule_state = "edgehub/north/rules/cross/state"
        wait(lambda: wn.on(rule_state) and json.loads(wn.on(rule_state)[-1])["error"] is None, "r")
        cross, local = [], []
        porch, hall = "edgehub/south/porch_light/state", "edgehub/north/hall_light/state"
        try:
            for _ in range(runs):
                time.sleep(gap)  # quiet time: the broker's delayed ACKs have gone out
                n_porch, n_hall = len(ws.on(porch)), len(wn.on(hall))
                t0 = time.monotonic()
                wn.publish("zigbee2mqtt/hall_motion", '{"occupancy": true}')
                wait(lambda n=n_porch: len(ws.on(porch)) > n, "porch")
                cross.append([t for t, tp, _ in ws.msgs if tp == porch][-1] - t0)
                wait(lambda n=n_hall: len(wn.on(hall)) > n, "hall")
                local.append([t for t, tp, _ in wn.msgs if tp == hall][-1] - t0)
                n_motion = len(wn.on("edgehub/north/hall_motion/state"))
                wn.publish("zigbee2mqtt/hall_motion", '{"occupancy": false}')
                wait(lambda n=n_motion: len(wn.on("edgehub/north/hall_motion/state")) > n, "m")
        finally:
            north.stop()
            south.stop()
            wn.close()
            ws.close()
            sites.stop()
            pins.close()
    cross_name = f"cross-site (north -> centre -> south, share={share}, gap={gap * 1000:g} ms)"
    for name, xs in ((cross_name, cross), ("local (north)", local)):
        print(
            f"{name}: n={len(xs)} p50={pct(xs, 0.5) * 1000:.1f} ms "
            f"p99={pct(xs, 0.99) * 1000:.1f} ms max={max(xs) * 1000:.1f} ms"
        )


def proc_cpu(pid: int) -> float:
    """Return user+system CPU seconds of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mb(pid: int) -> float:
    """Return the resident set size of a process in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def centre_load(hubs: int, seconds: float, scale: float, subscribe: list[str]) -> None:
    """Simulated site bridges on one central mosquitto, publishing at the normal rates."""
    with tempfile.TemporaryDirectory() as tmp:
        centre = MosquittoBroker(Path(tmp))
        centre.write_config()
        centre.start()
        assert centre.process is not None
        pid = centre.process.pid
        received = [0]
        lock = threading.Lock()

        def count(*_: object) -> None:
            with lock:
                received[0] += 1

        clients = []
        for i in range(hubs):
            c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"bridge-h{i}")
            c.on_message = count
            c.connect(centre.host, centre.port)
            for topic in subscribe:
                c.subscribe(topic, qos=1)
            c.loop_start()
            c.publish(f"edgehub/h{i}/status", "online", qos=1, retain=True)
            manifest = {"hub": f"h{i}", "devices": {f"d{j}": {"type": "sensor"} for j in range(25)}}
            c.publish(f"edgehub/h{i}/devices", json.dumps(manifest), qos=1, retain=True)
            clients.append(c)
        time.sleep(1.0)
        rss0, cpu0, t0 = proc_rss_mb(pid), proc_cpu(pid), time.monotonic()
        sent = 0
        due = dict.fromkeys(RATES, 0.0)
        step = 0.05
        while time.monotonic() - t0 < seconds:
            elapsed = time.monotonic() - t0
            for kind, rate in RATES.items():
                target = elapsed * rate * scale
                while due[kind] < target:
                    due[kind] += 1
                    for i, c in enumerate(clients):
                        n = int(due[kind])
                        if kind == "events":
                            body = {"id": f"{i}-{n}", "ts": time.time(), "source": f"d{n % 25}"}
                            c.publish(f"edgehub/h{i}/events", json.dumps(body), qos=0)
                        elif kind == "state":
                            topic = f"edgehub/h{i}/d{n % 25}/state"
                            c.publish(topic, json.dumps({"temperature": 20 + n % 7}), 1, True)
                        elif kind == "trace":
                            c.publish(f"edgehub/h{i}/rules/r{n % 5}/trace", '{"result":"ran"}', 0)
                        elif kind == "alive":
                            c.publish(f"edgehub/h{i}/alive", json.dumps({"ts": time.time()}), 0)
                        else:
                            c.publish(f"edgehub/h{i}/health", '{"cpu_temp": 51.2}', 1, True)
                        sent += 1
            time.sleep(step)
        wall = time.monotonic() - t0
        cpu = proc_cpu(pid) - cpu0
        rss = proc_rss_mb(pid)
        time.sleep(0.5)
        for c in clients:
            c.loop_stop()
            c.disconnect()
        centre.stop()
    print(
        f"centre, {hubs} hubs x{scale:g} normal rate, subscribed {','.join(subscribe)}: "
        f"in {sent / wall:.0f} msg/s, out {received[0] / wall:.0f} msg/s, "
        f"mosquitto CPU {cpu / wall * 100:.1f}% of one core, RSS {rss0:.1f} -> {rss:.1f} MB"
    )


def main() -> None:
    """Run both parts and print the figures."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--hubs", type=int, default=20)
    ap.add_argument("--seconds", type=float, default=20.0)
    args = ap.parse_args()
    bridge_hop(args.runs)
    latency(args.runs, "state", 0.1)  # events a second or more apart, as in a home
    latency(args.runs, "all", 0.1)  # the whole namespace over the bridge
    latency(args.runs, "state", 0.0)  # back to back
    everything = ["edgehub/#"]
    needed = ["edgehub/+/status", "edgehub/+/devices", "edgehub/+/alive", "edgehub/+/+/state"]
    centre_load(args.hubs, args.seconds, 1.0, everything)
    centre_load(args.hubs, args.seconds, 1.0, needed)
    centre_load(args.hubs, args.seconds, 10.0, everything)


if __name__ == "__main__":
    main()
