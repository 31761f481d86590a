"""Commands to another hub's lights: their payload, the sender's outbox and the receiver's window.

A command carries an id, the hub that sent it and when it expires. The sender keeps it in an
outbox while the owning hub cannot be reached (or fails it at once, per rule); the receiver
applies each id once, so a QoS 1 redelivery over a bridge never switches a light twice.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from rules.effects import LightCommand
from rules.events import new_event_id

DEFAULT_DEADLINE_S = 300.0


def command_payload(effect: LightCommand, cmd_id: str, sender: str, expires: float) -> str:
    """Return the Zigbee2MQTT-style JSON for edgehub/<hub>/<light>/set, with id and expiry."""
    body: dict[str, Any] = {"state": effect.state.upper()}
    if effect.brightness is not None:
        body["brightness"] = round(max(0.0, min(100.0, effect.brightness)) * 255 / 100)
    if effect.transition is not None:
        body["transition"] = effect.transition
    body.update(id=cmd_id, from_hub=sender, expires=round(expires, 3))
    return json.dumps(body)


@dataclass
class Pending:
    """A remote command not yet handed to the broker."""

    hub: str
    device: str
    topic: str
    effect: LightCommand
    created: float
    expires: float
    id: str = field(default_factory=new_event_id)


class Outbox:
    """Commands waiting for their hub, in order, each with a deadline."""

    def __init__(self) -> None:
        self._items: dict[str, Pending] = {}

    def add(self, cmd: Pending) -> None:
        """Queue a command."""
        self._items[cmd.id] = cmd

    def take_for(self, hub: str, now: float) -> tuple[list[Pending], list[Pending]]:
        """Remove and return (still valid, expired) commands for a hub, oldest first."""
        mine = [c for c in self._items.values() if c.hub == hub]
        for c in mine:
            del self._items[c.id]
        return [c for c in mine if c.expires > now], [c for c in mine if c.expires <= now]

    def expire(self, cmd_id: str) -> Pending | None:
        """Remove one command whose deadline passed; None if it was already sent."""
        return self._items.pop(cmd_id, None)

    def __len__(self) -> int:
        return len(self._items)

    def pending(self) -> list[Pending]:
        """Return the queued commands, oldest first."""
        return list(self._items.values())


class CommandWindow:
    """The receiver's memory of command ids it applied (bounded, newest kept)."""

    def __init__(self, size: int = 4096) -> None:
        self._order: deque[str] = deque(maxlen=size)
        self._seen: set[str] = set()
        self.duplicates = 0
        self.expired = 0

    def check(self, payload: bytes, now: float) -> str | None:
        """Return why a set payload must be dropped ("duplicate", "expired"), else None."""
        try:
            body = json.loads(payload)
        except ValueError:
            return None  # plain ON/OFF, or bad JSON the light itself reports
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            return None
        cid = body["id"]
        if cid in self._seen:
            self.duplicates += 1
            return "duplicate"
        if len(self._order) == self._order.maxlen:
            self._seen.discard(self._order[0])
        self._order.append(cid)
        self._seen.add(cid)
        expires = body.get("expires")
        if isinstance(expires, int | float) and expires < now:
            self.expired += 1
            return "expired"
        return None
