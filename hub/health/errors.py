"""The one exception root of hub.health."""

from __future__ import annotations


class HealthError(Exception):
    """Root of every error raised by hub.health."""


class HealthConfigError(HealthError, ValueError):
    """A health setting (duration, percentage, threshold) is not valid."""


class ComponentGaveUp(HealthError, RuntimeError):
    """A supervised component failed too often and was left stopped."""
