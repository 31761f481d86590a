"""The dashboard's one exception root."""

from __future__ import annotations


class DashError(Exception):
    """Base of every dashboard error."""


class DashConfigError(DashError, ValueError):
    """The dashboard was given a config or address it cannot use."""
