"""Motion regions to classifier input: cluster boxes, crop square with margin, build channels.

The crop of a region has three channels, each INPUT_SIZE x INPUT_SIZE, scaled to 0..1:
the grey frame, the grey background at the same place, and their absolute difference.
A simple reference motion detector lives here too, for training, tests and benches; the
hub's cameras use their own (devices/camera) and only hand us frame, background, boxes.
"""

from __future__ import annotations

import cv2
import numpy as np

INPUT_SIZE = 48
CHANNELS = ("frame", "background", "difference")
Box = tuple[int, int, int, int]


def to_grey(image: np.ndarray) -> np.ndarray:
    """Grey uint8 view of a BGR or grey frame."""
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3:
        return image[:, :, 0]
    return image


def cluster_boxes(boxes: list[Box], gap: float) -> list[Box]:
    """Merge boxes that overlap or lie within `gap` pixels of each other (one object, one crop)."""
    out = [tuple(int(v) for v in b) for b in boxes if b[2] > 0 and b[3] > 0]
    merged = True
    while merged and len(out) > 1:
        merged = False
        result: list[Box] = []
        while out:
            x, y, w, h = out.pop()
            i = 0
            while i < len(out):
                a, b, c, d = out[i]
                if a <= x + w + gap and x <= a + c + gap and b <= y + h + gap and y <= b + d + gap:
                    nx, ny = min(x, a), min(y, b)
                    w, h = max(x + w, a + c) - nx, max(y + h, b + d) - ny
                    x, y = nx, ny
                    out.pop(i)
                    merged = True
                else:
                    i += 1
            result.append((x, y, w, h))
        out = result
    return sorted(out)


def square_crop(box: Box, margin: float = 0.15, min_side: int = 12) -> tuple[int, int, int]:
    """(x0, y0, side) of the square around box with `margin` of its longer side on each edge."""
    x, y, w, h = box
    side = max(round(max(w, h) * (1 + 2 * margin)), min_side)
    cx, cy = x + w / 2, y + h / 2
    return round(cx - side / 2), round(cy - side / 2), side


def _cut(img: np.ndarray, x0: int, y0: int, side: int, size: int) -> np.ndarray:
    h, w = img.shape[:2]
    xa, ya, xb, yb = max(x0, 0), max(y0, 0), min(x0 + side, w), min(y0 + side, h)
    if xb <= xa or yb <= ya:
        return np.zeros((size, size), img.dtype)
    part = img[ya:yb, xa:xb]
    if (xa, ya, xb, yb) != (x0, y0, x0 + side, y0 + side):
        # Regions at the edge: extend the picture rather than squash the object.
        part = cv2.copyMakeBorder(
            part, ya - y0, y0 + side - yb, xa - x0, x0 + side - xb, cv2.BORDER_REPLICATE
        )
    interp = cv2.INTER_AREA if side > size else cv2.INTER_LINEAR
    return cv2.resize(part, (size, size), interpolation=interp)


def make_crops(
    frame: np.ndarray,
    background: np.ndarray,
    squares: list[tuple[int, int, int]],
    size: int = INPUT_SIZE,
) -> np.ndarray:
    """Stack the (frame, background, difference) crops of each square: float32 (N, 3, S, S)."""
    f, b = to_grey(frame), to_grey(background)
    if f.shape != b.shape:
        raise ValueError(f"frame {f.shape} and background {b.shape} differ in size")
    out = np.empty((len(squares), 3, size, size), np.float32)
    for i, (x0, y0, side) in enumerate(squares):
        fc = _cut(f, x0, y0, side, size).astype(np.float32)
        bc = _cut(b, x0, y0, side, size).astype(np.float32)
        out[i, 0], out[i, 1], out[i, 2] = fc, bc, np.abs(fc - bc)
    out *= 1.0 / 255.0
    return out


class ReferenceMotion:
    """A small running-average motion detector: frames in, motion boxes and background out.

    Like the hub's camera: detection compares blurred grey frames with a running average;
    the background handed to the classifier is kept sharp and learns only on calm frames.
    """

    def __init__(
        self,
        threshold: int = 22,
        min_area: float = 0.0015,
        alpha: float = 0.08,
        calm_alpha: float = 0.05,
        erode: bool = False,
    ) -> None:
        self.threshold, self.min_area, self.alpha, self.calm_alpha = (
            threshold,
            min_area,
            alpha,
            calm_alpha,
        )
        self.erode = erode
        self.background: np.ndarray | None = None  # blurred, for detection
        self.sharp: np.ndarray | None = None  # for classifier crops

    def update(self, frame: np.ndarray) -> list[Box]:
        """Feed one frame; return motion boxes (x, y, w, h) against the background before it."""
        raw = to_grey(frame).astype(np.float32)
        grey = cv2.GaussianBlur(raw, (5, 5), 0)
        if self.background is None or self.sharp is None:
            self.background, self.sharp = grey, raw
            return []
        diff = cv2.absdiff(grey, self.background)
        mask = (diff > self.threshold).astype(np.uint8)
        if float(mask.mean()) > 0.6:
            # A whole-frame jump (exposure, IR switch): recalibrate instead of firing.
            self.background, self.sharp = grey, raw
            return []
        if self.erode:
            # As the hub's camera does: specks of rain, snow and sensor grain vanish, bodies
            # survive; without it the specks dilate into one region the size of the frame.
            # Off by default: the shipped model was trained and scored without it, and with
            # it person recall on the held-out clips fell (bench/RESULTS.md, Vision).
            mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
        mask = cv2.dilate(mask, np.ones((5, 5), np.uint8), iterations=2)
        contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        min_px = self.min_area * grey.size
        boxes = [cv2.boundingRect(c) for c in contours if cv2.contourArea(c) >= min_px]
        # Learn slowly while something moves, so a person does not melt into the background.
        cv2.accumulateWeighted(grey, self.background, self.alpha * (0.25 if boxes else 1.0))
        if not boxes:
            cv2.accumulateWeighted(raw, self.sharp, self.calm_alpha)
        return [tuple(int(v) for v in b) for b in boxes]

    def background_image(self) -> np.ndarray:
        """The current (sharp) background as grey uint8."""
        if self.sharp is None:
            raise ValueError("no frame seen yet")
        return np.clip(self.sharp, 0, 255).astype(np.uint8)
