"""The devices' own MQTT connection: how the fake sensors reach the broker (paho, QoS 1)."""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from typing import Any

import paho.mqtt.client as mqtt

log = logging.getLogger(__name__)


class LinkError(RuntimeError):
    """The simulated devices cannot reach the broker."""


class DeviceLink:
    """One paho client shared by every simulated device, like a Zigbee2MQTT bridge."""

    def __init__(self, host: str, port: int, client_id: str = "edgehub-sim-devices") -> None:
        self.host, self.port = host, port
        self._connected = threading.Event()
        self.client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311
        )
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 5)
        self._handlers: list[tuple[str, Callable[[str, bytes], None]]] = []

    def _on_connect(self, client: mqtt.Client, u: Any, f: Any, rc: Any, p: Any) -> None:
        if rc.is_failure:
            return
        sock = client.socket()
        if sock is not None:  # DESIGN.md: paho leaves Nagle on; QoS 1 would stall ~40 ms
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        for topic, _ in self._handlers:  # again on every reconnect: the session may be new
            client.subscribe(topic, qos=1)
        self._connected.set()

    def _on_message(self, client: mqtt.Client, u: Any, msg: mqtt.MQTTMessage) -> None:
        for pattern, handler in list(self._handlers):
            if mqtt.topic_matches_sub(pattern, msg.topic):
                try:
                    handler(msg.topic, msg.payload)
                except Exception:
                    log.exception("device handler failed topic=%s", msg.topic)

    def subscribe(self, topic: str, handler: Callable[[str, bytes], None]) -> None:
        """Call handler(topic, payload) for messages on topic (a bulb's command topic)."""
        self._handlers.append((topic, handler))
        if self._connected.is_set():
            self.client.subscribe(topic, qos=1)

    def connect(self, timeout: float = 15.0) -> DeviceLink:
        """Connect (retrying until the broker is up) and return self."""
        self.client.connect_async(self.host, self.port, keepalive=30)
        self.client.loop_start()
        if not self._connected.wait(timeout):
            self.client.loop_stop()
            raise LinkError(f"cannot reach the broker at {self.host}:{self.port}")
        return self

    def publish(self, topic: str, payload: str, retain: bool = False) -> None:
        """Publish at QoS 1, as Zigbee2MQTT and Tasmota do by default for state."""
        self.client.publish(topic, payload, qos=1, retain=retain)

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()
