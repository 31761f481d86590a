"""The health component in a real hub on a real broker, built by the real wiring."""

from __future__ import annotations

import json
import time

from hub.background import HubThread
from hub.health.component import HealthComponent, make_supervisor
from hub.health.metrics import DiskUsage, HostProbe
from hub.wiring import Backends

from .conftest import hub_config
from .test_health_metrics import fake_pi

FAST = {"tick": 0.05, "devices": {"min_offline": 0.5}}
SENSORS = {
    "garden_temp": {
        "type": "sensor",
        "topic": "tele/garden/SENSOR",
        "format": "tasmota",
        "expect_every": "0.2s",
    },
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion", "expect_every": "1h"},
    "front_door": {"type": "contact", "topic": "zigbee2mqtt/front_door", "expect_every": "1h"},
}


def state(collector, device: str, expected: dict, timeout: float = 5.0) -> dict:
    """Wait until the device's retained state equals expected; return the last one seen."""
    deadline = time.monotonic() + timeout
    while True:
        seen = json.loads(collector.last(f"edgehub/test/{device}/state"))
        if seen == expected or time.monotonic() > deadline:
            return seen
        time.sleep(0.05)


def test_silent_sensor_offline_then_online_on_events_and_state_topic(broker, tmp_path, collector):
    config = hub_config(broker, tmp_path / "data", devices=SENSORS, health=FAST)
    with HubThread(config):
        collector.publish("tele/garden/SENSOR", '{"DS18B20":{"Temperature":20.6},"TempUnit":"C"}')
        sent = time.time()
        offline = collector.wait_event("device.offline", timeout=10)
        assert offline["source"] == "garden_temp"
        assert offline["data"]["reason"] == "silent"
        assert offline["data"]["expected_every"] == 0.2
        # Not before the expected time: 3 intervals, at least min_offline (0.5 s).
        assert offline["ts"] - sent >= 0.5
        want = {"temperature": 20.6, "online": False}
        assert state(collector, "garden_temp", want) == want
        collector.publish("tele/garden/SENSOR", '{"DS18B20":{"Temperature":20.4},"TempUnit":"C"}')
        online = collector.wait_event("device.online")
        assert online["source"] == "garden_temp"
        want = {"temperature": 20.4, "online": True}
        assert state(collector, "garden_temp", want) == want
        # Only the one sensor that went silent: the others have an hour to report.
        assert {e["source"] for e in collector.events("device.offline")} == {"garden_temp"}


def test_zigbee2mqtt_availability_topic(broker, tmp_path, collector):
    config = hub_config(broker, tmp_path / "data", devices=SENSORS, health=FAST)
    with HubThread(config):
        collector.publish("zigbee2mqtt/hall_motion/availability", '{"state":"offline"}')
        off = collector.wait_event("device.offline", lambda e: e["source"] == "hall_motion")
        assert off["data"]["reason"] == "availability"
        collector.publish("zigbee2mqtt/hall_motion/availability", "online")  # older Z2M
        collector.wait_event("device.online", lambda e: e["source"] == "hall_motion")
        # The bridge going down takes every Zigbee device along, and brings them back.
        collector.publish("zigbee2mqtt/bridge/state", '{"state":"offline"}')
        for device in ("hall_motion", "front_door"):
            off = collector.wait_event(
                "device.offline",
                lambda e, d=device: e["source"] == d and e["data"]["reason"] == "bridge",
            )
        collector.publish("zigbee2mqtt/bridge/state", "online")
        collector.wait_event("device.online", lambda e: e["source"] == "front_door")
        # The Tasmota sensor is not behind the bridge.
        bridged = {
            e["source"]
            for e in collector.events("device.offline")
            if e["data"]["reason"] == "bridge"
        }
        assert bridged == {"hall_motion", "front_door"}


def test_chattering_contact_gives_one_event(broker, tmp_path, collector):
    config = hub_config(broker, tmp_path / "data", devices=SENSORS, health=FAST)
    with HubThread(config):
        for i in range(30):
            collector.publish("zigbee2mqtt/front_door", json.dumps({"contact": i % 2 == 0}))
        deadline = time.monotonic() + 10
        while len([e for e in collector.events("state") if e["source"] == "front_door"]) < 30:
            assert time.monotonic() < deadline, "the contact's messages did not all arrive"
            time.sleep(0.05)
        chatter = collector.events("device.chattering")
        assert len(chatter) == 1
        assert chatter[0]["source"] == "front_door"
        assert chatter[0]["data"]["attribute"] == "contact"


class Broken:
    """A component whose start always fails."""

    name = "porch_pipeline"

    async def start(self, ctx) -> None:
        raise RuntimeError("no such camera")

    async def stop(self) -> None:
        pass


