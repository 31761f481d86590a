"""Camera recording on real video files read back with OpenCV: pre-roll, post, max, snapshots."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest

from devices.camera import Camera, ClipInfo, OpenCVSource, RecordConfig

FPS = 10.0
T0 = 1_800_000_000.0


def run_file(cam: Camera, path: Path) -> int:
    """Feed every frame of a video file through the camera with virtual time; return the count."""
    src = OpenCVSource(str(path))
    src.open()
    n = 0
    while (frame := src.read()) is not None:
        cam.feed(frame, T0 + n / FPS)
        n += 1
    src.close()
    return n


def make_camera(tmp_path: Path, video, **record) -> tuple[Camera, dict]:
    cam = video.camera(
        "porch",
        tmp_path / "media",
        FPS,
        record=RecordConfig(**record),
        motion_end_after=0.5,
    )
    seen: dict = {"motion": [], "started": [], "finished": [], "snapshots": []}
    cam.on_motion = lambda phase, regions, ts, snap: seen["motion"].append(
        (phase, regions, ts, snap)
    )
    cam.on_recording_started = seen["started"].append
    cam.on_recording_finished = seen["finished"].append
    cam.on_snapshot = lambda path, jpeg, reason: seen["snapshots"].append((path, reason))
    return cam, seen


def test_clip_has_preroll_and_ends_post_after_motion(tmp_path: Path, video) -> None:
    frames = video.make_frames(120, moving=range(40, 70))
    src = video.write_video(tmp_path / "in.mp4", frames, FPS)
    cam, seen = make_camera(tmp_path, video, pre=2.0, post=1.5, max=60)
    run_file(cam, src)
    cam.stop()

    starts = [m for m in seen["motion"] if m[0] == "start"]
    ends = [m for m in seen["motion"] if m[0] == "end"]
    assert len(starts) == 1 and len(ends) == 1
    trigger = round((starts[0][2] - T0) * FPS)
    last_motion = round((ends[0][2] - T0) * FPS)
    assert trigger == 41  # the object appears in frame 40; a second frame confirms it
    assert 67 <= last_motion <= 70

    assert len(seen["finished"]) == 1
    clip: ClipInfo = seen["finished"][0]
    assert clip.cause == "motion" and clip.reason == "post"
    assert clip.file.exists() and clip.size == clip.file.stat().st_size > 0
    played = video.read_video(clip.file)  # the clip plays
    numbers = [video.read_stamp(f) for f in played]
    assert numbers == list(range(numbers[0], numbers[-1] + 1))  # no gaps, in order
    assert numbers[0] == trigger - int(2.0 * FPS)  # the frame from `pre` seconds before
    assert numbers[-1] == last_motion + int(1.5 * FPS)  # `post` seconds after the last motion
    assert clip.start == pytest.approx(T0 + numbers[0] / FPS)
    assert clip.end == pytest.approx(T0 + numbers[-1] / FPS)
    assert seen["started"][0].file == clip.file


def test_clip_never_exceeds_max_and_continues(tmp_path: Path, video) -> None:
    frames = video.make_frames(90, moving=range(10, 80))
    src = video.write_video(tmp_path / "in.mp4", frames, FPS)
    cam, seen = make_camera(tmp_path, video, pre=1.0, post=0.5, max=3.0)
    run_file(cam, src)
    cam.stop()
    clips = seen["finished"]
    assert len(clips) >= 2
    assert all(c.end - c.start <= 3.0 + 1e-6 for c in clips)
    assert clips[0].reason == "max"
    numbers = [video.read_stamp(f) for c in clips for f in video.read_video(c.file)]
    assert numbers == list(range(numbers[0], numbers[-1] + 1))  # continuation leaves no gap


def test_record_request_with_duration(tmp_path: Path, video) -> None:
    frames = video.make_frames(60)
    src = video.write_video(tmp_path / "in.mp4", frames, FPS)
    cam, seen = make_camera(tmp_path, video, pre=1.0, post=1.0, max=60)
    src_cap = OpenCVSource(str(src))
    src_cap.open()
    for n in range(60):
        if n == 20:
            cam.record(duration=2.0, cause="evt-123")
        cam.feed(src_cap.read(), T0 + n / FPS)
    src_cap.close()
    cam.stop()
    (clip,) = seen["finished"]
    assert clip.cause == "evt-123"
    numbers = [video.read_stamp(f) for f in video.read_video(clip.file)]
    assert numbers[0] == 10 and numbers[-1] == 40
    assert not seen["motion"]


def test_snapshots_of_trigger_and_best_frame(tmp_path: Path, video) -> None:
    frames = video.make_frames(70, moving=range(20, 40))
    src = video.write_video(tmp_path / "in.mp4", frames, FPS)
    cam, seen = make_camera(tmp_path, video, pre=1.0, post=1.0, max=60)
    run_file(cam, src)
    path = cam.snapshot()
    cam.stop()
    reasons = [r for _, r in seen["snapshots"]]
    assert reasons[:2] == ["motion", "best"] and reasons[-1] == "request"
    start_snap = next(m[3] for m in seen["motion"] if m[0] == "start")
    end_snap = next(m[3] for m in seen["motion"] if m[0] == "end")
    for p in (start_snap, end_snap, path):
        img = cv2.imread(str(p))
        assert img is not None and img.shape == (video.H, video.W, 3)
    assert video.read_stamp(cv2.imread(str(start_snap))) == 21  # the confirming frame
    assert 20 <= video.read_stamp(cv2.imread(str(end_snap))) < 40
    assert video.read_stamp(cv2.imread(str(path))) == 69


def test_missed_frames_are_filled_so_the_clip_keeps_real_time(tmp_path: Path, video) -> None:
    frames = video.make_frames(60)
    cam, seen = make_camera(tmp_path, video, pre=1.0, post=1.0, max=60)
    cam.record(duration=3.0, cause="gap")
    for n, f in enumerate(frames):
        if 20 <= n < 30:
            continue  # a stalled stream: one second without frames
        cam.feed(f, T0 + n / FPS)
    cam.stop()
    (clip,) = seen["finished"]
    numbers = [video.read_stamp(f) for f in video.read_video(clip.file)]
    assert len(numbers) == round((clip.end - clip.start) * FPS) + 1  # plays for its real span
    assert numbers[numbers.index(19) : numbers.index(30)] == [19] * 11  # held the last frame
