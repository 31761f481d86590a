"""No `mqtt` section: the hub starts its own broker (amqtt when mosquitto is missing)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hub.background import HubThread
from hub.broker import free_port, mosquitto_binary
from hub.config import validate_config


@pytest.mark.parametrize("backend", ["amqtt", "mosquitto"])
def test_embedded_broker_serves_sensors(backend: str, tmp_path: Path) -> None:
    if backend == "mosquitto" and mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    port = free_port()
    cfg = validate_config(
        {
            "hub": {"id": "emb", "data_dir": str(tmp_path), "pin_factory": "mock"},
            "broker": {"port": port, "backend": backend},
            "devices": {"door": {"type": "contact", "topic": "zigbee2mqtt/door"}},
        }
    )
    with HubThread(cfg, components=[]) as hub:
        assert hub.link is not None
        # amqtt speaks only MQTT 3.1.1: the link falls back from 5 by itself.
        expected = mqtt.MQTTv311 if backend == "amqtt" else mqtt.MQTTv5
        assert hub.link.protocol == expected
        got: list[bytes] = []
        c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        c.on_message = lambda cl, u, m: got.append(m.payload)
        c.connect("127.0.0.1", port)
        c.subscribe("edgehub/emb/door/state", qos=1)
        c.loop_start()
        time.sleep(0.3)
        c.publish("zigbee2mqtt/door", '{"contact":false,"battery":91}', qos=1).wait_for_publish(5)
        deadline = time.monotonic() + 10
        while not got and time.monotonic() < deadline:
            time.sleep(0.02)
        c.loop_stop()
        c.disconnect()
        assert json.loads(got[-1]) == {"contact": False, "battery": 91}
        assert hub.device_state("door") == {"contact": False, "battery": 91}
