"""A broker SIGKILLed and restarted in the middle of 2,000 numbered QoS 1 events loses none."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from helpers import make_config

from hub.background import HubThread
from hub.broker import MosquittoBroker, mosquitto_binary
from hub.store import read_events

N = 2000


def numbered_publisher(broker: MosquittoBroker) -> mqtt.Client:
    """A sensor-like client with a persistent session, so unacknowledged sends are retried."""
    c = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id="numbered-sensor",
        protocol=mqtt.MQTTv311,
        clean_session=False,
    )
    c.max_inflight_messages_set(100)
    c.max_queued_messages_set(0)
    c.reconnect_delay_set(0.05, 0.2)  # type: ignore[arg-type]
    c.connect(broker.host, broker.port)
    c.loop_start()
    return c


@pytest.mark.slow
def test_broker_sigkill_mid_stream_loses_no_event(tmp_path: Path) -> None:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    broker = MosquittoBroker(tmp_path / "broker")
    # autosave_interval 1 counts changes, not seconds: every acknowledged message is on disk
    # before the broker can lose it. Time-based autosave loses up to a second of messages.
    broker.write_config(extra="autosave_on_changes true\n")
    with broker:
        _run(broker, tmp_path)


def _run(broker: MosquittoBroker, tmp_path: Path) -> None:
    cfg = make_config(broker, tmp_path / "hub")
    with HubThread(cfg) as hub:
        pub = numbered_publisher(broker)
        # Let the broker's autosave (every 1 s) persist both sessions, as on a home that has
        # been running for a while: a session the broker never saved cannot survive SIGKILL.
        time.sleep(1.5)
        killed = threading.Event()

        def chaos() -> None:
            while hub.ingest.stats["messages"] < N // 3:
                time.sleep(0.005)
            broker.kill()
            time.sleep(0.5)
            broker.start()
            killed.set()

        t = threading.Thread(target=chaos)
        t.start()
        for seq in range(N):
            pub.publish(
                "tele/garden/SENSOR", f'{{"SI7021":{{"Temperature":20.5}},"Seq":{seq}}}', qos=1
            )
            if seq % 20 == 0:
                time.sleep(0.01)  # ~2,000 events/s in bursts: the kill lands mid-stream
        t.join(30)
        assert killed.is_set()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            hub.store.flush()
            seqs = {
                e.data.get("seq")
                for e in read_events(cfg.hub.data_dir / "edgehub.db", device="garden_temp")
            }
            if len(seqs) >= N:
                break
            time.sleep(0.2)
        pub.loop_stop()
        pub.disconnect()
    missing = sorted(set(range(N)) - seqs)
    assert missing == [], f"{len(missing)} lost, first {missing[:10]}"
    events = list(read_events(cfg.hub.data_dir / "edgehub.db", device="garden_temp"))
    # Redelivered duplicates are journaled once.
    assert len(events) == N
    assert hub.link is not None and hub.link.connects >= 2
