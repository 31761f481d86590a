"""Choose ConfirmConfig on the tuning clips (seed 9001) without re-rendering for each try.

The clips of `models.evaluate.clip_suite` are rendered once; every frame's clustered motion
regions are kept as (frame, background) crops, so a model is scored in seconds and a
confirmation setting is replayed in milliseconds. A dev tool (imports simulator.scenes);
it exists so that the defaults in models/confirm.py can be re-derived:

    python -m models.tune --model models/motion.onnx            # default config on seed 9001
    python -m models.tune --model m.onnx --sweep                 # the grid below
    python -m models.tune --hub --sweep --seed 9001 9002 --model m.onnx   # summed, with a pick
"""

from __future__ import annotations

import argparse
import itertools
import pickle
import sys
import time
from dataclasses import dataclass, fields, replace
from pathlib import Path

import cv2
import numpy as np

from models.classifier import MotionClassifier
from models.confirm import ConfirmConfig, Confirmer
from models.evaluate import DETECT, TUNE_SEED, clip_suite, played
from models.hubmotion import HubMotion
from models.regions import ReferenceMotion, cluster_boxes, make_crops, square_crop

CACHE_DIR = Path(__file__).resolve().parent.parent / "build"
OBJECTS = ("person", "animal", "vehicle")


@dataclass
class CachedClip:
    """One clip's motion regions, frame by frame, cropped at the sizes the models take."""

    truth: str
    present: set[str]
    frames: list[tuple[float, list[tuple[int, int, int, int]]]]  # (ts, boxes) with regions
    crops: dict[int, np.ndarray]  # size -> uint8 (regions, 2, S, S), all frames in order


def cache_clip(
    truth: str,
    scene,
    sizes: tuple[int, ...],
    max_regions: int = 8,
    erode: bool = False,
    hub: bool = False,
    run_up: float = 0.0,
) -> CachedClip:
    """Run one clip through the motion detector as models.evaluate.run_clip does."""
    motion: ReferenceMotion | HubMotion = HubMotion() if hub else ReferenceMotion(erode=erode)
    size = motion.size if isinstance(motion, HubMotion) else DETECT
    frames: list = []
    parts: dict[int, list[np.ndarray]] = {s: [] for s in sizes}
    gap = max(size[0] * 0.02, 2.0)  # DetectionPipeline's default clustering gap
    for i, ts in played(scene, run_up):
        small = cv2.resize(scene.render(i).image, size, interpolation=cv2.INTER_AREA)
        bg = motion.background_image() if motion.background is not None else None
        boxes = motion.update(small)
        if bg is None or not boxes:
            continue
        boxes = cluster_boxes(boxes, gap)
        if len(boxes) > max_regions:
            boxes = sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)[:max_regions]
        squares = [square_crop(b, 0.15) for b in boxes]
        for s in sizes:
            c = make_crops(small, bg, squares, s)[:, :2]
            parts[s].append((c * 255).round().astype(np.uint8))
        frames.append((ts, boxes))
    crops = {
        s: (np.concatenate(v) if v else np.zeros((0, 2, s, s), np.uint8)) for s, v in parts.items()
    }
    return CachedClip(truth, scene.truth_labels(), frames, crops)


def load_suite(
    seed: int,
    sizes: tuple[int, ...] = (48, 64),
    per_object: int = 30,
    per_nuisance: int = 15,
    erode: bool = False,
    hub: bool = False,
    run_up: float = 0.0,
    cache: Path = CACHE_DIR,
) -> list[CachedClip]:
    """The cached suite of `seed` (rendered and stored under build/ on first use)."""
    size = "" if (per_object, per_nuisance) == (30, 15) else f"_{per_object}x{per_nuisance}"
    tag = ("_erode" if erode else "") + ("_hub" if hub else "")
    tag += f"_runup{run_up:g}" if run_up else ""
    path = cache / f"suite_{seed}{size}{tag}_{'_'.join(map(str, sizes))}.pkl"
    if path.exists():
        return pickle.loads(path.read_bytes())
    t0 = time.monotonic()
    suite = clip_suite(per_object, per_nuisance, seed)
    out = []
    for i, (truth, scene) in enumerate(suite):
        out.append(cache_clip(truth, scene, sizes, erode=erode, hub=hub, run_up=run_up))
        if (i + 1) % 25 == 0:
            print(f"  cached {i + 1}/{len(suite)} ({time.monotonic() - t0:.0f}s)", file=sys.stderr)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(pickle.dumps(out))
    return out


