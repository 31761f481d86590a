"""The outbox's nouns: a stored row, a message before it is split per channel, a channel."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PRIORITY_ORDER = {"normal": 0, "high": 1, "critical": 2}


def notification_id(message_key: str) -> str:
    """Return the short id shared by every report on one owner's notification."""
    return hashlib.sha256(message_key.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Row:
    """One outbox row, as read back."""

    id: int
    key: str
    owner: str
    channel: str
    channel_name: str
    grp: str | None
    rule: str | None
    cause: str | None
    title: str
    message: str
    priority: str
    camera: str | None
    attach: str | None
    attachment: str | None
    status: str
    created: float
    hold_until: float
    next_try: float
    attempts: int
    last_error: str | None
    done_at: float | None

    @property
    def token(self) -> str:
        """Return the idempotency key sent to services that honour one."""
        return hashlib.sha256(self.key.encode()).hexdigest()[:32]

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form published on edgehub/<hub>/notifications."""
        return {
            "notification": notification_id(self.key.rsplit(":", 1)[0]),
            "key": self.token,
            "owner": self.owner,
            "channel": self.channel_name,
            "rule": self.rule,
            "cause": self.cause,
            "title": self.title,
            "message": self.message,
            "priority": self.priority,
            "camera": self.camera,
            "attachment": Path(self.attachment).name if self.attachment else None,
            "status": self.status,
            "created": self.created,
            "attempts": self.attempts,
            "error": self.last_error,
        }


FIELDS = [f.name for f in dataclasses.fields(Row)]


@dataclass(frozen=True)
class Message:
    """A notification for one owner, before it is split per channel."""

    key: str
    owner: str
    title: str
    message: str
    priority: str = "normal"
    rule: str | None = None
    cause: str | None = None
    camera: str | None = None
    attach: str | None = None
    attachment: str | None = None


# What a new row is made of: the message, plus where it goes and when.
INSERT = [
    *(f.name for f in dataclasses.fields(Message)),
    *("channel", "channel_name", "grp", "status", "created", "hold_until"),
]


@dataclass(frozen=True)
class Channel:
    """What the outbox needs to know about a channel: a stable id and a safe name."""

    id: str
    name: str
