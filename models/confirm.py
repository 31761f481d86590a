"""k-of-n confirmation of classified regions: tracks, centroid travel, stationary objects, cooldown.

A label is confirmed for a track when it wins in k of the last n frames the track was
seen and the track's centroid has travelled: foliage sways in place, a parked car stands,
an insect jumps too far between frames to be one track. A track alerts once per label (a
person who walks out from behind a car the track followed is still news); the same label
alerts again only after the camera's cooldown.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from typing import Any

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class ConfirmConfig:
    """How strict confirmation is; distances are in units of the object's longer side."""

    # Defaults chosen on held-out clips of seed 9001 (`python -m models.tune --sweep`);
    # min_score 0.8 and relabel_cost 0.5 then checked against the old 0.75 and 0 on fresh
    # seed 9200, as decided beforehand (bench/RESULTS.md, Vision).
    k: int = 2
    n: int = 5
    min_score: float = 0.8
    min_travel: float = 0.5  # centroid travel needed before an alert
    min_straightness: float = 0.4  # displacement / path walked: swaying goes back and forth
    max_step: float = 1.2  # farther than this between frames: not the same object
    # Nor is a region this many times bigger or smaller than the track: a person walking
    # off from a car, or out of a lamp's whole-frame glow, starts a track of their own.
    max_size_ratio: float = 3.0
    # Added to the distance when a region's label differs from the track's last one, so a
    # person walking away from the ghost they leave in the background keeps their track.
    relabel_cost: float = 0.5
    track_timeout_s: float = 2.0  # a track unseen this long ends
    cooldown_s: float = 30.0  # per camera and label; 0 turns it off
    labels: tuple[str, ...] = ("person", "animal", "vehicle")

    def __post_init__(self) -> None:
        if not 1 <= self.k <= self.n:
            raise ValueError(f"confirmation needs 1 <= k <= n, got k={self.k} n={self.n}")


def _centre(box: Box) -> tuple[float, float]:
    return box[0] + box[2] / 2, box[1] + box[3] / 2


def _side(box: Box) -> float:
    """The longer side of a box, at least a few pixels: the unit distances are counted in."""
    return float(max(box[2], box[3], 4))


@dataclass
class Track:
    """One object followed across frames."""

    id: int
    box: Box
    first_seen: float
    last_seen: float
    origin: tuple[float, float]
    votes: deque = field(default_factory=deque)  # (label or None, score) per frame seen
    label: str = ""  # best label of the latest region, nuisance included
    travel: float = 0.0  # displacement from the origin, in object sizes
    path: float = 0.0  # total centroid path, in object sizes
    alerted: set[str] = field(default_factory=set)  # labels this track has alerted

    @property
    def size(self) -> float:
        """The longer side of the latest box, at least a few pixels."""
        return _side(self.box)

    def winner(self, cfg: ConfirmConfig) -> tuple[str, float, int] | None:
        """(label, mean score, hits) of the most voted alert label in the window."""
        tally: dict[str, list[float]] = {}
        for label, score in self.votes:
            if label is not None:
                tally.setdefault(label, []).append(score)
        if not tally:
            return None
        label, scores = max(tally.items(), key=lambda kv: (len(kv[1]), sum(kv[1])))
        return label, sum(scores) / len(scores), len(scores)


class Confirmer:
    """Feeds per-frame classifications into tracks; returns confirmed detections."""

    def __init__(self, config: ConfirmConfig | None = None) -> None:
        self.config = config or ConfirmConfig()
        self.tracks: list[Track] = []
        self._next_id = 1
        self._last_alert: dict[str, float] = {}

    def _match(self, dets: list[tuple[str, float, Box]]) -> list[tuple[Track | None, int]]:
        """Greedy nearest-centroid association within max_step object sizes, same label first."""
        pairs = []
        for ti, tr in enumerate(self.tracks):
            tx, ty = _centre(tr.box)
            for di, (label, _, box) in enumerate(dets):
                dx, dy = _centre(box)
                side = _side(box)
                size = max(tr.size, side)
                if size > self.config.max_size_ratio * min(tr.size, side):
                    continue
                dist = math.hypot(dx - tx, dy - ty) / size
                if dist <= self.config.max_step:
                    cost = dist + (self.config.relabel_cost if label != tr.label else 0.0)
                    pairs.append((cost, ti, di))
        used_t: set[int] = set()
        used_d: set[int] = set()
        out: list[tuple[Track | None, int]] = []
        for _, ti, di in sorted(pairs):
            if ti not in used_t and di not in used_d:
                used_t.add(ti)
                used_d.add(di)
                out.append((self.tracks[ti], di))
        out += [(None, di) for di in range(len(dets)) if di not in used_d]
        return out

    def update(self, dets: list[tuple[str, float, Box]], ts: float) -> list[dict[str, Any]]:
        """Add one frame's (label, score, box) list seen at ts; return newly confirmed ones."""
        cfg = self.config
        self.tracks = [t for t in self.tracks if ts - t.last_seen <= cfg.track_timeout_s]
        confirmed: list[dict[str, Any]] = []
        for track, di in self._match(dets):
            label, score, box = dets[di]
            if track is None:
                track = Track(self._next_id, box, ts, ts, _centre(box), deque(maxlen=cfg.n))
                self._next_id += 1
                self.tracks.append(track)
            px, py = _centre(track.box)
            track.box, track.last_seen, track.label = box, ts, label
            (cx, cy), size = _centre(box), track.size
            # Centroid only: a clutter region that grows and shrinks is not going anywhere.
            track.path += math.hypot(cx - px, cy - py) / size
            track.travel = math.hypot(cx - track.origin[0], cy - track.origin[1]) / size
            hit = label in cfg.labels and score >= cfg.min_score
            track.votes.append((label if hit else None, score))
            win = track.winner(cfg)
            if win is None or win[0] in track.alerted:
                continue
            if win[2] < cfg.k or track.travel < cfg.min_travel:
                continue
            if track.travel < cfg.min_straightness * track.path:
                continue  # back and forth in place: a branch, a flag, a curtain
            track.alerted.add(win[0])  # once per track, even when the cooldown swallows it
            last = self._last_alert.get(win[0])
            if cfg.cooldown_s > 0 and last is not None and ts - last < cfg.cooldown_s:
                continue
            self._last_alert[win[0]] = ts
            confirmed.append(
                {
                    "label": win[0],
                    "score": round(win[1], 4),
                    "box": list(box),
                    "track": track.id,
                    "first_seen": track.first_seen,
                }
            )
        return confirmed
