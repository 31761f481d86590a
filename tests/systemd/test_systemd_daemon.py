"""`edgehub run` as systemd runs it: READY after the broker connects, watchdog, SIGTERM, SIGHUP."""

from __future__ import annotations

import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from hub.broker import MosquittoBroker

pytestmark = pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "hub" / "runtime.py").exists(),
    reason="hub/runtime.py not written yet",
)
EDGEHUB = str(Path(sys.executable).with_name("edgehub"))


class Daemon:
    """An `edgehub run` subprocess with its own NOTIFY_SOCKET, as systemd would start it."""

    def __init__(
        self, tmp: Path, broker: MosquittoBroker, watchdog_usec: int = 400_000, extra: str = ""
    ) -> None:
        self.hub_id = f"t{os.getpid()}{time.monotonic_ns() % 100000}"
        self.data = tmp / "data"
        self.config = tmp / "hub.yaml"
        self.config.write_text(
            f"hub: {{id: {self.hub_id}, data_dir: {self.data}, pin_factory: mock}}\n"
            f"mqtt: {{host: 127.0.0.1, port: {broker.port}}}\n"
            "devices:\n"
            "  hall_motion: {type: motion, topic: zigbee2mqtt/hall_motion, format: zigbee2mqtt}\n"
            + extra
        )
        self.sock_path = tmp / "notify.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        self.messages: list[tuple[float, dict[str, str]]] = []
        self.log = tmp / "hub.log"
        env = dict(os.environ, NOTIFY_SOCKET=str(self.sock_path), WATCHDOG_USEC=str(watchdog_usec))
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                [EDGEHUB, "run", "-c", str(self.config)], env=env, stdout=out, stderr=out
            )
        threading.Thread(target=self._receive, daemon=True).start()

    def _receive(self) -> None:
        while True:
            try:
                data = self.sock.recv(4096)
            except OSError:
                return
            msg = dict(ln.split("=", 1) for ln in data.decode().splitlines() if "=" in ln)
            self.messages.append((time.monotonic(), msg))

    def wait_for(self, key: str, timeout: float = 20.0) -> float:
        """Return the time the first message with key arrived; fail after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for t, msg in list(self.messages):
                if key in msg:
                    return t
            if self.proc.poll() is not None:
                pytest.fail(f"hub exited {self.proc.returncode}:\n{self.log.read_text()}")
            time.sleep(0.02)
        pytest.fail(f"no {key} within {timeout}s; got {self.messages}\n{self.log.read_text()}")

    def count(self, key: str, after: float = 0.0) -> int:
        """Return how many messages carrying key arrived after a time."""
        return sum(1 for t, m in list(self.messages) if key in m and t > after)

    def close(self) -> None:
        """Kill the process if still running and close the socket."""
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        self.sock.close()


@pytest.fixture
def daemon_factory(tmp_path: Path) -> Iterator:
    made: list[Daemon] = []

    def make(broker: MosquittoBroker, **kw: object) -> Daemon:
        d = Daemon(tmp_path, broker, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def retained(broker: MosquittoBroker, topic: str, want: bytes, timeout: float = 10.0) -> bytes:
    """Return the retained payload on topic once it equals want (or the last seen on timeout)."""
    got: list[bytes] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda cl, *a: cl.subscribe(topic, qos=1)
    c.on_message = lambda cl, u, m: got.append(m.payload)
    c.connect(broker.host, broker.port)
    c.loop_start()
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline and (not got or got[-1] != want):
            time.sleep(0.02)
    finally:
        c.loop_stop()
        c.disconnect()
    return got[-1] if got else b""


@pytest.mark.slow
def test_ready_after_broker_connects_then_watchdog_then_clean_sigterm(
    broker: MosquittoBroker, daemon_factory
) -> None:
    broker.stop()
    hub = daemon_factory(broker)
    # The hub is up but the broker is not: no READY=1 yet.
    time.sleep(1.5)
    assert hub.proc.poll() is None, hub.log.read_text()
    assert hub.count("READY") == 0
    statuses = [m["STATUS"] for _, m in hub.messages if "STATUS" in m]
    assert any("waiting for the broker" in s for s in statuses), statuses
    broker.start()
    ready_at = hub.wait_for("READY")
    ready = next(m for _, m in hub.messages if "READY" in m)
    assert ready["STATUS"].startswith("1 devices") and f":{broker.port}" in ready["STATUS"]
    assert retained(broker, f"edgehub/{hub.hub_id}/status", b"online") == b"online"

    # WATCHDOG_USEC=0.4 s: a ping every 0.2 s from the running loop.
    time.sleep(1.0)
    assert hub.count("WATCHDOG", after=ready_at) >= 3

    hub.proc.send_signal(signal.SIGTERM)
    assert hub.proc.wait(30) == 0, hub.log.read_text()
    assert hub.count("STOPPING") == 1
    assert retained(broker, f"edgehub/{hub.hub_id}/status", b"offline") == b"offline"
    db = hub.data / "edgehub.db"
    with sqlite3.connect(db) as con:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        kinds = [k for (k,) in con.execute("SELECT kind FROM events ORDER BY id")]
    con.close()
    assert kinds.index("hub.started") < kinds.index("hub.stopping"), kinds
    # A clean close checkpoints the WAL: nothing left to replay at the next start.
    wal = db.with_name("edgehub.db-wal")
    assert not wal.exists() or wal.stat().st_size == 0
    log = hub.log.read_text()
    assert "Traceback" not in log and "\x1b[" not in log


@pytest.mark.slow
def test_sigterm_while_waiting_for_the_broker_exits_promptly(
    broker: MosquittoBroker, daemon_factory
) -> None:
    broker.stop()
    hub = daemon_factory(broker)
    time.sleep(1.0)
    hub.proc.send_signal(signal.SIGTERM)
    # systemd would SIGKILL after TimeoutStopSec=30; the hub must not need that.
    try:
        code = hub.proc.wait(10)
    except subprocess.TimeoutExpired:
        pytest.fail("hub ignored SIGTERM while the broker was down")
    assert code == 0, hub.log.read_text()


ECHO_RULE = """- id: echo
  triggers:
    - {device: hall_motion, attribute: occupancy, to: true}
  actions:
    - publish: test/%s/echo
      payload: "%s"
