"""The decision core: the rule language and a pure, deterministic engine."""

from rules.effects import Effect, Emit, LightCommand, Notify, Publish, Record, SetState, Snapshot
from rules.events import Event, new_event_id

__all__ = [
    "Effect",
    "Emit",
    "Event",
    "LightCommand",
    "Notify",
    "Publish",
    "Record",
    "SetState",
    "Snapshot",
    "new_event_id",
]
