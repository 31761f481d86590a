"""The one exception root of hub.remote."""

from __future__ import annotations


class RemoteError(RuntimeError):
    """A command or manifest for another hub cannot be handled."""
