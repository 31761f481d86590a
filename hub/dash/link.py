"""The dashboard's MQTT side: one paho-mqtt client in its own thread, never on the UI loop."""

from __future__ import annotations

import json
import logging
import socket
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt

from hub.dash.errors import DashConfigError
from hub.mqtt_settings import BrokerLogin

log = logging.getLogger(__name__)

MessageCallback = Callable[[str, bytes, bool], None]
"""(topic, payload, retained), called on paho's thread."""
ConnectionCallback = Callable[[bool, str], None]
"""(connected, reason), called on paho's thread."""


@dataclass(frozen=True)
class LinkSettings:
    """Where the hub's broker is and how to log in."""

    host: str = "127.0.0.1"
    port: int = 1883
    hub_id: str = "home"
    login: BrokerLogin = field(default_factory=BrokerLogin)

    @classmethod
    def parse_address(cls, address: str, hub_id: str = "home") -> LinkSettings:
        """Build settings from 'HOST:PORT' (or 'HOST', port 1883)."""
        host, _, port = address.rpartition(":") if ":" in address else (address, "", "1883")
        try:
            return cls(host=host or "127.0.0.1", port=int(port), hub_id=hub_id)
        except ValueError as exc:
            raise DashConfigError(f"--mqtt {address!r}: expected HOST:PORT") from exc

    @classmethod
    def from_config(cls, path: str | Path, hub_id: str | None = None) -> LinkSettings:
        """Read the broker, credentials, TLS and hub id from the hub's config, as the hub does."""
        from hub.config import ConfigError, load_config

        try:
            cfg = load_config(path)
        except (ConfigError, OSError) as exc:
            raise DashConfigError(str(exc)) from exc
        hub = hub_id or cfg.hub.id
        m = cfg.mqtt
        if m is None:  # the hub runs its embedded broker
            return cls(host=cfg.broker.host, port=cfg.broker.port, hub_id=hub)
        return cls(host=m.host, port=m.port, hub_id=hub, login=BrokerLogin.from_config(m))


class DashLink:
    """Subscribes to edgehub/<hub>/# and publishes commands; reconnects forever on its own."""

    def __init__(self, settings: LinkSettings, reconnect_max: float = 5.0) -> None:
        self.settings = settings
        self.prefix = f"edgehub/{settings.hub_id}/"
        self._client = mqtt.Client(
            mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"edgehub-dash-{uuid.uuid4().hex[:8]}",
            protocol=mqtt.MQTTv311,
        )
        self._client.reconnect_delay_set(min_delay=1, max_delay=max(1, int(reconnect_max)))
        settings.login.apply(self._client)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._on_msg: MessageCallback = lambda *_: None
        self._on_conn: ConnectionCallback = lambda *_: None
        self.connected = False

    @property
    def address(self) -> str:
        """Return host:port of the broker."""
        return f"{self.settings.host}:{self.settings.port}"

    def start(self, on_message: MessageCallback, on_connection: ConnectionCallback) -> None:
        """Connect in the background; callbacks run on paho's thread."""
        self._on_msg, self._on_conn = on_message, on_connection
        self._client.connect_async(self.settings.host, self.settings.port, keepalive=15)
        self._client.loop_start()

    def stop(self) -> None:
        """Disconnect and stop paho's thread."""
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic_suffix: str, payload: dict[str, Any] | str) -> bool:
        """Publish a command under edgehub/<hub>/; return False when not connected."""
        body = payload if isinstance(payload, str) else json.dumps(payload)
        info = self._client.publish(self.prefix + topic_suffix, body, qos=1)
        log.info("dash command topic=%s payload=%s rc=%s", topic_suffix, body, info.rc)
        return info.rc == mqtt.MQTT_ERR_SUCCESS and self.connected

    def _on_connect(self, client: mqtt.Client, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        if rc.is_failure:
            self._on_conn(False, str(rc))
            return
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # Nagle plus delayed ACKs stalls round trips ~40 ms (DESIGN.md known traps).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        client.subscribe(self.prefix + "#", qos=0)
        self.connected = True
        log.info("dash connected broker=%s", self.address)
        self._on_conn(True, "connected")

    def _on_disconnect(self, _c: Any, _u: Any, _f: Any, rc: Any, _p: Any) -> None:
        self.connected = False
        log.info("dash disconnected broker=%s reason=%s", self.address, rc)
        self._on_conn(False, str(rc))

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.endswith("/set"):
            return  # commands, ours or others'; the hub's answer is what we show
        self._on_msg(msg.topic, msg.payload, bool(msg.retain))
