"""The scene renderer: what a camera pointed at the fake world would show, and its truth."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from simulator.scenes import SCENARIOS, SceneSource, UnknownScene, make_scene, source_for


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_renders_bgr_frames_of_the_asked_size(name: str) -> None:
    scene = make_scene(name, 320, 180, fps=5, seed=2)
    frame = scene.render(scene.n_frames // 2)
    assert frame.image.shape == (180, 320, 3)
    assert frame.image.dtype == np.uint8
    assert 5 < frame.image.mean() < 250  # a picture, not a blank


def test_same_seed_same_pixels_other_seed_other_backdrop() -> None:
    a = make_scene("rain", 160, 90, seed=5).render(3).image
    b = make_scene("rain", 160, 90, seed=5).render(3).image
    c = make_scene("rain", 160, 90, seed=6).render(3).image
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_frames_before_the_clip_show_what_a_running_camera_saw() -> None:
    # models.evaluate --run-up plays these: the walker was already on their way.
    scene = make_scene("person_walks_left_to_right", 320, 180, seed=3)
    walker = scene.actors[0]
    walker.t0 = -2.0  # set off 2 s before the clip's first frame
    first = scene.render(0)
    earlier = scene.render(-5)  # 1 s before the first frame, at 5 fps
    x_now = next(t.box[0] for t in first.truth if t.label == "person")
    x_then = next(t.box[0] for t in earlier.truth if t.label == "person")
    assert earlier.t == -1.0 and x_then < x_now  # walking right, so further left then
    assert np.array_equal(scene.render(0).image, first.image)  # frame 0 is still frame 0
    assert not np.array_equal(scene.render(-1).image, scene.render(1).image)


def test_person_walks_left_to_right_at_walking_speed_with_truth() -> None:
    scene = make_scene("person_walks_left_to_right", 640, 360, fps=5, seed=1)
    boxes = [
        t.box for fr in scene.frames() for t in fr.truth if t.label == "person"
    ]  # (x, y, w, h)
    assert len(boxes) >= 10
    xs = [x + w / 2 for x, _, w, _ in boxes]
    assert xs[-1] - xs[0] > 400  # crossed most of the frame, left to right
    assert all(b - a >= 0 for a, b in itertools.pairwise(xs))
    heights = [h for *_, h in boxes]
    assert 100 < max(heights) < 360  # a grown-up near the camera, not a giant
    # ~1.4 m/s: the person moves well under its own height per frame at 5 fps.
    steps = np.diff(xs[2:-2])
    assert 0 < np.median(steps) < max(heights) * 0.5


def test_night_scenes_are_grey_like_an_ir_camera() -> None:
    img = make_scene("person_at_night", 320, 180, seed=3).render(8).image.astype(int)
    assert np.abs(img[:, :, 0] - img[:, :, 2]).mean() < 2


def test_nuisances_carry_their_kind_in_the_truth() -> None:
    for name, kind in [
        ("branches_sway_in_wind", "branch"),
        ("cloud_shadow", "cloud_shadow"),
        ("light_switched_on", "light_switch"),
        ("moth_at_lens", "moth"),
        ("rain", "rain"),
    ]:
        scene = make_scene(name, 320, 180, seed=4)
        kinds = {t.kind for fr in scene.frames() for t in fr.truth}
        assert kind in kinds, name
        assert scene.truth_labels() == set(), name  # nothing worth an alert


def test_light_switched_on_brightens_the_wall() -> None:
    scene = make_scene("light_switched_on", 320, 180, seed=4)
    before, after = scene.render(5).image, scene.render(15).image  # switched at 2 s
    assert after.mean() > before.mean() + 3


def test_unknown_scene_names_the_known_ones() -> None:
    with pytest.raises(UnknownScene, match="person_walks_left_to_right"):
        make_scene("dragon_lands")


class FakeClock:
    """A clock the test advances: sleep moves time instead of waiting."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, s: float) -> None:
        self.slept.append(s)
        self.now += s


def test_scene_source_paces_frames_and_switches_scenes() -> None:
    clock = FakeClock()
    src = SceneSource("empty", 160, 90, fps=5, seed=1, clock=clock, sleep=clock.sleep)
    assert src.read() == (False, None)  # not opened yet
    assert src.open()
    frames = [src.read() for _ in range(4)]
    assert all(ok and img.shape == (90, 160, 3) for ok, img in frames)
    assert clock.slept == pytest.approx([0.2, 0.2, 0.2])  # 5 fps, no busy loop
    src.play("person_walks_left_to_right")
    labels = set()
    for _ in range(40):
        src.read()
        labels |= src.last.labels()
    assert labels == {"person"}
    src.close()
    assert src.read() == (False, None)


def test_scene_source_shows_the_empty_backdrop_after_the_clip() -> None:
    src = SceneSource("car_passes", 160, 90, fps=5, seed=2, realtime=False)
    src.open()
    n = make_scene("car_passes", 160, 90, 5, 2).n_frames
    for _ in range(n + 3):
        ok, _ = src.read()
        assert ok
    assert src.last.truth == ()


def test_source_for_sim_specs() -> None:
    assert source_for("rtsp://cam/1") is None
    named = source_for("sim:car_passes", 160, 90)
    assert named is not None and named.scene == "car_passes"
    porch = source_for("sim:porch", 160, 90)
    assert porch is not None and porch.scene == "empty"
    porch.play("person_walks_left_to_right")
    assert porch.scene == "person_walks_left_to_right"