"""


@pytest.mark.slow
def test_sighup_reloads_the_rules_and_the_hub_keeps_serving(
    broker: MosquittoBroker, daemon_factory, tmp_path: Path
) -> None:
    rules = tmp_path / "rules"
    rules.mkdir()
    rule = rules / "echo.yaml"
    tag = f"{os.getpid()}-{time.monotonic_ns()}"
    rule.write_text(ECHO_RULE % (tag, "A"))
    hub = daemon_factory(broker, extra=f"rules: {rules}\n")
    hub.wait_for("READY")
    heard: list[bytes] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda cl, *a: cl.subscribe(f"test/{tag}/echo", qos=1)
    c.on_message = lambda cl, u, m: heard.append(m.payload)
    c.connect(broker.host, broker.port)
    c.loop_start()

    def motion_then(expect: bytes) -> None:
        for occupied in ("false", "true"):
            c.publish("zigbee2mqtt/hall_motion", f'{{"occupancy": {occupied}}}', qos=1)
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while expect not in heard and time.monotonic() < deadline:
            time.sleep(0.05)
        assert heard and heard[-1] == expect, (heard, hub.log.read_text())

    try:
        time.sleep(0.3)
        motion_then(b"A")
        # Same size and mtime: the rule host's file watcher cannot see it, only SIGHUP can.
        st = rule.stat()
        rule.write_text(ECHO_RULE % (tag, "B"))
        os.utime(rule, ns=(st.st_atime_ns, st.st_mtime_ns))
        time.sleep(0.5)
        motion_then(b"A")
        after = time.monotonic()
        hub.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 10
        while "rules reloaded" not in hub.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        motion_then(b"B")
    finally:
        c.loop_stop()
        c.disconnect()
    assert hub.proc.poll() is None
    assert hub.count("WATCHDOG", after=after) >= 2
    hub.proc.send_signal(signal.SIGTERM)
    assert hub.proc.wait(30) == 0


def write_clip(path: Path, frames: int = 40, fps: int = 10) -> None:
    """A moving white square on grey, written with OpenCV, to act as a live camera."""
    import cv2
    import numpy as np

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
    for i in range(frames):
        img = np.full((240, 320, 3), 60, np.uint8)
        x = 10 + (i * 7) % 260
        img[90:150, x : x + 50] = 255
        w.write(img)
    w.release()


@pytest.mark.slow
@pytest.mark.skipif(
    not (Path(__file__).resolve().parents[2] / "hub" / "cameras.py").exists(),
    reason="hub/cameras.py not written yet",
)
def test_sigterm_during_a_recording_leaves_a_playable_clip_and_a_clean_journal(
    broker: MosquittoBroker, daemon_factory, tmp_path: Path
) -> None:
    import cv2

    source = tmp_path / "porch.avi"
    write_clip(source)
    camera = (
        f"  porch_cam:\n    type: camera\n    source: {source}\n"
        "    detect: {width: 320, height: 240, fps: 5}\n"
        "    record: {pre: 1, post: 1, max: 120}\n"
    )
    hub = daemon_factory(broker, extra=camera)
    hub.wait_for("READY")

    started: list[str] = []
    c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    c.on_connect = lambda cl, *a: cl.subscribe(f"edgehub/{hub.hub_id}/events", qos=1)
    c.on_message = lambda cl, u, m: started.append(m.payload.decode())
    c.connect(broker.host, broker.port)
    c.loop_start()
    try:
        time.sleep(0.5)
        c.publish(f"edgehub/{hub.hub_id}/porch_cam/set", '{"record": 60}', qos=1)
        deadline = time.monotonic() + 20
        while not any("recording.started" in e for e in started) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any("recording.started" in e for e in started), hub.log.read_text()
        time.sleep(2.0)  # a couple of seconds of frames in the clip
    finally:
        c.loop_stop()
        c.disconnect()

    hub.proc.send_signal(signal.SIGTERM)
    assert hub.proc.wait(30) == 0, hub.log.read_text()
    db = hub.data / "edgehub.db"
    con = sqlite3.connect(db)
    try:
        assert con.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        rows = con.execute("SELECT file, end, size FROM recordings").fetchall()
        kinds = [k for (k,) in con.execute("SELECT kind FROM events ORDER BY id")]
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][1] is not None and rows[0][2] > 0, rows
    assert "recording.finished" in kinds
    cap = cv2.VideoCapture(rows[0][0])
    frames = 0
    while cap.read()[0]:
        frames += 1
    cap.release()
    # Pre-roll plus ~2 s at 5 fps: the clip plays and holds what was recorded.
    assert frames >= 5, frames
    assert "Traceback" not in hub.log.read_text()
