"""Motion detection, source loss and recovery, the classifier hook, on real video through OpenCV."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from devices.camera import Camera, MotionConfig, MotionDetector, OpenCVSource, RecordConfig
from devices.errors import CameraError

FPS = 10.0


def feed_file(cam_or_detector, path: Path) -> list[list]:
    src = OpenCVSource(str(path))
    src.open()
    out = []
    n = 0
    while (frame := src.read()) is not None:
        if isinstance(cam_or_detector, MotionDetector):
            out.append(cam_or_detector.detect(frame))
        else:
            out.append(cam_or_detector.feed(frame, 1000.0 + n / FPS))
        n += 1
    src.close()
    return out


def test_moving_object_is_found_where_it_is(tmp_path: Path, video) -> None:
    frames = video.make_frames(60, moving=range(20, 40))
    path = video.write_video(tmp_path / "walk.mp4", frames, FPS)
    det = MotionDetector(video.W, video.H, MotionConfig(mask=video.STAMP_MASK))
    boxes = feed_file(det, path)
    assert not any(boxes[:20]) and not any(boxes[42:])
    assert all(boxes[i] for i in range(21, 40))
    x, y, w, h = boxes[30][0]
    obj_x = 10 + 10 * 8  # where make_frames drew the rectangle in frame 30
    assert x <= obj_x + 5 and x + w >= obj_x + 25 and y <= 45 and y + h >= 105


def test_brightness_jump_recalibrates_instead_of_firing(tmp_path: Path, video) -> None:
    frames = video.make_frames(80, brightness_jump_at=30, moving=range(60, 75))
    path = video.write_video(tmp_path / "light.mp4", frames, FPS)
    det = MotionDetector(video.W, video.H, MotionConfig(mask=video.STAMP_MASK))
    boxes = feed_file(det, path)
    assert not any(boxes[:60])  # the light switching on is not motion
    assert det.recalibrations >= 1
    assert sum(1 for b in boxes[60:75] if b) >= 12  # and a real object afterwards still is


def test_mask_hides_motion(tmp_path: Path, video) -> None:
    frames = video.make_frames(40, moving=range(10, 30))
    path = video.write_video(tmp_path / "m.mp4", frames, FPS)
    mask = [video.STAMP_MASK, [[0, 30], [video.W, 30], [video.W, 120], [0, 120]]]
    det = MotionDetector(video.W, video.H, MotionConfig(mask=mask))
    assert not any(feed_file(det, path))


class FlakySource:
    """A real file source that drops out after `fail_after` frames and refuses two reopens."""

    def __init__(self, path: Path, fail_after: int) -> None:
        self.inner = OpenCVSource(str(path), loop=True)
        self.fail_after = fail_after
        self.reads = 0
        self.opens = 0
        self.refuse = 0

    def open(self) -> None:
        self.opens += 1
        if self.refuse > 0:
            self.refuse -= 1
            raise CameraError("connection refused")
        self.inner.open()

    def read(self):
        self.reads += 1
        if self.reads == self.fail_after:
            self.refuse = 2
            return None  # the stream drops mid-way
        return self.inner.read()

    def close(self) -> None:
        self.inner.close()


def test_source_failing_mid_stream_comes_back(tmp_path: Path, video, wait_for) -> None:
    path = video.write_video(tmp_path / "s.mp4", video.make_frames(30), FPS)
    src = FlakySource(path, fail_after=15)
    cam = Camera(
        "drive",
        src,
        media_root=tmp_path / "media",
        width=video.W,
        height=video.H,
        fps=200.0,
        backoff=(0.02, 0.1),
    )
    log: list[str] = []
    cam.on_online = lambda: log.append("online")
    cam.on_offline = lambda reason: log.append("offline")
    cam.start()
    try:
        wait_for(lambda: log.count("online") >= 2 and cam.frames > 20, what="camera back online")
    finally:
        cam.stop()
    assert log[:3] == ["online", "offline", "online"]
    assert src.opens >= 4  # first open, two refused, the one that worked


def test_unopenable_source_reports_offline_once_and_keeps_trying(tmp_path: Path, wait_for) -> None:
    src = OpenCVSource(str(tmp_path / "missing.mp4"))
    cam = Camera("gone", src, media_root=tmp_path, fps=5, backoff=(0.01, 0.02))
    log: list[str] = []
    cam.on_offline = log.append
    opens = []
    real_open = src.open

    def counting_open() -> None:
        opens.append(1)
        real_open()

    src.open = counting_open
    cam.start()
    wait_for(lambda: len(opens) >= 4, what="reopen attempts")
    cam.stop()
    assert len(log) == 1 and "cannot open" in log[0]


def test_analyze_hook_gets_frame_background_regions(tmp_path: Path, video, wait_for) -> None:
    frames = video.make_frames(60, moving=range(20, 40))
    path = video.write_video(tmp_path / "a.mp4", frames, FPS)
    calls: list[tuple] = []
    lock = threading.Lock()

    def analyze(frame: np.ndarray, background: np.ndarray, regions: list) -> list[dict]:
        with lock:
            calls.append((frame.shape, background.shape, list(regions)))
        x, y, w, h = regions[0]
        score = np.float32(0.9)  # classifiers answer in numpy types
        return [{"label": "person", "score": score, "box": np.array([x, y, w, h]), "track": 1}]

    cam = video.camera(
        "yard",
        tmp_path / "media",
        FPS,
        record=RecordConfig(on_motion=False),
        analyze=analyze,
    )
    dets: list[dict] = []
    cam.on_detection = dets.append
    cam.start()
    feed_file(cam, path)
    wait_for(lambda: dets, what="a detection")
    cam.stop()
    assert calls and calls[0][0] == (video.H, video.W, 3) and calls[0][1] == (video.H, video.W, 3)
    assert dets[0]["label"] == "person" and Path(dets[0]["snapshot"]).exists()
    assert type(dets[0]["score"]) is float and type(dets[0]["box"][0]) is int
    assert cam.state()["last_detection"]["label"] == "person"


def test_camera_works_without_analyze(tmp_path: Path, video) -> None:
    frames = video.make_frames(50, moving=range(20, 30))
    path = video.write_video(tmp_path / "n.mp4", frames, FPS)
    cam = video.camera("n", tmp_path / "media", FPS)
    out = feed_file(cam, path)
    cam.stop()
    assert any(out) and cam.state()["last_detection"] is None


@pytest.mark.parametrize(
    ("scene", "expect_motion"),
    [
        ("person_walks_left_to_right", True),
        ("car_passes", True),
        ("light_switched_on", False),
        ("snow", False),
        ("empty", False),
    ],
)
def test_simulator_scenes(tmp_path: Path, scene: str, expect_motion: bool) -> None:
    scenes = pytest.importorskip("simulator.scenes.source")
    src = scenes.SceneSource(scene, 640, 360, 5, 0, realtime=False)
    src.open()
    cam = Camera("sim", None, media_root=tmp_path, fps=5, record=RecordConfig(on_motion=False))
    starts: list[float] = []
    cam.on_motion = lambda phase, regions, ts, snap: phase == "start" and starts.append(ts)
    for i in range(50):  # 10 s: the scenario plays, then the empty scene
        _ok, frame = src.read()
        cam.feed(frame, 1000.0 + i / 5)
    cam.stop()
    assert bool(starts) is expect_motion


def test_stuck_classifier_never_blocks_frames_and_gets_the_newest(
    tmp_path: Path, video, wait_for
) -> None:
    gate = threading.Event()
    seen: list[float] = []

    def analyze(frame, background, regions, ts):  # the 4-argument form also receives ts
        seen.append(ts)
        gate.wait(10)
        return []

    cam = video.camera(
        "slow",
        tmp_path,
        FPS,
        record=RecordConfig(on_motion=False),
        analyze=analyze,
    )
    cam.start()
    frames = video.make_frames(40, moving=range(5, 40))
    for n, f in enumerate(frames[:10]):
        cam.feed(f, 1000.0 + n / FPS)
    wait_for(lambda: seen, what="the classifier to start")
    for n, f in enumerate(frames[10:], start=10):
        cam.feed(f, 1000.0 + n / FPS)  # returns while the classifier is stuck
    assert cam.frames == 40 and len(seen) == 1
    gate.set()
    wait_for(lambda: len(seen) == 2, what="the classifier's second call")
    cam.stop()
    assert seen[1] == 1000.0 + 39 / FPS  # frames in between were dropped: newest wins


@pytest.mark.parametrize(
    ("scene", "label"), [("person_walks_left_to_right", "person"), ("branches_and_cloud", None)]
)
def test_with_the_shipped_classifier(tmp_path: Path, scene: str, label: str | None) -> None:
    scenes = pytest.importorskip("simulator.scenes.source")
    pipeline = pytest.importorskip("models.pipeline")
    classifier = pytest.importorskip("models.classifier")
    analyze = pipeline.DetectionPipeline(classifier.MotionClassifier())
    cam = Camera(
        "yard",
        None,
        media_root=tmp_path,
        fps=5,
        record=RecordConfig(on_motion=False),
        analyze=analyze,
    )
    dets: list[dict] = []
    cam.on_detection = dets.append
    cam.start()
    src = scenes.SceneSource(scene, 640, 360, 5, 0, realtime=False)
    src.open()
    for i in range(50):
        cam.feed(src.read()[1], 1000.0 + i / 5)
        assert cam.wait_analyzed()  # virtual time: let the classifier see every motion frame
    cam.stop()
    assert sorted({d["label"] for d in dets}) == ([label] if label else [])
    assert all(Path(d["snapshot"]).exists() for d in dets)
