"""Bring-your-own models: a YOLO-style detector and a classifier built here with onnx.helper."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.custom import CustomModelConfig, load_custom
from models.errors import ModelError

onnx = pytest.importorskip("onnx")
from onnx import TensorProto, helper  # noqa: E402


def _save(graph, path: Path) -> str:
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    onnx.save(model, str(path))
    return str(path)


def yolo_model(path: Path, rows: np.ndarray, transposed: bool = False) -> str:
    """A detector whose output is `rows` (+ 0 x the image, so the input really flows)."""
    if transposed:
        rows = rows.T
    out_shape = [1, *rows.shape]
    const = helper.make_tensor("rows", TensorProto.FLOAT, out_shape, rows.flatten().tolist())
    nodes = [
        helper.make_node("ReduceMean", ["images"], ["m"], keepdims=0),
        helper.make_node("Mul", ["m", "zero"], ["z"]),
        helper.make_node("Add", ["rows", "z"], ["output0"]),
    ]
    graph = helper.make_graph(
        nodes,
        "yolo",
        [helper.make_tensor_value_info("images", TensorProto.FLOAT, [1, 3, 64, 64])],
        [helper.make_tensor_value_info("output0", TensorProto.FLOAT, out_shape)],
        initializer=[const, helper.make_tensor("zero", TensorProto.FLOAT, [], [0.0])],
    )
    return _save(graph, path)


# cx, cy, w, h in the 64x64 input; scores for (person, cat)
ROWS = np.array(
    [
        [20, 20, 10, 20, 0.90, 0.05],
        [21, 21, 10, 20, 0.80, 0.05],  # same person, lower score: NMS drops it
        [50, 50, 8, 8, 0.10, 0.70],  # a cat
        [40, 10, 6, 6, 0.20, 0.10],  # below threshold
    ],
    np.float32,
)


@pytest.mark.parametrize("transposed", [False, True])
def test_yolo_detector_thresholds_nms_and_maps_boxes_to_the_frame(
    tmp_path: Path, transposed: bool
) -> None:
    path = yolo_model(tmp_path / "yolo.onnx", ROWS, transposed)
    det = load_custom(
        {
            "path": path,
            "kind": "detector",
            "input_size": [64, 64],
            "labels": ["person", "cat"],
            "label_map": {"cat": "animal"},
        }
    )
    frame = np.zeros((128, 128, 3), np.uint8)  # twice the input size
    found = sorted(det.detect(frame))
    assert [(lab, round(s, 2)) for lab, s, _ in found] == [("animal", 0.7), ("person", 0.9)]
    assert found[1][2] == (30, 20, 20, 40)  # (20-5)*2, (20-10)*2, 10*2, 20*2
    # Through the pipeline hook only detections touching motion are kept.
    kept = det.classify_regions(frame, frame, [(90, 90, 20, 20)])
    assert [d[0] for d in kept] == ["animal"]


def test_yolo_output_that_does_not_fit_the_labels_is_a_clear_error(tmp_path: Path) -> None:
    path = yolo_model(tmp_path / "yolo.onnx", ROWS)
    det = load_custom(
        {"path": path, "kind": "detector", "input_size": [64, 64], "labels": ["a", "b", "c", "d"]}
    )
    with pytest.raises(ModelError, match=r"yolo.onnx.*does not fit 4 labels"):
        det.detect(np.zeros((64, 64, 3), np.uint8))


def classifier_model(path: Path, layout: str) -> str:
    """(dark, bright) scores from the mean pixel: a real two-class classifier."""
    shape = ["batch", 3, 16, 16] if layout == "NCHW" else ["batch", 16, 16, 3]
    axes = [1, 2, 3]
    nodes = [
        helper.make_node("ReduceMean", ["x"], ["m"], axes=axes, keepdims=1),  # opset 17: attribute
        helper.make_node("Reshape", ["m", "shape"], ["m2"]),
        helper.make_node("MatMul", ["m2", "w"], ["y0"]),
        helper.make_node("Add", ["y0", "b"], ["scores"]),
    ]
    graph = helper.make_graph(
        nodes,
        "clf",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("scores", TensorProto.FLOAT, ["batch", 2])],
        initializer=[
            helper.make_tensor("shape", TensorProto.INT64, [2], [-1, 1]),
            helper.make_tensor("w", TensorProto.FLOAT, [1, 2], [-10.0, 10.0]),
            helper.make_tensor("b", TensorProto.FLOAT, [2], [5.0, -5.0]),
        ],
    )
    return _save(graph, path)


@pytest.mark.parametrize("layout", ["NCHW", "NHWC"])
def test_custom_classifier_reads_crops_in_its_layout(tmp_path: Path, layout: str) -> None:
    path = classifier_model(tmp_path / "clf.onnx", layout)
    clf = load_custom(
        {
            "path": path,
            "input_size": [16, 16],
            "layout": layout,
            "labels": ["dark", "bright"],
            "softmax": True,
        }
    )
    frame = np.zeros((100, 100, 3), np.uint8)
    frame[10:40, 10:40] = 255
    out = clf.classify_regions(frame, frame, [(12, 12, 26, 26), (60, 60, 20, 20)])
    assert [lab for lab, _, _ in out] == ["bright", "dark"]
    assert all(0.5 < s <= 1.0 for _, s, _ in out)


def test_custom_config_that_does_not_match_the_model_names_file_and_shape(tmp_path: Path) -> None:
    path = classifier_model(tmp_path / "clf.onnx", "NCHW")
    with pytest.raises(ModelError, match=r"clf.onnx.*expects \[batch, 3, 32, 32\]"):
        load_custom({"path": path, "input_size": [32, 32], "labels": ["dark", "bright"]})
    with pytest.raises(ModelError, match="unknown model option"):
        CustomModelConfig.from_dict({"path": path, "labels": ["a"], "colour": "blue"})
    with pytest.raises(ModelError, match="layout"):
        CustomModelConfig.from_dict({"path": path, "labels": ["a"], "layout": "CHW"})
