"""Test helpers for the spine: configs pointing at the fixture broker, a collecting client."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from testkit import Collector as _Collector
from testkit import hub_config

from hub.broker import MosquittoBroker
from hub.config import Config

DEVICES = {
    "hall_motion": {"type": "motion", "topic": "zigbee2mqtt/hall_motion"},
    "front_door": {"type": "contact", "topic": "zigbee2mqtt/front_door"},
    "garden_temp": {"type": "sensor", "topic": "tele/garden/SENSOR", "format": "tasmota"},
}


def make_config(broker: MosquittoBroker, data_dir: Path, **extra: Any) -> Config:
    """A hub config on the fixture broker with three sensors."""
    return hub_config(broker, data_dir, **{"devices": dict(DEVICES), **extra})


class Collector(_Collector):
    """A paho client that records every message on its subscriptions."""

    def wait_for(self, topic: str, pred: Any = None, timeout: float = 10.0) -> mqtt.MQTTMessage:
        """Return the first message on topic (whose JSON payload satisfies pred), seen or coming.

        Messages on other topics are kept for later calls, so the order of waits is free.
        """
        deadline = time.monotonic() + timeout
        while True:
            self._drain(0)
            for i, m in enumerate(self.seen):
                if m.topic == topic and (pred is None or pred(json.loads(m.payload))):
                    del self.seen[i]
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no message on {topic}")
            self._drain(min(left, 0.1))
