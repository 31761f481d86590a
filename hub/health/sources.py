"""Where the health component's inputs come from: the journal's history, the Zigbee2MQTT bridges
in front of devices, and the liveness of the journal writer."""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import Any

from hub.config import Config
from hub.store import read_events
from rules.events import Event

log = logging.getLogger(__name__)

INPUT_TYPES = ("motion", "contact", "sensor", "button")


class JournalProbe:
    """The journal writer is alive when it has nothing queued or has committed since last time."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.commits = 0
        self._seen = 0
        store.add_commit_listener(self._committed)

    def _committed(self, events: list[Event]) -> None:
        self.commits += 1

    def __call__(self) -> bool:
        progressed = self.commits != self._seen
        self._seen = self.commits
        return progressed or self.store.backlog() == 0


def journal_history(db: Path, devices: list[str], limit: int) -> dict[str, list[Event]]:
    """Return each device's last messages in the journal, oldest first."""
    if not db.exists():
        return {}
    out: dict[str, list[Event]] = {}
    for device in devices:
        try:
            events = list(read_events(db, device=device, kind="state", limit=limit))
        except sqlite3.Error as exc:
            log.warning("no history for %s: %s", device, exc)
            continue
        # Messages only: not retained baselines, nor the online flags this component adds.
        out[device] = [e for e in events if e.kind == "state" and set(e.data) - {"online"}]
    return out


def zigbee2mqtt_bridges(config: Config) -> dict[str, list[str]]:
    """Return {bridge state topic: [devices behind it]} for the Zigbee2MQTT devices."""
    out: dict[str, list[str]] = {}
    for name, dev in config.devices.items():
        if dev.type in INPUT_TYPES and dev.format == "zigbee2mqtt":
            base = dev.topic.strip("/").split("/")[0]
            out.setdefault(f"{base}/bridge/state", []).append(name)
    return out
