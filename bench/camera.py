"""Camera benchmark: motion stage cost, a camera's share of one core at 5 fps, trigger-to-disk.

Run: .venv/bin/python bench/camera.py [--seconds 10]
Prints figures; copy them into bench/RESULTS.md under "Camera".
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from devices.camera import (
    Camera,
    MotionConfig,
    MotionDetector,
    OpenCVSource,
    RecordConfig,
    Recorder,
)


def scene(w: int, h: int, seed: int = 1) -> np.ndarray:
    """A textured still scene."""
    g = np.tile(np.linspace(40, 200, w, dtype=np.float32), (h, 1))
    img = np.dstack([g, g * 0.9, g * 0.8]).astype(np.uint8)
    r = np.random.default_rng(seed)
    for _ in range(30):
        x, y = int(r.integers(0, w - w // 8)), int(r.integers(0, h - h // 6))
        c = tuple(int(v) for v in r.integers(20, 230, 3))
        cv2.rectangle(img, (x, y), (x + w // 10, y + h // 8), c, -1)
    return img


def frames(w: int, h: int, n: int, moving: bool) -> list[np.ndarray]:
    """n noisy frames of the scene, with a walking figure when moving."""
    bg = scene(w, h)
    rng = np.random.default_rng(2)
    out = []
    for i in range(n):
        f = cv2.add(bg, rng.integers(0, 5, bg.shape, dtype=np.uint8))
        if moving:
            x = (i * w // 60) % (w - w // 10)
            cv2.rectangle(f, (x, h // 3), (x + w // 20, h // 3 + h // 3), (30, 30, 30), -1)
        out.append(f)
    return out


def bench_motion(w: int, h: int, n: int = 3000) -> tuple[float, float, float]:
    """Return mean, median and p99 ms per frame of the motion stage on w x h BGR frames."""
    det = MotionDetector(
        w, h, MotionConfig(mask=[[0, 0], [w // 4, 0], [w // 4, h // 8], [0, h // 8]])
    )
    fs = frames(w, h, 60, moving=True)
    times = []
    for i in range(n):
        f = fs[i % len(fs)]
        t = time.perf_counter()
        det.detect(f)
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.fmean(times), statistics.median(times), times[int(len(times) * 0.99)]


class MemorySource:
    """Frames from memory, paced like a live camera at fps."""

    def __init__(self, fs: list[np.ndarray], fps: float) -> None:
        self.fs, self.period, self.i, self.next = fs, 1.0 / fps, 0, 0.0

    def open(self) -> None:
        self.next = time.monotonic()

    def read(self) -> np.ndarray:
        delay = self.next - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next += self.period
        self.i += 1
        return self.fs[self.i % len(self.fs)]

    def close(self) -> None:
        pass


def cpu_share(source, seconds: float, root: Path, record: bool) -> tuple[float, int, int]:
    """Run a camera on source for seconds; return (share of one core, motion events, clips)."""
    cam = Camera(
        "bench",
        source,
        media_root=root,
        width=640,
        height=360,
        fps=5,
        record=RecordConfig(pre=5, post=10, max=300, on_motion=record),
    )
    counts = {"motion": 0, "clips": 0}
    cam.on_motion = lambda phase, *a: counts.__setitem__("motion", counts["motion"] + 1)
    cam.on_recording_started = lambda c: counts.__setitem__("clips", counts["clips"] + 1)
    cam.start()
    time.sleep(1.0)  # warm up: first open, background calibration
    c0, t0 = time.process_time(), time.monotonic()
    time.sleep(seconds)
    share = (time.process_time() - c0) / (time.monotonic() - t0)
    cam.stop()
    return share, counts["motion"], counts["clips"]


def trigger_to_disk(root: Path, runs: int = 10) -> tuple[float, float]:
    """Return median ms from trigger to the first frame handed to the encoder, and on disk."""
    fs = frames(640, 360, 30, moving=False)
    handed, on_disk = [], []
    for k in range(runs):
        rec = Recorder("bench", root / f"r{k}", fps=5, size=(640, 360), config=RecordConfig(pre=5))
        for i, f in enumerate(fs[:25]):
            rec.ring.add(i * 0.2, f)
        started = threading.Event()
        t_start = [0.0]

        def mark(clip, ev=started, box=t_start):
            box[0] = time.perf_counter()
            ev.set()

        rec.on_started = mark
        t = time.perf_counter()
        rec.trigger(5.0, "bench")
        started.wait(5)
        handed.append((t_start[0] - t) * 1000)
        path = rec.clip.file
        while not (path.exists() and path.stat().st_size > 0):
            time.sleep(0.0005)
        on_disk.append((time.perf_counter() - t) * 1000)
        rec.close()
    return statistics.median(handed), statistics.median(on_disk)


def scenes_table(seeds: int = 3, start_frames: int = 2) -> None:
    """Print motion events per simulator scenario (the camera's start/end rules, no classifier)."""
    from simulator.scenes.scenarios import SCENARIOS
    from simulator.scenes.source import SceneSource

    print(f"motion events per scenario over {seeds} seeds (10 s each, motion stage only):")
    for name in SCENARIOS:
        events = 0
        for seed in range(seeds):
            src = SceneSource(name, 640, 360, 5, seed, realtime=False)
            src.open()
            cam = Camera(
                "s",
                None,
                media_root=Path(tempfile.mkdtemp()),
                fps=5,
                record=RecordConfig(on_motion=False),
                motion_start_frames=start_frames,
            )
            starts: list[float] = []
            cam.on_motion = lambda phase, r, ts, s, out=starts: phase == "start" and out.append(ts)
            for i in range(50):
                cam.feed(src.read()[1], 1000.0 + i / 5)
            cam.stop()
            events += len(starts)
        print(f"  {name:28s} {events}")


def main() -> None:
    """Print every figure."""
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--scenes", action="store_true", help="also the simulator scenario table")
    args = ap.parse_args()
    print(f"cpu: {os.cpu_count()} cores, OpenCV {cv2.__version__}, threads {cv2.getNumThreads()}")
    for w, h in ((640, 360), (1280, 720)):
        mean, med, p99 = bench_motion(w, h)
        print(f"motion stage {w}x{h}: mean {mean:.3f} ms, median {med:.3f} ms, p99 {p99:.3f} ms")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        still = MemorySource(frames(640, 360, 50, False), 5)
        share, m, c = cpu_share(still, args.seconds, root, True)
        print(
            f"camera 640x360 @5 fps, still scene: {share:.1%} of one core ({m} motion, {c} clips)"
        )
        walking = MemorySource(frames(640, 360, 50, True), 5)
        share, m, c = cpu_share(walking, args.seconds, root, True)
        print(f"camera 640x360 @5 fps, motion + rec: {share:.1%} of a core ({m} motion, {c} clips)")
        src = root / "src720.mp4"
        w = cv2.VideoWriter(str(src), cv2.VideoWriter_fourcc(*"mp4v"), 5, (1280, 720))
        for f in frames(1280, 720, 50, True):
            w.write(f)
        w.release()
        src720 = OpenCVSource(str(src), realtime=True, loop=True)
        dec, m, c = cpu_share(src720, args.seconds, root, True)
        print(f"camera 1280x720 mp4 decoded @5 fps -> 640x360, motion + rec: {dec:.1%} of a core")
        handed, disk = trigger_to_disk(root)
        print(f"trigger -> first frame encoded: {handed:.2f} ms; -> bytes on disk: {disk:.2f} ms")
    if args.scenes:
        scenes_table()


if __name__ == "__main__":
    main()
