"""The ingest speed paths: grouped journal writes, coalesced wake-ups, QoS 0 fast publish."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hub.broker import MosquittoBroker
from hub.mqtt import Inbox, LinkSettings, MqttLink
from hub.store import Store, read_events, read_states
from rules.events import Event


def test_held_writes_are_committed_together_and_in_order(tmp_path: Path) -> None:
    seen: list[list[str]] = []
    other_done = threading.Event()

    def listener(evs: list[Event]) -> None:
        seen.append([e.source for e in evs])
        if any(e.source == "other" for e in evs):
            other_done.set()

    with Store(tmp_path) as store:
        store.add_commit_listener(listener)
        store.hold()
        for i in range(5):
            store.append(Event("state", f"s{i}", {"i": i}))
        store.set_state("s4", {"i": 4}, time.time())
        # Another thread's writes are not held back by this thread's hold.
        other = threading.Thread(target=store.append, args=(Event("state", "other", {}),))
        other.start()
        other.join()
        assert other_done.wait(5)
        assert [e.source for e in read_events(store.path)] == ["other"]
        store.release()
        assert store.flush(5)
    # The journal reads in id (creation) order; the held group went to disk after "other".
    journal = [e.source for e in read_events(tmp_path / "edgehub.db")]
    assert journal == ["s0", "s1", "s2", "s3", "s4", "other"]
    assert ["s0", "s1", "s2", "s3", "s4"] in seen
    assert read_states(tmp_path / "edgehub.db") == {"s4": {"i": 4}}


def test_retention_by_size_keeps_the_newest_of_a_small_journal(tmp_path: Path) -> None:
    now = time.time()
    store = Store(tmp_path, max_mb=0.5).open()
    for i in range(1500):
        store.append(Event("state", "s", {"i": i, "pad": "x" * 200}, ts=now - 10 + i / 1000))
    store.sweep_now()
    store.close()
    got = list(read_events(tmp_path / "edgehub.db"))
    # A fixed chunk of 5,000 oldest rows used to empty a journal this small.
    assert 500 < len(got) < 1500 and got[-1].data["i"] == 1499


@pytest.mark.parametrize("protocol", ["5", "3.1.1"])
def test_coalesced_publishes_arrive_in_order_qos0_retained_too(
    broker: MosquittoBroker, protocol: str
) -> None:
    got: list[mqtt.MQTTMessage] = []
    done = threading.Event()

    def on_message(c, u, m) -> None:
        got.append(m)
        if m.topic == "t/last":
            done.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fast-sub")
    sub.on_message = on_message
    sub.connect(broker.host, broker.port)
    sub.subscribe([("t/#", 1)])
    sub.loop_start()
    loop = asyncio.new_event_loop()
    link = MqttLink(
        LinkSettings(port=broker.port, protocol=protocol, client_id=f"fast-{protocol}"),
        Inbox(loop, lambda items: None),
    )
    link.start()
    try:
        assert link.wait_connected(10)
        time.sleep(0.2)

        def burst() -> None:
            for i in range(200):
                link.publish("t/events", b"%d" % i, qos=0)
            link.publish("t/snap", bytearray(b"jpeg"), qos=0, retain=True)
            link.publish("t/last", "end", qos=1)

        link.coalesced(burst)
        assert done.wait(10)
    finally:
        link.stop()
        sub.loop_stop()
        loop.close()
    events = [m.payload for m in got if m.topic == "t/events"]
    assert events == [b"%d" % i for i in range(200)]
    retained = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fast-check")
    snap: list[mqtt.MQTTMessage] = []
    retained.on_message = lambda c, u, m: snap.append(m)
    retained.connect(broker.host, broker.port)
    retained.subscribe("t/snap")
    retained.loop_start()
    deadline = time.monotonic() + 5
    while not snap and time.monotonic() < deadline:
        time.sleep(0.05)
    retained.loop_stop()
    assert snap and snap[0].payload == b"jpeg" and snap[0].retain
