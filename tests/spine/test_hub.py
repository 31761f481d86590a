"""The running hub over a real broker: events journaled and published, bad input survived."""

from __future__ import annotations

import json
import time
from pathlib import Path

from helpers import Collector, make_config

from hub.background import HubThread, call_on_loop
from hub.broker import MosquittoBroker
from hub.store import read_events
from rules.effects import Effect, Emit, LightCommand, SetState
from rules.events import Event


class Recorder:
    """A component that records its lifecycle and every event it hears."""

    def __init__(self, name: str, log: list[str]):
        self.name = name
        self.log = log
        self.events: list[Event] = []
        self.ctx = None

    async def start(self, ctx) -> None:
        self.ctx = ctx
        self.log.append(f"start {self.name}")

    async def stop(self) -> None:
        self.log.append(f"stop {self.name}")

    def on_event(self, event: Event) -> None:
        self.events.append(event)


def journal(data_dir: Path, **kw) -> list[Event]:
    return list(read_events(data_dir / "edgehub.db", **kw))


def test_sensor_message_is_journaled_and_published(broker: MosquittoBroker, tmp_path: Path) -> None:
    sub = Collector(broker, "edgehub/test/#")
    with HubThread(make_config(broker, tmp_path)) as hub:
        assert sub.wait_for("edgehub/test/status").payload == b"online"
        manifest = json.loads(sub.wait_for("edgehub/test/devices").payload)
        assert manifest["devices"]["hall_motion"]["type"] == "motion"
        sub.publish("zigbee2mqtt/hall_motion", '{"occupancy":true,"battery":100}')
        state = sub.wait_for("edgehub/test/hall_motion/state")
        assert json.loads(state.payload) == {"occupancy": True, "battery": 100}
        ev = sub.wait_for("edgehub/test/events", lambda d: d["source"] == "hall_motion")
        assert json.loads(ev.payload)["kind"] == "state"
        sub.publish("tele/garden/SENSOR", '{"DS18B20":{"Temperature":20.6},"TempUnit":"C"}')
        sub.wait_for("edgehub/test/garden_temp/state")
        assert hub.device_state("garden_temp") == {"temperature": 20.6}
        hub.store.flush()
        got = journal(tmp_path, device="hall_motion")
        assert [(e.kind, e.data) for e in got] == [("state", {"occupancy": True, "battery": 100})]
    sub.close()


def test_offline_is_published_on_stop(broker: MosquittoBroker, tmp_path: Path) -> None:
    with HubThread(make_config(broker, tmp_path)):
        pass
    sub = Collector(broker, "edgehub/test/status")
    assert sub.messages.get(timeout=5).payload == b"offline"
    sub.close()


def test_malformed_payloads_leave_the_other_devices_served(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    sub = Collector(broker, "edgehub/test/+/state")
    with HubThread(make_config(broker, tmp_path)) as hub:
        for bad in (b"\x00\xff\xfe binary", b"x" * (1024 * 1024), b'{"contact":tr', b"ON", b"21"):
            sub.publish("zigbee2mqtt/front_door", bad)
        sub.publish("zigbee2mqtt/front_door", '{"contact":"sometimes"}')
        sub.publish("zigbee2mqtt/hall_motion", '{"occupancy":true}')
        msg = sub.wait_for("edgehub/test/hall_motion/state")
        assert json.loads(msg.payload) == {"occupancy": True}
        sub.publish("zigbee2mqtt/front_door", '{"contact":false}')
        msg = sub.wait_for("edgehub/test/front_door/state")
        assert json.loads(msg.payload) == {"contact": False}
        assert hub.malformed["front_door"] == 6
        assert hub.malformed["hall_motion"] == 0
    sub.close()


def test_retained_state_at_startup_is_a_baseline(broker: MosquittoBroker, tmp_path: Path) -> None:
    pub = Collector(broker)
    pub.publish("zigbee2mqtt/hall_motion", '{"occupancy":true}', retain=True)
    rec = Recorder("rec", [])
    with HubThread(make_config(broker, tmp_path), components=[rec]) as hub:
        pub.publish("zigbee2mqtt/front_door", '{"contact":true}')
        sub = Collector(broker, "edgehub/test/front_door/state")
        pub.publish("zigbee2mqtt/front_door", '{"contact":false}')
        sub.wait_for("edgehub/test/front_door/state", lambda d: d == {"contact": False})
        assert hub.device_state("hall_motion") == {"occupancy": True}
    kinds = [(e.kind, e.source) for e in rec.events if e.source != "hub"]
    assert ("state.baseline", "hall_motion") in kinds
    assert ("state", "hall_motion") not in kinds
    assert ("state", "front_door") in kinds
    pub.close()
    sub.close()


def test_components_lifecycle_listeners_and_effects(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    order: list[str] = []
    a, b = Recorder("a", order), Recorder("b", order)
    raw: list[tuple[str, bytes, bool]] = []
    lights: list[LightCommand] = []

    class Lights(Recorder):
        async def start(self, ctx) -> None:
            await super().start(ctx)
            ctx.subscribe("custom/+/raw", lambda t, p, r: raw.append((t, p, r)))

            def light(effect: LightCommand) -> list[Event]:
                lights.append(effect)
                return [Event("state", effect.device, {"state": "ON"})]

            ctx.on_effect(LightCommand, light)

    c = Lights("lights", order)
    pub = Collector(broker)
    with HubThread(make_config(broker, tmp_path), components=[a, b, c]) as hub:
        assert order == ["start a", "start b", "start lights"]
        pub.publish("custom/x/raw", b"\x01\x02")
        deadline = time.monotonic() + 5
        while not raw and time.monotonic() < deadline:
            time.sleep(0.02)
        assert raw == [("custom/x/raw", b"\x01\x02", False)]

        async def run_effects() -> list[list[Event]]:
            return [
                await hub.execute(LightCommand(device="hall_light", cause="cause-1")),
                await hub.execute(
                    SetState(device="alarm", attributes={"mode": "armed"}, cause="c2")
                ),
                await hub.execute(Emit(kind="scene.evening", rule="r1", cause="c3")),
            ]

        out = call_on_loop(hub, run_effects)
        assert lights[0].device == "hall_light"
        assert [e.cause for batch in out for e in batch] == ["cause-1", "c2", "c3"]
        assert hub.device_state("hall_light") == {"state": "ON"}
        assert hub.device_state("alarm") == {"mode": "armed"}
        try:
            call_on_loop(hub, hub.execute, Effect())
            raise AssertionError("expected NoExecutor")
        except LookupError:
            pass
    assert order[-3:] == ["stop lights", "stop b", "stop a"]
    # Every listener heard the same events in the same order.
    assert [e.id for e in a.events] == [e.id for e in b.events] == [e.id for e in c.events]
    assert [e.kind for e in a.events][-3:] == ["state", "scene.evening", "hub.stopping"]
    pub.close()
