"""Bench: the dashboard's CPU share while 500 events/s arrive over a real broker.

Runs the DashApp headless on the Events tab (the worst case: every event becomes a row),
with a publisher in a separate process, and prints the CPU the dashboard process used per
second of wall time, how many batches it drew, and how long a key press took under load.

    .venv/bin/python bench/dash.py [--rate 500] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import subprocess
import sys
import tempfile
import time

from hub.broker import MosquittoBroker
from hub.dash import DashLink, LinkSettings
from hub.dash.app import DashApp

PUBLISHER = r"""
import json, sys, time
import paho.mqtt.client as mqtt
host, port, rate, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
c.connect(host, port)
c.loop_start()
kinds = [("hall_motion", "state", {"occupancy": True}),
         ("hall_light", "state", {"state": "ON"}),
         ("porch_cam", "camera.motion", {"phase": "start"}),
         ("rule:r1", "rule.run", {"result": "ran"})]
start = time.monotonic(); n = 0; tick = 0.02
while time.monotonic() - start < seconds:
    due = int((time.monotonic() - start) * rate)
    while n < due:
        src, kind, data = kinds[n % 4]
        ev = {"id": f"b{n:08d}", "ts": time.time(), "source": src, "kind": kind, "data": data,
              "cause": f"b{n-1:08d}" if n else None}
        c.publish("edgehub/home/events", json.dumps(ev), qos=0)
        n += 1
    time.sleep(tick)
time.sleep(0.5)
c.loop_stop()
print(n)
"""


def cpu_seconds() -> float:
    """Return user+system CPU seconds of this process (all its threads)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def measure(
    broker: MosquittoBroker, rate: float, seconds: float, tab: str, flush: float = 0.2
) -> dict:
    """Run one measurement with the given tab in front; return the figures."""
    link = DashLink(LinkSettings(host=broker.host, port=broker.port))
    app = DashApp(link, flush_interval=flush)
    async with app.run_test(size=(120, 40)) as pilot:
        while not app.connected:
            await pilot.pause(0.05)
        await pilot.press({"events": "2", "home": "1"}[tab])
        await pilot.pause(0.5)
        idle0, t_idle = cpu_seconds(), time.monotonic()
        await asyncio.sleep(2.0)
        idle_share = (cpu_seconds() - idle0) / (time.monotonic() - t_idle)
        idle_keys = []
        for _ in range(5):
            k0 = time.perf_counter()
            await pilot.press("up")
            idle_keys.append((time.perf_counter() - k0) * 1000)
        pub = subprocess.Popen(
            [
                sys.executable,
                "-c",
                PUBLISHER,
                broker.host,
                str(broker.port),
                str(rate),
                str(seconds),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )
        await asyncio.sleep(1.0)  # let the rate settle before measuring
        flushes0, cpu0, t0 = app.flushes, cpu_seconds(), time.monotonic()
        key_ms = []
        while pub.poll() is None and time.monotonic() - t0 < seconds - 2:
            table = app.query_one("#event-list") if tab == "events" else None
            k0 = time.perf_counter()
            await pilot.press("up")
            key_ms.append((time.perf_counter() - k0) * 1000)
            await asyncio.sleep(0.5)
            if table is not None:
                await pilot.press("end")  # back to following the stream
        cpu, wall = cpu_seconds() - cpu0, time.monotonic() - t0
        flushes = app.flushes - flushes0
        sent = int((pub.communicate()[0] or "0").strip() or 0)
        await pilot.pause(0.5)
        rows = app.query_one("#event-list").row_count
        return {
            "tab": tab,
            "flush_interval_s": flush,
            "rate": rate,
            "sent": sent,
            "received": app.model.event_seq,
            "history": len(app.model.events),
            "table_rows": rows,
            "dropped": app.dropped,
            "idle_cpu_share": round(idle_share, 3),
            "cpu_share": round(cpu / wall, 3),
            "batches_per_s": round(flushes / wall, 1),
            "idle_key_press_ms_median": round(sorted(idle_keys)[2], 1),
            "key_press_ms_median": round(sorted(key_ms)[len(key_ms) // 2], 1) if key_ms else None,
            "key_press_ms_max": round(max(key_ms), 1) if key_ms else None,
        }


def main() -> None:
    """Run the bench and print one JSON line per tab."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rate", type=float, default=500)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--flush", type=float, default=0.2, help="the app's batch interval (s)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp, MosquittoBroker(tmp) as broker:
        for tab in ("events", "home"):
            figures = asyncio.run(measure(broker, args.rate, args.seconds, tab, args.flush))
            print(json.dumps(figures))


if __name__ == "__main__":
    main()
