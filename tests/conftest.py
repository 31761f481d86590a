"""Shared fixtures: every test that needs MQTT gets its own broker on a free port."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from hub.broker import MosquittoBroker, mosquitto_binary

# gpiozero's mock factory needs PWM pins for PWMLED (DESIGN.md, known traps).
os.environ.setdefault("GPIOZERO_MOCK_PIN_CLASS", "mockpwmpin")


@pytest.fixture
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MosquittoBroker]:
    """A private mosquitto on a free loopback port, killed after the test."""
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    b = MosquittoBroker(tmp_path_factory.mktemp("broker"))
    b.start()
    yield b
    b.stop()
