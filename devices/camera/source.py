"""Frame sources: anything with open/read/close; OpenCV's VideoCapture for rtsp, usb and files."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from devices.errors import CameraError

log = logging.getLogger(__name__)


@runtime_checkable
class FrameSource(Protocol):
    """A camera feed. read() blocks until the next BGR frame, or returns None when lost.

    Sources in cv2.VideoCapture's style (open() -> bool, read() -> (ok, frame)) work too.
    """

    def open(self) -> None:
        """Connect; raise on failure."""

    def read(self) -> np.ndarray | None:
        """Return the next BGR uint8 frame, or None when the source is lost or ended."""

    def close(self) -> None:
        """Release the source."""


def parse_source(spec: str | int) -> str | int:
    """Turn a config source into what cv2.VideoCapture takes ("0" -> 0 for a USB index)."""
    if isinstance(spec, int):
        return spec
    s = spec.strip()
    return int(s) if s.isdigit() else s


class OpenCVSource:
    """cv2.VideoCapture on an rtsp:// or http:// URL, a /dev/video device, an index or a file.

    For a file, realtime=True paces reads at the file's frame rate (a file acting as a live
    camera) and loop=True starts over at the end; otherwise the end of file reads as None.
    """

    def __init__(self, spec: str | int, *, realtime: bool = False, loop: bool = False) -> None:
        self.spec = parse_source(spec)
        self.is_file = isinstance(self.spec, str) and Path(self.spec).is_file()
        self.realtime = realtime
        self.loop = loop
        self._cap = None
        self._period = 0.0
        self._next = 0.0

    def open(self) -> None:
        """Open the capture; raise CameraError when it cannot be opened."""
        import cv2

        cap = cv2.VideoCapture(self.spec)
        if not cap.isOpened():
            cap.release()
            raise CameraError(f"cannot open camera source {self.spec!r}")
        if not self.is_file:
            # Keep OpenCV's own queue short so the frame we read is a fresh one.
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
        self._period = 1.0 / fps if self.realtime and 0 < fps < 1000 else 0.0
        self._next = time.monotonic()
        self._cap = cap

    def read(self) -> np.ndarray | None:
        """Return the next frame or None."""
        import cv2

        cap = self._cap
        if cap is None:
            return None
        if self._period:
            delay = self._next - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            self._next = max(self._next + self._period, time.monotonic() - self._period)
        ok, frame = cap.read()
        if not ok and self.is_file and self.loop:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = cap.read()
        return frame if ok else None

    def close(self) -> None:
        """Release the capture."""
        if self._cap is not None:
            self._cap.release()
            self._cap = None
