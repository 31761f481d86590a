"""A standalone sensor publisher for any broker (`edgehub sim` uses simulator/world.py instead).

    python -m simulator.sensors --port 18830 [--interval 2] [--count N]

A hall motion sensor (occupancy on, then off), a front door contact (true = closed), a
Tasmota garden thermometer on tele/garden/SENSOR and a button. It reconnects until the
broker is up, so it can start before the hub's embedded broker.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator

import paho.mqtt.client as mqtt

Reading = tuple[str, str, bool]  # topic, payload, retain


def hall_motion(rng: random.Random) -> Iterator[Reading]:
    """Someone walks by now and then; occupancy clears after a while."""
    battery = 100
    while True:
        yield (
            "zigbee2mqtt/hall_motion",
            json.dumps({"occupancy": True, "illuminance": rng.randint(5, 60), "battery": battery}),
            True,
        )
        yield "zigbee2mqtt/hall_motion", json.dumps({"occupancy": False, "battery": battery}), True
        battery = max(1, battery - rng.choice((0, 0, 1)))


def front_door(rng: random.Random) -> Iterator[Reading]:
    """The door opens and closes (contact true means closed)."""
    while True:
        yield "zigbee2mqtt/front_door", json.dumps({"contact": False, "battery": 91}), True
        yield "zigbee2mqtt/front_door", json.dumps({"contact": True, "battery": 91}), True


def garden_temp(rng: random.Random) -> Iterator[Reading]:
    """A Tasmota DS18B20 with a slow daily cycle and noise."""
    while True:
        hour = time.localtime().tm_hour + time.localtime().tm_min / 60
        t = 10 + 5 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.gauss(0, 0.2)
        payload = {
            "Time": time.strftime("%Y-%m-%dT%H:%M:%S"),
            "DS18B20": {"Id": "0316A2794A1C", "Temperature": round(t, 1)},
            "TempUnit": "C",
        }
        yield "tele/garden/SENSOR", json.dumps(payload), False


def hall_button(rng: random.Random) -> Iterator[Reading]:
    """A press, followed by the empty action Zigbee2MQTT sends after it."""
    while True:
        yield (
            "zigbee2mqtt/hall_button",
            json.dumps({"action": rng.choice(["single", "double"])}),
            False,
        )
        yield "zigbee2mqtt/hall_button", json.dumps({"action": ""}), False


SENSORS: dict[str, Callable[[random.Random], Iterator[Reading]]] = {
    "hall_motion": hall_motion,
    "front_door": front_door,
    "garden_temp": garden_temp,
    "hall_button": hall_button,
}


def run(host: str, port: int, interval: float, count: int | None, seed: int = 1) -> int:
    """Publish one reading of a random sensor every interval seconds; return how many."""
    rng = random.Random(seed)
    streams = {name: make(rng) for name, make in SENSORS.items()}
    connected = threading.Event()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="edgehub-sim-sensors")
    client.on_connect = lambda c, u, f, rc, p: connected.set() if not rc.is_failure else None
    client.reconnect_delay_set(1, 5)
    client.connect_async(host, port)
    client.loop_start()
    sent = 0
    try:
        while not connected.wait(1):
            print(f"sensors: waiting for the broker at {host}:{port}", flush=True)
        while count is None or sent < count:
            name = rng.choice(list(streams))
            topic, payload, retain = next(streams[name])
            client.publish(topic, payload, qos=1, retain=retain)
            sent += 1
            time.sleep(interval)
    except KeyboardInterrupt:
        pass
    finally:
        client.loop_stop()
        client.disconnect()
    return sent


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=18830)
    p.add_argument("--interval", type=float, default=2.0, help="seconds between readings")
    p.add_argument("--count", type=int, help="stop after N readings")
    p.add_argument("--seed", type=int, default=1)
    args = p.parse_args(argv)
    run(args.host, args.port, args.interval, args.count, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
