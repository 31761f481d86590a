"""The hub camera's own motion regions, for training and scoring (a dev tool).

`HubMotion` plays frames through devices.camera's MotionDetector exactly as
devices/camera/camera.py's Camera.feed does: frames resized to the detect size (640x360 by
default), motion counted after `start_frames` motion frames in a row and held until
`end_after` seconds without any, and the classifier's background learnt only on frames
without motion. Training on `ReferenceMotion` regions taught the model clutter the hub
never hands it (rain and grain that the hub's median, temporal gate and erosion remove).
"""

from __future__ import annotations

import cv2
import numpy as np

from devices.camera.motion import MotionConfig, MotionDetector
from models.regions import Box

HUB_DETECT = (640, 360)  # hub.config DetectConfig defaults: what a camera analyses


class HubMotion:
    """Frames in, the boxes a hub camera hands its classifier out (API of ReferenceMotion)."""

    def __init__(
        self,
        size: tuple[int, int] = HUB_DETECT,
        config: MotionConfig | None = None,
        start_frames: int = 2,
        end_after: float = 1.5,
        fps: float = 5.0,
    ) -> None:
        self.size = size
        self.detector = MotionDetector(size[0], size[1], config)
        self.start_frames, self.end_after, self.fps = start_frames, end_after, fps
        self.background: np.ndarray | None = None  # float32 colour, as Camera._bg
        self._run, self._moving, self._last_motion, self._n = 0, False, 0.0, 0
        self.raw: list[Box] = []  # the detector's boxes of the last frame, before the gating

    def resize(self, frame: np.ndarray) -> np.ndarray:
        """The frame at the detect size, as Camera.feed resizes it."""
        if frame.shape[1::-1] != self.size:
            return cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        return frame

    def update(self, frame: np.ndarray) -> list[Box]:
        """Feed one detect-size frame; return the boxes the classifier sees (often none)."""
        ts = self._n / self.fps
        self._n += 1
        boxes = self.detector.detect(frame)
        self.raw = boxes
        self._run = self._run + 1 if boxes else 0
        moving = bool(boxes) and (self._moving or self._run >= self.start_frames)
        if moving:
            self._moving, self._last_motion = True, ts
        elif self._moving and ts - self._last_motion >= self.end_after:
            self._moving = False
        if not boxes:
            if self.background is None or self.detector.calibrating:
                self.background = frame.astype(np.float32)
            else:
                cv2.accumulateWeighted(frame, self.background, 0.05)
        return [tuple(int(v) for v in b) for b in boxes] if moving else []

    def background_image(self) -> np.ndarray:
        """The classifier's background as the camera hands it over (uint8 colour)."""
        if self.background is None:
            raise ValueError("no calm frame seen yet")
        return self.background.astype(np.uint8)
