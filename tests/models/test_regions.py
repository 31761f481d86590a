"""Regions to crops: clustering, square crops with margin, the three input channels."""

from __future__ import annotations

import numpy as np

from models.regions import INPUT_SIZE, ReferenceMotion, cluster_boxes, make_crops, square_crop


def test_nearby_boxes_merge_and_far_ones_stay_apart() -> None:
    boxes = [(10, 10, 20, 40), (33, 12, 10, 30), (200, 100, 10, 10)]
    assert cluster_boxes(boxes, gap=5) == [(10, 10, 33, 40), (200, 100, 10, 10)]


def test_square_crop_has_margin_and_is_centred() -> None:
    x0, y0, side = square_crop((100, 50, 20, 80), margin=0.25)
    assert side == 120
    assert (x0 + side / 2, y0 + side / 2) == (110, 90)


def test_crops_hold_frame_background_and_difference() -> None:
    bg = np.full((90, 160, 3), 100, np.uint8)
    frame = bg.copy()
    frame[30:60, 70:90] = 200  # a bright object
    crops = make_crops(frame, bg, [square_crop((70, 30, 20, 30))])
    assert crops.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)
    c = INPUT_SIZE // 2
    assert crops[0, 0, c, c] > 0.7 and abs(crops[0, 1, c, c] - 100 / 255) < 0.01
    assert abs(crops[0, 2, c, c] - 100 / 255) < 0.02
    assert crops[0, 2, 0, 0] < 0.01  # the margin did not change


def test_crops_at_the_edge_keep_their_square_shape() -> None:
    frame = np.zeros((90, 160), np.uint8)
    crops = make_crops(frame, frame, [(-20, -20, 60)])
    assert crops.shape == (1, 3, INPUT_SIZE, INPUT_SIZE)


def test_reference_motion_finds_a_moving_square_not_a_brightness_jump() -> None:
    m = ReferenceMotion()
    base = np.full((90, 160), 80, np.uint8)
    assert m.update(base) == []
    moved = base.copy()
    moved[20:50, 40:60] = 200
    boxes = m.update(moved)
    assert len(boxes) == 1 and boxes[0][0] <= 40 <= boxes[0][0] + boxes[0][2]
    assert m.update(np.full((90, 160), 200, np.uint8)) == []  # recalibrates


def _person_regions(erode: bool) -> tuple[int, int]:
    """(frames with the person, frames where a region of its own covers the person)."""
    from dataclasses import replace

    from models.dataset import label_region
    from simulator.scenes import random_scene
    from simulator.scenes.nuisances import random_nuisance

    rng = np.random.default_rng(4)
    scene = random_scene(rng, 320, 180, 5.0, 6.0, main="person")
    scene = replace(scene, nuisances=[random_nuisance("sensor_noise", rng, 6.0)])
    motion = ReferenceMotion(erode=erode)
    seen = found = 0
    for i in range(scene.n_frames):
        fr = scene.render(i)
        boxes = motion.update(fr.image)
        if not any(t.label == "person" and t.box[3] >= 20 for t in fr.truth):
            continue
        seen += 1
        found += any(
            label_region(b, fr.truth) == (0, "person") and b[2] * b[3] < 0.25 * 320 * 180
            for b in boxes
        )
    return seen, found


def test_a_person_in_sensor_noise_gets_a_region_of_their_own() -> None:
    # Grain specks are eroded away as the hub's camera does; without that they dilate
    # into one region the size of the frame and the person is lost in it.
    seen, found = _person_regions(erode=True)
    assert seen >= 20 and found >= 0.9 * seen
    assert _person_regions(erode=False)[1] < 0.2 * seen
