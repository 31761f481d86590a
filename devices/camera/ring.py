"""The pre-roll ring buffer: the last `pre` seconds of downscaled frames, bounded in memory.

The ring is full all day on an idle camera, so its frames are kept JPEG-encoded: at 640x360
and 5 fps, 5 s of pre-roll is 25 frames, about 1 MB instead of 17 MB of BGR arrays (issue #8).
Encoding costs about 1 ms a frame on the capture thread (x86; a few ms on a Pi); decoding
waits until a clip needs the frames, on the recorder's writer thread (`decode`). The clip is
mp4v, which keeps far less detail than JPEG at quality 90, so the pre-roll looks the same.
"""

from __future__ import annotations

from collections import deque

import cv2
import numpy as np

QUALITY = 90


def decode(frame: np.ndarray) -> np.ndarray:
    """Return the BGR frame for what the ring holds (a JPEG buffer or an unencoded frame)."""
    if frame.ndim != 1:
        return frame
    img = cv2.imdecode(frame, cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError("pre-roll frame is not a JPEG")
    return img


class PreRollBuffer:
    """Keep (ts, frame) pairs from the last `seconds`, never more than max_frames.

    Frames come back from `since` as stored: JPEG buffers (1-D uint8) unless `quality` is
    None; `decode` turns either into a BGR frame.
    """

    def __init__(self, seconds: float, max_frames: int, quality: int | None = QUALITY) -> None:
        self.seconds = seconds
        self.quality = quality
        self._frames: deque[tuple[float, np.ndarray]] = deque(maxlen=max(1, max_frames))

    def add(self, ts: float, frame: np.ndarray) -> None:
        """Append a frame and drop those older than the window."""
        if self.quality is not None and frame.ndim == 3:
            ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
            if ok:  # otherwise keep the frame as it is: pre-roll matters more than memory
                frame = buf
        self._frames.append((ts, frame))
        horizon = ts - self.seconds
        while self._frames and self._frames[0][0] < horizon:
            self._frames.popleft()

    def since(self, ts: float) -> list[tuple[float, np.ndarray]]:
        """Return the frames at or after ts, oldest first, as stored (see `decode`)."""
        return [(t, f) for t, f in self._frames if t >= ts]

    def clear(self) -> None:
        """Drop every frame (after the source is lost the old frames are stale)."""
        self._frames.clear()

    def __len__(self) -> int:
        return len(self._frames)

    @property
    def nbytes(self) -> int:
        """Return the memory held by the frames."""
        return sum(f.nbytes for _, f in self._frames)
