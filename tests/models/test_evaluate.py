"""models.evaluate's clip scoring: a cold camera against one that was already running."""

from __future__ import annotations

import pytest

from models.classifier import MotionClassifier
from models.evaluate import run_clip
from simulator.scenes import make_scene


@pytest.mark.parametrize("seed", [0, 2])
def test_a_person_leaving_early_in_the_clip_is_caught_by_a_running_camera_only(seed: int) -> None:
    scene = make_scene("person_walks_left_to_right", 640, 360, seed=seed)
    walker = scene.actors[0]
    in_frame = [
        i / scene.fps for i in range(-60, 60) if walker.position(i / scene.fps, scene.background)
    ]
    walker.t0 -= max(in_frame) - 1.0  # has crossed by the time the clip starts; gone at 1 s
    clf = MotionClassifier(threads=1)
    cold = run_clip(scene, clf, None, "hub")
    running = run_clip(scene, clf, None, "hub", run_up=5.0)
    assert "person" not in cold.classifier  # a cold camera is still calibrating
    assert running.classifier == {"person"}  # a running one saw them walk across