def test_hub_health_retained_with_pi_figures_components_and_disk_warning(
    broker, tmp_path, collector
):
    probe = HostProbe(
        root=fake_pi(tmp_path / "pi"),
        disk_usage=lambda path: DiskUsage(total=32_000_000_000, used=28_000_000_000, free=4e9),
    )
    config = hub_config(broker, tmp_path / "data", devices=SENSORS, health=FAST)
    sup = make_supervisor(config, backoff=[0.05], check_interval=0.05)
    health = HealthComponent(config, supervisor=sup, probe=probe)
    with HubThread(config, components=sup.supervise([Broken(), health])):
        collector.wait_event("component.failed", lambda e: e["data"]["gave_up"])
        warning = collector.wait_event("storage.warning")
        assert warning["data"]["disk"] == "data"
        assert warning["data"]["free_pct"] == 12.5 and warning["data"]["used_pct"] == 87.5
        deadline = time.monotonic() + 5
        while True:
            health_now = json.loads(collector.last("edgehub/test/health"))
            if health_now["components"].get("porch_pipeline", {}).get("state") == "stopped":
                break
            assert time.monotonic() < deadline, health_now
            time.sleep(0.05)
        assert health_now["cpu_temp"] == 61.234
        assert health_now["throttled"]["under_voltage"] is True
        assert health_now["broker"] is True
        comps = health_now["components"]
        assert comps["porch_pipeline"]["error"] == "RuntimeError: no such camera"
        assert {comps[n]["state"] for n in ("health", "mqtt", "journal")} == {"running"}
        assert health_now["disk"]["data"]["free_pct"] == 12.5
        assert health_now["storage_warning"] == ["data", "recordings"]
        assert health_now["db_mb"] > 0
        assert len(health_now["load"]) == 3
    # hub.health is an event too, journaled and on the events topic.
    assert collector.events("hub.health")


def test_interval_learned_from_the_journal_survives_a_restart(broker, tmp_path, collector):
    devices = {"attic_temp": {"type": "sensor", "topic": "tele/attic/SENSOR", "format": "tasmota"}}
    config = hub_config(broker, tmp_path / "data", devices=devices, health=FAST)
    with HubThread(config) as hub:
        for i in range(8):  # a sensor reporting every 0.1 s; no expect_every in the config
            collector.publish("tele/attic/SENSOR", json.dumps({"AM2301": {"Temperature": 20 + i}}))
            time.sleep(0.1)
        hub.store.flush()
    with HubThread(config):
        started = time.time()
        # Nothing published since the restart: the history in the journal sets the interval.
        offline = collector.wait_event("device.offline", lambda e: e["ts"] > started)
        assert offline["source"] == "attic_temp"
        assert 0.05 < offline["data"]["expected_every"] < 0.5


def test_anomaly_profile_learned_from_the_journal_catches_a_fault_right_after_restart(
    broker, tmp_path, collector
):
    from hub.health.simweek import WEEK_START, simulated_week
    from hub.store import Store
    from rules.events import Event

    # Five days of an indoor sensor, journaled by an earlier run of the hub (ending recently,
    # so the journal's retention keeps it), on whole days so the time of day is kept.
    readings, _ = simulated_week(fault="none", seed=4, days=5)
    shift = (time.time() - 5 * 86400 - WEEK_START) // 86400 * 86400
    store = Store(tmp_path / "data").open()
    for ts, value in readings:
        store.append(Event("state", "attic_temp", {"temperature": value}, ts=ts + shift))
    store.flush()
    store.close()
    now = [readings[-1][0] + shift + 300]  # the hub's clock: 5 minutes after the last reading
    devices = {"attic_temp": {"type": "sensor", "topic": "tele/attic/SENSOR", "format": "tasmota"}}
    config = hub_config(broker, tmp_path / "data", devices=devices, health=FAST)
    with HubThread(config, backends=Backends(clock=lambda: now[0])):
        # A sensor dropping to -40 (two readings, five minutes apart on the hub's clock): with
        # no history the detector would still be warming up and stay quiet.
        for _ in range(2):
            collector.publish("tele/attic/SENSOR", '{"DS18B20":{"Temperature":-40.0}}')
            time.sleep(0.2)
            now[0] += 300
        anomaly = collector.wait_event("sensor.anomaly")
    assert anomaly["source"] == "attic_temp"
    assert anomaly["data"]["attribute"] == "temperature" and anomaly["data"]["value"] == -40.0
    low, high = anomaly["data"]["band"]
    assert 15 < low < anomaly["data"]["expected"] < high < 27
