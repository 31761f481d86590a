"""Named scenarios (`person_walks_left_to_right`, `rain`, ...) and random training scenes."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from simulator.scenes.actors import Actor, random_actor
from simulator.scenes.background import KINDS, Background, render_background
from simulator.scenes.nuisances import (
    NUISANCE_KINDS,
    CloudShadow,
    LightSwitch,
    Moth,
    Rain,
    SensorNoise,
    SwayingBranch,
    random_nuisance,
)
from simulator.scenes.scene import Camera, Scene


class UnknownScene(KeyError):
    """A scenario name that is not in SCENARIOS."""


def _walker(bg: Background, rng: np.random.Generator, right: bool, t0: float = 0.5) -> Actor:
    a = random_actor("person", bg, rng, t0)
    h, w = bg.image.shape[:2]
    y = bg.horizon + (h - bg.horizon) * float(rng.uniform(0.45, 0.8))
    margin = a.size * bg.ppm(y) * 0.3
    xs = (-margin, w + margin) if right else (w + margin, -margin)
    a.start, a.end = (xs[0], y), (xs[1], y)
    a.speed, a.pause, a.size = (
        float(rng.uniform(1.1, 1.6)),
        (0.0, 0.0),
        float(rng.uniform(1.6, 1.9)),
    )
    return a


def _crosser(kind: str, bg: Background, rng: np.random.Generator) -> Actor:
    a = random_actor(kind, bg, rng, 0.3)
    if a.end[0] < a.start[0]:
        a.start, a.end = a.end, a.start
    h, w = bg.image.shape[:2]
    if kind != "car":
        # Named scenes put pets near enough to see and let them trot across.
        y = bg.horizon + (h - bg.horizon) * float(rng.uniform(0.55, 0.95))
        a.speed = float(rng.uniform(1.2, 2.5))
    else:
        y = a.start[1]
    margin = a.size * bg.ppm(y) * 0.9
    a.start, a.end = (-margin, y), (w + margin, y)
    a.pause = (0.0, 0.0)
    return a


Builder = Callable[[Background, np.random.Generator], tuple[list, list, Camera]]


def _person_lr(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_walker(bg, rng, True)], [], Camera()


def _person_rl(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_walker(bg, rng, False)], [], Camera()


def _person_night(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_walker(bg, rng, True)], [], Camera(night=True, noise=5.0, jpeg_quality=70)


def _cat(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_crosser("cat", bg, rng)], [], Camera()


def _dog(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_crosser("dog", bg, rng)], [], Camera()


def _car(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    a = _crosser("car", bg, rng)
    a.speed = float(rng.uniform(4, 9))
    return [a], [], Camera()


def _branches(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    s = int(rng.integers(0, 2**31))
    return [], [SwayingBranch("branch", "lens", s, 8.0, 0.7)], Camera()


def _cloud(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    s = int(rng.integers(0, 2**31))
    return [], [CloudShadow("cloud_shadow", "light", s, 0.4, 5.0, 0.0)], Camera()


def _branches_cloud(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    s = int(rng.integers(0, 2**31))
    ns = [
        SwayingBranch("branch", "lens", s, 8.0, 0.7),
        CloudShadow("cloud_shadow", "light", s + 1, 0.4, 5.0, 0.0),
    ]
    return [], ns, Camera()


def _light(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    s = int(rng.integers(0, 2**31))
    return [], [LightSwitch("light_switch", "light", s, 2.0, 1e9, 110.0)], Camera(night=True)


def _rain(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [], [Rain("rain", "lens", int(rng.integers(0, 2**31)), 1.0)], Camera()


def _snow(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [], [Rain("snow", "lens", int(rng.integers(0, 2**31)), 1.0, True)], Camera()


def _moth(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    m = Moth("moth", "lens", int(rng.integers(0, 2**31)), 0.4, 9.0)
    return [], [m], Camera(night=True, noise=4.0)


def _noise(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    n = SensorNoise("sensor_noise", "lens", int(rng.integers(0, 2**31)), 16.0)
    return [], [n], Camera(night=True, noise=6.0, jpeg_quality=60)


def _empty(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [], [], Camera()


def _person_rain(bg: Background, rng: np.random.Generator) -> tuple[list, list, Camera]:
    return [_walker(bg, rng, True)], [Rain("rain", "lens", int(rng.integers(0, 2**31)))], Camera()


SCENARIOS: dict[str, Builder] = {
    "person_walks_left_to_right": _person_lr,
    "person_walks_right_to_left": _person_rl,
    "person_at_night": _person_night,
    "person_in_rain": _person_rain,
    "cat_crosses": _cat,
    "dog_crosses": _dog,
    "car_passes": _car,
    "branches_sway_in_wind": _branches,
    "cloud_shadow": _cloud,
    "branches_and_cloud": _branches_cloud,
    "light_switched_on": _light,
    "rain": _rain,
    "snow": _snow,
    "moth_at_lens": _moth,
    "sensor_noise": _noise,
    "empty": _empty,
}


def make_scene(
    name: str,
    width: int = 640,
    height: int = 360,
    fps: float = 5.0,
    seed: int = 0,
    duration: float | None = None,
) -> Scene:
    """Build the named scenario at the given size; the seed picks backdrop and details."""
    try:
        builder = SCENARIOS[name]
    except KeyError:
        raise UnknownScene(
            f"unknown scene {name!r}; known: {', '.join(sorted(SCENARIOS))}"
        ) from None
    rng = np.random.default_rng([seed, 1009])
    kind = "street" if name == "car_passes" else KINDS[int(rng.integers(0, len(KINDS)))]
    bg = render_background(kind, width, height, seed)
    actors, nuisances, camera = builder(bg, rng)
    if duration is None:
        duration = _natural_duration(actors, bg) if actors else 10.0
    return Scene(name, bg, actors, nuisances, camera, fps, duration, seed)


def _natural_duration(actors: list[Actor], bg: Background) -> float:
    """Long enough for every actor to finish its path, plus a second of empty scene."""
    end = 0.0
    for a in actors:
        ppm = bg.ppm((a.start[1] + a.end[1]) / 2)
        dist = np.hypot(a.end[0] - a.start[0], a.end[1] - a.start[1]) / ppm
        end = max(end, a.t0 + dist / a.speed + a.pause[1])
    return min(end + 1.0, 60.0)


TRAIN_CLASSES = ("person", "animal", "vehicle", "nuisance")


def random_scene(
    rng: np.random.Generator,
    width: int,
    height: int,
    fps: float = 5.0,
    duration: float = 6.0,
    main: str | None = None,
) -> Scene:
    """A random training/evaluation clip; `main` forces its main content (a class or nuisance)."""
    seed = int(rng.integers(0, 2**31))
    bg = render_background(KINDS[int(rng.integers(0, len(KINDS)))], width, height, seed)
    main = main or str(
        rng.choice(["person", "animal", "vehicle", "nuisance"], p=[0.35, 0.2, 0.15, 0.3])
    )
    actors: list[Actor] = []
    kinds: list[str] = []
    if main in ("person", "animal", "vehicle"):
        kind = {"person": "person", "vehicle": "car"}.get(main) or str(rng.choice(["cat", "dog"]))
        t0 = float(rng.uniform(-duration * 0.5, duration * 0.3))
        actors.append(random_actor(kind, bg, rng, t0))
        if rng.random() < 0.15:
            other = str(rng.choice(["person", "cat", "dog", "car"]))
            actors.append(
                random_actor(other, bg, rng, float(rng.uniform(-duration * 0.5, duration * 0.5)))
            )
        if rng.random() < 0.5:
            kinds.append(str(rng.choice(NUISANCE_KINDS)))
    elif main in NUISANCE_KINDS:
        kinds.append(main)
    else:
        kinds.append(str(rng.choice(NUISANCE_KINDS)))
        if rng.random() < 0.35:
            kinds.append(str(rng.choice(NUISANCE_KINDS)))
    nuisances = [random_nuisance(k, rng, duration) for k in dict.fromkeys(kinds)]
    night = bool(rng.random() < 0.35) or ("moth" in kinds and rng.random() < 0.8)
    camera = Camera(
        night=night,
        noise=float(rng.uniform(3, 8) if night else rng.uniform(0.5, 4)),
        jpeg_quality=int(rng.integers(35, 95)),
        blur=float(rng.choice([0.0, 0.0, rng.uniform(0.3, 1.2)])),
        exposure=float(rng.uniform(0.7, 1.3)),
    )
    return Scene(f"random_{main}", bg, actors, nuisances, camera, fps, duration, seed)
