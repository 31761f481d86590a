"""Helpers for camera tests: real video files with frame numbers stamped into the pixels."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from testkit import wait_until

from devices.camera import Camera, MotionConfig

W, H = 320, 180
BITS = 10
CELL = 12
STAMP_Y = H - CELL - 2
# The stamp changes every frame: a motion mask over it keeps it from reading as motion.
STAMP_MASK = [[0, STAMP_Y - 4], [BITS * CELL + 8, STAMP_Y - 4], [BITS * CELL + 8, H], [0, H]]


def background(seed: int = 1) -> np.ndarray:
    """A textured still scene: a gradient with boxes of many shades."""
    g = np.tile(np.linspace(40, 200, W, dtype=np.float32), (H, 1))
    img = np.dstack([g, g * 0.9, g * 0.8]).astype(np.uint8)
    r = np.random.default_rng(seed)
    for _ in range(15):
        x, y = int(r.integers(0, W - 40)), int(r.integers(0, H - 60))
        c = tuple(int(v) for v in r.integers(20, 230, 3))
        cv2.rectangle(
            img, (x, y), (x + int(r.integers(10, 60)), y + int(r.integers(10, 50))), c, -1
        )
    return img


def stamp(frame: np.ndarray, n: int) -> None:
    """Write n as big black/white cells, which survive mp4v compression."""
    for b in range(BITS):
        v = 255 if (n >> b) & 1 else 0
        x = 2 + b * CELL
        frame[STAMP_Y : STAMP_Y + CELL, x : x + CELL] = v


def read_stamp(frame: np.ndarray) -> int:
    """Decode the frame number written by stamp()."""
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    n = 0
    for b in range(BITS):
        x = 2 + b * CELL
        cell = grey[STAMP_Y + 3 : STAMP_Y + CELL - 3, x + 3 : x + CELL - 3]
        if cell.mean() > 128:
            n |= 1 << b
    return n


OBJECT = np.kron(
    (np.indices((7, 3)).sum(axis=0) % 2 * 230 + 10).astype(np.uint8), np.ones((10, 10), np.uint8)
)[:, :, None].repeat(3, axis=2)


def make_frames(
    count: int,
    moving: range | None = None,
    brightness_jump_at: int | None = None,
    seed: int = 1,
) -> list[np.ndarray]:
    """Frames of a still scene with a rectangle crossing during `moving`, noise, stamps."""
    bg = background(seed)
    rng = np.random.default_rng(seed + 100)
    out = []
    for i in range(count):
        f = bg.copy()
        if brightness_jump_at is not None and i >= brightness_jump_at:
            f = cv2.add(f, np.full_like(f, 70))
        if moving is not None and i in moving:
            k = i - moving.start
            x = 10 + k * 8 % (W - 50)
            # A patterned object (a striped jumper) stands out on any part of the scene.
            f[40:110, x : x + 30] = OBJECT
        f = cv2.add(f, rng.integers(0, 4, f.shape, dtype=np.uint8))
        stamp(f, i)
        out.append(f)
    return out


def write_video(path: Path, frames: list[np.ndarray], fps: float) -> Path:
    """Write frames as an mp4v MP4 with OpenCV."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, (W, H))
    assert w.isOpened()
    for f in frames:
        w.write(f)
    w.release()
    return path


def read_video(path: Path) -> list[np.ndarray]:
    """Read every frame of a video file back with OpenCV."""
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, f = cap.read()
        if not ok:
            break
        frames.append(f)
    cap.release()
    return frames


def camera(name: str, media_root: Path, fps: float, **options: object) -> Camera:
    """A camera the test feeds by hand, sized to the test video, its frame stamp masked."""
    motion = MotionConfig(mask=STAMP_MASK)
    return Camera(
        name, None, media_root=media_root, width=W, height=H, fps=fps, motion=motion, **options
    )


class Video:
    """The helpers, handed to tests as one fixture."""

    W, H, STAMP_MASK = W, H, STAMP_MASK
    make_frames = staticmethod(make_frames)
    write_video = staticmethod(write_video)
    read_video = staticmethod(read_video)
    read_stamp = staticmethod(read_stamp)
    background = staticmethod(background)
    camera = staticmethod(camera)


@pytest.fixture
def video() -> type[Video]:
    return Video


@pytest.fixture
def wait_for() -> Callable[..., None]:
    """Poll a condition (threads deliver results asynchronously) with a generous timeout."""

    def _wait(cond: Callable[[], object], timeout: float = 10.0, what: str = "") -> None:
        wait_until(cond, what, timeout)

    return _wait


# -- a real hub on the private broker ------------------------------------------------------


class RunningHub:
    """hub.runtime.Hub on its own asyncio loop in a thread, plus a paho client to talk to it."""

    def __init__(self, broker, data_dir: Path, devices: dict, backends=None, hub_id: str = "home"):
        import asyncio
        import json
        import threading

        import paho.mqtt.client as mqtt

        from hub.config import validate_config
        from hub.runtime import Hub

        self.config = validate_config(
            {
                "hub": {"id": hub_id, "data_dir": str(data_dir)},
                "mqtt": {"host": broker.host, "port": broker.port},
                "devices": devices,
            }
        )
        self.hub = Hub(self.config, backends=backends)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=lambda: self.loop.run_until_complete(self.hub.run()), daemon=True
        )
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.json = json
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=f"t-{id(self)}")
        self.client.on_message = self._on_message
        self.client.connect(broker.host, broker.port)
        self.client.subscribe("#", qos=1)
        self.client.loop_start()

    def _on_message(self, client, userdata, msg) -> None:
        with self.lock:
            self.messages.append((msg.topic, bytes(msg.payload), bool(msg.retain)))

    def start(self) -> RunningHub:
        self.thread.start()
        if not self.hub.started.wait(20):
            raise AssertionError("hub did not start")
        # The hub sent its SUBSCRIBEs before publishing hub.started on the same connection,
        # so once we hear hub.started the broker routes commands to it.
        import time

        deadline = time.monotonic() + 10
        while not self.events("hub.started") and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.hub.request_stop()
        self.thread.join(30)
        self.client.loop_stop()
        self.client.disconnect()

    def publish(self, topic: str, payload: str | bytes, retain: bool = False) -> None:
        self.client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(5)

    def on(self, topic: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def events(self, kind: str | None = None) -> list[dict]:
        out = [self.json.loads(p) for p in self.on(f"edgehub/{self.hub.hub_id}/events")]
        return [e for e in out if kind is None or e["kind"] == kind]

    def execute(self, effect) -> list:
        import asyncio

        return asyncio.run_coroutine_threadsafe(self.hub.execute(effect), self.loop).result(10)


@pytest.fixture
def run_hub(broker, tmp_path: Path):
    """Start real hubs on the private broker; all stopped after the test."""
    hubs: list[RunningHub] = []

    def _start(devices: dict, backends=None, data_dir: Path | None = None) -> RunningHub:
        h = RunningHub(broker, data_dir or tmp_path / "data", devices, backends).start()
        hubs.append(h)
        return h

    yield _start
    for h in hubs:
        if h.thread.is_alive():
            h.stop()
