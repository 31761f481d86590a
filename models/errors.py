"""The one exception root of the models package."""

from __future__ import annotations


class ModelError(ValueError):
    """A model file that is missing, malformed or does not fit what we feed it."""
