"""Bring your own ONNX model: a region classifier or a YOLO-style detector, described by config.

The config names the file, its input size, layout (NCHW/NHWC), pixel format, scaling and
labels. A classifier sees square crops of the frame around each motion region; a detector
sees the whole frame, and its boxes are kept where they touch motion (after NMS).
Either plugs into DetectionPipeline in place of the shipped MotionClassifier.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, fields
from typing import Any

import cv2
import numpy as np

from models.classifier import load_session
from models.errors import ModelError
from models.regions import Box, square_crop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CustomModelConfig:
    """How to feed and read a foreign model."""

    path: str
    kind: str = "classifier"  # classifier | detector
    input_size: tuple[int, int] = (224, 224)  # width, height
    layout: str = "NCHW"  # NCHW | NHWC
    pixel_format: str = "rgb"  # rgb | bgr | grey
    scale: float = 1 / 255  # pixel * scale, then (x - mean) / std
    mean: tuple[float, ...] = (0.0,)
    std: tuple[float, ...] = (1.0,)
    labels: tuple[str, ...] = ()
    label_map: dict[str, str] = field(default_factory=dict)  # e.g. {"cat": "animal"}
    softmax: bool = False  # apply softmax to a classifier's raw logits
    score_threshold: float = 0.5
    nms_iou: float = 0.45
    margin: float = 0.15
    threads: int = 1

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CustomModelConfig:
        """Build from a config mapping; unknown keys are an error naming them."""
        known = {f.name for f in fields(cls)}
        extra = sorted(set(data) - known)
        if extra:
            raise ModelError(f"unknown model option(s) {extra}; known: {sorted(known)}")
        d = dict(data)
        for key in ("input_size", "mean", "std", "labels"):
            if key in d:
                d[key] = tuple(d[key])
        return cls(**d)

    def __post_init__(self) -> None:
        checks = {
            "kind": ("classifier", "detector"),
            "layout": ("NCHW", "NHWC"),
            "pixel_format": ("rgb", "bgr", "grey"),
        }
        for key, allowed in checks.items():
            if getattr(self, key) not in allowed:
                raise ModelError(
                    f"{self.path}: {key}={getattr(self, key)!r}; expected one of {allowed}"
                )
        if not self.labels:
            raise ModelError(f"{self.path}: a custom model needs its label list")


class _Runner:
    """The shared part: session, shape checks and preprocessing."""

    def __init__(self, config: CustomModelConfig) -> None:
        self.config = c = config
        self.session = load_session(c.path, c.threads)
        inp = self.session.get_inputs()
        if len(inp) != 1 or len(inp[0].shape) != 4:
            raise ModelError(
                f"{c.path}: expected one 4-d image input, found {[i.shape for i in inp]}"
            )
        self._input = inp[0].name
        self.channels = 1 if c.pixel_format == "grey" else 3
        w, h = c.input_size
        want = [self.channels, h, w] if c.layout == "NCHW" else [h, w, self.channels]
        got = list(inp[0].shape[1:])
        if any(isinstance(g, int) and g != e for g, e in zip(got, want, strict=True)):
            raise ModelError(
                f"{c.path}: input {self._input} has shape {inp[0].shape}; the config "
                f"({c.layout}, {c.pixel_format}, {w}x{h}) expects "
                f"[batch, {', '.join(map(str, want))}]"
            )
        self.batch_dynamic = not isinstance(inp[0].shape[0], int)
        self._mean = np.array(c.mean, np.float32)
        self._std = np.array(c.std, np.float32)

    def prepare(self, images: list[np.ndarray]) -> np.ndarray:
        """BGR uint8 images to one input tensor in the model's size, format, scale and layout."""
        c = self.config
        out = []
        for img in images:
            if c.pixel_format == "grey":
                img = (
                    cv2.cvtColor(img, cv2.COLOR_BGR2GRAY)[:, :, None]
                    if img.ndim == 3
                    else img[:, :, None]
                )
            elif c.pixel_format == "rgb":
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
            img = cv2.resize(img, c.input_size, interpolation=cv2.INTER_AREA)
            img = img.reshape(c.input_size[1], c.input_size[0], -1).astype(np.float32)
            out.append((img * c.scale - self._mean) / self._std)
        x = np.stack(out)
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2) if c.layout == "NCHW" else x)

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """session.run, one image at a time when the model has a fixed batch of 1."""
        if self.batch_dynamic or len(x) == 1:
            return self.session.run(None, {self._input: x})
        parts = [self.session.run(None, {self._input: x[i : i + 1]}) for i in range(len(x))]
        return [np.concatenate([p[k] for p in parts]) for k in range(len(parts[0]))]

    def name(self, index: int) -> str:
        """Our label for the model's class index (label_map applied)."""
        raw = self.config.labels[index]
        return self.config.label_map.get(raw, raw)


def _bgr(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR) if frame.ndim == 2 else frame