def classify(clf: MotionClassifier, clips: list[CachedClip]) -> list[list]:
    """Per clip, per frame: (ts, [(label, score, box, probs)]) with the model's scores."""
    out = []
    for c in clips:
        x = c.crops[clf.size].astype(np.float32) / 255.0
        probs = clf.scores(np.concatenate([x, np.abs(x[:, :1] - x[:, 1:2])], axis=1))
        k, frames = 0, []
        for ts, boxes in c.frames:
            dets = []
            for box in boxes:
                j = int(probs[k].argmax())
                dets.append((clf.labels[j], float(probs[k, j]), box, probs[k]))
                k += 1
            frames.append((ts, dets))
        out.append(frames)
    return out


def replay(clips: list[CachedClip], scored: list[list], cfg: ConfirmConfig) -> dict:
    """Clip-level outcome of one confirmation setting: recalls and false alarms."""
    said = []
    for frames in scored:
        conf, labels = Confirmer(cfg), set()
        for ts, dets in frames:
            for d in conf.update([(lab, s, box) for lab, s, box, _ in dets], ts):
                labels.add(d["label"])
        said.append(labels)
    res: dict = {}
    for label in OBJECTS:
        mine = [s for c, s in zip(clips, said, strict=True) if c.truth == label]
        res[label] = (sum(label in s for s in mine), len(mine))
    nuis = [s for c, s in zip(clips, said, strict=True) if c.truth not in OBJECTS]
    res["false_alarms"] = (sum(bool(s) for s in nuis), len(nuis))
    others = [
        s
        for c, s in zip(clips, said, strict=True)
        if c.truth in ("animal", "vehicle") and "person" not in c.present
    ]
    res["person_on_others"] = (sum("person" in s for s in others), len(others))
    res["missed"] = [
        i
        for i, (c, s) in enumerate(zip(clips, said, strict=True))
        if c.truth == "person" and "person" not in s
    ]
    res["alarmed"] = [
        i for i, (c, s) in enumerate(zip(clips, said, strict=True)) if c.truth not in OBJECTS and s
    ]
    return res


def _row(cfg: ConfirmConfig, base: ConfirmConfig, r: dict) -> str:
    diff = {
        f.name: getattr(cfg, f.name)
        for f in fields(cfg)
        if getattr(cfg, f.name) != getattr(base, f.name)
    }
    p, fa = r["person"], r["false_alarms"]
    return (
        f"person {p[0]}/{p[1]}  fa {fa[0]}/{fa[1]}  animal {r['animal'][0]}/{r['animal'][1]}  "
        f"vehicle {r['vehicle'][0]}/{r['vehicle'][1]}  person-on-others "
        f"{r['person_on_others'][0]}  {diff or 'defaults'}"
    )


# Every setting can move both ways from the defaults (sixth attempt, bench/RESULTS.md).
GRID = {
    "k": (2, 3),
    "n": (4, 5, 6),
    "min_score": (0.6, 0.65, 0.7, 0.75, 0.8, 0.85),
    "min_travel": (0.3, 0.4, 0.5),
    "min_straightness": (0.3, 0.4, 0.5),
    "max_step": (1.2, 1.5),
    "relabel_cost": (0.0, 0.5, 1.0),
}


