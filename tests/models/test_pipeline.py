"""End to end on rendered clips: motion boxes -> DetectionPipeline -> confirmed detections."""

from __future__ import annotations

import cv2
import pytest

from models.classifier import MotionClassifier
from models.confirm import ConfirmConfig
from models.pipeline import DetectionPipeline
from models.regions import ReferenceMotion
from simulator.scenes import make_scene


@pytest.fixture(scope="module")
def clf() -> MotionClassifier:
    return MotionClassifier(threads=1)


def play(name: str, seed: int, clf: MotionClassifier) -> list[dict]:
    """Render a clip at 640x360, detect at 320x180 as a camera would, return detections."""
    scene = make_scene(name, 640, 360, fps=5, seed=seed)
    motion = ReferenceMotion()
    pipe = DetectionPipeline(clf, ConfirmConfig())
    found = []
    for i in range(scene.n_frames):
        small = cv2.resize(scene.render(i).image, (320, 180), interpolation=cv2.INTER_AREA)
        bg = motion.background_image() if motion.background is not None else None
        regions = motion.update(small)
        if bg is not None and regions:
            found += pipe(small, bg, regions, ts=i / scene.fps)
    return found


@pytest.mark.parametrize("seed", [21, 22])
def test_a_person_walking_past_is_one_confirmed_person(clf: MotionClassifier, seed: int) -> None:
    found = play("person_walks_left_to_right", seed, clf)
    assert [d["label"] for d in found] == ["person"]
    d = found[0]
    assert d["score"] >= 0.6 and d["track"] >= 1 and d["first_seen"] >= 0
    x, y, w, h = d["box"]
    assert 0 <= x < 320 and 0 <= y < 180 and h > w  # upright, inside the detect frame


@pytest.mark.parametrize("seed", [21, 22])
def test_swaying_branches_and_a_cloud_shadow_give_nothing(clf: MotionClassifier, seed: int) -> None:
    assert play("branches_and_cloud", seed, clf) == []


def test_a_car_passing_is_a_vehicle(clf: MotionClassifier) -> None:
    assert [d["label"] for d in play("car_passes", 23, clf)] == ["vehicle"]


def test_build_pipeline_from_options_and_bad_model_is_a_model_error(tmp_path) -> None:
    from models.errors import ModelError
    from models.pipeline import build_pipeline

    pipe = build_pipeline({"threads": 1, "k": 2, "n": 4, "cooldown_s": 5})
    assert pipe.confirmer.config.k == 2 and pipe.confirmer.config.cooldown_s == 5
    with pytest.raises(ModelError, match="k <= n"):
        build_pipeline({"k": 9})
    with pytest.raises(ModelError, match="unexpected keyword"):
        build_pipeline({"colour": "red"})
    bad = tmp_path / "bad.onnx"
    bad.write_text("nope")
    with pytest.raises(ModelError, match=r"bad\.onnx"):
        build_pipeline({"model": str(bad)})
