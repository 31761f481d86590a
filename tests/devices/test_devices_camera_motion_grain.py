"""The hub motion detector in sensor grain, a lamp switched on, and a person there from the start.

Issue #5: heavy grain tripped the global-light check on almost every frame (the detector kept
recalibrating and was blind), and a large person in frame when the camera started kept it
calibrating until they had left. A light switched on must still recalibrate, not fire.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.camera import MotionDetector

W, H = 640, 360


def yard(seed: int = 1) -> np.ndarray:
    """A textured still scene at 640x360."""
    g = np.tile(np.linspace(50, 170, W, dtype=np.float32), (H, 1))
    img = np.dstack([g, g * 0.9, g * 0.8]).astype(np.uint8)
    r = np.random.default_rng(seed)
    for _ in range(30):
        x, y = int(r.integers(0, W - 60)), int(r.integers(0, H - 60))
        c = tuple(int(v) for v in r.integers(30, 200, 3))
        cv2.rectangle(img, (x, y), (x + 60, y + 45), c, -1)
    return img


def grain(rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Zero-mean sensor grain in 3x3 blocks (it survives the detector's downscale)."""
    g = rng.normal(0, sigma, (H // 3, W // 3)).astype(np.float32)
    return cv2.resize(g, (W, H), interpolation=cv2.INTER_NEAREST)[:, :, None]


def noisy(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    return np.clip(img.astype(np.float32) + grain(rng, sigma), 0, 255).astype(np.uint8)


def test_grain_alone_is_not_a_light_change_and_a_lamp_still_is() -> None:
    rng = np.random.default_rng(3)
    scene = yard()
    det = MotionDetector(W, H)
    boxes = []
    calibrating = []
    for i in range(40):
        frame = scene if i < 20 else cv2.add(scene, np.full_like(scene, 60))  # lamp on at 20
        boxes.append(det.detect(noisy(frame, rng, 18.0)))
        calibrating.append(det.calibrating)
    assert not any(calibrating[5:20])  # calibrated and staying so in the grain
    assert det.recalibrations == 1  # the lamp, once
    assert calibrating[20]
    assert not any(boxes)  # neither grain nor the lamp is motion


def test_person_walking_in_heavy_grain_gives_boxes_without_recalibrating() -> None:
    rng = np.random.default_rng(4)
    scene = yard()
    det = MotionDetector(W, H)
    found = 0
    for i in range(30):
        frame = scene.copy()
        x = 40 + 25 * (i - 10)  # walks in at frame 10
        if i >= 10:
            frame[90:270, x : x + 60] = (40, 40, 200)
        boxes = det.detect(noisy(frame, rng, 18.0))
        if i >= 12:
            found += any(bx <= x + 60 and bx + bw >= x for bx, _, bw, _ in boxes)
    assert found >= 15  # of 18 frames
    assert det.recalibrations == 0 and not det.calibrating


def test_rendered_person_in_heavy_sensor_noise_is_seen() -> None:
    scenarios = pytest.importorskip("simulator.scenes.scenarios")
    nuisances = pytest.importorskip("simulator.scenes.nuisances")
    scene = scenarios.make_scene("person_walks_left_to_right", W, H, seed=1)
    scene.nuisances.append(nuisances.SensorNoise("sensor_noise", "lens", 7, 20.0))
    det = MotionDetector(W, H)
    in_frame = hits = calibrating = 0
    for i in range(scene.n_frames):
        rendered = scene.render(i)
        boxes = det.detect(rendered.image)
        calibrating += det.calibrating
        person = [t.box for t in rendered.truth if t.label == "person"]
        if person and person[0][0] > 0 and person[0][0] + person[0][2] < W:
            in_frame += 1
            hits += bool(boxes)
    assert in_frame >= 10
    assert hits >= in_frame * 0.75
    assert calibrating <= 3 and det.recalibrations <= 1


def test_large_person_in_frame_from_the_start_is_found_once_they_move() -> None:
    rng = np.random.default_rng(5)
    scene = yard()
    jumper = np.zeros((260, 120, 3), np.uint8)  # close to the camera: 13 % of the frame
    jumper[(np.arange(260) // 10) % 2 == 0] = 230  # striped, so all of it reads as moving
    det = MotionDetector(W, H)
    first = None
    for i in range(12):
        frame = scene.copy()
        x = 60 + 30 * i
        frame[60:320, x : x + 120] = jumper
        boxes = det.detect(noisy(frame, rng, 2.0))
        if boxes and first is None:
            first = i
    assert first is not None and first <= 4  # not after calibrate_max frames (10)
