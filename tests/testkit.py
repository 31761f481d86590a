"""Helpers shared by several test areas: polling for a condition, a collecting MQTT client and
a hub config on the fixture broker.

Named testkit, not helpers: tests/spine imports its own `helpers` module by that bare name.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from hub.broker import MosquittoBroker
from hub.config import Config, validate_config


def wait_until(cond: Callable[[], Any], what: str = "", timeout: float = 15.0) -> Any:
    """Poll cond (threads deliver results asynchronously) and return its first true value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = cond()
        if got:
            return got
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what or cond}")


def hub_config(broker: MosquittoBroker, data_dir: Path, **extra: Any) -> Config:
    """A hub config (id "test", mock pins, no devices unless given) on the fixture broker."""
    data: dict[str, Any] = {
        "hub": {"id": "test", "data_dir": str(data_dir), "pin_factory": "mock"},
        "mqtt": {"host": broker.host, "port": broker.port},
        "devices": {},
    }
    data.update(extra)
    return validate_config(data)


class Collector:
    """A paho client that keeps every message on its subscriptions."""

    def __init__(self, broker: MosquittoBroker, *topics: str, client_id: str = "") -> None:
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
        """Publish at QoS 1 and wait until the broker has it."""
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def _drain(self, timeout: float) -> None:
        # Wait up to timeout for one message, then take whatever else has arrived.
        try:
            self.seen.append(self.messages.get(timeout=timeout))
            while True:
                self.seen.append(self.messages.get_nowait())
        except queue.Empty:
            pass

    def close(self) -> None:
        """Disconnect the client."""
        self.client.loop_stop()
        self.client.disconnect()
