"""Availability topics and payloads of Zigbee2MQTT, Tasmota and Shelly (PAYLOADS.md)."""

from __future__ import annotations

import pytest

from hub.health.availability import availability_topic, parse_availability


@pytest.mark.parametrize(
    ("topic", "fmt", "expected"),
    [
        ("zigbee2mqtt/hall_motion", "zigbee2mqtt", "zigbee2mqtt/hall_motion/availability"),
        (
            "zigbee2mqtt/upstairs/hall_motion",
            "zigbee2mqtt",
            "zigbee2mqtt/upstairs/hall_motion/availability",
        ),
        ("tele/garden/SENSOR", "tasmota", "tele/garden/LWT"),
        ("stat/porch/PIR1", "tasmota", "tele/porch/LWT"),
        ("shellies/shellydw2-1234/sensor/state", "shelly", "shellies/shellydw2-1234/online"),
        ("shellyplusht-c4d8/events/rpc", "shelly", "shellyplusht-c4d8/online"),
        ("home/attic/temp", "json", None),
    ],
)
def test_availability_topic(topic, fmt, expected):
    assert availability_topic(topic, fmt) == expected


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b'{"state":"online"}', True),
        (b'{"state":"offline"}', False),
        (b"online", True),
        (b"offline", False),
        (b"Online", True),  # Tasmota LWT
        (b"Offline", False),
        (b"true", True),  # Shelly
        (b"false", False),
        (b"", None),
        (b'{"state":', None),
        (b"\xff\xfe garbage", None),
        (b'{"foo":"bar"}', None),
    ],
)
def test_parse_availability(payload, expected):
    assert parse_availability(payload) == expected