def distance(cfg: ConfirmConfig, base: ConfirmConfig) -> tuple[int, float]:
    """How far cfg is from base: (settings changed, sum of |value / default - 1|)."""
    changed = [f.name for f in fields(cfg) if getattr(cfg, f.name) != getattr(base, f.name)]
    rel = 0.0
    for name in changed:
        b = getattr(base, name)
        rel += abs(getattr(cfg, name) - b) / abs(b) if b else abs(getattr(cfg, name))
    return len(changed), rel


def pick(rows: list[tuple[ConfirmConfig, dict]], base: ConfirmConfig, max_fa: int):
    """The one candidate: most person hits with false alarms <= max_fa; ties: nearest base.

    rows are (config, summed result) in grid order; returns (config, result) or None.
    """
    ok = [(i, c, r) for i, (c, r) in enumerate(rows) if r["false_alarms"][0] <= max_fa]
    if not ok:
        return None
    best = max(r["person"][0] for _, _, r in ok)
    _, c, r = min(
        (t for t in ok if t[2]["person"][0] == best), key=lambda t: (*distance(t[1], base), t[0])
    )
    return c, r


def _sum(results: list[dict]) -> dict:
    """Counts of several seeds' replays added up."""
    out: dict = {}
    for key in (*OBJECTS, "false_alarms", "person_on_others"):
        out[key] = tuple(sum(r[key][j] for r in results) for j in (0, 1))
    return out


def main(argv: list[str] | None = None) -> int:
    """Command line: score a model on cached tuning clips; --sweep tries the GRID."""
    p = argparse.ArgumentParser(prog="python -m models.tune")
    p.add_argument("--model", type=Path, required=True)
    p.add_argument("--seed", type=int, nargs="+", default=[TUNE_SEED], help="summed if several")
    p.add_argument("--sweep", action="store_true")
    p.add_argument("--erode", action="store_true", help="ReferenceMotion(erode=True) regions")
    p.add_argument("--hub", action="store_true", help="the hub camera's regions (models.hubmotion)")
    p.add_argument("--large", type=int, nargs=2, default=(30, 15), metavar=("OBJ", "NUIS"))
    p.add_argument("--sizes", type=int, nargs="+", default=(48, 64))
    p.add_argument("--run-up", type=float, default=0.0, help="seconds played before each clip")
    p.add_argument("--cache", type=Path, default=CACHE_DIR, help="where renderings are kept")
    args = p.parse_args(argv)
    clf = MotionClassifier(args.model, threads=2)
    seeds = []
    for seed in args.seed:
        clips = load_suite(
            seed, tuple(args.sizes), *args.large, args.erode, args.hub, args.run_up, args.cache
        )
        seeds.append((seed, clips, classify(clf, clips)))
    base = ConfirmConfig()
    results = []
    for seed, clips, scored in seeds:
        r = replay(clips, scored, base)
        results.append(r)
        print(f"seed {seed}: {_row(base, base, r)}")
        print(f"  missed person clips {r['missed']}  alarmed nuisance clips {r['alarmed']}")
    base_sum = _sum(results)
    if len(seeds) > 1:
        print(f"sum: {_row(base, base, base_sum)}")
    if args.sweep:
        keys = [k for k in GRID if hasattr(base, k)]
        rows = []
        for values in itertools.product(*(GRID[k] for k in keys)):
            try:
                cfg = replace(base, **dict(zip(keys, values, strict=True)))
            except ValueError:
                continue  # k > n
            rs = [replay(clips, scored, cfg) for _, clips, scored in seeds]
            total = _sum(rs)
            rows.append((cfg, total))
            each = "  ".join(f"{r['person'][0]}/{r['false_alarms'][0]}" for r in rs)
            print(f"{_row(cfg, base, total)}  per seed person/fa {each}")
        best = pick(rows, base, base_sum["false_alarms"][0])
        if best is None or best[1]["person"][0] <= base_sum["person"][0]:
            print("pick: none (no setting has more person hits at <= the defaults' false alarms)")
        else:
            print(f"pick: {_row(best[0], base, best[1])}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
