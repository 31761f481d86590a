"""Helpers for health tests: a hub config on the fixture broker and an MQTT collector."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from hub.broker import MosquittoBroker
from hub.config import Config, validate_config


def hub_config(broker: MosquittoBroker, data_dir: Path, **extra: Any) -> Config:
    """A hub config (id "test") on the fixture broker."""
    data: dict[str, Any] = {
        "hub": {"id": "test", "data_dir": str(data_dir), "pin_factory": "mock"},
        "mqtt": {"host": broker.host, "port": broker.port},
        "devices": {},
    }
    data.update(extra)
    return validate_config(data)


class Collector:
    """A paho client that keeps every message it hears."""

    def __init__(self, broker: MosquittoBroker, *topics: str) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self.seen: list[mqtt.MQTTMessage] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.connect(broker.host, broker.port)
        for t in topics:
            self.client.subscribe(t, qos=1)
        self.client.loop_start()
        time.sleep(0.2)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def _drain(self, timeout: float) -> None:
        try:
            self.seen.append(self.messages.get(timeout=timeout))
            while True:
                self.seen.append(self.messages.get_nowait())
        except queue.Empty:
            pass

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Return the events seen on edgehub/test/events so far (of one kind)."""
        self._drain(0)
        out = [json.loads(m.payload) for m in self.seen if m.topic == "edgehub/test/events"]
        return [e for e in out if kind is None or e["kind"] == kind]

    def wait_event(
        self, kind: str, pred: Callable[[dict], bool] | None = None, timeout: float = 10.0
    ) -> dict[str, Any]:
        """Return the first event of kind (satisfying pred), waiting up to timeout."""
        deadline = time.monotonic() + timeout
        while True:
            found = [e for e in self.events(kind) if pred is None or pred(e)]
            if found:
                return found[0]
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no {kind} event")
            self._drain(min(left, 0.2))

    def last(self, topic: str, timeout: float = 10.0) -> bytes:
        """Return the latest payload on topic, waiting for a first one."""
        deadline = time.monotonic() + timeout
        while True:
            self._drain(0)
            found = [m.payload for m in self.seen if m.topic == topic]
            if found:
                return found[-1]
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing on {topic}")
            self._drain(0.2)

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def collector(broker: MosquittoBroker):
    c = Collector(broker, "edgehub/test/#")
    yield c
    c.close()
