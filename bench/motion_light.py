"""Motion payload in to light command out, over a real broker, through the real hub and rules.

    .venv/bin/python bench/motion_light.py [--events 10000] [--rate 1000]

A private mosquitto; the hub in this process with a Zigbee2MQTT motion sensor, a Zigbee2MQTT
light and two rules (occupancy true -> light on, false -> light off); a separate sensor
process publishes alternating occupancy at --rate per second and times each
`zigbee2mqtt/porch_light/set` command it receives back. Commands come back in order, so the
k-th command answers the k-th reading.

The sensor is one thread on a raw socket (MQTT 3.1.1 by hand), not paho: paho's network
thread and the publishing thread fought over the sensor's own GIL, and the timestamps then
measured the client as much as the hub. The hub's side is split out too: the moment its
light command is handed to its MQTT link (CLOCK_MONOTONIC, the same clock in both
processes), so "in" is sensor -> broker -> hub -> rule -> command queued and "out" is
command queued -> written -> broker -> sensor. "in" is split again where the link stamps a
message it has read (Message.received) and where the loop takes it from the inbox.
"""

from __future__ import annotations

import argparse
import json
import logging
import multiprocessing as mp
import select
import socket
import statistics
import struct
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _common import hub_config, z2m

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
SET_TOPIC = "zigbee2mqtt/porch_light/set"
MOTION_TOPIC = "zigbee2mqtt/hall_motion"


def _packet(kind: int, body: bytes) -> bytes:
    n, length = len(body), bytearray()
    while True:
        n, digit = divmod(n, 128)
        length.append(digit | (128 if n else 0))
        if not n:
            return bytes([kind]) + bytes(length) + body


def _text(s: str) -> bytes:
    b = s.encode()
    return struct.pack("!H", len(b)) + b


