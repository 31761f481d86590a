"""The pre-roll ring of an idle camera: JPEG-compact in memory, the same pictures in the clip."""

from __future__ import annotations

from pathlib import Path

import cv2

from devices.camera import RecordConfig
from devices.camera.ring import PreRollBuffer, decode

FPS = 10.0
T0 = 1_800_000_000.0


def test_idle_camera_keeps_its_preroll_in_a_fraction_of_the_raw_frames(
    tmp_path: Path, video
) -> None:
    cam = video.camera("porch", tmp_path / "media", FPS, record=RecordConfig(pre=3.0))
    frames = video.make_frames(60)  # a still scene: no motion, no clip, the ring fills
    for i, f in enumerate(frames):
        cam.feed(f, T0 + i / FPS)
    ring = cam.recorder.ring
    held = ring.since(T0)
    assert len(held) == 31  # 3 s at 10 fps, both ends included
    raw = sum(f.nbytes for f in frames[-31:])
    assert ring.nbytes < raw / 4
    # What a clip would get back: the same pictures, frame numbers and all.
    for (ts, stored), original in zip(held, frames[-31:], strict=True):
        img = decode(stored)
        assert img.shape == original.shape
        assert video.read_stamp(img) == round((ts - T0) * FPS)
        assert cv2.PSNR(img, original) > 30
    assert not cam.recorder.recording
    cam.stop()


def test_unencoded_ring_keeps_frames_as_given(video) -> None:
    ring = PreRollBuffer(1.0, 20, quality=None)
    frame = video.make_frames(1)[0]
    ring.add(T0, frame)
    assert ring.since(T0)[0][1] is frame and decode(frame) is frame
