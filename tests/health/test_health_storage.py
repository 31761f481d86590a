"""A filling disk raises storage.warning while the camera recorder still has room."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

import pytest

from devices.camera.storage import RetentionConfig, Storage
from hub.health.errors import HealthConfigError
from hub.health.metrics import DiskUsage, HostProbe
from hub.health.storage import StorageWatch


@contextlib.contextmanager
def small_disk(path: Path, size_kb: int = 2048):
    """A real 2 MB tmpfs when we may mount one, else a folder with a 2 MB quota."""
    path.mkdir()
    mounted = os.geteuid() == 0 and (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(path)],
            capture_output=True,
        ).returncode
        == 0
    )
    if mounted:
        try:
            yield path, None
        finally:
            subprocess.run(["umount", "-l", str(path)], capture_output=True)
        return

    def usage(_: object) -> DiskUsage:
        used = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
        total = size_kb * 1024
        return DiskUsage(total, used, max(0, total - used))

    yield path, usage


def test_filling_disk_warns_before_recording_stops(tmp_path):
    with small_disk(tmp_path / "media") as (media, usage):
        recorder = Storage(media, RetentionConfig(days=None, min_free=0.10), disk_usage=usage)
        probe = HostProbe(disk_usage=usage)
        watch = StorageWatch(warn_free=15, stop_free=10)
        warned_at = stopped_at = None
        warning = None
        for i in range(40):  # a 100 kB clip at a time until the recorder refuses
            events = watch.check("recordings", probe.disk(media), now=1000.0 + i)
            if events and warned_at is None:
                warned_at, warning = i, events[0]
            if recorder.problem() is not None:
                stopped_at = i
                break
            (media / f"clip{i:03d}.mp4").write_bytes(os.urandom(100 * 1024))
        assert warned_at is not None and stopped_at is not None
        assert warned_at < stopped_at, "the warning must come while clips are still recorded"
        assert warning.kind == "storage.warning"
        assert warning.data["disk"] == "recordings"
        assert 10 <= warning.data["free_pct"] < 15
        assert warning.data["used_pct"] > 85
        # Reported once, not on every check.
        assert watch.check("recordings", probe.disk(media), now=2000.0) == []


def test_warning_rearms_after_space_is_freed():
    watch = StorageWatch(warn_free=15, stop_free=10)
    full = {"path": "/data", "free_pct": 12.0}
    assert len(watch.check("data", full, 1.0)) == 1
    assert watch.check("data", {"path": "/data", "free_pct": 16.0}, 2.0) == []  # within rearm
    assert watch.check("data", full, 3.0) == []
    assert watch.check("data", {"path": "/data", "free_pct": 40.0}, 4.0) == []
    assert len(watch.check("data", full, 5.0)) == 1


def test_warning_threshold_must_sit_above_the_recorders_floor():
    with pytest.raises(HealthConfigError, match="min_free"):
        StorageWatch(warn_free=10, stop_free=10)
    with pytest.raises(ValueError):
        StorageWatch(warn_free=5, stop_free=10)


def moving_square_video(path: Path, frames: int = 40, fps: float = 20.0) -> Path:
    """A real MJPG video of a square crossing a textured scene (the camera loops it)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(3)
    scene = rng.integers(40, 200, (180, 320, 3), dtype=np.uint8)
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 180))
    for i in range(frames):
        f = scene.copy()
        x = 10 + i * 7 % 260
        f[60:120, x : x + 40] = 250
        w.write(f)
    w.release()
    return path


def test_filling_disk_warns_in_the_hub_while_the_camera_still_records(broker, tmp_path, collector):
    """Another program fills the disk: storage.warning comes first, clips are still written,
    and only later does the camera stop recording (storage.full)."""
    import time

    from hub.background import HubThread
    from hub.health.metrics import HostProbe
    from hub.wiring import Backends

    from .conftest import hub_config

    data = tmp_path / "data"
    filler = tmp_path / "downloads.bin"
    filler.write_bytes(b"")
    total = 20_000_000

    def usage(_: object) -> DiskUsage:
        # A 20 MB disk holding the hub's data and a download that keeps growing.
        used = 16_000_000 + filler.stat().st_size
        used += sum(f.stat().st_size for f in data.rglob("*") if f.is_file())
        return DiskUsage(total, used, max(0, total - used))

    camera = {
        "type": "camera",
        "source": str(moving_square_video(tmp_path / "porch.avi")),
        "detect": {"width": 320, "height": 180, "fps": 10},
        "record": {"pre": "0.2s", "post": "0.2s", "max": "0.5s", "retain": {"min_free": "10%"}},
    }
    config = hub_config(
        broker,
        data,
        devices={"porch_cam": camera},
        health={"tick": 0.05, "storage": {"warn_free": "15%"}},
    )
    backends = Backends(extra={"disk_usage": usage, "host_probe": HostProbe(disk_usage=usage)})
    with HubThread(config, backends=backends):
        collector.wait_event("camera.online", timeout=20)
        collector.publish("edgehub/test/porch_cam/set", '{"record": 120}')
        deadline = time.monotonic() + 60
        while not collector.events("storage.full"):
            assert time.monotonic() < deadline, "the disk never filled"
            with filler.open("ab") as f:
                f.write(b"\0" * 50_000)
            time.sleep(0.1)
    warning = collector.events("storage.warning")[0]
    full = collector.events("storage.full")[0]
    assert warning["ts"] < full["ts"]
    assert warning["data"]["free_pct"] < 15 and warning["data"]["recording_stops_at"] == 10
    clips_after_warning = [
        e for e in collector.events("recording.finished") if warning["ts"] < e["ts"] < full["ts"]
    ]
    assert clips_after_warning, "recording must still work when the owner is warned"
