"""`edgehub sim` leaves nothing behind: SIGTERM stops its embedded broker, SIGKILL takes it
down too, and a port taken by a broker from an earlier run is an error instead of a silent
connection to stale state."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.broker import BrokerError, MosquittoBroker, free_port, mosquitto_binary

ROOT = Path(__file__).resolve().parents[2]
EDGEHUB = str(Path(sys.executable).with_name("edgehub"))


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def _home_on(tmp_path: Path, port: int) -> Path:
    home = tmp_path / "home"
    shutil.copytree(ROOT / "examples" / "home", home)
    cfg = home / "hub.yaml"
    cfg.write_text(cfg.read_text().replace("port: 18830", f"port: {port}"))
    return cfg


def test_a_busy_port_is_refused_with_its_number(broker: MosquittoBroker, tmp_path: Path) -> None:
    second = MosquittoBroker(tmp_path / "second", port=broker.port)
    with pytest.raises(BrokerError, match=f"127.0.0.1:{broker.port} is already in use"):
        second.start()


def _gone(port: int, timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while _listening(port) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _listening(port)


@pytest.mark.skipif(mosquitto_binary() is None, reason="mosquitto is not installed")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_stopped_or_killed_simulation_takes_its_embedded_broker(tmp_path: Path, sig) -> None:
    if sig == signal.SIGKILL and shutil.which("setpriv") is None:
        pytest.skip("setpriv (util-linux) ties the broker to the hub")
    port = free_port()
    cfg = _home_on(tmp_path, port)
    proc = subprocess.Popen(
        [EDGEHUB, "sim", "-c", str(cfg), "--start", "21:00"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "is running" in line, line
        assert _listening(port)
        # Well after start-up: the broker must not be tied to a start-up thread that retires.
        time.sleep(1.5)
        assert _listening(port)
        proc.send_signal(sig)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert _gone(port), "the embedded broker outlived `edgehub sim`"
