"""The shipped model: loads, is small, tells the classes apart; bad files fail clearly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.classifier import SHIPPED, MotionClassifier
from models.dataset import CLASSES, build
from models.errors import ModelError
from models.regions import INPUT_SIZE

# The model card's held-out crop recall (person 92%, animal 87%, vehicle 97%, nuisance 84%)
# minus about two standard errors for the 50-240 crops per class rendered here (seed 777 is
# in neither the training set nor the card's). The crops come from the hub camera's own
# motion detector, as the model's training and card's do. Rendering is seeded: no flakes.
MIN_RECALL = {"person": 0.88, "animal": 0.77, "vehicle": 0.92, "nuisance": 0.79}


@pytest.fixture(scope="module")
def clf() -> MotionClassifier:
    return MotionClassifier(SHIPPED, threads=1)


def test_shipped_model_is_small_and_has_a_dynamic_batch(clf: MotionClassifier) -> None:
    assert SHIPPED.stat().st_size < 1_000_000
    assert clf.labels == CLASSES
    for n in (1, 5):
        probs = clf.scores(np.zeros((n, 3, clf.size, clf.size), np.float32))
        assert probs.shape == (n, 4)
        assert np.allclose(probs.sum(1), 1, atol=1e-4)


@pytest.mark.slow
def test_shipped_model_classifies_rendered_crops_of_each_class(clf: MotionClassifier) -> None:
    data = build(50, seed=777, progress=False, detector="hub")
    pred = clf.scores(data.inputs()).argmax(1)
    for k, name in enumerate(CLASSES):
        mine = data.y == k
        assert mine.sum() >= 15, name
        recall = float((pred[mine] == k).mean())
        assert recall >= MIN_RECALL[name], f"{name}: recall {recall:.2f} on {mine.sum()} crops"


def test_missing_file_is_a_model_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"nowhere\.onnx: model file not found"):
        MotionClassifier(tmp_path / "nowhere.onnx")


def test_garbage_file_is_a_model_error_and_a_value_error(tmp_path: Path) -> None:
    bad = tmp_path / "broken.onnx"
    bad.write_bytes(b"\x08\x07not really a protobuf" * 10)
    with pytest.raises(ValueError, match=r"broken\.onnx: not a loadable ONNX model"):
        MotionClassifier(bad)


def test_model_of_the_wrong_shape_names_file_and_expected_shape(tmp_path: Path) -> None:
    onnx = pytest.importorskip("onnx")
    from onnx import TensorProto, helper

    graph = helper.make_graph(
        [
            helper.make_node("GlobalAveragePool", ["crops"], ["p"]),
            helper.make_node("Flatten", ["p"], ["f"]),
            helper.make_node("MatMul", ["f", "w"], ["scores"]),
        ],
        "wrong",
        [helper.make_tensor_value_info("crops", TensorProto.FLOAT, ["batch", 3, 32, 32])],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 4])],
        initializer=[helper.make_tensor("w", TensorProto.FLOAT, [3, 4], [0.1] * 12)],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    path = tmp_path / "small_input.onnx"
    onnx.save(model, str(path))
    with pytest.raises(ModelError) as err:
        MotionClassifier(path)
    msg = str(err.value)
    assert "small_input.onnx" in msg and "[batch, 3, 32, 32]" in msg
    assert f"expected [batch, 3, {INPUT_SIZE}, {INPUT_SIZE}]" in msg
