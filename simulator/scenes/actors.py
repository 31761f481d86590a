"""Things that really move: people, cats and dogs, cars, at realistic size and speed.

Each actor walks a straight path on the ground plane; its pixel size and speed come from
the background's perspective (pixels per metre at its feet), so a person far away is
small and slow in the image and one near the camera is big and fast.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from simulator.scenes.background import Background

Box = tuple[int, int, int, int]


@dataclass(slots=True)
class Actor:
    """One moving object; `kind` picks the drawing, `label` is the class it is truth for."""

    kind: str  # person | cat | dog | car
    label: str  # person | animal | vehicle
    start: tuple[float, float]  # foot point (x, y) in pixels
    end: tuple[float, float]
    speed: float  # metres per second
    t0: float  # seconds into the scene when it starts walking
    size: float  # metres (person height, animal/car length)
    colours: tuple[tuple[float, float, float], ...]
    pause: tuple[float, float] = (0.0, 0.0)  # (at fraction of path, seconds standing still)

    def position(self, t: float, bg: Background) -> tuple[float, float, float] | None:
        """Return (foot_x, foot_y, walked metres) at t, or None before start / after end."""
        if t < self.t0:
            return None
        (x0, y0), (x1, y1) = self.start, self.end
        ppm = bg.ppm((y0 + y1) / 2)
        length_m = math.hypot(x1 - x0, y1 - y0) / ppm
        walked = (t - self.t0) * self.speed
        stop_at, stop_for = self.pause
        if stop_for > 0 and walked > stop_at * length_m:
            # Standing still for a while (a person at the door, a parked car).
            walked = max(stop_at * length_m, walked - stop_for * self.speed)
        if walked > length_m:
            return None
        f = walked / max(length_m, 1e-6)
        return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f, walked

    def draw(self, img: np.ndarray, t: float, bg: Background, night: bool) -> Box | None:
        """Draw onto img (float32 BGR) and return the pixel box, or None when absent."""
        pos = self.position(t, bg)
        if pos is None:
            return None
        fx, fy, walked = pos
        ppm = bg.ppm(fy)
        moving = self.end[0] >= self.start[0]
        draw = {"person": _person, "cat": _animal, "dog": _animal, "car": _car}[self.kind]
        box = draw(img, fx, fy, ppm, walked, self, moving, night)
        h, w = img.shape[:2]
        x, y, bw, bh = box
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, w), min(y + bh, h)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        return x0, y0, x1 - x0, y1 - y0


def _pt(x: float, y: float) -> tuple[int, int]:
    return round(x), round(y)


def _person(
    img: np.ndarray,
    fx: float,
    fy: float,
    ppm: float,
    walked: float,
    a: Actor,
    right: bool,
    night: bool,
) -> Box:
    h = a.size * ppm
    skin, shirt, trousers = a.colours[:3]
    stride = 0.75  # metres per step
    phase = 2 * math.pi * walked / (2 * stride)
    swing = math.sin(phase) * 0.45 if a.speed > 0 else 0.0
    bob = abs(math.cos(phase)) * 0.015 * h
    hip = (fx, fy - 0.5 * h - bob)
    leg_w = max(int(0.09 * h), 1)
    for s in (swing, -swing):
        knee = (hip[0] + math.sin(s) * 0.25 * h, hip[1] + math.cos(s) * 0.25 * h)
        foot = (knee[0] + math.sin(s * 0.6) * 0.25 * h, knee[1] + 0.25 * h)
        cv2.line(img, _pt(*hip), _pt(*knee), trousers, leg_w, cv2.LINE_AA)
        cv2.line(img, _pt(*knee), _pt(*foot), trousers, leg_w, cv2.LINE_AA)
    torso_w = 0.2 * h
    top = hip[1] - 0.33 * h
    cv2.ellipse(
        img,
        _pt(fx, (top + hip[1]) / 2),
        (max(int(torso_w / 2), 1), max(int(0.19 * h), 1)),
        0,
        0,
        360,
        shirt,
        -1,
        cv2.LINE_AA,
    )
    shoulder = (fx, top + 0.04 * h)
    arm_w = max(int(0.06 * h), 1)
    for s in (-swing, swing):
        hand = (shoulder[0] + math.sin(s) * 0.3 * h, shoulder[1] + math.cos(s) * 0.3 * h)
        cv2.line(img, _pt(*shoulder), _pt(*hand), shirt, arm_w, cv2.LINE_AA)
    head_r = max(int(0.065 * h), 1)
    cv2.circle(img, _pt(fx, top - head_r * 0.9), head_r, skin, -1, cv2.LINE_AA)
    return round(fx - 0.22 * h), round(fy - h), max(round(0.44 * h), 1), max(round(h), 1)


def _animal(
    img: np.ndarray,
    fx: float,
    fy: float,
    ppm: float,
    walked: float,
    a: Actor,
    right: bool,
    night: bool,
) -> Box:
    length = a.size * ppm
    fur = a.colours[0]
    d = 1 if right else -1
    leg_h = 0.32 * length
    body_h = 0.3 * length
    cy = fy - leg_h - body_h / 2
    phase = 2 * math.pi * walked / (0.35 * a.size * 2)
    leg_w = max(int(0.07 * length), 1)
    for i, off in enumerate((-0.32, -0.2, 0.22, 0.34)):
        s = math.sin(phase + (math.pi if i % 2 else 0)) * 0.4
        hx = fx + d * off * length
        cv2.line(
            img,
            _pt(hx, cy),
            _pt(hx + math.sin(s) * leg_h, fy),
            fur,
            leg_w,
            cv2.LINE_AA,
        )
    cv2.ellipse(
        img,
        _pt(fx, cy),
        (max(int(length * 0.42), 1), max(int(body_h / 2), 1)),
        0,
        0,
        360,
        fur,
        -1,
        cv2.LINE_AA,
    )
    head = (fx + d * 0.5 * length, cy - 0.2 * length)
    hr = max(int(0.14 * length), 1)
    cv2.circle(img, _pt(*head), hr, fur, -1, cv2.LINE_AA)
    ears = np.array(
        [
            _pt(head[0] - hr * 0.7, head[1] - hr * 0.5),
            _pt(head[0] - hr * 0.3, head[1] - hr * 1.7),
            _pt(head[0] + hr * 0.3, head[1] - hr * 0.6),
        ],
        np.int32,
    )
    cv2.fillPoly(img, [ears], fur, cv2.LINE_AA)
    tail_wave = math.sin(phase * 0.5) * 0.15 * length
    tail0 = (fx - d * 0.4 * length, cy - 0.05 * length)
    tail1 = (fx - d * 0.75 * length, cy - 0.3 * length + tail_wave)
    cv2.line(img, _pt(*tail0), _pt(*tail1), fur, max(int(0.05 * length), 1), cv2.LINE_AA)
    top = head[1] - hr * 1.7
    x0 = min(fx - 0.8 * length, fx + d * 0.66 * length)
    x1 = max(fx + 0.8 * length, fx + d * 0.66 * length)
    return round(x0), round(top), max(round(x1 - x0), 1), max(round(fy - top), 1)


def _car(
    img: np.ndarray,
    fx: float,
    fy: float,
    ppm: float,
    walked: float,
    a: Actor,
    right: bool,
    night: bool,
) -> Box:
    length = a.size * ppm
    height = 1.45 * ppm
    paint, glass = a.colours[0], (60.0, 50.0, 45.0)
    x0, x1 = fx - length / 2, fx + length / 2
    wheel_r = 0.33 * ppm
    body_top = fy - 0.75 * height
    cv2.rectangle(img, _pt(x0, body_top), _pt(x1, fy - wheel_r * 0.8), paint, -1, cv2.LINE_AA)
    d = 1 if right else -1
    cab = np.array(
        [
            _pt(fx - d * 0.38 * length, body_top),
            _pt(fx - d * 0.25 * length, fy - height),
            _pt(fx + d * 0.12 * length, fy - height),
            _pt(fx + d * 0.25 * length, body_top),
        ],
        np.int32,
    )
    cv2.fillPoly(img, [cab], paint, cv2.LINE_AA)
    inner = (cab.astype(np.float32) * 0.8 + np.array([fx, body_top - 0.1 * height]) * 0.2).astype(
        np.int32
    )
    cv2.fillPoly(img, [inner], glass, cv2.LINE_AA)
    for wx in (x0 + 0.2 * length, x1 - 0.2 * length):
        cv2.circle(img, _pt(wx, fy - wheel_r), max(int(wheel_r), 1), (25, 25, 25), -1, cv2.LINE_AA)
        cv2.circle(
            img,
            _pt(wx, fy - wheel_r),
            max(int(wheel_r * 0.45), 1),
            (150, 150, 150),
            -1,
            cv2.LINE_AA,
        )
    lamp = (x1 if right else x0, body_top + 0.15 * height)
    r = max(int(0.08 * height), 1)
    cv2.circle(img, _pt(*lamp), r * (3 if night else 1), (230, 245, 255), -1, cv2.LINE_AA)
    return round(x0), round(fy - height), max(round(length), 1), max(round(height), 1)


def random_actor(kind: str, bg: Background, rng: np.random.Generator, t0: float) -> Actor:
    """A plausible actor of kind crossing the frame somewhere, starting at t0 seconds."""
    h, w = bg.image.shape[:2]
    right = bool(rng.random() < 0.5)
    if kind == "car":
        y = bg.road_y + float(rng.uniform(-0.02, 0.06)) * h
        y = max(y, bg.horizon + (h - bg.horizon) * 0.05)
        y_end = y
        size, speed = float(rng.uniform(3.8, 4.9)), float(rng.uniform(3, 13))
        paint = tuple(float(c) for c in rng.integers(20, 240, 3))
        colours: tuple[tuple[float, float, float], ...] = (paint,)
        label = "vehicle"
    else:
        y = bg.horizon + (h - bg.horizon) * float(rng.uniform(0.2, 1.02))
        # Some walk diagonally, towards or away from the camera.
        y_end = y + float(rng.normal(0, 0.12)) * h if rng.random() < 0.4 else y
        y_end = float(np.clip(y_end, bg.horizon + (h - bg.horizon) * 0.15, h * 1.05))
        if kind == "person":
            size, speed = float(rng.uniform(1.0, 1.95)), float(rng.uniform(0.6, 1.9))
            skin = tuple(
                float(c) for c in rng.choice([[140, 170, 220], [90, 120, 170], [60, 80, 110]])
            )
            shirt = tuple(float(c) for c in rng.integers(10, 250, 3))
            trousers = tuple(float(c) for c in rng.integers(10, 200, 3))
            colours = (skin, shirt, trousers)
            label = "person"
        else:
            cat = kind == "cat"
            size = float(rng.uniform(0.35, 0.55) if cat else rng.uniform(0.5, 1.0))
            speed = float(rng.uniform(0.4, 2.5))
            fur = tuple(
                float(c)
                for c in rng.choice(
                    [[40, 40, 40], [60, 120, 200], [200, 200, 200], [50, 80, 120], [110, 110, 110]]
                )
            )
            colours = (fur,)
            label = "animal"
    ppm = bg.ppm(y)
    margin = (size if kind != "person" else size * 0.3) * ppm * 0.7 + 2
    xa, xb = -margin, w + margin
    if rng.random() < 0.25 and kind != "car":
        # Entering or leaving through the middle of the frame (a door, a gate).
        xa = float(rng.uniform(0.2, 0.6)) * w
    start, end = ((xa, y), (xb, y_end)) if right else ((w - xa, y), (w - xb, y_end))
    pause = (
        (float(rng.uniform(0.3, 0.7)), float(rng.uniform(1, 4)))
        if rng.random() < 0.1
        else (0.0, 0.0)
    )
    return Actor(kind, label, start, end, speed, t0, size, colours, pause)
