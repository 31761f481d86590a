"""Username and password (from password_file) against a broker that refuses anonymous clients."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest

from hub.background import HubThread
from hub.broker import MosquittoBroker, mosquitto_binary
from hub.config import validate_config


@pytest.fixture
def auth_broker(tmp_path: Path):
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    pw = tmp_path / "broker" / "passwd"
    pw.parent.mkdir()
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pw), "hub", "s3cret"], check=True)
    pw.chmod(0o600)
    b = MosquittoBroker(tmp_path / "broker")
    b.write_config(extra=f"allow_anonymous false\npassword_file {pw}\n")
    with b:
        yield b


def test_password_file_logs_in_and_a_wrong_password_is_refused(
    auth_broker: MosquittoBroker, tmp_path: Path
) -> None:
    (tmp_path / "mqtt.pass").write_text("s3cret\n")
    cfg = validate_config(
        {
            "hub": {"id": "auth", "data_dir": str(tmp_path / "data")},
            "mqtt": {
                "host": "127.0.0.1",
                "port": auth_broker.port,
                "username": "hub",
                "password_file": str(tmp_path / "mqtt.pass"),
            },
        }
    )
    with HubThread(cfg, components=[]) as hub:
        assert hub.link is not None and hub.link.connected.is_set()
    (tmp_path / "mqtt.pass").write_text("wrong\n")
    bad = HubThread(cfg, components=[])
    bad._thread.start()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and (
        bad.hub.link is None or "refused" not in bad.hub.link.state
    ):
        time.sleep(0.05)
    assert bad.hub.link is not None and bad.hub.link.state.startswith("refused")
    assert not bad.hub.started.is_set()
    bad.stop()