class CustomClassifier(_Runner):
    """A foreign classifier over square frame crops around each motion region."""

    def classify_regions(
        self, frame: np.ndarray, background: np.ndarray, boxes: list[Box]
    ) -> list[tuple[str, float, Box]]:
        """(label, score, box) per region."""
        if not boxes:
            return []
        frame = _bgr(frame)
        crops = []
        for b in boxes:
            x0, y0, side = square_crop(b, self.config.margin)
            pad = cv2.copyMakeBorder(frame, side, side, side, side, cv2.BORDER_REPLICATE)
            crops.append(pad[y0 + side : y0 + 2 * side, x0 + side : x0 + 2 * side])
        scores = self.run(self.prepare(crops))[0].reshape(len(boxes), -1)
        if scores.shape[1] != len(self.config.labels):
            raise ModelError(
                f"{self.config.path}: output has {scores.shape[1]} classes but "
                f"{len(self.config.labels)} labels are configured"
            )
        if self.config.softmax:
            e = np.exp(scores - scores.max(1, keepdims=True))
            scores = e / e.sum(1, keepdims=True)
        best = scores.argmax(1)
        return [
            (self.name(int(k)), float(scores[i, k]), tuple(boxes[i])) for i, k in enumerate(best)
        ]


def nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Indices kept by greedy non-maximum suppression; boxes are (x0, y0, x1, y1)."""
    order = list(np.argsort(-scores))
    keep: list[int] = []
    area = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    while order:
        i = order.pop(0)
        keep.append(int(i))
        rest = np.array(order, int)
        if rest.size == 0:
            break
        xx0 = np.maximum(boxes[i, 0], boxes[rest, 0])
        yy0 = np.maximum(boxes[i, 1], boxes[rest, 1])
        xx1 = np.minimum(boxes[i, 2], boxes[rest, 2])
        yy1 = np.minimum(boxes[i, 3], boxes[rest, 3])
        inter = np.clip(xx1 - xx0, 0, None) * np.clip(yy1 - yy0, 0, None)
        ratio = inter / np.maximum(area[i] + area[rest] - inter, 1e-9)
        order = [int(j) for j, r in zip(rest, ratio, strict=True) if r <= iou]
    return keep


class YoloDetector(_Runner):
    """A YOLO-style detector: rows of (cx, cy, w, h, [objectness], class scores...)."""

    def detect(self, frame: np.ndarray) -> list[tuple[str, float, Box]]:
        """All detections in the frame after thresholding and per-class NMS."""
        c = self.config
        frame = _bgr(frame)
        h, w = frame.shape[:2]
        out = self.run(self.prepare([frame]))[0]
        rows = out.reshape(out.shape[-2], out.shape[-1]) if out.ndim == 3 else out
        n_cls = len(c.labels)
        if rows.shape[1] not in (4 + n_cls, 5 + n_cls) and rows.shape[0] in (4 + n_cls, 5 + n_cls):
            rows = rows.T  # YOLOv8 exports (4 + classes, anchors)
        if rows.shape[1] not in (4 + n_cls, 5 + n_cls):
            raise ModelError(
                f"{c.path}: detector output {list(out.shape)} does not fit {n_cls} labels; "
                f"expected [1, N, {4 + n_cls}] or [1, N, {5 + n_cls}] (or transposed)"
            )
        cls = rows[:, -n_cls:]
        if rows.shape[1] == 5 + n_cls:
            cls = cls * rows[:, 4:5]
        best = cls.argmax(1)
        score = cls[np.arange(len(rows)), best]
        ok = score >= c.score_threshold
        rows, best, score = rows[ok], best[ok], score[ok]
        if len(rows) == 0:
            return []
        iw, ih = c.input_size
        # Coordinates in input pixels, or normalised 0..1 by some exporters.
        sx, sy = (w, h) if rows[:, :4].max() <= 1.5 else (w / iw, h / ih)
        xyxy = np.stack(
            [
                (rows[:, 0] - rows[:, 2] / 2) * sx,
                (rows[:, 1] - rows[:, 3] / 2) * sy,
                (rows[:, 0] + rows[:, 2] / 2) * sx,
                (rows[:, 1] + rows[:, 3] / 2) * sy,
            ],
            axis=1,
        )
        found: list[tuple[str, float, Box]] = []
        for k in np.unique(best):
            idx = np.nonzero(best == k)[0]
            for j in nms(xyxy[idx], score[idx], c.nms_iou):
                x0, y0, x1, y1 = xyxy[idx[j]]
                box = (int(x0), int(y0), int(x1 - x0), int(y1 - y0))
                found.append((self.name(int(k)), float(score[idx[j]]), box))
        return found

    def classify_regions(
        self, frame: np.ndarray, background: np.ndarray, boxes: list[Box]
    ) -> list[tuple[str, float, Box]]:
        """Detections on the whole frame that touch a motion box (all of them if none given)."""
        dets = self.detect(frame)
        if not boxes:
            return dets

        def touches(d: Box) -> bool:
            return any(
                d[0] < b[0] + b[2]
                and b[0] < d[0] + d[2]
                and d[1] < b[1] + b[3]
                and b[1] < d[1] + d[3]
                for b in boxes
            )

        return [d for d in dets if touches(d[2])]


def load_custom(config: CustomModelConfig | dict[str, Any]) -> CustomClassifier | YoloDetector:
    """Open a foreign model as the classifier or detector its config names."""
    cfg = config if isinstance(config, CustomModelConfig) else CustomModelConfig.from_dict(config)
    runner = YoloDetector(cfg) if cfg.kind == "detector" else CustomClassifier(cfg)
    log.info("custom_model.loaded file=%s kind=%s labels=%d", cfg.path, cfg.kind, len(cfg.labels))
    return runner
