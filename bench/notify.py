"""Bench: from a detection to the owner's HTTP post with the snapshot attached.

Path 1: a Notify effect straight into the notifier: durable outbox insert (WAL,
synchronous=FULL), the sender thread, apprise's json:// plugin posting the snapshot base64
to a webhook on loopback.
Path 2 (--hub): the hub on a private mosquitto with the real rule host: (a) a
camera.detection event emitted in the hub, as the camera component does; (b) a motion
sensor's Zigbee2MQTT message published on the broker. Each is journaled, published on
edgehub/<hub>/events, run through a rule whose action is `notify: alice, attach: snapshot`
(the detection's JPEG, or the camera's latest retained snapshot), then delivered.
Prints p50/p99/max measured at the receiver, one notification at a time.

    .venv/bin/python bench/notify.py [-n 200] [--width 1280 --height 720] [--hub]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
from _common import hub_config, z2m

# Run as a script, bench/ comes first on sys.path and bench/rules.py would shadow `rules`.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent.resolve()]

from hub.broker import MosquittoBroker, free_port  # noqa: E402
from hub.config.owners import NotifyConfig, owners_from_dict  # noqa: E402
from hub.notify.service import NotifyService  # noqa: E402
from rules.effects import Notify  # noqa: E402
from rules.events import Event  # noqa: E402


def snapshot(path: Path, w: int, h: int) -> Path:
    """Write a camera-like JPEG (gradient, shapes, mild noise) and return its path."""
    rng = np.random.default_rng(0)
    img = np.zeros((h, w, 3), np.uint8)
    img[:] = np.linspace(40, 200, w, dtype=np.uint8)[None, :, None]
    cv2.rectangle(img, (w // 3, h // 4), (w // 2, h - 20), (30, 60, 200), -1)
    img = cv2.add(img, rng.integers(0, 12, img.shape, dtype=np.uint8))
    path.write_bytes(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes())
    return path


class Webhook:
    """A loopback receiver noting when each post arrived (perf_counter) and its size."""

    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: list[float] = []
        self.sizes: list[int] = []
        self.cond = threading.Condition()
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                t = time.perf_counter()
                assert json.loads(body)["attachments"], "the snapshot must be attached"
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()
                with hook.cond:
                    hook.arrivals.append(t)
                    hook.sizes.append(len(body))
                    hook.cond.notify_all()

            def log_message(self, *a: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self) -> str:
        return f"json://127.0.0.1:{self.port}/hook"

    def timed(
        self,
        n: int,
        fire: Callable[[int], None],
        prepare: Callable[[int], None] | None = None,
        warmup: int = 5,
    ) -> list[float]:
        """Call fire(i) n+warmup times, one at a time; return ms from fire to post arrival."""
        out = []
        for i in range(n + warmup):
            if prepare is not None:
                prepare(i)
            with self.cond:
                have = len(self.arrivals)
            t0 = time.perf_counter()
            fire(i)
            with self.cond:
                if not self.cond.wait_for(lambda h=have: len(self.arrivals) > h, timeout=10):
                    raise RuntimeError(f"post {i} never arrived")
                t1 = self.arrivals[have]
            if i >= warmup:  # imports, first connection
                out.append((t1 - t0) * 1000)
        return out


def report(label: str, lat: list[float]) -> None:
    """Print p50/p99/max of a list of milliseconds."""
    q = statistics.quantiles(lat, n=100)
    print(f"{label}, n={len(lat)}: p50 {q[49]:.1f} ms, p99 {q[98]:.1f} ms, max {max(lat):.1f} ms")


def bench_direct(hook: Webhook, snap: Path, tmp: Path, n: int) -> None:
    """Path 1: Notify effect -> outbox -> sender -> apprise -> HTTP post."""
    owners = owners_from_dict({"alice": {"notify": [hook.url()]}})
    svc = NotifyService(tmp / "direct" / "edgehub.db", owners, NotifyConfig(cooldown=0))
    svc.start()
    commit: list[float] = []

    def fire(i: int) -> None:
        t0 = time.perf_counter()
        svc.submit(
            Notify(
                owners=("alice",),
                title=f"person {i}",
                message="front_door: person (0.93)",
                attach="snapshot",
                camera="front_door",
                data={"snapshot": str(snap)},
                rule="door_person",
                cause=f"ev-{i}",
            )
        )
        commit.append((time.perf_counter() - t0) * 1000)

    lat = hook.timed(n, fire)
    svc.stop()
    report("Notify effect -> HTTP post with snapshot", lat)
    report("  of which the durable outbox insert", commit[5:])


RULES = """
- id: door_person
  triggers:
    - camera: front_door
      detected: person
      min_score: 0.5
  actions:
    - notify: alice
      title: Person at the door
      message: "front_door: person ({{ (trigger.score * 100) | round }}%)"
      attach: snapshot
