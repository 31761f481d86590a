"""Retention and the full disk: recording stops cleanly, the camera keeps running."""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import cv2
import numpy as np
import pytest

from devices.camera import Camera, DiskUsage, RecordConfig, Recorder, RetentionConfig, Storage
from devices.camera.recorder import QUEUE_BYTES

FPS = 10.0
T0 = 1_800_000_000.0


def camera(tmp_root: Path, video, storage: Storage) -> tuple[Camera, dict]:
    cam = video.camera(
        "porch",
        tmp_root,
        FPS,
        record=RecordConfig(pre=1.0, post=30.0, max=600),
        storage=storage,
        motion_end_after=0.5,
    )
    seen: dict = {"full": [], "finished": [], "motion": []}
    cam.on_storage_full = seen["full"].append
    cam.on_recording_finished = seen["finished"].append
    cam.on_motion = lambda phase, *a: seen["motion"].append(phase)
    return cam, seen


def test_full_disk_stops_recording_and_camera_keeps_running(tmp_path: Path, video) -> None:
    disk = {"free": 900_000}
    usage = lambda p: DiskUsage(1_000_000, 1_000_000 - disk["free"], disk["free"])  # noqa: E731
    storage = Storage(tmp_path, RetentionConfig(min_free=0.10), disk_usage=usage)
    cam, seen = camera(tmp_path, video, storage)
    frames = video.make_frames(160, moving=range(10, 150))
    for n, f in enumerate(frames):
        if n == 40:
            disk["free"] = 50_000  # something else filled the disk
        if n == 100:
            seen["frames_while_full"] = cam.frames
            assert cam.state() | {"last_detection": None} == {
                "online": False,
                "motion": True,
                "recording": False,
                "storage_full": True,
                "last_detection": None,
            }
        cam.feed(f, T0 + n / FPS)
    cam.stop()
    assert len(seen["full"]) == 1 and "below the 10% floor" in seen["full"][0]
    (clip,) = seen["finished"]
    assert clip.reason == "storage_full"
    played = video.read_video(clip.file)
    # The writer works asynchronously, so it stops at or a little before frame 41.
    assert len(played) == clip.frames and 0 < clip.frames <= 42  # closed cleanly, it plays
    assert cam.frames == 160 and seen["motion"][0] == "start"  # capture and motion carried on


def test_recording_resumes_when_space_returns(tmp_path: Path, video) -> None:
    disk = {"free": 10_000}
    usage = lambda p: DiskUsage(1_000_000, 1_000_000 - disk["free"], disk["free"])  # noqa: E731
    storage = Storage(tmp_path, RetentionConfig(min_free=0.10), disk_usage=usage)
    cam, seen = camera(tmp_path, video, storage)
    frames = video.make_frames(60)
    for n, f in enumerate(frames):
        if n == 10:
            cam.record(1.0, "r1")
        if n == 30:
            disk["free"] = 500_000
            cam.record(1.0, "r2")
        cam.feed(f, T0 + n / FPS)
    cam.stop()
    assert len(seen["full"]) == 1
    assert [c.cause for c in seen["finished"]] == ["r2"]


def test_quota_sweeps_oldest_clips(tmp_path: Path) -> None:
    root = tmp_path / "media"
    (root / "clips").mkdir(parents=True)
    for i in range(5):
        p = root / "clips" / f"{i}.mp4"
        p.write_bytes(b"x" * 1000)
        os.utime(p, (1000 + i, 1000 + i))
    (root / "clips" / "keep.txt").write_text("not media")
    storage = Storage(root, RetentionConfig(days=None, max_bytes=2500, min_free=0.0))
    assert storage.problem() is not None
    deleted = storage.sweep()
    assert sorted(p.name for p in deleted) == ["0.mp4", "1.mp4", "2.mp4"]
    assert storage.problem() is None and (root / "clips" / "keep.txt").exists()


def test_age_sweep(tmp_path: Path) -> None:
    now = 2_000_000_000.0
    old, new = tmp_path / "old.jpg", tmp_path / "new.jpg"
    old.write_bytes(b"j")
    new.write_bytes(b"j")
    os.utime(old, (now - 8 * 86400,) * 2)
    os.utime(new, (now - 86400,) * 2)
    storage = Storage(tmp_path, RetentionConfig(days=7, min_free=0.0), clock=lambda: now)
    assert storage.sweep() == [old]
    assert new.exists()


@pytest.fixture
def tiny_disk(tmp_path: Path):
    """A real 2 MB tmpfs, when we may mount one (root in a container that allows it)."""
    mnt = tmp_path / "disk"
    mnt.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    r = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mnt)], capture_output=True
    )
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs: {r.stderr.decode().strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_real_tiny_filesystem_fills_and_recording_stops(tiny_disk: Path, video) -> None:
    (tiny_disk / "other.bin").write_bytes(os.urandom(1_200_000))  # not ours: cannot be swept
    storage = Storage(tiny_disk / "media", RetentionConfig(min_free=0.10))
    cam, seen = camera(tiny_disk / "media", video, storage)
    frames = video.make_frames(40)
    rng = np.random.default_rng(0)
    cam.record(3600, "test")
    for n in range(2000):
        # Noise makes big frames, so the 2 MB fill up in a few hundred frames.
        f = cv2.add(frames[n % 40], rng.integers(0, 60, frames[0].shape, dtype=np.uint8))
        cam.feed(f, T0 + n / FPS)
        if seen["full"]:
            break
    for n in range(20):  # the camera carries on after the disk filled
        cam.feed(frames[-1 - n % 2], T0 + (500 + n) / FPS)
    cam.stop()
    assert seen["full"], "the 2 MB disk never filled"
    clip = seen["finished"][0]
    assert clip.reason == "storage_full"
    assert len(video.read_video(clip.file)) == clip.frames > 0
    free = os.statvfs(tiny_disk)
    assert free.f_bavail * free.f_frsize > 0  # stopped before the disk was truly full


def test_a_stalled_disk_costs_bounded_memory_and_the_clip_still_closes(tmp_path: Path) -> None:
    fps, size = 5.0, (640, 360)
    rec = Recorder("porch", tmp_path, fps=fps, size=size, config=RecordConfig(pre=1.0))
    gate = threading.Event()
    handle = rec._writer._handle

    def stalled(op: str, a: object, b: object) -> None:
        gate.wait(30)  # the SD card hangs until the gate opens
        handle(op, a, b)

    rec._writer._handle = stalled  # type: ignore[method-assign]
    rng = np.random.default_rng(1)
    frames = [rng.integers(0, 255, (size[1], size[0], 3), np.uint8) for _ in range(4)]
    assert rec.trigger(T0, "test", duration=600)
    for i in range(400):  # 80 s of frames while nothing is written
        rec.feed(T0 + i / fps, frames[i % 4], motion=True)
    held = rec._writer.q.qsize()
    assert held * size[0] * size[1] * 3 <= QUEUE_BYTES + 2**20  # ~64 MB, not 80 s of frames
    assert rec.dropped >= 400 - held, "frames that did not fit are counted"
    gate.set()
    rec.close()
    clips = list((tmp_path / "porch").rglob("*.mp4"))
    assert len(clips) == 1
    video = cv2.VideoCapture(str(clips[0]))
    assert int(video.get(cv2.CAP_PROP_FRAME_COUNT)) >= held - 2  # what was queued was written
