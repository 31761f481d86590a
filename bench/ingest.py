"""Ingest latency and throughput: sensor publish -> journaled event, and -> state topic seen.

    .venv/bin/python bench/ingest.py [--events 10000] [--rate 1000] [--burst 50000]

A private mosquitto, the hub in this process with only its spine (no components), and a
separate sensor process that publishes Zigbee2MQTT payloads stamped with their send time
(QoS 1, pre-framed packets over a raw TCP socket: RawPublisher) and subscribes to the
device's state topic (paho). Latency to "journaled" is taken in the journal
writer's commit callback; latency to "state seen" in the sensor process. Then a burst is
published as fast as the sensor can, for the sustained events/s with the journal on.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import logging
import os
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _connect_packet(client_id: str) -> bytes:
    """Return an MQTT 3.1.1 CONNECT: clean session, no keepalive (the run is short)."""
    cid = client_id.encode()
    body = b"\x00\x04MQTT\x04\x02\x00\x00" + struct.pack("!H", len(cid)) + cid
    return bytes([0x10, len(body)]) + body


def _publish_packet(topic: bytes, mid: int, payload: bytes) -> bytes:
    """Return a QoS 1 PUBLISH packet."""
    body_len = 2 + len(topic) + 2 + len(payload)
    head = bytearray([0x32])
    while True:  # MQTT's variable-length "remaining length"
        byte, body_len = body_len % 128, body_len // 128
        head.append(byte | (0x80 if body_len else 0))
        if not body_len:
            break
    return bytes(head) + struct.pack("!H", len(topic)) + topic + struct.pack("!H", mid) + payload


class RawPublisher:
    """QoS 1 publishes written straight to a TCP socket; a thread counts the PUBACKs.

    paho publishing flat out took most of a core on this 2-core box, so the figures
    measured paho-in-the-bench as much as the hub. Same packets, same QoS, a fraction of
    the CPU: the payload is formatted, not json.dumps'ed, and a burst is written in chunks.
    """

    def __init__(self, port: int, client_id: str):
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.sendall(_connect_packet(client_id))
        connack = self.sock.recv(4)
        if len(connack) != 4 or connack[0] != 0x20 or connack[3] != 0:
            raise RuntimeError(f"broker refused the bench publisher: {connack!r}")
        self.acked = 0
        self._reader = threading.Thread(target=self._read_acks, daemon=True)
        self._reader.start()

    def _read_acks(self) -> None:
        # The broker sends nothing but PUBACKs (4 bytes each) to a client that never subscribes.
        pending = 0
        while True:
            data = self.sock.recv(65536)
            if not data:
                return
            pending += len(data)
            self.acked += pending // 4
            pending %= 4

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def wait_acked(self, n: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self.acked < n and time.monotonic() < deadline:
            time.sleep(0.01)
        return self.acked >= n

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.sendall(b"\xe0\x00")  # DISCONNECT
        self.sock.close()


# json.dumps's own spelling of each temperature, so payloads are byte-for-byte the same.
_TEMPS = [json.dumps(20 + (i % 50) / 10).encode() for i in range(50)]
_TOPIC = b"zigbee2mqtt/bench_sensor"


def _reading(i: int) -> bytes:
    """The payload json.dumps({"temperature": ..., "seq": i, "t": time.time()}) gives."""
    return b'{"temperature": %s, "seq": %d, "t": %s}' % (
        _TEMPS[i % 50],
        i,
        repr(time.time()).encode(),
    )


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
    c.on_message = on_message
    c.connect("127.0.0.1", port)
    # paho leaves Nagle on (DESIGN.md, known traps): the state echoes would wait ~40 ms.
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    c.subscribe("edgehub/bench/bench_sensor/state", qos=1)
    c.loop_start()
    pub = RawPublisher(port, "bench-sensor-pub")
    time.sleep(0.5)
    start = time.perf_counter()
    if rate:
        for i in range(n):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
            pub.send(_publish_packet(_TOPIC, i % 65535 + 1, _reading(i)))
    else:
        chunk = 100  # packets per write: a sensor fleet's traffic, not one syscall each
        for i in range(0, n, chunk):
            pub.send(
                b"".join(
                    _publish_packet(_TOPIC, j % 65535 + 1, _reading(j))
                    for j in range(i, min(n, i + chunk))
                )
            )
    sent = time.perf_counter() - start
    acked = pub.wait_acked(n, 120)
    done.wait(120)
    c.loop_stop()
    pub.close()
    print(json.dumps({"state_latency": seen, "publish_s": sent, "acked": acked}))


def pct(values: list[float], p: float) -> float:
    """Return the p-th percentile (0-100) of values, in ms."""
    s = sorted(values)
    return 1000 * s[min(len(s) - 1, int(p / 100 * len(s)))]


def tail(values: list[float], over_ms: float = 5.0) -> str:
    """Describe the events slower than over_ms: how many, in how many stalls, the worst."""
    slow = [i for i, v in enumerate(values) if v * 1000 > over_ms]
    if not slow:
        return f"none over {over_ms:g} ms"
    stalls = 1 + sum(1 for a, b in itertools.pairwise(slow) if b - a > 20)
    return f"{len(slow)} over {over_ms:g} ms in {stalls} stalls, max {1000 * max(values):.1f} ms"


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
        "j_tail": tail(journaled),
        "s_tail": tail(child["state_latency"]),
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
    print(f"paced tail: journaled {paced['j_tail']}; state seen {paced['s_tail']}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f}")
    for name, r in (("paced", paced), ("burst", burst)):
        per = 1e6 * r["hub_cpu_s"] / max(1, r["journaled"])
        print(f"{name}: hub CPU per event {per:.0f} us; CPU s per thread {r['threads']}")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--sensor":
        sensor(int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]))
    else:
        raise SystemExit(main())
