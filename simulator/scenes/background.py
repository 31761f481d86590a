"""Procedural backgrounds: a garden, a driveway or a porch, seeded, with a ground plane.

A background is rendered once per scene (float32 BGR, 0..255) and knows its horizon, so
actors can be sized by perspective: a thing standing lower in the frame is nearer.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

KINDS = ("garden", "driveway", "porch", "street")


@dataclass(frozen=True, slots=True)
class Background:
    """A static backdrop and its geometry."""

    image: np.ndarray  # float32 HxWx3 BGR
    horizon: float  # y of the horizon in pixels
    road_y: float  # y (feet) where vehicles drive
    wall_points: tuple[tuple[float, float], ...]  # where lamps hang (x, y)
    kind: str

    def ppm(self, foot_y: float) -> float:
        """Pixels per metre for an object standing at foot_y (linear ground-plane perspective)."""
        h = self.image.shape[0]
        # At the bottom edge a 1.7 m person fills about 80% of the frame height.
        k = (h / 2.1) / max(h - self.horizon, 1.0)
        return max(k * (foot_y - self.horizon), 0.5)


def _texture(rng: np.random.Generator, h: int, w: int, scale: int, amp: float) -> np.ndarray:
    """Smooth random texture (value noise), zero-mean, in grey levels."""
    small = rng.standard_normal((max(h // scale, 2), max(w // scale, 2))).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC) * amp


def _colour(rng: np.random.Generator, base: tuple[int, int, int], spread: int) -> np.ndarray:
    return np.clip(np.array(base, np.float32) + rng.integers(-spread, spread + 1, 3), 0, 255)


def render_background(kind: str, width: int, height: int, seed: int) -> Background:
    """Render one backdrop of the given kind at width x height."""
    if kind not in KINDS:
        raise ValueError(f"unknown background {kind!r}; expected one of {KINDS}")
    rng = np.random.default_rng([seed, 7001])
    h, w = height, width
    img = np.zeros((h, w, 3), np.float32)
    horizon = h * float(rng.uniform(0.3, 0.48))
    hz = int(horizon)

    # Sky (or a far hedge/fence) above the horizon, a gradient with texture.
    sky_top = _colour(rng, (200, 170, 140), 40)
    sky_bottom = _colour(rng, (225, 215, 200), 25)
    ramp = np.linspace(0, 1, max(hz, 1), dtype=np.float32)[:, None, None]
    img[:hz] = sky_top * (1 - ramp) + sky_bottom * ramp
    if rng.random() < 0.6:
        # A hedge or fence line hides the sky in many back gardens.
        hedge_top = int(horizon - h * rng.uniform(0.05, 0.2))
        img[max(hedge_top, 0) : hz] = _colour(rng, (50, 95, 60), 25)

    # Ground: lawn, gravel or paving.
    ground = {
        "garden": (60, 120, 80),
        "driveway": (120, 125, 130),
        "porch": (110, 120, 135),
        "street": (100, 100, 105),
    }[kind]
    img[hz:] = _colour(rng, ground, 20)
    road_y = horizon + (h - horizon) * float(rng.uniform(0.12, 0.35))
    if kind in ("driveway", "street") or rng.random() < 0.4:
        # A road band in the distance, where cars pass.
        band = max(int(h * 0.06), 3)
        y0 = int(road_y - band * 0.8)
        img[y0 : int(road_y + band * 0.3)] = _colour(rng, (80, 80, 85), 10)
    if kind in ("garden", "porch"):
        # A footpath across the lawn.
        y0 = int(horizon + (h - horizon) * rng.uniform(0.4, 0.7))
        img[y0 : y0 + max(int(h * 0.08), 2)] = _colour(rng, (150, 160, 170), 20)

    # Houses and walls: rectangles with windows, doors and a lamp point.
    walls: list[tuple[float, float]] = []
    for _ in range(int(rng.integers(1, 4))):
        bw = int(w * rng.uniform(0.15, 0.45))
        bh = int(h * rng.uniform(0.15, 0.4))
        x0 = int(rng.uniform(-0.1, 0.9) * w)
        y1 = int(horizon + (h - horizon) * rng.uniform(0.0, 0.15))
        y0 = y1 - bh
        col = _colour(rng, (150, 170, 190), 50)
        cv2.rectangle(img, (x0, y0), (x0 + bw, y1), col.tolist(), -1)
        roof = _colour(rng, (60, 60, 120), 40)
        pts = np.array([[x0 - 4, y0], [x0 + bw // 2, y0 - bh // 3], [x0 + bw + 4, y0]], np.int32)
        cv2.fillPoly(img, [pts], roof.tolist())
        for _ in range(int(rng.integers(1, 4))):
            wx = int(x0 + rng.uniform(0.1, 0.8) * bw)
            wy = int(y0 + rng.uniform(0.15, 0.5) * bh)
            ww, wh = max(int(bw * 0.12), 2), max(int(bh * 0.2), 2)
            cv2.rectangle(
                img, (wx, wy), (wx + ww, wy + wh), _colour(rng, (70, 60, 50), 20).tolist(), -1
            )
        walls.append((x0 + bw * float(rng.uniform(0.2, 0.8)), y0 + bh * 0.3))

    # Static trees and bushes (the swaying ones are drawn per frame by nuisances).
    for _ in range(int(rng.integers(0, 4))):
        tx = int(rng.uniform(0, w))
        ty = int(horizon + (h - horizon) * rng.uniform(0.0, 0.3))
        r = int(h * rng.uniform(0.04, 0.12))
        cv2.line(img, (tx, ty), (tx, ty - r), (40, 60, 80), max(r // 5, 1))
        cv2.circle(img, (tx, ty - r - r // 2), r, _colour(rng, (40, 100, 50), 25).tolist(), -1)

    img += _texture(rng, h, w, max(w // 40, 2), float(rng.uniform(3, 9)))[:, :, None]
    img += _texture(rng, h, w, 2, float(rng.uniform(1, 4)))[:, :, None]
    np.clip(img, 0, 255, out=img)
    if not walls:
        walls.append((w * 0.5, horizon * 0.8))
    return Background(img, horizon, road_y, tuple(walls), kind)
