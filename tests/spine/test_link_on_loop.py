"""The MQTT link driven from the hub's asyncio loop (no paho thread): back-pressure instead
of drops when the inbox is full, keepalive while idle, `offline` on stop."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import paho.mqtt.subscribe as subscribe
import pytest
from testkit import wait_until

from hub.broker import MosquittoBroker
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
