"""The one exception root of the devices package; each error also subclasses a builtin."""

from __future__ import annotations


class DeviceError(Exception):
    """Root of every error raised by devices/."""


class LightError(DeviceError, ValueError):
    """A light was given a command or payload it cannot carry out."""


class CameraError(DeviceError, RuntimeError):
    """A camera source, recorder or snapshot failed."""


class StorageFullError(CameraError):
    """Recording storage is over its quota or below its free-space floor."""