class RawClient:
    """Just enough MQTT 3.1.1 for the sensor: connect, subscribe, QoS 1 publish, PUBACK."""

    def __init__(self, port: int, client_id: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.mid = 0
        self.sock.sendall(_packet(0x10, _text("MQTT") + b"\x04\x02\x00\x3c" + _text(client_id)))
        assert self._read_one()[0] >> 4 == 2, "no CONNACK"

    def _read_one(self) -> tuple[int, bytes]:
        while True:
            pkt = self._parse()
            if pkt is not None:
                return pkt
            self.buf += self.sock.recv(65536)

    def _parse(self) -> tuple[int, bytes] | None:
        buf, mult, n, i = self.buf, 1, 0, 1
        while True:
            if i >= len(buf):
                return None
            n += (buf[i] & 127) * mult
            mult *= 128
            i += 1
            if not buf[i - 1] & 128:
                break
        if len(buf) < i + n:
            return None
        self.buf = buf[i + n :]
        return buf[0], buf[i : i + n]

    def subscribe(self, topic: str) -> None:
        self.sock.sendall(_packet(0x82, struct.pack("!H", 1) + _text(topic) + b"\x01"))
        while self._read_one()[0] >> 4 != 9:  # SUBACK
            pass

    def publish(self, topic: str, payload: bytes) -> None:
        self.mid = self.mid % 65535 + 1
        self.sock.sendall(_packet(0x32, _text(topic) + struct.pack("!H", self.mid) + payload))

    def receive(self) -> list[str]:
        """Read what is there; return the topics of the PUBLISHes, each acknowledged."""
        self.buf += self.sock.recv(65536)
        topics, acks = [], b""
        while (pkt := self._parse()) is not None:
            head, body = pkt
            if head >> 4 == 3:
                tlen = struct.unpack_from("!H", body)[0]
                topics.append(body[2 : 2 + tlen].decode())
                if head & 6:
                    acks += b"\x40\x02" + body[2 + tlen : 4 + tlen]
        if acks:
            self.sock.sendall(acks)
        return topics


def sensor(port: int, n: int, rate: float, out: mp.Queue) -> None:
    """Child process: publish n alternating readings at rate/s and time the light commands."""
    sent: list[float] = []
    got: list[float] = []
    c = RawClient(port, "bench-motion")
    c.subscribe(SET_TOPIC)
    time.sleep(0.5)
    payloads = [
        json.dumps({"occupancy": i % 2 == 0, "battery": 100, "linkquality": 120}).encode()
        for i in range(2)
    ]
    start = time.perf_counter()
    i, deadline = 0, None
    while len(got) < n:
        now = time.perf_counter()
        if i < n:
            wait = start + i / rate - now
        else:
            deadline = deadline or now + 30
            if now > deadline:
                break
            wait = 0.05
        # One thread: it sleeps in select, so a command that comes back is stamped at once.
        if select.select([c.sock], [], [], max(0.0, wait))[0]:
            t = time.perf_counter()
            got.extend(t for topic in c.receive() if topic == SET_TOPIC)
        elif i < n and time.perf_counter() >= start + i / rate:
            sent.append(time.perf_counter())
            c.publish(MOTION_TOPIC, payloads[i % 2])
            i += 1
    out.put((sent, got))


def percentiles(xs: list[float]) -> tuple[float, float, float]:
    """Return p50, p99 and max of a list of milliseconds."""
    xs = sorted(xs)
    return statistics.median(xs), xs[max(0, int(len(xs) * 0.99) - 1)], xs[-1]


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
        queued: list[float] = []
        link = hub.hub.link
        assert link is not None
        real_publish = link.publish

        def publish(
            topic: str, payload: str | bytes, qos: int = 1, retain: bool = False, **kw: Any
        ) -> None:
            if topic == SET_TOPIC:
                queued.append(time.perf_counter())
            real_publish(topic, payload, qos=qos, retain=retain, **kw)

        link.publish = publish  # type: ignore[method-assign]
        # Where "in" goes: the link stamps each message it reads (Message.received,
        # time.time()); the loop stamps the batch as it takes it from the inbox.
        hops: list[tuple[float, float]] = []  # (paho received, loop drained), perf_counter
        inbox = getattr(link, "inbox", None)
        if inbox is not None:
            offset = time.time() - time.perf_counter()
            drain = inbox.handler

            def handler(items: list) -> None:
                t = time.perf_counter()
                hops.extend((m.received - offset, t) for m in items if m.topic == MOTION_TOPIC)
                drain(items)

            inbox.handler = handler
        try:
            ctx = mp.get_context("spawn")  # not a fork of this process and its hub threads
            q = ctx.Queue()
            p = ctx.Process(target=sensor, args=(broker.port, args.events, args.rate, q))
            p.start()
            cpu0 = time.process_time()
            t0 = time.perf_counter()
            sent, got = q.get(timeout=args.events / args.rate + 90)
            wall = time.perf_counter() - t0
            cpu = time.process_time() - cpu0
            p.join(10)
            inbound = hub.hub.ingest.stats["messages"]
        finally:
            hub.stop()
            broker.stop()
    if not got:
        print("no light command came back")
        return
    total = percentiles([(g - s) * 1000 for s, g in zip(sent, got, strict=False)])
    hub_in = percentiles([(q - s) * 1000 for s, q in zip(sent, queued, strict=False)])
    hub_out = percentiles([(g - q) * 1000 for q, g in zip(queued, got, strict=False)])
    lines = []
    if len(hops) == len(sent):
        received = [r for r, _ in hops]
        drained = [d for _, d in hops]
        parts = [
            ("sensor publish -> link has read it", sent, received),
            ("link read -> loop takes the batch", received, drained),
            ("loop -> light command queued", drained, queued),
        ]
        for name, a, b in parts:
            p50, p99, mx = percentiles([(y - x) * 1000 for x, y in zip(a, b, strict=False)])
            lines.append(f"    {name:38} p50 {p50:.2f} ms, p99 {p99:.2f} ms, max {mx:.1f} ms")
    print(
        f"motion -> light command over the broker, {args.events} readings at {args.rate:g}/s: "
        f"{len(got)} commands\n"
        f"  total  p50 {total[0]:.2f} ms, p99 {total[1]:.2f} ms, max {total[2]:.1f} ms\n"
        f"  in     p50 {hub_in[0]:.2f} ms, p99 {hub_in[1]:.2f} ms, max {hub_in[2]:.1f} ms"
        "  (sensor publish -> hub queues the light command)\n"
        + "".join(line + "\n" for line in lines)
        + f"  out    p50 {hub_out[0]:.2f} ms, p99 {hub_out[1]:.2f} ms, max {hub_out[2]:.1f} ms"
        "  (queued -> sensor receives it)\n"
        f"  hub process CPU {cpu / wall * 100:.0f}% of a core, "
        f"{cpu / len(got) * 1000:.2f} ms per reading; "
        f"{inbound / len(sent):.2f} messages in per reading"
    )


if __name__ == "__main__":
    main()
