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
    ok, bad = h.events("command.result")[:2]
    assert ok["data"]["ok"] and Path(ok["data"]["snapshot"]).exists()
    assert not bad["data"]["ok"] and "record" in bad["data"]["error"]
