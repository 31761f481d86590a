"""Notifications to owners: a durable outbox, a sender per channel, quiet hours and digests."""

from __future__ import annotations


class NotifyError(RuntimeError):
    """Root of the notifier's errors."""


class OutboxError(NotifyError):
    """The outbox database cannot be used."""
