"""The onnxruntime wrapper for the motion classifier: one session, created once, reused.

Session options suit a small ARM CPU: a configured number of intra-op threads, one
inter-op thread, sequential execution and all graph optimisations. Every crop of a
frame goes through one `session.run` (the batch axis is dynamic).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnxruntime as ort

from models.errors import ModelError
from models.regions import CHANNELS, INPUT_SIZE, Box, make_crops, square_crop

log = logging.getLogger(__name__)

DEFAULT_LABELS = ("person", "animal", "vehicle", "nuisance")
SHIPPED = Path(__file__).resolve().parent / "motion.onnx"


def session_options(threads: int = 1) -> ort.SessionOptions:
    """SessionOptions for a small CPU: `threads` intra-op, sequential, full graph optimisation."""
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(int(threads), 1)
    opts.inter_op_num_threads = 1
    opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.log_severity_level = 3  # onnxruntime's warnings would flood the journal
    return opts


def load_session(path: Path | str, threads: int = 1) -> ort.InferenceSession:
    """Open an ONNX file on the CPU provider, or raise ModelError naming the file."""
    p = Path(path)
    if not p.is_file():
        raise ModelError(f"{p}: model file not found")
    try:
        return ort.InferenceSession(
            str(p), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped errors for bad files
        raise ModelError(
            f"{p}: not a loadable ONNX model ({exc.__class__.__name__}: {exc})"
        ) from exc


def _dims(shape: list) -> str:
    return "[" + ", ".join(str(d) if isinstance(d, int) else "batch" for d in shape) + "]"


class MotionClassifier:
    """Scores motion regions as person / animal / vehicle / nuisance with the shipped CNN."""

    def __init__(self, path: Path | str = SHIPPED, threads: int = 1, margin: float = 0.15) -> None:
        self.path = Path(path)
        self.margin = margin
        self.session = load_session(self.path, threads)
        inputs, outputs = self.session.get_inputs(), self.session.get_outputs()
        meta = self.session.get_modelmeta().custom_metadata_map
        self.size = int(meta.get("input_size", INPUT_SIZE))
        self.labels = tuple(meta["labels"].split(",")) if "labels" in meta else DEFAULT_LABELS
        want = f"[batch, {len(CHANNELS)}, {self.size}, {self.size}]"
        if len(inputs) != 1 or len(inputs[0].shape) != 4:
            got = ", ".join(f"{i.name}{_dims(i.shape)}" for i in inputs)
            raise ModelError(f"{self.path}: expected one input of shape {want}, found {got}")
        shape = inputs[0].shape
        if list(shape[1:]) != [len(CHANNELS), self.size, self.size] or isinstance(shape[0], int):
            raise ModelError(
                f"{self.path}: input {inputs[0].name} has shape {_dims(shape)}; "
                f"expected {want} with a dynamic batch axis"
            )
        out_shape = outputs[0].shape if outputs else []
        if len(out_shape) != 2 or out_shape[1] != len(self.labels):
            raise ModelError(
                f"{self.path}: output has shape {_dims(out_shape)}; "
                f"expected [batch, {len(self.labels)}] for labels {list(self.labels)}"
            )
        self._input, self._output = inputs[0].name, outputs[0].name
        log.info("classifier.loaded file=%s labels=%s threads=%d", self.path, self.labels, threads)

    def scores(self, crops: np.ndarray) -> np.ndarray:
        """Class probabilities (N, C) for crops (N, 3, S, S) float32, in one session.run."""
        if len(crops) == 0:
            return np.zeros((0, len(self.labels)), np.float32)
        return self.session.run([self._output], {self._input: crops.astype(np.float32)})[0]

    def classify_regions(
        self, frame: np.ndarray, background: np.ndarray, boxes: list[Box]
    ) -> list[tuple[str, float, Box]]:
        """(label, score, box) for each motion box, cropped square with margin."""
        squares = [square_crop(b, self.margin) for b in boxes]
        probs = self.scores(make_crops(frame, background, squares, self.size))
        best = probs.argmax(axis=1) if len(probs) else []
        return [
            (self.labels[k], float(probs[i, k]), tuple(int(v) for v in boxes[i]))
            for i, k in enumerate(best)
        ]
