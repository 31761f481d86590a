"""Helpers for health tests: a hub config on the fixture broker and an MQTT collector."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from testkit import Collector as _Collector
from testkit import hub_config

from hub.broker import MosquittoBroker

__all__ = ["Collector", "hub_config"]


class Collector(_Collector):
    """A paho client that keeps every message it hears, read as the hub's events."""

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


@pytest.fixture
def collector(broker: MosquittoBroker):
    c = Collector(broker, "edgehub/test/#")
    yield c
    c.close()
