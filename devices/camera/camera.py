"""A camera: capture thread, motion, pre-roll recording, snapshots and the classifier hook.

Callbacks (set as attributes, like gpiozero's when_pressed) run on the camera's event thread,
in order, never on the capture thread: on_motion(phase, regions, ts, snapshot),
on_online(), on_offline(reason), on_detection(dict), on_snapshot(path, jpeg, reason),
on_recording_started(ClipInfo), on_recording_finished(ClipInfo), on_storage_full(problem).
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from devices.camera.motion import Box, MotionConfig, MotionDetector
from devices.camera.recorder import RecordConfig, Recorder
from devices.camera.snapshot import encode_jpeg, write_snapshot
from devices.camera.source import FrameSource
from devices.camera.storage import Storage
from devices.errors import CameraError

log = logging.getLogger(__name__)

Analyze = Callable[..., list[dict]]


class Camera:
    """One camera; start() runs it in its own threads, feed() drives it frame by frame."""

    def __init__(
        self,
        name: str,
        source: FrameSource | None,
        *,
        media_root: Path,
        width: int = 640,
        height: int = 360,
        fps: float = 5.0,
        motion: MotionConfig | None = None,
        record: RecordConfig | None = None,
        storage: Storage | None = None,
        analyze: Analyze | None = None,
        clock: Callable[[], float] = time.time,
        backoff: tuple[float, float] = (0.5, 30.0),
        motion_end_after: float = 1.5,
        motion_start_frames: int = 2,
    ) -> None:
        self.name = name
        self.source = source
        self.size = (width, height)
        self.fps = fps
        self.clock = clock
        self.backoff = backoff
        self.motion_end_after = motion_end_after
        self.motion_start_frames = max(1, motion_start_frames)
        self._run = 0
        self.snap_dir = Path(media_root) / "snapshots" / name
        self.detector = MotionDetector(width, height, motion)
        self.recorder = Recorder(
            name,
            Path(media_root) / "clips",
            fps=fps,
            size=self.size,
            config=record,
            storage=storage,
        )
        self.analyze = analyze
        self._analyze_ts = analyze is not None and _takes_ts(analyze)
        self.online = False
        self.motion = False
        self.last_detection: dict | None = None
        self.latest: tuple[float, np.ndarray] | None = None
        self.frames = 0
        self.on_motion: Callable[[str, list[Box], float, Path | None], None] | None = None
        self.on_online: Callable[[], None] | None = None
        self.on_offline: Callable[[str], None] | None = None
        self.on_detection: Callable[[dict], None] | None = None
        self.on_snapshot: Callable[[Path, bytes, str], None] | None = None
        self.on_recording_started: Callable[[Any], None] | None = None
        self.on_recording_finished: Callable[[Any], None] | None = None
        self.on_storage_full: Callable[[str], None] | None = None
        self.recorder.on_started = lambda c: self._call(self.on_recording_started, c)
        self.recorder.on_finished = lambda c: self._call(self.on_recording_finished, c)
        self.recorder.on_storage_full = lambda p: self._call(self.on_storage_full, p)
        self._events = ThreadPoolExecutor(1, thread_name_prefix=f"cam-{name}-events")
        self._requests: deque[tuple[str, float | None, str | None]] = deque()
        self._last_motion = 0.0
        self._best: tuple[float, float, np.ndarray] | None = None  # (area, ts, frame)
        self._bg: np.ndarray | None = None  # colour background for the classifier
        self._slot: tuple | None = None  # newest motion frame waiting for the classifier
        self._slot_ready = threading.Condition()
        self._busy = False  # the classifier is working on a frame
        self._stop = threading.Event()
        self._told_offline = False
        self._threads: list[threading.Thread] = []

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Run capture (and the classifier, when given) in background threads."""
        self._stop.clear()
        if self.source is not None:
            self._threads.append(
                threading.Thread(target=self._capture, name=f"cam-{self.name}", daemon=True)
            )
        if self.analyze is not None:
            self._threads.append(
                threading.Thread(target=self._analyzer, name=f"cam-{self.name}-ai", daemon=True)
            )
        for t in self._threads:
            t.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop the threads, finish the open clip and flush callbacks."""
        self._stop.set()
        with self._slot_ready:
            self._slot_ready.notify_all()
        for t in self._threads:
            t.join(timeout)
        self._threads.clear()
        if self.motion:
            self._end_motion(self._last_motion)
        self.recorder.close(timeout)
        self._events.shutdown(wait=True)

    # -- requests from other threads ---------------------------------------------------------

    def record(self, duration: float | None = None, cause: str | None = None) -> None:
        """Ask for a clip of at least duration s (with pre-roll); applied on the next frame."""
        self._requests.append(("record", duration, cause))

    def snapshot(self, reason: str = "request") -> Path | None:
        """Write the newest frame as a JPEG now and return its path (None before any frame)."""
        latest = self.latest
        if latest is None:
            return None
        return self._write_snapshot(latest[0], latest[1], reason)

    def state(self) -> dict[str, Any]:
        """Return the camera state published by the hub."""
        return {
            "online": self.online,
            "motion": self.motion,
            "recording": self.recorder.recording,
            "storage_full": self.recorder.full,
            "last_detection": self.last_detection,
        }

    # -- the per-frame pipeline --------------------------------------------------------------

    def feed(self, frame: np.ndarray, ts: float) -> list[Box]:
        """Process one frame (downscaled here once if needed); return its motion boxes."""
        if frame.shape[1::-1] != self.size:
            frame = cv2.resize(frame, self.size, interpolation=cv2.INTER_AREA)
        self.latest = (ts, frame)
        self.frames += 1
        boxes = self.detector.detect(frame)
        self._run = self._run + 1 if boxes else 0
        # Motion counts once seen in start_frames frames in a row (a one-frame flicker of
        # rain or a lamp switching on does not), and keeps counting while the event lasts.
        moving = bool(boxes) and (self.motion or self._run >= self.motion_start_frames)
        self.recorder.feed(ts, frame, moving)
        while self._requests:
            op, duration, cause = self._requests.popleft()
            if op == "record":
                self.recorder.trigger(ts, cause or "request", duration)
        if moving:
            self._last_motion = ts
            area = float(sum(w * h for _, _, w, h in boxes))
            if not self.motion:
                self.motion = True
                self._best = (area, ts, frame)
                path = self._snapshot_path(ts, "motion")
                self._events.submit(self._motion_start, ts, frame, boxes, path)
                if self.recorder.config.on_motion:
                    self.recorder.trigger(ts, "motion")
            elif self._best is None or area > self._best[0]:
                self._best = (area, ts, frame)
            if self.analyze is not None:
                with self._slot_ready:
                    self._slot = (frame, boxes, ts)  # newest wins: an old frame is dropped
                    self._slot_ready.notify_all()
        elif self.motion and ts - self._last_motion >= self.motion_end_after:
            self._end_motion(self._last_motion)
        if self.analyze is not None and not boxes:
            self._update_background(frame)
        return boxes

    def _update_background(self, frame: np.ndarray) -> None:
        if self._bg is None or self.detector.calibrating:
            self._bg = frame.astype(np.float32)
        else:
            cv2.accumulateWeighted(frame, self._bg, 0.05)

    def _end_motion(self, ts: float) -> None:
        self.motion = False
        best, self._best = self._best, None
        self._events.submit(self._motion_end, ts, best)

    def _motion_start(self, ts: float, frame: np.ndarray, boxes: list[Box], path: Path) -> None:
        jpeg = encode_jpeg(frame)
        write_snapshot(path, jpeg)
        self._call_now(self.on_snapshot, path, jpeg, "motion")
        self._call_now(self.on_motion, "start", boxes, ts, path)

    def _motion_end(self, ts: float, best: tuple[float, float, np.ndarray] | None) -> None:
        path = None
        if best is not None:
            path = self._snapshot_path(best[1], "best")
            jpeg = encode_jpeg(best[2])
            write_snapshot(path, jpeg)
            self._call_now(self.on_snapshot, path, jpeg, "best")
        self._call_now(self.on_motion, "end", [], ts, path)

    def _snapshot_path(self, ts: float, reason: str) -> Path:
        stamp = time.strftime("%Y-%m-%d/%H-%M-%S", time.gmtime(ts))
        return self.snap_dir / f"{stamp}.{int(ts * 1000) % 1000:03d}-{reason}.jpg"

    def _write_snapshot(self, ts: float, frame: np.ndarray, reason: str) -> Path:
        path = self._snapshot_path(ts, reason)
        jpeg = encode_jpeg(frame)
        write_snapshot(path, jpeg)
        self._call(self.on_snapshot, path, jpeg, reason)
        return path

    # -- threads -----------------------------------------------------------------------------

    def _capture(self) -> None:
        assert self.source is not None
        delay = self.backoff[0]
        period = 1.0 / self.fps if self.fps > 0 else 0.0
        while not self._stop.is_set():
            try:
                if self.source.open() is False:  # cv2-style sources answer False
                    raise CameraError("source refused to open")
            except Exception as e:
                self._set_offline(f"open failed: {e}")
                self._stop.wait(delay)
                delay = min(delay * 2, self.backoff[1])
                continue
            last = float("-inf")
            reason = "stream ended"
            while not self._stop.is_set():
                try:
                    frame = self.source.read()
                    if isinstance(frame, tuple):  # cv2.VideoCapture style: (ok, frame)
                        frame = frame[1] if frame[0] else None
                except Exception as e:
                    frame, reason = None, f"read failed: {e}"
                if frame is None:
                    break
                if not self.online:
                    self.online = True
                    delay = self.backoff[0]
                    log.info("camera %s online", self.name)
                    self._call(self.on_online)
                now = self.clock()
                # Newest frame wins: read everything so the source never queues, process at fps.
                if now - last < period * 0.9:
                    continue
                last = now
                try:
                    self.feed(frame, now)
                except Exception:
                    log.exception("camera %s frame processing failed", self.name)
            try:
                self.source.close()
            except Exception:
                log.debug("camera %s close failed", self.name, exc_info=True)
            if self._stop.is_set():
                break
            self._lost(reason)
            self._stop.wait(delay)
            delay = min(delay * 2, self.backoff[1])

    def _lost(self, reason: str) -> None:
        self.recorder.stop("source_lost")
        self.recorder.ring.clear()
        if self.motion:
            self._end_motion(self._last_motion)
        self.detector.reset()
        self._bg = None
        self._set_offline(reason)

    def _set_offline(self, reason: str) -> None:
        if self.online or (self.frames == 0 and not self._told_offline):
            self._told_offline = True
            self.online = False
            log.warning("camera %s offline: %s", self.name, reason)
            self._call(self.on_offline, reason)

    def _analyzer(self) -> None:
        assert self.analyze is not None
        while True:
            with self._slot_ready:
                while self._slot is None and not self._stop.is_set():
                    self._slot_ready.wait()
                if self._stop.is_set():
                    return
                frame, boxes, ts = self._slot
                self._slot = None
                self._busy = True
            try:
                self._analyze_one(frame, boxes, ts)
            finally:
                with self._slot_ready:
                    self._busy = False
                    self._slot_ready.notify_all()

    def wait_analyzed(self, timeout: float = 10.0) -> bool:
        """Block until the classifier has nothing pending (tests, virtual-time simulation)."""
        with self._slot_ready:
            return self._slot_ready.wait_for(lambda: self._slot is None and not self._busy, timeout)

    def _analyze_one(self, frame: np.ndarray, boxes: list[Box], ts: float) -> None:
        assert self.analyze is not None
        bg = self._bg.astype(np.uint8) if self._bg is not None else frame
        try:
            args = (frame, bg, boxes, ts) if self._analyze_ts else (frame, bg, boxes)
            detections = self.analyze(*args) or []
        except Exception:
            log.exception("camera %s classifier failed", self.name)
            return
        if detections:
            path = self._write_snapshot(ts, frame, "detection")
            for det in detections:
                d = {**_plain(det), "snapshot": str(path), "ts": ts}
                self.last_detection = d
                self._call(self.on_detection, d)

    # -- callbacks ---------------------------------------------------------------------------

    def _call(self, cb: Callable | None, *args: Any) -> Future | None:
        if cb is None:
            return None
        try:
            return self._events.submit(self._call_now, cb, *args)
        except RuntimeError:  # the event thread is shut down: call in place
            self._call_now(cb, *args)
            return None

    def _call_now(self, cb: Callable | None, *args: Any) -> None:
        if cb is None:
            return
        try:
            cb(*args)
        except Exception:
            log.exception("camera %s callback failed", self.name)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait until queued callbacks have run (tests and shutdown)."""
        self._events.submit(lambda: None).result(timeout)


def _plain(value: Any) -> Any:
    """Turn numpy scalars and arrays (a classifier's output) into JSON-ready Python values."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    return value


def _takes_ts(fn: Callable) -> bool:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):
        return False
    if any(p.kind is p.VAR_POSITIONAL for p in params):
        return False
    positional = [p for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return len(positional) >= 4
