"""JPEG snapshots: encode a frame and write it atomically beside the clips."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np

from devices.errors import CameraError


def encode_jpeg(frame: np.ndarray, quality: int = 85) -> bytes:
    """Return the JPEG bytes of a BGR (or grey) frame."""
    ok, buf = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise CameraError("JPEG encoding failed")
    return buf.tobytes()


def write_snapshot(path: Path, jpeg: bytes) -> Path:
    """Write JPEG bytes to path through a temporary file, so readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(jpeg)
    os.replace(tmp, path)
    return path
