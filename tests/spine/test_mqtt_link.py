"""The MQTT link on its own: the bounded inbox counts what it drops; MQTT 5 falls back to 3.1.1."""

from __future__ import annotations

import asyncio
import logging
import socket
import time

import paho.mqtt.client as mqtt
import paho.mqtt.subscribe as subscribe
import pytest

from hub.broker import MosquittoBroker, free_port
from hub.embedded_broker import AmqttBroker
from hub.mqtt import Inbox, LinkSettings, Message, MqttLink


def test_full_inbox_counts_and_logs_what_it_drops(caplog: pytest.LogCaptureFixture) -> None:
    loop = asyncio.new_event_loop()
    got: list[Message] = []
    inbox = Inbox(loop, got.extend, maxsize=10)
    inbox.pause()
    with caplog.at_level(logging.ERROR, logger="hub.mqtt"):
        results = [
            inbox.put(Message("t", b"%d" % i, False, False, 0.0), wait=0.01) for i in range(15)
        ]
    assert results.count(False) == 5 and inbox.dropped == 5
    assert "mqtt inbox full" in caplog.text
    inbox.resume()
    loop.run_until_complete(asyncio.sleep(0.01))
    assert [m.payload for m in got] == [b"%d" % i for i in range(10)]
    loop.close()


def _link(port: int, protocol: str = "auto") -> tuple[MqttLink, list[Message]]:
    got: list[Message] = []
    loop = asyncio.new_event_loop()
    return MqttLink(LinkSettings(port=port, protocol=protocol), Inbox(loop, got.extend)), got


def test_mqtt5_with_persistent_session_and_online_status(broker: MosquittoBroker) -> None:
    link, _ = _link(broker.port)
    link.start()
    try:
        assert link.wait_connected(10)
        assert link.protocol == mqtt.MQTTv5
        sock = link._client.socket()
        assert sock is not None
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
    finally:
        link.stop()
    msg = subscribe.simple("edgehub/home/status", hostname=broker.host, port=broker.port)
    assert msg.payload == b"offline"


@pytest.mark.slow
def test_a_broker_that_ignores_mqtt5_gets_311(tmp_path) -> None:
    port = free_port()
    b = AmqttBroker("127.0.0.1", port).start()
    link, _ = _link(port)
    try:
        t0 = time.monotonic()
        link.start()
        assert link.wait_connected(15)
        assert link.protocol == mqtt.MQTTv311
        assert time.monotonic() - t0 < 10
    finally:
        link.stop()
        b.stop()
