"""Test helpers for the spine: configs pointing at the fixture broker, a collecting client."""

from __future__ import annotations

import contextlib
import json
import queue
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from hub.broker import MosquittoBroker
from hub.config import Config, validate_config

DEVICES = {
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
    "front_door": {"type": "contact", "topic": "zigbee2mqtt/front_door"},
    "garden_temp": {"type": "sensor", "topic": "tele/garden/SENSOR", "format": "tasmota"},
}


def make_config(broker: MosquittoBroker, data_dir: Path, **extra: Any) -> Config:
    """A hub config on the fixture broker with three sensors."""
    data = {
        "hub": {"id": "test", "data_dir": str(data_dir), "pin_factory": "mock"},
        "mqtt": {"host": broker.host, "port": broker.port},
        "devices": dict(DEVICES),
    }
    data.update(extra)
    return validate_config(data)


class Collector:
    """A paho client that records every message on its subscriptions."""

    def __init__(self, broker: MosquittoBroker, *topics: str, client_id: str = ""):
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.seen: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.connect(broker.host, broker.port)
        for t in topics:
            self.client.subscribe(t, qos=1)
        self.client.loop_start()
        time.sleep(0.2)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def wait_for(self, topic: str, pred: Any = None, timeout: float = 10.0) -> mqtt.MQTTMessage:
        """Return the first message on topic (whose JSON payload satisfies pred), seen or coming.

        Messages on other topics are kept for later calls, so the order of waits is free.
        """
        deadline = time.monotonic() + timeout
        while True:
            while not self.messages.empty():
                self.seen.append(self.messages.get_nowait())
            for i, m in enumerate(self.seen):
                if m.topic == topic and (pred is None or pred(json.loads(m.payload))):
                    del self.seen[i]
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no message on {topic}")
            with contextlib.suppress(queue.Empty):
                self.seen.append(self.messages.get(timeout=min(left, 0.1)))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
