"""A scene: a backdrop, actors and nuisances over time, seen through a cheap camera.

`Scene.render(i)` returns frame i as BGR uint8 with its ground truth. Every frame is
reproducible on its own (its randomness is seeded by the scene seed and the index), so
training, tests and the live source all see the same pixels for the same seed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from simulator.scenes.actors import Actor
from simulator.scenes.background import Background
from simulator.scenes.nuisances import Nuisance


@dataclass(frozen=True, slots=True)
class Truth:
    """What is really in the frame: a label (person/animal/vehicle/nuisance), kind and box."""

    label: str
    kind: str
    box: tuple[int, int, int, int]

    def as_dict(self) -> dict[str, Any]:
        """Plain-dict form for JSON and scenario checks."""
        return {"label": self.label, "kind": self.kind, "box": list(self.box)}


@dataclass(frozen=True, slots=True)
class RenderedFrame:
    """One frame (BGR uint8) with its index, time in seconds and ground truth."""

    image: np.ndarray
    index: int
    t: float
    truth: tuple[Truth, ...]

    def labels(self) -> set[str]:
        """The labels of real objects (not nuisances) visible in this frame."""
        return {tr.label for tr in self.truth if tr.label != "nuisance"}


@dataclass
class Camera:
    """How the camera spoils the picture: IR night mode, grain, blur and JPEG artefacts."""

    night: bool = False
    noise: float = 2.0  # grey levels of per-pixel noise
    jpeg_quality: int = 80
    blur: float = 0.0  # sigma of lens blur in pixels
    exposure: float = 1.0


@dataclass
class Scene:
    """A named clip: background, actors and nuisances, rendered frame by frame."""

    name: str
    background: Background
    actors: list[Actor] = field(default_factory=list)
    nuisances: list[Nuisance] = field(default_factory=list)
    camera: Camera = field(default_factory=Camera)
    fps: float = 5.0
    duration: float = 10.0
    seed: int = 0
    _noise: np.ndarray | None = field(default=None, repr=False)
    _vignette: np.ndarray | None = field(default=None, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        h, w = self.background.image.shape[:2]
        return w, h

    @property
    def n_frames(self) -> int:
        """How many frames the clip lasts at its fps."""
        return max(round(self.duration * self.fps), 1)

    def render(self, index: int) -> RenderedFrame:
        """Render frame `index` (any index: past the end the scene goes on, before 0 it was on)."""
        t = index / self.fps
        # Negative indices are the seconds before the clip (a camera that was already
        # running); they draw from their own stream, so frames 0.. stay as they were.
        key = [self.seed, index, 977] if index >= 0 else [self.seed, -index, 978]
        rng = np.random.default_rng(key)
        cam = self.camera
        img = self.background.image.copy()
        truth: list[Truth] = []

        def layer(name: str) -> None:
            for n in self.nuisances:
                if n.layer == name:
                    box = n.apply(img, t, rng, self.background, cam.night)
                    if box is not None:
                        truth.append(Truth("nuisance", n.kind, box))

        layer("scene")
        for a in self.actors:
            box = a.draw(img, t, self.background, cam.night)
            if box is not None:
                truth.append(Truth(a.label, a.kind, box))
        layer("light")
        layer("lens")
        h, w = img.shape[:2]
        noise = None
        if cam.noise > 0:
            # A shifted window into one noise bank per scene: as random per pixel as a fresh
            # draw, at a fraction of the cost (this renders the classifier's training set).
            if self._noise is None:
                bank = np.random.default_rng([self.seed, 13]).standard_normal((h + 32, w + 32))
                self._noise = bank.astype(np.float32)
            dy, dx = (int(v) for v in rng.integers(0, 32, 2))
            noise = self._noise[dy : dy + h, dx : dx + w] * np.float32(cam.noise)
        if cam.night:
            # IR mode: no colour, the scene lit by the camera's own illuminator.
            grey = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)
            if self._vignette is None:
                yy, xx = np.ogrid[0:h, 0:w]
                v = 1.0 - (((xx - w / 2) / w) ** 2 + ((yy - h / 2) / h) ** 2)
                self._vignette = (v * 0.55 * cam.exposure).astype(np.float32)
            grey *= self._vignette
            grey += 10
            if cam.blur > 0:
                grey = cv2.GaussianBlur(grey, (0, 0), cam.blur)
            if noise is not None:
                grey += noise
            np.clip(grey, 0, 255, out=grey)
            out = cv2.cvtColor(grey.astype(np.uint8), cv2.COLOR_GRAY2BGR)
        else:
            if cam.exposure != 1.0:
                img *= cam.exposure
            if cam.blur > 0:
                img = cv2.GaussianBlur(img, (0, 0), cam.blur)
            if noise is not None:
                img += noise[:, :, None]
            np.clip(img, 0, 255, out=img)
            out = img.astype(np.uint8)
        if cam.jpeg_quality < 100:
            ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, cam.jpeg_quality])
            if ok:
                out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
        return RenderedFrame(out, index, t, tuple(truth))

    def frames(self) -> list[RenderedFrame]:
        """All frames of the clip, in order."""
        return [self.render(i) for i in range(self.n_frames)]

    def truth_labels(self) -> set[str]:
        """Every real-object label that appears somewhere in the clip."""
        labels: set[str] = set()
        for i in range(self.n_frames):
            t = i / self.fps
            for a in self.actors:
                if a.position(t, self.background) is not None:
                    labels.add(a.label)
        return labels
