"""The clip recorder: pre-roll from the ring buffer, extension on motion, post and max, MP4 files.

The capture thread only calls feed() and trigger(), which hand frames to a queue; a writer
thread encodes them (mp4v, the encoder OpenCV's wheel has), so capture never waits on disk.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devices.camera.ring import PreRollBuffer, decode
from devices.camera.storage import Storage

log = logging.getLogger(__name__)


@dataclass
class RecordConfig:
    """Seconds of pre-roll, of post-roll after the last motion, and the longest clip."""

    pre: float = 5.0
    post: float = 10.0
    max: float = 300.0
    on_motion: bool = True  # motion alone starts a clip (rules may also start them)


@dataclass
class ClipInfo:
    """A clip as announced when it starts and when it is finished."""

    camera: str
    start: float
    file: Path
    cause: str | None
    end: float | None = None
    size: int = 0
    frames: int = 0
    reason: str = ""  # why it finished: post, max, storage_full, source_lost, stopped
    frames_sent: int = 0  # handed to the writer (frames counts those written)
    trigger: float = 0.0  # when it was asked for (the pre-roll lies before this)


ClipCallback = Callable[[ClipInfo], None]


# Raw frames wait for the encoder while the disk is slow. Bounded in bytes, so a stalled SD
# card costs at most this much memory (a minute of 640x360 frames was ~207 MB), but never
# fewer frames than a pre-roll burst plus two seconds, which arrive at once on a trigger.
QUEUE_BYTES = 64 * 1024 * 1024


def queue_frames(fps: float, size: tuple[int, int], pre: float) -> int:
    """How many raw frames the writer's queue holds for this camera."""
    frame_bytes = max(1, size[0] * size[1] * 3)
    burst = int((pre + 2) * fps) + 2
    return max(burst, min(int(fps * 60), QUEUE_BYTES // frame_bytes))


class _Writer(threading.Thread):
    """Encodes queued frames into MP4 files, one clip at a time."""

    def __init__(self, rec: Recorder) -> None:
        super().__init__(name=f"rec-{rec.camera}", daemon=True)
        self.rec = rec
        self.q: queue.Queue = queue.Queue(queue_frames(rec.fps, rec.size, rec.config.pre))
        self.writer: Any = None
        self.clip: ClipInfo | None = None

    def run(self) -> None:
        while True:
            op, a, b = self.q.get()
            if op == "quit":
                return
            try:
                self._handle(op, a, b)
            except Exception:
                # One bad frame or a failing disk must not end recording for good.
                log.exception("camera %s recorder failed on %s", self.rec.camera, op)
                if self.writer is not None and self.clip is not None:
                    with contextlib.suppress(Exception):
                        self._finish(self.writer, self.clip, "write_failed")
                self.writer, self.clip = None, None
                self.rec._aborted("write_failed", None)

    def _handle(self, op: str, a: Any, b: Any) -> None:
        writer, clip = self.writer, self.clip
        if op == "open":
            clip = a
            writer = cv2.VideoWriter(
                str(clip.file), cv2.VideoWriter_fourcc(*"mp4v"), self.rec.fps, self.rec.size
            )
            if not writer.isOpened():
                log.error("camera %s cannot write %s", self.rec.camera, clip.file)
                writer, clip = None, None
                self.rec._aborted("write_failed", None)
        elif op == "frame" and writer is not None and clip is not None:
            writer.write(decode(b))  # pre-roll frames arrive JPEG-encoded from the ring
            clip.frames += 1
            clip.end = a
            if clip.frames == 1:
                self.rec._emit(self.rec.on_started, clip)
            if self.rec.storage is not None and (problem := self._no_room(clip)):
                self._finish(writer, clip, "storage_full")
                writer, clip = None, None
                self.rec._aborted("storage_full", problem)
        elif op == "close" and writer is not None and clip is not None:
            self._finish(writer, clip, a)
            writer, clip = None, None
        self.writer, self.clip = writer, clip

    def _no_room(self, clip: ClipInfo) -> str | None:
        # statvfs is a few microseconds: checking every frame keeps us off a truly full disk.
        storage = self.rec.storage
        assert storage is not None
        size = clip.file.stat().st_size if clip.file.exists() else 0
        problem = storage.problem(size, exclude=clip.file)
        if problem:
            storage.sweep(keep={clip.file})  # older media makes way for the clip being written
            problem = storage.problem(size, exclude=clip.file)
        return problem

    def _finish(self, writer, clip: ClipInfo, reason: str) -> None:
        writer.release()
        clip.reason = reason
        try:
            clip.size = clip.file.stat().st_size
        except FileNotFoundError:
            clip.size = 0
        log.info(
            "camera %s clip %s finished (%s, %d frames, %d bytes)",
            clip.camera,
            clip.file.name,
            reason,
            clip.frames,
            clip.size,
        )
        self.rec._emit(self.rec.on_finished, clip)


class Recorder:
    """Decides when a camera records, and hands frames to the writer thread."""

    def __init__(
        self,
        camera: str,
        root: Path,
        *,
        fps: float,
        size: tuple[int, int],
        config: RecordConfig | None = None,
        storage: Storage | None = None,
    ) -> None:
        self.camera = camera
        self.root = Path(root)
        self.fps = float(fps)
        self.size = size
        self.config = config or RecordConfig()
        self.storage = storage
        self.ring = PreRollBuffer(self.config.pre, int(self.config.pre * self.fps) + 2)
        self.on_started: ClipCallback | None = None
        self.on_finished: ClipCallback | None = None
        self.on_storage_full: Callable[[str], None] | None = None
        self.clip: ClipInfo | None = None
        self.deadline = 0.0
        self.full = False
        self.dropped = 0
        self._last_written = float("-inf")
        self._last_frame: np.ndarray | None = None
        self._abort = threading.Event()
        self._writer = _Writer(self)
        self._writer.start()

    @property
    def recording(self) -> bool:
        """Return True while a clip is open."""
        return self.clip is not None

    def trigger(self, ts: float, cause: str | None = None, duration: float | None = None) -> bool:
        """Start a clip (with pre-roll) or extend the open one; False when storage is full."""
        until = ts + (duration if duration is not None else self.config.post)
        if self.clip is not None:
            self.deadline = max(self.deadline, until)
            return True
        if not self._room():
            return False
        self.deadline = until
        frames = self.ring.since(ts - self.config.pre)
        start = frames[0][0] if frames else ts
        self._open(start, cause, ts)
        for t, f in frames:
            self._put(t, f)
        return True

    def feed(self, ts: float, frame: np.ndarray, motion: bool = False) -> None:
        """Take the newest downscaled frame; called by the capture thread for every frame."""
        self.ring.add(ts, frame)
        clip = self.clip
        if clip is None:
            return
        if self._abort.is_set():
            self._abort.clear()
            self.clip = None
            return
        if motion:
            self.deadline = max(self.deadline, ts + self.config.post)
        if ts > self.deadline:
            self.stop("post")
            return
        if ts - clip.start >= self.config.max:
            # Never longer than max: close, and carry on in a new file if still wanted.
            self.stop("max")
            if self._room():
                self._open(ts, clip.cause, ts)
            else:
                return
        self._put(ts, frame)

    def stop(self, reason: str = "stopped") -> None:
        """Close the open clip."""
        if self.clip is not None:
            # A clip's start and end wait for room (up to 5 s); only frames are dropped.
            self._send(("close", reason, None), block=True)
            self.clip = None

    def close(self, timeout: float = 10.0) -> None:
        """Finish the open clip and wait for the writer to flush."""
        self.stop("stopped")
        self._send(("quit", None, None), block=True)
        self._writer.join(timeout)

    def _room(self) -> bool:
        if self.storage is None:
            return True
        problem = self.storage.problem()
        if problem:
            self.storage.sweep()
            problem = self.storage.problem()
        if problem:
            if not self.full:
                self.full = True
                log.error("camera %s stops recording: storage full (%s)", self.camera, problem)
                self._emit(self.on_storage_full, problem)
            return False
        self.full = False
        return True

    def _open(self, start: float, cause: str | None, trigger: float) -> None:
        stamp = time.strftime("%Y-%m-%d/%H-%M-%S", time.gmtime(start))
        path = self.root / self.camera / f"{stamp}.{int(start * 1000) % 1000:03d}.mp4"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.clip = ClipInfo(self.camera, start, path, cause, trigger=trigger)
        self._abort.clear()
        self._send(("open", self.clip, None), block=True)

    def _put(self, ts: float, frame: np.ndarray) -> None:
        if ts <= self._last_written:
            return
        period = 1.0 / self.fps
        gap = ts - self._last_written
        if self.clip is not None and self.clip.frames_sent and period * 1.5 < gap < 10.0:
            # Frames missed (a busy CPU, a stalled stream): repeat the last one, so the clip
            # keeps real time instead of playing the rest too early.
            for k in range(1, round(gap / period)):
                self._send(("frame", self._last_written + k * period, self._last_frame))
        self._last_written, self._last_frame = ts, frame
        if self.clip is not None:
            self.clip.frames_sent += 1
        self._send(("frame", ts, frame))

    def _send(self, item: tuple, block: bool = False) -> None:
        try:
            self._writer.q.put(item, block=block, timeout=5 if block else None)
        except queue.Full:
            # The disk is slower than the camera: drop rather than stall capture.
            self.dropped += 1
            if self.dropped == 1 or self.dropped % 100 == 0:
                log.warning(
                    "camera %s recorder queue full, %d frames dropped", self.camera, self.dropped
                )

    def _aborted(self, reason: str, problem: str | None) -> None:
        # Called on the writer thread; the capture thread sees the flag on its next frame.
        self._abort.set()
        if reason == "storage_full" and problem:
            self.full = True
            log.error("camera %s stops recording: storage full (%s)", self.camera, problem)
            self._emit(self.on_storage_full, problem)

    def _emit(self, cb: Callable | None, arg: object) -> None:
        if cb is None:
            return
        try:
            cb(arg)
        except Exception:
            log.exception("camera %s recorder callback failed", self.camera)
