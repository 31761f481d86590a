"""Motion detection on the downscaled grey frame, after Frigate's improved motion detector.

Contrast is normalised (4th-96th percentile stretched to 0-255) so slow light changes cancel
out; the frame is compared with a running-average background that is only updated while the
scene is calm; a change over most of the frame (a light switched on, IR mode, a cloud)
recalibrates the background instead of firing. That global-change check looks at the raw
frame averaged over small blocks, so sensor grain (which averages out) does not trip it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np

Box = tuple[int, int, int, int]  # x, y, w, h in detect-frame pixels


@dataclass
class MotionConfig:
    """Tuning of the motion stage; areas are fractions of the frame."""

    threshold: int = 25
    min_area: float = 0.002
    # A blob under min_area still counts when it ends a steady walk through the last
    # `small_frames` frames (a chain of blobs, each within small_reach of the next, going
    # somewhere): a far-off person walks on, while rain, snow and grain specks land somewhere
    # new every frame and a branch tip swings back within a second. 0 = they never count.
    small_frames: int = 5
    small_reach: int = 7  # px per frame (motion copy) it may have moved: a walker moves ~5
    small_straightness: float = 0.7  # displacement / path: rain specks hop about at random
    mask: Sequence[Sequence[Sequence[float]]] = field(default_factory=list)
    lightning_threshold: float = 0.5
    jump_level: int = 10  # a raw grey change this big over most of the frame is global light
    # The jump check compares the raw frame averaged over jump_block x jump_block pixels:
    # sensor grain (zero-mean, pixel to pixel) averages out, a light change does not. 1 = per
    # pixel, as before (heavy grain then tripped it on almost every frame: a blind camera).
    jump_block: int = 4
    frame_height: int = 120  # motion runs on a further-downscaled copy: cheap on a Pi
    frame_alpha: float = 0.02
    improve_contrast: bool = True
    erode: bool = True
    median: int = 5  # odd kernel size of a median filter before the blur; 0 = off
    temporal_reach: int = 4  # px (motion scale) around a frame-to-frame change; 0 = off
    dilate: int = 2
    calibrate_max: int = 10  # frames; heavy rain must not keep the detector blind
    # Calibration also ends once the picture itself is steady (under this fraction of the
    # jump check's blocks changed since the last frame), even if something moves in it: a
    # person in frame when the camera starts must not keep it calibrating until they left.
    calm_change: float = 0.2
    contrast_alpha: float = 0.05  # how fast the contrast stretch follows the scene, per frame


def normalise_mask(mask: Sequence) -> list[list[tuple[float, float]]]:
    """Accept one polygon [[x,y],...] or a list of polygons; return a list of polygons."""
    if not mask:
        return []
    first = mask[0]
    if len(first) == 2 and all(isinstance(v, int | float) for v in first):
        return [[(float(x), float(y)) for x, y in mask]]
    return [[(float(x), float(y)) for x, y in poly] for poly in mask]


class MotionDetector:
    """Find moving regions in frames of one fixed size; detect() returns boxes."""

    def __init__(self, width: int, height: int, config: MotionConfig | None = None) -> None:
        self.config = config or MotionConfig()
        self.width, self.height = width, height
        mh = min(self.config.frame_height, height)
        self.mw, self.mh = max(1, round(width * mh / height)), mh
        self.scale = width / self.mw
        self.keep = None
        polys = normalise_mask(self.config.mask)
        if polys:
            keep = np.full((self.mh, self.mw), 255, np.uint8)
            for poly in polys:
                pts = np.array([[x / self.scale, y / self.scale] for x, y in poly], np.int32)
                cv2.fillPoly(keep, [pts], 0)
            self.keep = keep
        self.min_pixels = self.config.min_area * self.mw * self.mh
        self.avg: np.ndarray | None = None
        self.calibrating = True
        self.recalibrations = 0
        self.motion_frames = 0
        self.last_fraction = 0.0
        self._prev_raw: np.ndarray | None = None
        self._prev_small: np.ndarray | None = None
        self._range: tuple[float, float] | None = None
        self._ramp = np.arange(256, dtype=np.float32)
        self._calm_needed = 0
        self._change = 1.0  # fraction of the jump check's blocks changed since the last frame
        self._calib_frames = 0
        self._kernel = np.ones((3, 3), np.uint8)
        self._blur = 3 if self.mh <= 160 else 5
        self._recent: list[np.ndarray] = []  # blob centres (motion copy) of the last frames

    def reset(self) -> None:
        """Forget the background (after the source reconnects)."""
        self.avg = None
        self._prev_raw = None
        self._prev_small = None
        self._range = None
        self._recent = []
        self.calibrating = True

    def _persists(self, centre: tuple[float, float]) -> bool:
        """True when `centre` ends a steady walk: a chain of blobs, one per recent frame, each
        within small_reach of the next, that went somewhere rather than back and forth."""
        n = self.config.small_frames
        if n <= 0 or len(self._recent) < n:
            return False
        here = np.array(centre, np.float32)
        at, path = here, 0.0
        for back in range(1, n + 1):
            past = self._recent[-back]
            if not len(past):
                return False
            d2 = ((past - at) ** 2).sum(1)
            j = int(d2.argmin())
            if d2[j] > self.config.small_reach**2:
                return False
            path += float(np.sqrt(d2[j]))
            at = past[j]
        moved = float(np.sqrt(((here - at) ** 2).sum()))
        return moved >= n and moved >= self.config.small_straightness * path

    def _global_jump(self, raw: np.ndarray) -> bool:
        """True when most of the (block-averaged) raw frame changed since the last one."""
        b = self.config.jump_block
        if b > 1 and raw.shape[0] >= b and raw.shape[1] >= b:
            # Cropped to whole blocks, INTER_AREA takes its fast integer path (~15 us).
            h, w = raw.shape[0] // b, raw.shape[1] // b
            raw = cv2.resize(raw[: h * b, : w * b], (w, h), interpolation=cv2.INTER_AREA)
        prev, self._prev_raw = self._prev_raw, raw
        if prev is None or prev.shape != raw.shape:
            self._change = 1.0
            return False
        changed = cv2.threshold(cv2.absdiff(raw, prev), self.config.jump_level, 255, 0)[1]
        self._change = cv2.countNonZero(changed) / raw.size
        return self._change > self.config.lightning_threshold

    def _prepare(self, frame: np.ndarray) -> tuple[np.ndarray, bool]:
        grey = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        # Exact halvings with INTER_AREA average pixels (thin rain streaks fade) and are
        # nearly free; the last odd-ratio step is INTER_LINEAR, ~10x cheaper than INTER_AREA.
        while grey.shape[0] >= 2 * self.mh and grey.shape[1] % 2 == 0 and grey.shape[0] % 2 == 0:
            grey = cv2.resize(
                grey, (grey.shape[1] // 2, grey.shape[0] // 2), interpolation=cv2.INTER_AREA
            )
        small = cv2.resize(grey, (self.mw, self.mh), interpolation=cv2.INTER_LINEAR)
        jump = self._global_jump(small)
        if self.config.improve_contrast:
            hist = cv2.calcHist([small], [0], None, [256], [0, 256]).ravel().cumsum()
            n = hist[-1]
            lo = float(np.searchsorted(hist, n * 0.04))
            hi = float(np.searchsorted(hist, n * 0.96))
            # The stretch follows the scene slowly, so an object entering (which shifts the
            # percentiles of this one frame) does not re-colour the whole picture; a real
            # global change resets it through the jump check.
            if self._range is None or jump or self.avg is None:
                self._range = (lo, hi)
            else:
                a = self.config.contrast_alpha
                self._range = (
                    self._range[0] * (1 - a) + lo * a,
                    self._range[1] * (1 - a) + hi * a,
                )
            lo, hi = self._range
            if hi - lo >= 1:
                lut = np.clip((self._ramp - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)
                small = cv2.LUT(small, lut)
        if self.keep is not None:
            small = cv2.bitwise_and(small, self.keep)
        if self.config.median:
            # A median removes thin bright streaks (rain, snow) that a Gaussian only smears.
            small = cv2.medianBlur(small, self.config.median)
        return cv2.GaussianBlur(small, (self._blur, self._blur), 0), jump

    def detect(self, frame: np.ndarray) -> list[Box]:
        """Return the motion boxes of this frame (BGR or grey, at the detect size)."""
        small, jump = self._prepare(frame)
        prev, self._prev_small = self._prev_small, small
        if self.avg is None:
            self.avg = small.astype(np.float32)
            self.calibrating = True
            return []
        delta = cv2.absdiff(small, cv2.convertScaleAbs(self.avg))
        thresh = cv2.threshold(delta, self.config.threshold, 255, cv2.THRESH_BINARY)[1]
        if self.config.temporal_reach and prev is not None:
            # Only what differs from the background AND changed since the last frame, near
            # it, is motion: a lamp's glow or a parked car stops counting once it is still.
            step = cv2.absdiff(small, prev)
            step = cv2.threshold(step, self.config.threshold // 2, 255, cv2.THRESH_BINARY)[1]
            step = cv2.dilate(step, self._kernel, iterations=self.config.temporal_reach)
            thresh = cv2.bitwise_and(thresh, step)
        if self.config.erode:
            # Thin specks and streaks (rain, snow, noise) vanish; bodies survive.
            thresh = cv2.erode(thresh, self._kernel)
        thresh = cv2.dilate(thresh, self._kernel, iterations=self.config.dilate)
        contours, _ = cv2.findContours(thresh, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
        boxes: list[Box] = []
        moving = 0.0
        centres = []
        for c in contours:
            area = cv2.contourArea(c)
            x, y, w, h = cv2.boundingRect(c)
            centre = (x + w / 2, y + h / 2)
            centres.append(centre)
            if area >= self.min_pixels or self._persists(centre):
                moving += area
                s = self.scale
                boxes.append((int(x * s), int(y * s), round(w * s), round(h * s)))
        keep = max(self.config.small_frames, 1)
        self._recent = [*self._recent, np.array(centres, np.float32).reshape(-1, 2)][-keep:]
        self.last_fraction = moving / (self.mw * self.mh)
        if jump or self.last_fraction > self.config.lightning_threshold:
            # Most of the picture changed at once: a light, IR switch or cloud, not an intruder.
            if not self.calibrating:
                self.recalibrations += 1
            self.calibrating = True
            self._calm_needed = 3  # let auto-exposure settle before trusting the background
            boxes = []
        if self.calibrating:
            cv2.accumulateWeighted(small, self.avg, 0.5)
            # Calibrated once little changes (as Frigate: under 5% and a few boxes), even
            # if something is already moving; waiting for total stillness may never end.
            calm = not jump and (
                (self.last_fraction < 0.05 and len(boxes) <= 4)
                or self._change < self.config.calm_change
            )
            self._calm_needed = self._calm_needed - 1 if calm else 3
            self._calib_frames += 1
            if self._calm_needed <= 0 or self._calib_frames >= self.config.calibrate_max:
                self.calibrating = False
                self._calib_frames = 0
            return []
        if boxes:
            self.motion_frames += 1
            # A change that persists (a parked car) slowly becomes background.
            if self.motion_frames >= 10:
                cv2.accumulateWeighted(small, self.avg, self.config.frame_alpha)
        else:
            self.motion_frames = 0
            cv2.accumulateWeighted(small, self.avg, self.config.frame_alpha)
        return boxes

    def background(self) -> np.ndarray | None:
        """Return the current grey background at the detect size (for classifier crops)."""
        if self.avg is None:
            return None
        bg = cv2.convertScaleAbs(self.avg)
        return cv2.resize(bg, (self.width, self.height), interpolation=cv2.INTER_LINEAR)
