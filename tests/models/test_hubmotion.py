"""HubMotion: the regions a hub camera hands its classifier, for training and scoring."""

from __future__ import annotations

import numpy as np

from models.dataset import CLASSES, build
from models.hubmotion import HubMotion


def _frames(n: int, moving_from: int) -> list[np.ndarray]:
    """A still grey yard at 640x360; from `moving_from` on, a bright block walks right."""
    rng = np.random.default_rng(0)
    yard = rng.integers(60, 90, (360, 640, 3), dtype=np.uint8)
    out = []
    for i in range(n):
        f = yard.copy()
        if i >= moving_from:
            x = 100 + 20 * (i - moving_from)
            f[150:290, x : x + 50] = 220
        out.append(f)
    return out


def test_regions_come_after_two_motion_frames_and_the_background_stays_clean() -> None:
    motion = HubMotion()
    seen = [motion.update(f) for f in _frames(30, 15)]
    assert not any(seen[:16])  # calm, then the first motion frame alone is not motion yet
    assert all(seen[16:])
    x, y, w, h = seen[20][0]
    assert 150 <= x + w / 2 <= 280 and 140 <= y + h / 2 <= 300  # around the block (x 200-250)
    # The block never leaks into the background the classifier compares with.
    assert motion.background_image()[150:290, 100:640].max() < 100


def test_frames_of_another_size_are_resized_to_the_detect_size() -> None:
    motion = HubMotion()
    assert motion.resize(np.zeros((180, 320, 3), np.uint8)).shape == (360, 640, 3)


def test_training_crops_from_hub_regions_cover_people_and_nuisances() -> None:
    data = build(6, 1, progress=False, detector="hub")
    counts = np.bincount(data.y, minlength=len(CLASSES))
    assert counts[CLASSES.index("person")] > 0 and counts[CLASSES.index("nuisance")] > 0
    assert data.x.shape[1:] == (2, 48, 48)
