"""What several bench scripts set up alike: a hub config on a private broker, Zigbee2MQTT
devices, and a low-latency MQTT client.

Imported by bare name (`import _common`) while bench/ is still on sys.path; it imports the
project lazily, so a script that then drops bench/ from sys.path (bench/rules.py would shadow
the `rules` package) still gets the real packages.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import paho.mqtt.client as mqtt

    from hub.broker import MosquittoBroker
    from hub.config import Config


def z2m(kind: str, name: str) -> dict[str, str]:
    """Return a Zigbee2MQTT device of this type on zigbee2mqtt/<name>."""
    return {"type": kind, "topic": f"zigbee2mqtt/{name}", "format": "zigbee2mqtt"}


def hub_config(
    broker: MosquittoBroker, data_dir: Path, hub_id: str, devices: dict, **extra: Any
) -> Config:
    """Return a validated hub config on the broker with these devices and sections."""
    from hub.config import validate_config

    return validate_config(
        {
            "hub": {"id": hub_id, "data_dir": str(data_dir)},
            "mqtt": {"host": broker.host, "port": broker.port},
            "devices": devices,
            **extra,
        }
    )


def nodelay_client(
    client_id: str, port: int, host: str = "127.0.0.1", max_inflight: int = 20
) -> mqtt.Client:
    """Return a connected paho client (loop not started) with Nagle off."""
    import paho.mqtt.client as mqtt

    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id)
    c.max_inflight_messages_set(max_inflight)  # paho refuses this once connected
    c.connect(host, port)
    # paho leaves Nagle on (DESIGN.md, known traps); it would add ~40 ms to every reading.
    c.socket().setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c
