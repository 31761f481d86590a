"""Item 1: a camera whose capture thread dies is seen by the supervisor and restarted."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera import OpenCVSource
from hub.background import HubThread
from hub.cameras import CamerasComponent
from hub.config import validate_config
from hub.health.supervisor import Supervisor

from .conftest import hub_config


class DecoderCrash(BaseException):
    """What a native decoder binding may throw: not an Exception, so nothing catches it."""


class CrashingSource:
    """A real video file through OpenCV that crashes (killing the reader) on frame 5."""

    def __init__(self, path: Path) -> None:
        self.inner = OpenCVSource(str(path), realtime=True, loop=True)
        self.n = 0

    def open(self) -> None:
        self.inner.open()

    def read(self):
        self.n += 1
        if self.n == 5:
            raise DecoderCrash("segfault-ish decoder fault")
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def write_clip(path: Path) -> Path:
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 20.0, (64, 48))
    for i in range(20):
        f = np.full((48, 64, 3), 90, np.uint8)
        f[10:30, i * 2 : i * 2 + 20] = 250
        w.write(f)
    w.release()
    return path


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_dead_capture_thread_is_restarted_by_the_supervisor(broker, tmp_path, events) -> None:
    clip = write_clip(tmp_path / "porch.avi")
    cfg = validate_config(
        {
            "devices": {
                "porch": {"type": "camera", "source": "porch", "detect": {"fps": 20}},
            }
        }
    ).devices
    made: list[object] = []

    def source(spec: str):
        # The first camera run crashes; the restarted one gets a healthy source.
        src = (
            CrashingSource(clip) if not made else OpenCVSource(str(clip), realtime=True, loop=True)
        )
        made.append(src)
        return src

    cams = CamerasComponent(cfg, source_factory=source, sweep_every=3600)
    sup = Supervisor(backoff=(0.05,), check_interval=0.05, settle=0.3)
    with HubThread(hub_config(broker, tmp_path / "data"), components=sup.supervise([cams])):
        failed = events.wait("component.failed")
        assert failed["data"]["component"] == "cameras"
        assert "cam-porch" in failed["data"]["error"] and failed["data"]["gave_up"] is False
        recovered = events.wait("component.recovered")
        assert recovered["data"]["component"] == "cameras"
        assert recovered["data"]["restarts"] == 1
        assert len(made) == 2
        assert cams.cameras["porch"].frames > 0  # the restarted camera is capturing again
        assert sup.status()["cameras"]["state"] == "running"
