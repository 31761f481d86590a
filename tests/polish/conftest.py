"""Helpers for the polish tests: a hub config on the fixture broker and an event collector."""

from __future__ import annotations

import json
import queue
import time
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from testkit import hub_config

from hub.broker import MosquittoBroker

__all__ = ["Events", "hub_config"]


class Events:
    """A paho client that keeps every event the hub publishes on edgehub/test/events."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.inbox: queue.Queue[bytes] = queue.Queue()
        self.seen: list[dict[str, Any]] = []
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_message = lambda c, u, m: self.inbox.put(m.payload)
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("edgehub/test/events", qos=1)
        self.client.loop_start()
        time.sleep(0.2)

    def of(self, kind: str) -> list[dict[str, Any]]:
        """Return the events of one kind seen so far."""
        while not self.inbox.empty():
            self.seen.append(json.loads(self.inbox.get_nowait()))
        return [e for e in self.seen if e["kind"] == kind]

    def wait(
        self, kind: str, pred: Callable[[dict], bool] | None = None, timeout: float = 15.0
    ) -> dict[str, Any]:
        """Return the first event of kind (matching pred), waiting up to timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [e for e in self.of(kind) if pred is None or pred(e)]
            if found:
                return found[0]
            time.sleep(0.05)
        raise TimeoutError(f"no {kind} event")

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def events(broker: MosquittoBroker):
    e = Events(broker)
    yield e
    e.close()
