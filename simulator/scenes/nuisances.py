"""Things that make motion but are not worth an alert.

A light switched on, a cloud shadow, a swaying branch, rain, snow, a moth at the lens and
sensor noise. Each is applied to a float32 BGR frame at time t and returns the box it
touched (the whole frame for weather and noise), so the ground truth can say where
motion came from. Layers: "scene" before the actors, "light" over them, "lens" in front.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import cv2
import numpy as np

from simulator.scenes.background import Background

Box = tuple[int, int, int, int]


def _full(img: np.ndarray) -> Box:
    return 0, 0, img.shape[1], img.shape[0]


def _clip_box(x0: float, y0: float, x1: float, y1: float, img: np.ndarray) -> Box | None:
    h, w = img.shape[:2]
    a, b, c, d = max(int(x0), 0), max(int(y0), 0), min(int(x1), w), min(int(y1), h)
    return (a, b, c - a, d - b) if c - a > 1 and d - b > 1 else None


@dataclass
class Nuisance:
    """Base: kind names the nuisance type in the ground truth and the evaluation."""

    kind: str
    layer: str
    seed: int

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        """Change img in place at time t; return the touched box or None."""
        raise NotImplementedError


@dataclass
class SwayingBranch(Nuisance):
    """A leafy branch in front of the camera, rocking about its base in gusts."""

    amplitude: float = 5.0  # degrees
    freq: float = 0.6  # Hz
    _shape: dict = field(default_factory=dict, repr=False)

    def _build(self, w: int, h: int) -> dict:
        rng = np.random.default_rng([self.seed, 31])
        side = int(rng.integers(0, 3))
        base = [
            (0.0, rng.uniform(0, 0.6) * h),
            (w, rng.uniform(0, 0.6) * h),
            (rng.uniform(0, w), 0.0),
        ][side]
        angle = [rng.uniform(-40, 30), rng.uniform(150, 210), rng.uniform(40, 140)][side]
        length = rng.uniform(0.25, 0.6) * w
        leaves = []
        for _ in range(int(rng.integers(5, 14))):
            d = rng.uniform(0.25, 1.0) * length
            off = rng.normal(0, 0.08) * length
            r = rng.uniform(0.02, 0.06) * h
            leaves.append((d, off, r, rng.uniform(0, 180)))
        colour = rng.uniform([20, 60, 20], [70, 140, 80])
        return {
            "base": base,
            "angle": float(angle),
            "length": length,
            "leaves": leaves,
            "col": colour,
        }

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        h, w = img.shape[:2]
        if not self._shape:
            self._shape = self._build(w, h)
        s = self._shape
        gust = 0.6 + 0.4 * math.sin(2 * math.pi * 0.11 * t + self.seed)
        theta = math.radians(
            s["angle"] + self.amplitude * gust * math.sin(2 * math.pi * self.freq * t + self.seed)
        )
        ux, uy = math.cos(theta), math.sin(theta)
        bx, by = s["base"]
        col = (s["col"] * (2.2 if night else 1.0)).clip(0, 255).tolist()  # foliage glows in IR
        tip = (bx + ux * s["length"], by + uy * s["length"])
        cv2.line(img, (int(bx), int(by)), (int(tip[0]), int(tip[1])), (40, 55, 70), max(h // 60, 1))
        xs, ys = [bx, tip[0]], [by, tip[1]]
        for d, off, r, rot in s["leaves"]:
            cx, cy = bx + ux * d - uy * off, by + uy * d + ux * off
            cv2.ellipse(
                img,
                (int(cx), int(cy)),
                (max(int(r), 1), max(int(r * 0.5), 1)),
                rot,
                0,
                360,
                col,
                -1,
            )
            xs += [cx - r, cx + r]
            ys += [cy - r, cy + r]
        return _clip_box(min(xs), min(ys), max(xs), max(ys), img)


@dataclass
class CloudShadow(Nuisance):
    """A soft shadow sliding across the whole scene as a cloud passes the sun."""

    depth: float = 0.35  # fraction of light removed at the core
    crossing_s: float = 6.0  # seconds to cross the frame width
    delay_s: float = 0.0
    _mask: np.ndarray | None = field(default=None, repr=False)

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        h, w = img.shape[:2]
        if self._mask is None:
            r = np.random.default_rng([self.seed, 41])
            small = r.random((6, 8)).astype(np.float32)
            blob = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
            blob = cv2.GaussianBlur(blob, (0, 0), w / 12)
            blob = np.clip((blob - blob.min()) / (np.ptp(blob) + 1e-6) * 1.6 - 0.3, 0, 1)
            # Soft leading and trailing edges: a real shadow has no straight border.
            edge = np.clip(np.sin(np.linspace(0, np.pi, w, dtype=np.float32)), 0, 1)
            blob *= edge[None, :] ** 0.7
            pad = np.zeros((h, w), np.float32)
            # The shadow enters from one side, covers the scene, then leaves.
            self._mask = np.hstack([pad, blob, pad])
        shift = (t - self.delay_s) / self.crossing_s
        x = int(np.clip(shift, 0, 2) * w)
        m = self._mask[:, 2 * w - x : 3 * w - x]
        if m.shape[1] != w or not m.any():
            return None
        img *= (1.0 - self.depth * m)[:, :, None]
        cols = np.nonzero(m.max(axis=0) > 0.2)[0]
        return (int(cols[0]), 0, int(cols[-1] - cols[0] + 1), h) if cols.size else None


@dataclass
class LightSwitch(Nuisance):
    """A porch lamp switched on (and maybe off): a glow on the wall and a small exposure jump."""

    t_on: float = 1.0
    t_off: float = 1e9
    strength: float = 90.0
    _glow: np.ndarray | None = field(default=None, repr=False)
    _box: Box | None = None

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        h, w = img.shape[:2]
        if self._glow is None:
            r = np.random.default_rng([self.seed, 51])
            cx, cy = bg.wall_points[int(r.integers(0, len(bg.wall_points)))]
            sx, sy = r.uniform(0.06, 0.25) * w, r.uniform(0.08, 0.3) * h
            yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
            self._glow = np.exp(-(((xx - cx) / sx) ** 2 + ((yy - cy) / sy) ** 2) / 2)
            self._box = _clip_box(cx - 2 * sx, cy - 2 * sy, cx + 2 * sx, cy + 2 * sy, img)
        if not (self.t_on <= t < self.t_off):
            return None
        # A warm lamp: lit surfaces reflect more of it, so scale with what is there.
        glow = self._glow[:, :, None] * (self.strength * (1.4 if night else 1.0))
        img += glow * (0.4 + img / 255.0) * np.array([0.8, 0.95, 1.1], np.float32)
        img *= 1.05
        return self._box


@dataclass
class Rain(Nuisance):
    """Streaks of rain, or snowflakes drifting down when snow is set."""

    density: float = 1.0
    snow: bool = False

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        h, w = img.shape[:2]
        n = int(self.density * w * h / (900 if self.snow else 500))
        if self.snow:
            # Flakes persist from frame to frame: positions follow from t.
            r = np.random.default_rng([self.seed, 61])
            x0, y0 = r.random(n) * w, r.random(n) * h
            v = r.uniform(0.08, 0.3, n) * h
            sway = np.sin(t * r.uniform(0.5, 2, n) + r.random(n) * 6) * 0.02 * w
            xs, ys = (x0 + sway) % w, (y0 + v * t) % h
            rad = np.maximum((r.uniform(0.6, 2.2, n) * h / 360).astype(int), 1)
            for x, y, rr in zip(xs.astype(int), ys.astype(int), rad, strict=True):
                cv2.circle(img, (int(x), int(y)), int(rr), (235, 235, 235), -1)
        else:
            xs, ys = rng.random(n) * w, rng.random(n) * h
            length = rng.uniform(0.03, 0.09, n) * h
            slant = 0.15
            add = rng.uniform(15, 45, n)
            for x, y, ln, a in zip(xs, ys, length, add, strict=True):
                p0, p1 = (int(x), int(y)), (int(x + slant * ln), int(y + ln))
                cv2.line(img, p0, p1, (a + 160.0,) * 3, 1)
            img *= 0.95
        return _full(img)


@dataclass
class Moth(Nuisance):
    """An insect near the lens: big, blurry, bright under IR, flitting fast and erratically."""

    t_start: float = 0.5
    t_end: float = 8.0

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        if not (self.t_start <= t < self.t_end):
            return None
        h, w = img.shape[:2]
        r = np.random.default_rng([self.seed, 71])
        p = r.uniform(0.5, 3.5, (2, 4))
        phases = r.uniform(0, 6.3, (2, 4))
        cx = w * (0.5 + 0.45 * np.mean(np.sin(p[0] * t * 2 + phases[0])))
        cy = h * (0.5 + 0.45 * np.mean(np.sin(p[1] * t * 2 + phases[1])))
        radius = h * (0.06 + 0.05 * math.sin(t * 3 + p[0, 0]) ** 2) * float(r.uniform(0.7, 1.6))
        size = int(radius * 4) | 1
        blob = cv2.getGaussianKernel(size, radius / 1.5)
        blob = (blob @ blob.T).astype(np.float32)
        blob /= blob.max()
        amp = float(r.uniform(120, 220)) if night else -float(r.uniform(60, 120))
        x0, y0 = int(cx) - size // 2, int(cy) - size // 2
        xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + size, w), min(y0 + size, h)
        if xb <= xa or yb <= ya:
            return None
        img[ya:yb, xa:xb] += (blob[ya - y0 : yb - y0, xa - x0 : xb - x0] * amp)[:, :, None]
        return xa, ya, xb - xa, yb - ya


@dataclass
class SensorNoise(Nuisance):
    """A dark scene's gain: heavy grain and exposure flicker from frame to frame."""

    sigma: float = 14.0

    def apply(
        self, img: np.ndarray, t: float, rng: np.random.Generator, bg: Background, night: bool
    ) -> Box | None:
        h, w = img.shape[:2]
        img *= float(1 + rng.normal(0, 0.03))
        small = rng.standard_normal((h // 2, w // 2), dtype=np.float32)
        img += cv2.resize(small, (w, h), interpolation=cv2.INTER_NEAREST)[:, :, None] * self.sigma
        return _full(img)


NUISANCE_KINDS = (
    "branch",
    "cloud_shadow",
    "light_switch",
    "rain",
    "snow",
    "moth",
    "sensor_noise",
)


def random_nuisance(kind: str, rng: np.random.Generator, duration: float) -> Nuisance:
    """A nuisance of kind with random but plausible parameters."""
    seed = int(rng.integers(0, 2**31))
    if kind == "branch":
        return SwayingBranch(
            "branch", "lens", seed, float(rng.uniform(2, 12)), float(rng.uniform(0.3, 1.2))
        )
    if kind == "cloud_shadow":
        return CloudShadow(
            "cloud_shadow",
            "light",
            seed,
            float(rng.uniform(0.2, 0.5)),
            float(rng.uniform(3, 12)),
            float(rng.uniform(-2, 1)),
        )
    if kind == "light_switch":
        t_on = float(rng.uniform(0.5, duration * 0.5))
        t_off = float(rng.uniform(t_on + 1, duration * 2))
        return LightSwitch("light_switch", "light", seed, t_on, t_off, float(rng.uniform(50, 140)))
    if kind in ("rain", "snow"):
        return Rain(kind, "lens", seed, float(rng.uniform(0.4, 1.6)), kind == "snow")
    if kind == "moth":
        return Moth("moth", "lens", seed, float(rng.uniform(0, 1)), float(rng.uniform(3, duration)))
    if kind == "sensor_noise":
        return SensorNoise("sensor_noise", "lens", seed, float(rng.uniform(8, 22)))
    raise ValueError(f"unknown nuisance {kind!r}; expected one of {NUISANCE_KINDS}")
