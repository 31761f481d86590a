"""Training and held-out crops from rendered scenes (a dev tool: imports simulator.scenes).

Each clip runs through a motion detector (the hub camera's own, or the reference one);
every clustered motion region is
cropped (frame and background, jittered margin) and labelled from the scene's ground
truth: the real object it covers, or `nuisance` when it covers none.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, replace

import cv2
import numpy as np

from models.hubmotion import HubMotion
from models.regions import INPUT_SIZE, ReferenceMotion, cluster_boxes, make_crops, square_crop
from simulator.scenes import RenderedFrame, Scene, Truth, random_scene
from simulator.scenes.nuisances import random_nuisance

CLASSES = ("person", "animal", "vehicle", "nuisance")
SIZES = ((320, 180), (320, 180), (384, 216), (256, 144))
# Where person recall was lost on the tuning clips: people in rain, snow or heavy sensor noise.
HARD_NUISANCES = ("rain", "rain", "sensor_noise", "sensor_noise", "snow", None)
# Whose motion regions crops come from: "reference" (models.regions.ReferenceMotion) or "hub"
# (the hub camera's own detector and gating, models.hubmotion). Training and scoring default
# to "hub": the shipped model passed the rule pre-registered in bench/RESULTS.md (Vision) on
# those regions, and they are what a hub camera hands it.
DETECTORS = ("reference", "hub")
DETECTOR = "hub"


@dataclass
class CropSet:
    """Crops as uint8 (N, 2, S, S): frame and background; labels and the nuisance/actor kind."""

    x: np.ndarray
    y: np.ndarray
    kinds: list[str]

    def inputs(self) -> np.ndarray:
        """Model input (N, 3, S, S) float32: frame, background, |difference|, scaled 0..1."""
        f = self.x.astype(np.float32) / 255.0
        return np.concatenate([f, np.abs(f[:, :1] - f[:, 1:2])], axis=1)


def _overlap(a: tuple, b: tuple) -> float:
    """Intersection area of two (x, y, w, h) boxes."""
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return float(max(w, 0) * max(h, 0))


def label_region(box: tuple, truth: tuple) -> tuple[int, str] | None:
    """Class index and kind for a motion region, or None when it is ambiguous."""
    best, best_t = 0.0, None
    for t in truth:
        if t.label == "nuisance" or t.box[3] < 6:
            continue
        inter = _overlap(box, t.box)
        score = max(inter / (t.box[2] * t.box[3]), inter / max(box[2] * box[3], 1))
        if score > best:
            best, best_t = score, t
    if best_t is not None and best >= 0.4:
        return CLASSES.index(best_t.label), best_t.kind
    if best > 0.1:
        return None
    kinds = [t.kind for t in truth if t.label == "nuisance"]
    return CLASSES.index("nuisance"), (kinds[0] if kinds else "noise")


def _scaled(t: Truth, scale: float) -> Truth:
    return Truth(t.label, t.kind, tuple(int(v // scale) for v in t.box))


def clip_crops(
    scene: Scene,
    rng: np.random.Generator,
    per_class: int = 10,
    jitter: bool = True,
    scale: int = 1,
    detector: str = DETECTOR,
) -> tuple[list[np.ndarray], list[int], list[str]]:
    """Labelled (frame, background) crops from one clip (rendered at scale x the detect size).

    detector "hub": the regions a hub camera hands its classifier (models.hubmotion), on
    frames resized to the hub's detect size whatever the clip's own size.
    """
    motion: ReferenceMotion | HubMotion = HubMotion() if detector == "hub" else ReferenceMotion()
    found: dict[int, list[tuple[np.ndarray, str]]] = {}
    detect = (scene.size[0] // scale, scene.size[1] // scale)
    if isinstance(motion, HubMotion):
        detect = motion.size
    factor = scene.size[0] / detect[0]
    w = detect[0]
    # Some clips begin on the bare backdrop and cut to the scene, as a simulated camera does
    # when a scenario switches scenes (and as a wind gust or a switched lamp starts at once).
    bare = replace(scene, actors=[], nuisances=[])
    cut = int(rng.integers(2, 11)) if rng.random() < 0.3 else 0
    for i in range(scene.n_frames):
        fr = bare.render(i) if i < cut else scene.render(i)
        image = fr.image
        if image.shape[1::-1] != detect:
            # As a camera does: capture big, detect on a downscaled copy.
            image = cv2.resize(image, detect, interpolation=cv2.INTER_AREA)
            fr = RenderedFrame(image, fr.index, fr.t, tuple(_scaled(t, factor) for t in fr.truth))
        bg = motion.background_image() if motion.background is not None else None
        boxes = cluster_boxes(motion.update(fr.image), gap=max(w * 0.02, 3))
        if bg is None:
            continue
        for box in boxes:
            lab = label_region(box, fr.truth)
            if lab is None:
                continue
            margin = float(rng.uniform(0.05, 0.35)) if jitter else 0.15
            x0, y0, side = square_crop(box, margin)
            if jitter:
                x0 += int(side * rng.uniform(-0.1, 0.1))
                y0 += int(side * rng.uniform(-0.1, 0.1))
            crop = make_crops(fr.image, bg, [(x0, y0, side)])[0, :2]
            found.setdefault(lab[0], []).append(((crop * 255).round().astype(np.uint8), lab[1]))
    xs, ys, kinds = [], [], []
    for cls, items in found.items():
        pick = rng.permutation(len(items))[:per_class]
        for j in pick:
            xs.append(items[j][0])
            ys.append(cls)
            kinds.append(items[j][1])
    return xs, ys, kinds


def hard_person_scene(rng: np.random.Generator, width: int, height: int, duration: float) -> Scene:
    """A training-only person clip made harder, the way tuning-clip persons were missed.

    Clutter (rain, snow or sensor noise with a noisier camera), a person so close to the
    camera that they are taller than half the frame and cut off at the bottom, or one who
    stops for a while; sometimes two of these at once.
    """
    scene = random_scene(rng, width, height, fps=5.0, duration=duration, main="person")
    kind = HARD_NUISANCES[int(rng.integers(0, len(HARD_NUISANCES)))]
    nuisances = [random_nuisance(kind, rng, duration)] if kind else list(scene.nuisances)
    cam = scene.camera
    noise = cam.noise * float(rng.uniform(1.0, 2.0))
    actors = list(scene.actors)
    person = actors[0]
    if rng.random() < 0.35:
        # Feet at or below the bottom edge: a person passing right in front of the camera.
        y = height * float(rng.uniform(0.92, 1.25))
        y_end = y + height * float(rng.normal(0, 0.05))
        (xa, _), (xb, _) = person.start, person.end
        person = replace(person, start=(xa, y), end=(xb, y_end))
    if rng.random() < 0.3:
        # Stopping on the way (at a door, to look at a phone).
        person = replace(person, pause=(float(rng.uniform(0.2, 0.7)), float(rng.uniform(1.0, 3.0))))
    actors[0] = person
    return replace(scene, actors=actors, nuisances=nuisances, camera=replace(cam, noise=noise))


def build(
    n_clips: int,
    seed: int,
    per_class: int = 10,
    progress: bool = True,
    hard_person: int = 0,
    detector: str = DETECTOR,
) -> CropSet:
    """Render n_clips random clips (then hard_person harder person clips) from `seed`."""
    rng = np.random.default_rng([seed, 424242])
    hard_rng = np.random.default_rng([seed, 777])  # apart, so the first n_clips stay the same
    xs: list[np.ndarray] = []
    ys: list[int] = []
    kinds: list[str] = []
    t0 = time.monotonic()
    total = n_clips + hard_person
    for k in range(total):
        if k < n_clips:
            width, height = SIZES[int(rng.integers(0, len(SIZES)))]
            scale = 2 if rng.random() < 0.5 else 1
            duration = float(rng.uniform(4, 8))
            scene = random_scene(rng, width * scale, height * scale, fps=5.0, duration=duration)
            x, y, kd = clip_crops(scene, rng, per_class, scale=scale, detector=detector)
        else:
            width, height = SIZES[int(hard_rng.integers(0, len(SIZES)))]
            scale = 2 if hard_rng.random() < 0.5 else 1
            duration = float(hard_rng.uniform(4, 8))
            scene = hard_person_scene(hard_rng, width * scale, height * scale, duration)
            x, y, kd = clip_crops(scene, hard_rng, per_class, scale=scale, detector=detector)
        xs += x
        ys += y
        kinds += kd
        if progress and (k + 1) % max(total // 20, 1) == 0:
            counts = np.bincount(np.array(ys, int), minlength=len(CLASSES)).tolist() if ys else []
            shown = ", ".join(f"{n} {c}" for c, n in zip(CLASSES, counts, strict=False))
            print(
                f"  rendered {k + 1}/{total} clips, {len(ys)} crops ({shown}) "
                f"({time.monotonic() - t0:.0f}s)",
                file=sys.stderr,
                flush=True,
            )
    x = np.stack(xs) if xs else np.zeros((0, 2, INPUT_SIZE, INPUT_SIZE), np.uint8)
    return CropSet(x, np.array(ys, np.int64), kinds)
