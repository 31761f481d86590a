"""Vision bench: classifier latency, the pipeline's share of a core at 5 fps, against HOG.

    .venv/bin/python bench/vision.py [--frames 150]

Frames come from rendered scenes (a person walking, branches, rain) at 640x360; motion and
classification run at 320x180 as a camera's detect stream would. CPU time is measured with
time.process_time, so other load on the machine does not count against us.
"""

from __future__ import annotations

import argparse
import time

import cv2
import numpy as np

from models.classifier import MotionClassifier
from models.confirm import ConfirmConfig
from models.evaluate import hog_people_detector
from models.pipeline import DetectionPipeline
from models.regions import ReferenceMotion
from simulator.scenes import make_scene

FPS = 5.0


def latency(clf: MotionClassifier, batch: int, repeats: int) -> tuple[float, float]:
    """(median, p90) milliseconds of one session.run on `batch` crops."""
    x = np.random.default_rng(batch).random((batch, 3, clf.size, clf.size), np.float32)
    for _ in range(10):
        clf.scores(x)
    ts = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        clf.scores(x)
        ts.append((time.perf_counter() - t0) * 1000)
    return float(np.median(ts)), float(np.percentile(ts, 90))


def frames(n: int) -> list[np.ndarray]:
    """n full-resolution frames: people walking past through swaying branches and rain."""
    out: list[np.ndarray] = []
    names = ["person_walks_left_to_right", "branches_sway_in_wind", "person_in_rain", "car_passes"]
    k = 0
    while len(out) < n:
        scene = make_scene(names[k % len(names)], 640, 360, FPS, seed=300 + k)
        out += [scene.render(i).image for i in range(scene.n_frames)]
        k += 1
    return out[:n]


def cpu_per_frame(fn, items: list) -> float:
    """CPU seconds per item spent in fn."""
    t0 = time.process_time()
    for it in items:
        fn(it)
    return (time.process_time() - t0) / len(items)


def main() -> None:
    """Print the figures for bench/RESULTS.md."""
    p = argparse.ArgumentParser()
    p.add_argument("--frames", type=int, default=150)
    p.add_argument("--repeats", type=int, default=500)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    clf = MotionClassifier(threads=args.threads)
    m1, p1 = latency(clf, 1, args.repeats)
    m8, p8 = latency(clf, 8, args.repeats)
    print(f"classifier, 1 region:  median {m1:.3f} ms  p90 {p1:.3f} ms")
    print(f"classifier, batch of 8: median {m8:.3f} ms  p90 {p8:.3f} ms  ({m8 / 8:.3f} ms/region)")

    full = frames(args.frames)
    small = [cv2.resize(f, (320, 180), interpolation=cv2.INTER_AREA) for f in full]

    motion = ReferenceMotion()
    pipe = DetectionPipeline(clf, ConfirmConfig())
    stats = {"motion_frames": 0, "regions": 0, "detections": 0}
    spent = {"motion": 0.0, "pipeline": 0.0}

    clock = iter(range(len(small)))

    def step(img: np.ndarray) -> None:
        ts = next(clock) / FPS  # the frames' own time, so cooldowns behave as live
        t0 = time.process_time()
        bg = motion.background_image() if motion.background is not None else None
        regions = motion.update(img)
        t1 = time.process_time()
        spent["motion"] += t1 - t0
        if bg is not None and regions:
            stats["motion_frames"] += 1
            stats["detections"] += len(pipe(img, bg, regions, ts))
            stats["regions"] += len(pipe.last)
            spent["pipeline"] += time.process_time() - t1

    total = cpu_per_frame(step, small)
    n = len(small)
    print(
        f"pipeline on {n} frames at 320x180: {stats['motion_frames']} motion frames, "
        f"{stats['regions']} regions classified, {stats['detections']} confirmed"
    )
    print(
        f"  motion {spent['motion'] / n * 1000:.2f} ms/frame, classifier+confirm "
        f"{spent['pipeline'] / max(stats['motion_frames'], 1) * 1000:.2f} ms per motion frame"
    )
    print(
        f"  share of one core at {FPS:.0f} fps: motion+classifier {total * FPS * 100:.2f}%, "
        f"classifier part {spent['pipeline'] / n * FPS * 100:.2f}%"
    )

    hog = hog_people_detector()
    if hog is None:
        print(f"HOG: OpenCV {cv2.__version__} has no HOGDescriptor (moved to contrib in 5.x)")
        return
    sample = full[: max(n // 5, 10)]
    hog_s = cpu_per_frame(
        lambda f: hog.detectMultiScale(f, winStride=(8, 8), padding=(8, 8), scale=1.05), sample
    )
    print(
        f"HOG people detector at 640x360: {hog_s * 1000:.1f} ms CPU/frame, "
        f"{hog_s * FPS * 100:.1f}% of a core at {FPS:.0f} fps"
    )


if __name__ == "__main__":
    cv2.setNumThreads(1)
    main()
