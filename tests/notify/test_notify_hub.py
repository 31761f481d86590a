"""The notifier inside the real hub: Notify effect in, webhook post and MQTT reports out."""

from __future__ import annotations

import asyncio
import base64
import json
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from notify_helpers import Receiver, jpeg_file

from hub.broker import MosquittoBroker
from hub.config.loader import validate_config
from hub.runtime import Hub
from rules.effects import Notify
from rules.events import Event


class Listener:
    """A paho client collecting messages on the hub's topics."""

    def __init__(self, broker: MosquittoBroker, topics: list[str]):
        self.msgs: list[tuple[str, bytes]] = []
        self.cond = threading.Condition()
        self.c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.c.on_message = self._on
        self.c.connect(broker.host, broker.port)
        for t in topics:
            self.c.subscribe(t, qos=1)
        self.c.loop_start()

    def _on(self, c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
        with self.cond:
            self.msgs.append((m.topic, m.payload))
            self.cond.notify_all()

    def wait(self, pred: Any, timeout: float = 10) -> list[tuple[str, bytes]]:
        with self.cond:
            assert self.cond.wait_for(lambda: pred(self.msgs), timeout), self.msgs
            return list(self.msgs)

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def around_now() -> dict[str, str]:
    now = datetime.now()
    return {
        "from": (now - timedelta(hours=1)).strftime("%H:%M"),
        "to": (now + timedelta(hours=1)).strftime("%H:%M"),
    }


@pytest.fixture
def hub(tmp_path: Path, broker: MosquittoBroker, receiver: Receiver) -> Iterator[Hub]:
    cfg = validate_config(
        {
            "hub": {"id": "home", "data_dir": str(tmp_path / "data")},
            "mqtt": {"host": broker.host, "port": broker.port},
            "owners": {
                "alice": {"notify": [receiver.url()]},
                # bob is asleep right now, whatever the time of the test
                "bob": {"notify": [receiver.url("/bob")], "quiet_hours": around_now()},
            },
            "notify": {"cooldown": 0},
        }
    )
    h = Hub(cfg)
    t = threading.Thread(target=lambda: asyncio.run(h.run()), daemon=True)
    t.start()
    assert h.started.wait(20)
    yield h
    h.request_stop()
    t.join(20)


def test_notify_effect_through_the_hub(
    tmp_path: Path, broker: MosquittoBroker, receiver: Receiver, hub: Hub
) -> None:
    snap = jpeg_file(tmp_path / "front.jpg")
    listen = Listener(broker, ["edgehub/home/notifications", "edgehub/home/events"])
    try:
        # The camera publishes its latest snapshot retained; the notifier keeps it.
        listen.c.publish("edgehub/home/front_door/snapshot", snap.read_bytes(), qos=1, retain=True)
        detection = Event("camera.detection", "front_door", {"label": "person"})
        hub.emit(detection)
        effect = Notify(
            owners=("alice",),
            title="Person at the door",
            message="front_door: person",
            attach="snapshot",
            camera="front_door",
            rule="door_person",
            cause=detection.id,
        )
        (comp,) = [c for c in hub.components if c.name == "notify"]
        deadline = time.monotonic() + 10
        while comp.latest_snapshot("front_door") is None and time.monotonic() < deadline:
            time.sleep(0.02)
        asyncio.run_coroutine_threadsafe(hub.execute(effect), hub.loop).result(10)
        night = Notify(owners=("bob",), title="Door opened", rule="door", cause=detection.id)
        held = asyncio.run_coroutine_threadsafe(hub.execute(night), hub.loop).result(10)
        assert [e.kind for e in held] == ["notify.held"]
        (post,) = receiver.wait_for(1)
        msgs = listen.wait(
            lambda ms: (
                any(t.endswith("events") and json.loads(p)["kind"] == "notify.sent" for t, p in ms)
                and any(t.endswith("notifications") and b'"held"' in p for t, p in ms)
            )
        )
    finally:
        listen.close()
    (att,) = post["json"]["attachments"]
    assert base64.b64decode(att["base64"]) == snap.read_bytes()
    reports = [json.loads(p) for t, p in msgs if t.endswith("notifications")]
    assert sorted((r["status"], r["owner"], r["title"]) for r in reports) == [
        ("held", "bob", "Door opened"),
        ("queued", "alice", "Person at the door"),
        ("sent", "alice", "Person at the door"),
    ]
    # One id follows alice's notification from queued to sent.
    assert len({r["notification"] for r in reports if r["owner"] == "alice"}) == 1
    assert [p["path"] for p in receiver.posts] == ["/hook"]  # nothing reached bob
    (sent,) = [json.loads(p) for t, p in msgs if t.endswith("events") and b"notify.sent" in p]
    assert sent["cause"] == detection.id  # "why did alice get this?" walks back to the camera
