"""A short training run still exports a model that onnxruntime runs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.classifier import MotionClassifier


def test_a_few_training_steps_export_a_working_model(tmp_path: Path) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("onnx")
    from models.train import train

    out = tmp_path / "tiny.onnx"
    summary = train(out, clips=6, epochs=3, max_steps=2, threads=1)
    assert summary["steps"] == 2 and summary["crops"] > 0
    clf = MotionClassifier(out)
    assert clf.labels == ("person", "animal", "vehicle", "nuisance")
    probs = clf.scores(np.random.default_rng(0).random((3, 3, clf.size, clf.size), np.float32))
    assert probs.shape == (3, 4) and np.allclose(probs.sum(1), 1, atol=1e-4)
