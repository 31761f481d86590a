"""Three real mosquitto processes (two sites bridged to a centre) and real hubs on the sites."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from testkit import wait_until

from hub.broker import MosquittoBroker
from hub.config import validate_config
from hub.remote.bridge import bridge_config
from hub.runtime import Hub
from hub.wiring import Backends

wait = wait_until  # the tests and bench/multisite.py import it from here


def retained(broker: MosquittoBroker, topic: str, timeout: float = 2.0) -> bytes | None:
    """Return the retained payload a new subscriber gets on topic (None when there is none)."""
    got: list[bytes] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_message = lambda _c, _u, m: got.append(m.payload) if m.retain else None
    c.connect(broker.host, broker.port)
    c.subscribe(topic, qos=1)
    c.loop_start()
    deadline = time.monotonic() + timeout
    while not got and time.monotonic() < deadline:
        time.sleep(0.02)
    c.loop_stop()
    c.disconnect()
    return got[0] if got else None


class Sites:
    """The centre and one broker per site, each site bridged to the centre."""

    def __init__(self, root: Path, hubs: list[str], share: str = "state") -> None:
        self.centre = MosquittoBroker(root / "centre")
        self.centre.write_config()
        self.centre.start()
        self.site: dict[str, MosquittoBroker] = {}
        for hub in hubs:
            b = MosquittoBroker(root / f"site-{hub}")
            address = f"{self.centre.host}:{self.centre.port}"
            b.write_config(bridge_config(hub, address, restart=(1, 1), keepalive=5, share=share))
            b.start()
            self.site[hub] = b

    def stop(self) -> None:
        """Stop every broker."""
        for b in [*self.site.values(), self.centre]:
            b.stop()


class Watcher:
    """A paho client on one broker that records every message under edgehub/."""

    def __init__(self, broker: MosquittoBroker, name: str) -> None:
        self.msgs: list[tuple[float, str, bytes]] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"watch-{name}")
        self.client.on_message = self._on_message
        self.client.on_connect = self._on_connect
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("edgehub/#", qos=1)
        self.client.loop_start()

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        sock = client.socket()
        if isinstance(sock, socket.socket):
            # Nagle plus delayed ACKs stalls QoS 1 publishes ~40 ms (DESIGN.md known traps).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _on_message(self, c: Any, u: Any, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.msgs.append((time.monotonic(), m.topic, m.payload))

    def on(self, topic: str) -> list[bytes]:
        """Payloads seen on a topic, in order."""
        with self._lock:
            return [p for _, t, p in self.msgs if t == topic]

    def events(self, hub: str, kind: str, source: str | None = None) -> list[dict]:
        """Events of a kind (and source) the hub published on edgehub/<hub>/events."""
        out = []
        for p in self.on(f"edgehub/{hub}/events"):
            ev = json.loads(p)
            if ev["kind"] == kind and (source is None or ev["source"] == source):
                out.append(ev)
        return out

    def publish(self, topic: str, payload: str) -> None:
        """Publish at QoS 1 and wait for the broker's ack."""
        self.client.publish(topic, payload, qos=1).wait_for_publish(5)

    def close(self) -> None:
        """Disconnect."""
        self.client.loop_stop()
        self.client.disconnect()


class SiteHub:
    """A real Hub on its own loop thread, on its site's broker."""

    def __init__(
        self,
        hub_id: str,
        broker: MosquittoBroker,
        tmp: Path,
        devices: dict[str, Any],
        rules: str,
        factory: Any,
        heartbeat: float = 0.3,
    ) -> None:
        (tmp / "rules").mkdir(parents=True, exist_ok=True)
        (tmp / "rules" / "rules.yaml").write_text(rules)
        cfg = validate_config(
            {
                "hub": {"id": hub_id, "data_dir": str(tmp / "data")},
                "mqtt": {"host": broker.host, "port": broker.port},
                "devices": devices,
                "rules": str(tmp / "rules"),
                "health": {"enabled": False},
                "remote": {"heartbeat": heartbeat},
            }
        )
        self.hub = Hub(cfg, backends=Backends(pin_factory=factory))
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=lambda: self.loop.run_until_complete(self.hub.run()), daemon=True
        )
        self.thread.start()
        assert self.hub.started.wait(20), f"hub {hub_id} did not start"

    def component(self, name: str) -> Any:
        """Return a running component by name (unwrapped)."""
        for c in self.hub.components:
            if c.name == name:
                return getattr(c, "inner", c)
        raise LookupError(name)

    def stop(self) -> None:
        """Stop the hub and wait for its thread."""
        self.hub.request_stop()
        self.thread.join(30)
