"""The MQTT link driven from the hub's asyncio loop (no paho thread): back-pressure instead
of drops when the inbox is full, keepalive while idle, `offline` on stop, TLS."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import paho.mqtt.subscribe as subscribe
import pytest
from testkit import wait_until

from hub.background import HubThread
from hub.broker import MosquittoBroker, mosquitto_binary
from hub.config import validate_config
from hub.mqtt import Inbox, LinkSettings, Message, MqttLink


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    lp = asyncio.new_event_loop()
    t = threading.Thread(target=lp.run_forever, daemon=True)
    t.start()
    yield lp

    async def cancel_rest() -> None:
        rest = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for t in rest:
            t.cancel()
        await asyncio.gather(*rest, return_exceptions=True)

    asyncio.run_coroutine_threadsafe(cancel_rest(), lp).result(5)
    lp.call_soon_threadsafe(lp.stop)
    t.join(5)
    lp.close()


def _start(link: MqttLink, loop: asyncio.AbstractEventLoop) -> None:
    loop.call_soon_threadsafe(link.start)
    assert link.wait_connected(10)
    assert link.wait_subscribed(5)


def test_a_full_inbox_holds_back_the_broker_and_loses_nothing(
    broker: MosquittoBroker, loop: asyncio.AbstractEventLoop
) -> None:
    got: list[Message] = []
    link: MqttLink

    def handle(items: list[Message]) -> None:
        got.extend(items)
        link.ack(items)

    inbox = Inbox(loop, handle, maxsize=50, batch=20)
    inbox.pause()
    link = MqttLink(LinkSettings(port=broker.port, client_id="loop-full"), inbox, on_loop=True)
    link.subscribe("sensors/#", 1)
    _start(link, loop)
    sensor = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="loop-sensor")
    sensor.connect(broker.host, broker.port)
    sensor.loop_start()
    try:
        infos = [sensor.publish("sensors/n", b"%d" % i, qos=1) for i in range(400)]
        for info in infos:
            info.wait_for_publish(5)
        wait_until(lambda: len(inbox) == 50, "a full inbox")
        time.sleep(0.3)  # the link has stopped reading: the inbox stays at its bound
        assert len(inbox) == 50 and inbox.dropped == 0
        assert inbox.full_waits >= 1  # counted (and logged), not silent
        loop.call_soon_threadsafe(inbox.resume)
        wait_until(lambda: len(got) == 400, "every message", timeout=20)
        assert link.disconnects == 0
    finally:
        sensor.loop_stop()
        link.stop()
    assert [m.payload for m in got] == [b"%d" % i for i in range(400)]
    assert inbox.dropped == 0


def test_an_idle_link_stays_connected_and_says_offline_on_stop(
    broker: MosquittoBroker, loop: asyncio.AbstractEventLoop
) -> None:
    inbox = Inbox(loop, lambda items: None)
    settings = LinkSettings(port=broker.port, client_id="loop-idle", keepalive=1)
    link = MqttLink(settings, inbox, on_loop=True)
    _start(link, loop)
    # The broker drops a client that sends nothing for 1.5 keepalives: pings must go out.
    time.sleep(4)
    assert link.connected.is_set() and link.disconnects == 0 and link.connects == 1
    link.stop()
    msg = subscribe.simple("edgehub/home/status", hostname=broker.host, port=broker.port)
    assert msg.payload == b"offline"
    assert link.state == "stopped"


def _certs(d: Path) -> tuple[Path, Path, Path]:
    """A throwaway CA and a server certificate for 127.0.0.1."""
    d.mkdir(parents=True, exist_ok=True)
    ca_key, ca, key, csr, crt = (d / n for n in ("ca.key", "ca.pem", "s.key", "s.csr", "s.pem"))
    ext = d / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1\n")
    for cmd in (
        f"req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout {ca_key} -out {ca}",
        f"req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout {key} -out {csr}",
        f"x509 -req -in {csr} -CA {ca} -CAkey {ca_key} -CAcreateserial -days 2 "
        f"-extfile {ext} -out {crt}",
    ):
        subprocess.run(["openssl", *cmd.split()], check=True, capture_output=True)
    return ca, crt, key


def test_the_hub_reads_sensors_over_tls(tmp_path: Path) -> None:
    if shutil.which("openssl") is None or mosquitto_binary() is None:
        pytest.skip("needs openssl and mosquitto")
    ca, crt, key = _certs(tmp_path / "certs")
    b = MosquittoBroker(tmp_path / "broker")
    b.write_config(extra=f"cafile {ca}\ncertfile {crt}\nkeyfile {key}\n")
    with b:
        cfg = validate_config(
            {
                "hub": {"id": "tls", "data_dir": str(tmp_path / "data"), "pin_factory": "mock"},
                "mqtt": {"host": "127.0.0.1", "port": b.port, "tls": {"ca_certs": str(ca)}},
                "devices": {"door": {"type": "contact", "topic": "zigbee2mqtt/door"}},
            }
        )
        with HubThread(cfg, components=[]) as hub:
            sensor = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="tls-sensor")
            sensor.tls_set(ca_certs=str(ca))
            sensor.connect("127.0.0.1", b.port)
            sensor.loop_start()
            try:
                for i in range(50):
                    payload = json.dumps({"contact": False, "battery": 50 + i})
                    sensor.publish("zigbee2mqtt/door", payload, qos=1).wait_for_publish(5)
                wait_until(lambda: hub.device_state("door").get("battery") == 99, "the last")
            finally:
                sensor.loop_stop()
            assert hub.link is not None and hub.link.disconnects == 0
