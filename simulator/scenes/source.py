"""A live camera source that plays rendered scenes: `sim:<scene>` for the hub's cameras.

It has the FrameSource shape (open/read/close, BGR uint8 frames) and paces itself to the
frame rate (times `speed`), so a capture thread reading it does not spin. `play(name)`
switches scene on the fly, as a simulator scenario does; after a clip ends the backdrop
stays on screen (with its grain) until the next one.
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable

import numpy as np

from simulator.scenes.scenarios import SCENARIOS, make_scene
from simulator.scenes.scene import RenderedFrame, Scene

log = logging.getLogger(__name__)


class SceneSource:
    """FrameSource-like live source: SceneSource("person_walks_left_to_right", 640, 360, 5, 0)."""

    def __init__(
        self,
        scene: str,
        width: int = 640,
        height: int = 360,
        fps: float = 5.0,
        seed: int = 0,
        *,
        loop: bool = False,
        speed: float = 1.0,
        realtime: bool = True,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.width, self.height, self.fps, self.seed = width, height, fps, seed
        self.loop, self.speed, self.realtime = loop, speed, realtime
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._scene = self._build(scene)
        self._idle = self._build("empty", self._scene.seed)
        self._index = 0
        self._next_at: float | None = None
        self._opened = False
        self.last: RenderedFrame | None = None

    def _build(self, name: str, seed: int | None = None) -> Scene:
        return make_scene(
            name, self.width, self.height, self.fps, self.seed if seed is None else seed
        )

    @property
    def scene(self) -> str:
        """The name of the scene playing now."""
        return self._scene.name

    def play(self, scene: str, seed: int | None = None) -> None:
        """Start another scene from its first frame on the next read."""
        built = self._build(scene, seed)
        with self._lock:
            self._scene, self._index = built, 0
        log.info("scene.play scene=%s seed=%s", scene, built.seed)

    def open(self) -> bool:
        """Open the source; always succeeds."""
        self._opened = True
        self._next_at = None
        return True

    def isOpened(self) -> bool:
        """True between open() and close()."""
        return self._opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        """Return (ok, frame) like cv2.VideoCapture.read, waiting for the next frame time."""
        if not self._opened:
            return False, None
        if self.realtime:
            now = self._clock()
            if self._next_at is None:
                self._next_at = now
            delay = self._next_at - now
            if delay > 0:
                self._sleep(delay)
            # Fall behind gracefully: never try to catch up with a burst of frames.
            self._next_at = max(self._next_at, now) + 1.0 / (self.fps * self.speed)
        with self._lock:
            scene, i = self._scene, self._index
            self._index += 1
        if i >= scene.n_frames and not self.loop:
            frame = self._idle.render(i)
        else:
            frame = scene.render(i % scene.n_frames)
        self.last = frame
        return True, frame.image

    def close(self) -> None:
        """Stop; read() returns (False, None) until opened again."""
        self._opened = False

    def release(self) -> None:
        """Alias of close(), as cv2.VideoCapture names it."""
        self.close()


def source_for(
    spec: str, width: int = 640, height: int = 360, fps: float = 5.0, speed: float = 1.0
) -> SceneSource | None:
    """A SceneSource for `sim:<scene>` (or `sim:<any name>`: an idle backdrop); None otherwise.

    Fits the hub's `Backends.camera_source`. A name that is not a scenario (`sim:porch`)
    gives that camera its own quiet backdrop, seeded by the name, for scenarios to `play()`
    scenes on.
    """
    if not str(spec).startswith("sim:"):
        return None
    name = str(spec)[4:]
    seed = zlib.crc32(name.encode()) & 0x7FFF
    scene = name if name in SCENARIOS else "empty"
    return SceneSource(scene, width, height, fps, seed, speed=speed)
