"""The fake world: real payloads, real sensor timing, bulbs that obey, the live home."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt

from hub.adapters.tasmota import TasmotaAdapter
from hub.adapters.zigbee2mqtt import Zigbee2MqttAdapter
from hub.broker import MosquittoBroker
from simulator.clock import ScaledClock, start_time
from simulator.link import DeviceLink
from simulator.world import World, sun_elevation

ROOT = Path(__file__).resolve().parents[2]
AMS = ZoneInfo("Europe/Amsterdam")
DEVICES = {
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
    "front_door": {"type": "contact", "topic": "zigbee2mqtt/front_door"},
    "garden_temp": {"type": "sensor", "topic": "tele/garden/SENSOR", "format": "tasmota"},
    "hall_button": {"type": "button", "topic": "zigbee2mqtt/hall_button"},
    "porch_light": {"type": "light", "topic": "zigbee2mqtt/porch_light"},
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def world_at(t: float) -> tuple[World, Clock, list[tuple[str, str, bool]]]:
    sent: list[tuple[str, str, bool]] = []
    clock = Clock(t)
    world = World.from_devices(DEVICES, lambda *m: sent.append(m), clock, seed=3)
    return world, clock, sent


def test_pir_clears_after_90s_and_ignores_movement_for_60s() -> None:
    world, clock, sent = world_at(1_800_000_000.0)
    pir = world.sensors["hall_motion"]
    world.report("hall_motion", {"occupancy": True})
    topic, payload, retain = sent[-1]
    body = json.loads(payload)
    assert topic == "zigbee2mqtt/hall_motion" and retain
    assert body["occupancy"] is True and {"battery", "illuminance", "linkquality"} <= set(body)
    assert Zigbee2MqttAdapter("zigbee2mqtt/hall_motion").decode(topic, payload.encode())
    clock.t += 30
    assert pir.movement(clock.t) is False  # the Aqara cool-down
    clock.t += 59.9
    world.tick()
    assert len(sent) == 1
    clock.t += 0.1
    world.tick()
    assert json.loads(sent[-1][1])["occupancy"] is False
    assert pir.movement(clock.t) is True and json.loads(sent[-1][1])["occupancy"] is True


def test_contact_button_and_tasmota_thermometer_speak_their_formats() -> None:
    world, _, sent = world_at(datetime(2026, 11, 27, 3, 0, tzinfo=AMS).timestamp())
    world.report("front_door", {"contact": False})
    assert json.loads(sent[-1][1])["contact"] is False  # false = open
    world.report("hall_button", {"action": "double"})
    assert [json.loads(p)["action"] for _, p, _ in sent[-2:]] == ["double", ""]
    world.report("garden_temp", {"temperature": -0.5})
    topic, payload, _ = sent[-1]
    assert topic == "tele/garden/SENSOR"
    reading = TasmotaAdapter("tele/garden/SENSOR").decode(topic, payload.encode())
    assert reading is not None and reading.attrs["temperature"] == -0.5


def test_climate_drifts_reports_periodically_and_illuminance_follows_the_sun() -> None:
    noon = datetime(2026, 6, 21, 13, 30, tzinfo=AMS).timestamp()
    night = datetime(2026, 6, 21, 1, 30, tzinfo=AMS).timestamp()
    assert sun_elevation(noon, 52.37, 4.89) > 55 and sun_elevation(night, 52.37, 4.89) < -5
    world, clock, sent = world_at(noon)
    garden = world.sensors["garden_temp"]
    assert (
        garden.reading(noon)["illuminance"] > 50_000 and garden.reading(night)["illuminance"] == 0
    )
    for _ in range(24 * 12):  # a day in 5-minute steps
        clock.t += 300
        world.tick()
    temps = [json.loads(p)["AM2301"]["Temperature"] for t, p, _ in sent if "garden" in t]
    assert len(temps) >= 24 * 12 - 1
    assert 2 < max(temps) - min(temps) < 20  # a daily cycle, not noise or a runaway
    assert garden.battery < 100  # every message costs a little


def test_a_simulated_bulb_obeys_its_set_topic_over_a_real_broker(broker: MosquittoBroker) -> None:
    link = DeviceLink("127.0.0.1", broker.port).connect()
    World.from_devices(DEVICES, link.publish, time.time, subscribe=link.subscribe)
    got: list[dict] = []
    ready, arrived = threading.Event(), threading.Event()
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-bulb")
    c.on_connect = lambda cl, u, f, rc, p: (cl.subscribe("zigbee2mqtt/porch_light"), ready.set())
    c.on_message = lambda cl, u, m: (got.append(json.loads(m.payload)), arrived.set())
    c.connect("127.0.0.1", broker.port)
    c.loop_start()
    try:
        assert ready.wait(5)
        time.sleep(0.2)  # both subscriptions in place
        c.publish("zigbee2mqtt/porch_light/set", json.dumps({"state": "ON", "brightness": 102}), 1)
        assert arrived.wait(5)
        assert got[-1]["state"] == "ON" and got[-1]["brightness"] == 102
    finally:
        c.loop_stop()
        c.disconnect()
        link.close()


def test_scaled_clock_and_start_times() -> None:
    mono = [100.0]
    clock = ScaledClock(1000.0, speed=10, monotonic=lambda: mono[0])
    mono[0] += 1.5
    assert clock() == 1015.0 and clock.real_delay(30) == 3.0
    now = datetime(2026, 11, 27, 12, 0, tzinfo=AMS).timestamp()
    assert datetime.fromtimestamp(start_time("21:00", "Europe/Amsterdam", now), AMS).hour == 21
    exact = start_time("2026-11-27 16:03", "Europe/Amsterdam")
    assert datetime.fromtimestamp(exact, AMS).strftime("%d %H:%M") == "27 16:03"
    assert start_time(None, now=now) == now


def test_ambient_life_without_a_scenario(broker: MosquittoBroker) -> None:
    """`make run`'s mode: the home lives and the story tells it, until --duration."""
    cmd = [sys.executable, "-m", "hub", "sim", "-c", str(ROOT / "examples/home/hub.yaml")]
    cmd += ["--broker", f"127.0.0.1:{broker.port}", "--start", "21:00", "--duration", "6"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert "the example home is running" in r.stdout
    assert "hall_motion occupancy" in r.stdout and "→ rule hall_motion_light →" in r.stdout


def test_ambient_is_reproducible_by_seed() -> None:
    from simulator.world import Ambient

    runs = []
    for _ in range(2):
        world, clock, sent = world_at(1_800_000_000.0)
        amb = Ambient(world, random.Random(7))
        for _ in range(600):
            clock.t += 1
            amb.tick()
        runs.append([t for t, _, _ in sent])
    assert runs[0] == runs[1] and len(runs[0]) > 20


def test_tasmota_flavours_decode_with_the_hubs_own_adapter() -> None:
    sent: list[tuple[str, str, bool]] = []
    devices = {
        "garage_pir": {"type": "motion", "topic": "garage", "format": "tasmota"},
        "shed_door": {"type": "contact", "topic": "shed", "format": "tasmota"},
    }
    clock = Clock(1_800_000_000.0)
    world = World.from_devices(devices, lambda *m: sent.append(m), clock)
    world.report("garage_pir", {"occupancy": True})
    clock.t += 90
    world.tick()
    world.report("shed_door", {"contact": False})
    pir, door = TasmotaAdapter("garage"), TasmotaAdapter("shed")
    got = [(pir if "garage" in t else door).decode(t, p.encode()) for t, p, _ in sent]
    assert [t for t, _, _ in sent] == ["stat/garage/PIR1", "stat/garage/PIR1", "tele/shed/SENSOR"]
    assert [g.attrs for g in got[:2]] == [{"occupancy": True}, {"occupancy": False}]
    # Without a device type the adapter keeps Switch1 as switch1; a `contact` device maps it.
    assert got[2] is not None and got[2].attrs == {"switch1": "OFF"}
