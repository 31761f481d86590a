"""The cameras component in a real hub on a real broker, fed by a real video file."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.wiring import Backends
from rules.effects import Record

FPS = 20.0


@pytest.fixture
def cam_hub(run_hub, tmp_path: Path, video):
    frames = video.make_frames(40, moving=range(10, 30))
    path = video.write_video(tmp_path / "porch.mp4", frames, FPS)
    devices = {
        "porch_cam": {
            "type": "camera",
            "source": str(path),
            "detect": {"width": video.W, "height": video.H, "fps": FPS},
            "motion": {"mask": video.STAMP_MASK},
            "record": {"pre": "0.5s", "post": "0.5s", "max": "30s"},
        }
    }
    return run_hub(devices, Backends())


def test_motion_records_indexes_and_publishes(cam_hub, wait_for, tmp_path: Path, video) -> None:
    h = cam_hub
    wait_for(lambda: h.events("recording.finished"), timeout=20, what="a finished clip")
    online = h.events("camera.online")
    assert online and online[0]["source"] == "porch_cam"
    start = next(e for e in h.events("camera.motion") if e["data"]["phase"] == "start")
    assert start["data"]["regions"] and Path(start["data"]["snapshot"]).exists()
    started = h.events("recording.started")[0]
    assert started["cause"] == start["id"]  # the clip says which motion started it
    fin = h.events("recording.finished")[0]
    clip = Path(fin["data"]["file"])
    assert fin["data"]["size"] == clip.stat().st_size > 0
    assert len(video.read_video(clip)) == fin["data"]["frames"] > 0  # the clip plays
    jpeg = h.on("edgehub/home/porch_cam/snapshot")[-1]
    img = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert img.shape == (video.H, video.W, 3)
    assert json.loads(h.on("edgehub/home/porch_cam/state")[-1])["online"] is True
    db = sqlite3.connect(tmp_path / "data" / "edgehub.db")
    rows = db.execute("SELECT camera, file, size, end, reason FROM recordings").fetchall()
    assert ("porch_cam", str(clip), clip.stat().st_size, fin["data"]["end"], "post") in rows

    # Retention: a clip older than retain.days goes, file and index row.
    old = time.time() - 8 * 86400
    os.utime(clip, (old, old))
    cams = next(c for c in h.hub.components if c.name == "cameras")
    deleted = asyncio.run_coroutine_threadsafe(cams.sweep(), h.loop).result(10)
    assert clip in deleted and not clip.exists()
    files = [r[0] for r in db.execute("SELECT file FROM recordings")]
    assert str(clip) not in files
    h.stop()


def test_record_effect_and_set_commands(cam_hub, wait_for) -> None:
    h = cam_hub
    wait_for(lambda: h.events("camera.online"), what="camera online")
    h.execute(Record(rule="r", cause="evt-42", camera="porch_cam", duration=0.5))
    wait_for(
        lambda: any(e["cause"] == "evt-42" for e in h.events("recording.finished")),
        timeout=20,
        what="the rule's clip",
    )
    h.publish("edgehub/home/porch_cam/set", '{"snapshot": true}')
    h.publish("edgehub/home/porch_cam/set", '{"zoom": 2}')
    wait_for(lambda: len(h.events("command.result")) >= 2, what="answers")
    # The snapshot is answered from a worker thread, so the answers may come in either order.
    answers = h.events("command.result")
    ok = next(a for a in answers if a["data"]["ok"])
    bad = next(a for a in answers if not a["data"]["ok"])
    assert ok["data"]["ok"] and Path(ok["data"]["snapshot"]).exists()
    assert not bad["data"]["ok"] and "record" in bad["data"]["error"]


def test_sim_source_comes_from_the_scene_renderer() -> None:
    pytest.importorskip("simulator.scenes.source")
    from hub.cameras import CamerasComponent
    from hub.config import validate_config

    cfg = validate_config(
        {"devices": {"yard": {"type": "camera", "source": "sim:empty", "detect": {"fps": 5}}}}
    ).devices["yard"]
    src = CamerasComponent({})._source(cfg.source, cfg)
    src.open()
    ok, frame = src.read()
    assert ok and frame.shape == (360, 640, 3)


def test_classifier_detections_reach_the_hub(run_hub, tmp_path: Path, wait_for) -> None:
    scenes = pytest.importorskip("simulator.scenes.source")
    pytest.importorskip("models.pipeline")
    src = scenes.SceneSource("person_walks_left_to_right", 640, 360, 5, 0, realtime=False)
    src.open()
    w = cv2.VideoWriter(str(tmp_path / "yard.mp4"), cv2.VideoWriter_fourcc(*"mp4v"), 20, (640, 360))
    for _ in range(40):
        w.write(src.read()[1])
    w.release()
    devices = {
        "yard": {
            "type": "camera",
            "source": str(tmp_path / "yard.mp4"),
            "detect": {"fps": 20},
            "classifier": {},
        }
    }
    h = run_hub(devices, Backends())
    wait_for(lambda: h.events("camera.detection"), timeout=20, what="a detection")
    det = h.events("camera.detection")[0]
    assert det["source"] == "yard" and det["data"]["label"] == "person"
    assert Path(det["data"]["snapshot"]).exists() and len(det["data"]["box"]) == 4
    wait_for(lambda: json.loads(h.on("edgehub/home/yard/state")[-1])["last_detection"])


def test_clip_cut_by_a_crash_is_marked_interrupted(run_hub, tmp_path: Path, video) -> None:
    data = tmp_path / "data"
    data.mkdir()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(b"\x00" * 1234)  # what a killed mp4v writer leaves: no index atom
    db = sqlite3.connect(data / "edgehub.db")
    db.executescript(
        "CREATE TABLE recordings (id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start REAL "
        "NOT NULL, end REAL, cause TEXT, file TEXT NOT NULL UNIQUE, size INTEGER, reason TEXT, "
        "event_id TEXT);"
    )
    db.execute("INSERT INTO recordings (camera, start, file) VALUES ('cam', 1.0, ?)", (str(cut),))
    db.commit()
    path = video.write_video(tmp_path / "in.mp4", video.make_frames(10), FPS)
    run_hub({"cam": {"type": "camera", "source": str(path)}}, Backends(), data_dir=data)
    row = db.execute("SELECT size, reason FROM recordings WHERE file = ?", (str(cut),)).fetchone()
    assert row == (1234, "interrupted")


def test_broken_model_leaves_the_camera_on_motion(run_hub, tmp_path: Path, video, wait_for) -> None:
    pytest.importorskip("models.pipeline")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    path = video.write_video(tmp_path / "in.mp4", video.make_frames(30, moving=range(5, 25)), FPS)
    devices = {
        "cam": {
            "type": "camera",
            "source": str(path),
            "detect": {"width": video.W, "height": video.H, "fps": FPS},
            "motion": {"mask": video.STAMP_MASK},
            "classifier": {"model": str(bad)},
        }
    }
    h = run_hub(devices, Backends())
    wait_for(lambda: h.events("camera.motion"), timeout=20, what="motion without a classifier")
    assert not h.events("camera.detection")


def test_motion_settings_reach_the_detector_and_unset_ones_keep_its_defaults(
    run_hub, tmp_path: Path, video
) -> None:
    from devices.camera.motion import MotionConfig

    path = video.write_video(tmp_path / "in.mp4", video.make_frames(10), FPS)
    devices = {
        name: {
            "type": "camera",
            "source": str(path),
            "detect": {"width": video.W, "height": video.H, "fps": FPS},
            "motion": motion,
        }
        for name, motion in (
            ("set", {"threshold": 40, "min_area": 0.01, "small_frames": 0}),
            ("unset", {}),
        )
    }
    h = run_hub(devices, Backends())
    cams = next(c for c in h.hub.components if c.name == "cameras")
    got = {name: cams.cameras[name].detector.config for name in devices}
    assert (got["set"].threshold, got["set"].min_area, got["set"].small_frames) == (40, 0.01, 0)
    defaults = MotionConfig()
    assert got["unset"] == defaults  # one place holds the defaults: devices/camera/motion.py
