"""The hub's native libraries live with the unit's MemoryDenyWriteExecute=yes.

systemd 252 enforces it with a seccomp filter; Linux 6.3+ offers the same rule per process
through prctl(PR_SET_MDWE), which a test can set on itself. The child below proves the rule is
active (a W+X mapping is refused), then loads and runs what the hub runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

CHILD = r"""
import ctypes, mmap, sys
libc = ctypes.CDLL(None, use_errno=True)
PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
    print("NO_MDWE"); sys.exit(0)
try:
    mmap.mmap(-1, 4096, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    print("W+X mapping allowed"); sys.exit(1)
except OSError:
    pass

import apprise, gpiozero, jinja2, paho.mqtt.client, pydantic, sqlite3, yaml  # noqa
import cv2, numpy as np, onnx, onnxruntime as ort
from onnx import TensorProto, helper

frame = np.random.default_rng(1).integers(0, 255, (360, 640, 3), dtype=np.uint8)
grey = cv2.GaussianBlur(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY), (21, 21), 0)
out = sys.argv[1]
w = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*"mp4v"), 5, (640, 360))
for _ in range(5):
    w.write(frame)
w.release()
cap = cv2.VideoCapture(out)
frames = 0
while cap.read()[0]:
    frames += 1

x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 32, 32])
y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4, 1, 1])
weight = helper.make_tensor("w", TensorProto.FLOAT, [4, 3, 3, 3], [0.1] * 108)
graph = helper.make_graph(
    [helper.make_node("Conv", ["x", "w"], ["c"]), helper.make_node("Relu", ["c"], ["r"]),
     helper.make_node("GlobalAveragePool", ["r"], ["y"])],
    "tiny", [x], [y], [weight])
model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
model.ir_version = 8
sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
score = sess.run(None, {"x": np.ones((1, 3, 32, 32), np.float32)})[0]
print("OK", frames, round(float(score.ravel()[0]), 3))
"""


def test_opencv_and_onnxruntime_work_under_memory_deny_write_execute(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path / "clip.mp4")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    if result.stdout.startswith("NO_MDWE"):
        pytest.skip("kernel without PR_SET_MDWE (Linux < 6.3)")
    assert result.returncode == 0, result.stdout + result.stderr
    # 5 frames written and read back; conv of ones with 0.1 weights over 27 inputs = 2.7.
    assert result.stdout.split() == ["OK", "5", "2.7"], result.stdout
