"""Cameras: capture, motion detection, pre-roll recording, snapshots and retention."""

from devices.camera.camera import Camera
from devices.camera.motion import MotionConfig, MotionDetector
from devices.camera.recorder import ClipInfo, RecordConfig, Recorder
from devices.camera.ring import PreRollBuffer
from devices.camera.source import FrameSource, OpenCVSource
from devices.camera.storage import DiskUsage, RetentionConfig, Storage

__all__ = [
    "Camera",
    "ClipInfo",
    "DiskUsage",
    "FrameSource",
    "MotionConfig",
    "MotionDetector",
    "OpenCVSource",
    "PreRollBuffer",
    "RecordConfig",
    "Recorder",
    "RetentionConfig",
    "Storage",
]