- id: porch_motion
  triggers:
    - device: porch_motion
      attribute: occupancy
      to: true
  actions:
    - notify: alice
      title: Motion at the porch
      attach: snapshot
      camera: front_door
"""


def bench_hub(hook: Webhook, snap: Path, tmp: Path, n: int) -> None:
    """Path 2: through the running hub, with its journal and broker link."""
    import paho.mqtt.client as mqtt

    from hub.notify.component import NotifierComponent
    from hub.rules_host import RulesHost
    from hub.runtime import Hub

    broker = MosquittoBroker(tmp / "broker").start()
    cfg = hub_config(
        broker,
        tmp / "hub",
        "home",
        {"porch_motion": z2m("motion", "porch_motion")},
        owners={"alice": {"notify": [hook.url()]}},
        notify={"cooldown": 0},
    )
    (tmp / "rules").mkdir()
    (tmp / "rules" / "bench.yaml").write_text(RULES)
    # The camera component is left out (no capture to time): the bench plays its part.
    known = {"front_door": "camera", "porch_motion": "motion"}
    rules = RulesHost(tmp / "rules", known_devices=known)
    hub = Hub(cfg, components=[NotifierComponent(cfg.owners, cfg.notify), rules])
    t = threading.Thread(target=lambda: asyncio.run(hub.run()), daemon=True)
    t.start()
    hub.started.wait(20)
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(broker.host, broker.port)
    client.loop_start()
    # The camera's latest snapshot, retained, as the camera component publishes it.
    client.publish("edgehub/home/front_door/snapshot", snap.read_bytes(), qos=1, retain=True)

    def detect(i: int) -> None:
        data = {"label": "person", "score": 0.93, "box": [0.3, 0.2, 0.5, 0.9], "track": i}
        hub.emit(Event("camera.detection", "front_door", {**data, "snapshot": str(snap)}))

    lat = hook.timed(n, detect)
    report("hub: camera.detection event -> rule -> HTTP post with snapshot", lat)

    def clear(i: int) -> None:
        # occupancy false in between, so every true is a change
        client.publish("zigbee2mqtt/porch_motion", json.dumps({"occupancy": False}), qos=1)
        time.sleep(0.02)

    def motion(i: int) -> None:
        client.publish("zigbee2mqtt/porch_motion", json.dumps({"occupancy": True}), qos=1)

    lat = hook.timed(n, motion, prepare=clear)
    report("hub: Zigbee2MQTT motion over the broker -> rule -> HTTP post with snapshot", lat)
    client.loop_stop()
    client.disconnect()
    hub.request_stop()
    t.join(20)
    broker.stop()


def main() -> int:
    """Run the bench and print the figures."""
    ap = argparse.ArgumentParser()
    ap.add_argument("-n", type=int, default=200)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=720)
    ap.add_argument("--hub", action="store_true", help="also time the path through the hub")
    args = ap.parse_args()
    hook = Webhook()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        snap = snapshot(tmp / "snap.jpg", args.width, args.height)
        print(f"snapshot {args.width}x{args.height}, {snap.stat().st_size / 1024:.0f} KiB JPEG")
        bench_direct(hook, snap, tmp, args.n)
        if args.hub:
            bench_hub(hook, snap, tmp, args.n)
    hook.server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
