"""The pre-roll ring buffer: the last `pre` seconds of downscaled frames, bounded in memory.

Frames are kept as the downscaled BGR arrays the camera already made (no re-encode on the
capture thread): at 640x360 and 5 fps, 5 s of pre-roll is 25 frames, about 17 MB.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class PreRollBuffer:
    """Keep (ts, frame) pairs from the last `seconds`, never more than max_frames."""

    def __init__(self, seconds: float, max_frames: int) -> None:
        self.seconds = seconds
        self._frames: deque[tuple[float, np.ndarray]] = deque(maxlen=max(1, max_frames))

    def add(self, ts: float, frame: np.ndarray) -> None:
        """Append a frame and drop those older than the window."""
        self._frames.append((ts, frame))
        horizon = ts - self.seconds
        while self._frames and self._frames[0][0] < horizon:
            self._frames.popleft()

    def since(self, ts: float) -> list[tuple[float, np.ndarray]]:
        """Return the frames at or after ts, oldest first."""
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
