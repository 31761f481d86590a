"""The camera's `analyze` hook: cluster motion regions, classify them in one batch, confirm.

pipeline = DetectionPipeline(MotionClassifier(threads=1), ConfirmConfig())
detections = pipeline(frame, background, regions)   # confirmed only
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np

from models.confirm import ConfirmConfig, Confirmer
from models.regions import Box, cluster_boxes

log = logging.getLogger(__name__)


class RegionClassifier(Protocol):
    """Anything that labels motion boxes: the shipped CNN, a custom classifier or detector."""

    def classify_regions(
        self, frame: np.ndarray, background: np.ndarray, boxes: list[Box]
    ) -> list[tuple[str, float, Box]]:
        """(label, score, box) per object found in or around the boxes."""


class DetectionPipeline:
    """Motion regions in, confirmed detections out; one instance per camera."""

    def __init__(
        self,
        classifier: RegionClassifier,
        confirm_config: ConfirmConfig | None = None,
        *,
        gap: float = 0.02,
        max_regions: int = 8,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.classifier = classifier
        self.confirmer = Confirmer(confirm_config)
        self.gap, self.max_regions, self._clock = gap, max_regions, clock
        self.last: list[tuple[str, float, Box]] = []  # every classified region of the last call

    def __call__(
        self,
        frame: np.ndarray,
        background: np.ndarray,
        regions: list[Box],
        ts: float | None = None,
    ) -> list[dict[str, Any]]:
        """Classify this frame's motion regions; return detections confirmed by it."""
        ts = self._clock() if ts is None else ts
        gap = max(frame.shape[1] * self.gap, 2.0)
        boxes = cluster_boxes([tuple(int(v) for v in r) for r in regions], gap)
        if len(boxes) > self.max_regions:
            # Rain and snow make dozens of specks: the biggest regions are what matter.
            boxes = sorted(boxes, key=lambda b: b[2] * b[3], reverse=True)[: self.max_regions]
        self.last = self.classifier.classify_regions(frame, background, boxes) if boxes else []
        found = self.confirmer.update(self.last, ts)
        for d in found:
            log.info(
                "detection.confirmed label=%s score=%.2f track=%d box=%s",
                d["label"],
                d["score"],
                d["track"],
                d["box"],
            )
        return found


def build_pipeline(options: dict[str, Any] | None = None) -> DetectionPipeline:
    """A pipeline from a camera's `classifier:` options; raises ModelError for a bad model.

    Options: `model` (path, default the shipped one), `threads`, `custom` (a
    CustomModelConfig mapping, replaces `model`), and any ConfirmConfig field
    (`k`, `n`, `min_score`, `min_travel`, `cooldown_s`, ...). The hub catches ModelError
    and keeps the camera on motion alone.
    """
    from models.classifier import SHIPPED, MotionClassifier
    from models.custom import load_custom
    from models.errors import ModelError

    opts = dict(options or {})
    threads = int(opts.pop("threads", 1))
    custom = opts.pop("custom", None)
    model = opts.pop("model", None) or SHIPPED
    try:
        confirm = ConfirmConfig(**opts)
    except (TypeError, ValueError) as exc:
        raise ModelError(f"classifier options: {exc}") from exc
    if custom is not None:
        classifier: RegionClassifier = load_custom({"threads": threads, **custom})
    else:
        classifier = MotionClassifier(model, threads=threads)
    return DetectionPipeline(classifier, confirm)
