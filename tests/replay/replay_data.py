"""Journals and rules shared by the replay tests (a module, not conftest, so it imports cleanly)."""

from __future__ import annotations

import time

from rules.events import Event

# A day two days ago at 18:00 UTC: inside the store's 30-day retention.
DAY0 = (int(time.time()) // 86400 - 2) * 86400 + 18 * 3600.0

PORCH = """
- id: porch_light
  triggers: [{device: porch_motion, attribute: occupancy, to: true}]
  actions:
    - {light: porch_light, state: on, for: 5m}
"""
DOOR = """
- id: door_alert
  triggers: [{device: front_door, attribute: contact, to: false}]
  actions:
    - {notify: alice, title: Door open}
"""
KNOWN = {"porch_motion": "motion", "porch_light": "light", "front_door": "contact"}


def porch_day(t0: float = DAY0) -> list[Event]:
    """Motion at 23:04 and 23:30, the light the old rule switched (5 min), the door at 23:10."""
    out: list[Event] = []
    for at in (5 * 3600 + 4 * 60, 5 * 3600 + 30 * 60):
        m = Event("state", "porch_motion", {"occupancy": True}, ts=t0 + at)
        out += [
            m,
            Event("state", "porch_light", {"state": "ON"}, ts=t0 + at + 0.01, cause=m.id),
            Event("state", "porch_motion", {"occupancy": False}, ts=t0 + at + 60),
            Event("state", "porch_light", {"state": "OFF"}, ts=t0 + at + 300.01, cause=m.id),
        ]
    door = Event("state", "front_door", {"contact": False}, ts=t0 + 5 * 3600 + 10 * 60)
    out.append(door)
    note = {"notification": "n1", "rule": "door_alert", "owner": "alice", "status": "sent"}
    out.append(Event("notify.sent", "notify", note, ts=door.ts + 0.5, cause=door.id))
    out.append(Event("hub.health", "hub", {}, ts=t0 + 13 * 3600))  # the journal runs to 07:00
    return sorted(out, key=lambda e: e.ts)
