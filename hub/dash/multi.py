"""`edgehub dash --hub '*'`: every hub on the broker at once, each with its status and link.

Devices and rules are named `<hub>/<name>`, so the views need no change: a command for
`garage/path_light` goes to edgehub/garage/path_light/set as a remote rule's would.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from hub.dash.link import DashLink
from hub.dash.model import HomeModel, _json

ALL = "*"


@dataclass
class HubLink:
    """One hub as the dashboard sees it: status (its will), its link view, its heartbeat."""

    hub: str
    status: str | None = None
    link: dict[str, Any] = field(default_factory=dict)
    last_alive: float | None = None


class MultiDashLink(DashLink):
    """A DashLink on edgehub/# that addresses commands to the hub named in the target."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.prefix = "edgehub/"

    def publish(self, topic_suffix: str, payload: dict[str, Any] | str) -> bool:
        """Publish `<hub>/<device>/set` as is; `rules/<hub>/<rule>/set` as <hub>/rules/..."""
        if topic_suffix.startswith("rules/"):
            hub, _, rest = topic_suffix.removeprefix("rules/").partition("/")
            topic_suffix = f"{hub}/rules/{rest}"
        return super().publish(topic_suffix, payload)


class MultiHomeModel(HomeModel):
    """A HomeModel over every hub: names prefixed with their hub, one HubLink per hub."""

    def __init__(self, hub_id: str = ALL, *args: Any, **kwargs: Any) -> None:
        super().__init__(hub_id, *args, **kwargs)
        self.prefix = "edgehub/"
        self.hubs: dict[str, HubLink] = {}

    def hub(self, name: str) -> HubLink:
        """Return (creating) the record of one hub."""
        h = self.hubs.get(name)
        if h is None:
            h = self.hubs[name] = HubLink(name)
        return h

    def apply(self, topic: str, payload: bytes, retained: bool = False) -> set[str]:
        """Take one message of any hub; return the names of the views it changed."""
        parts = topic.split("/")
        if len(parts) < 3 or parts[0] != "edgehub":
            return set()
        hub, rest = parts[1], parts[2:]
        info = self.hub(hub)
        if rest == ["status"]:
            info.status = payload.decode(errors="replace").strip() or None
            return {"hub"}
        if rest == ["link"]:
            data = _json(payload)
            info.link = data if isinstance(data, dict) else {}
            return {"hub"}
        if rest == ["alive"]:
            info.last_alive = self.clock()
            return set()
        if rest == ["devices"]:
            data = _json(payload)
            if isinstance(data, dict) and isinstance(data.get("devices"), dict):
                data = {
                    "devices": {f"{hub}/{n}": d for n, d in data["devices"].items()},
                    "rules": [f"{hub}/{r}" for r in data.get("rules") or []],
                }
            return self._apply_manifest(data)
        if rest == ["events"]:
            data = _json(payload)
            if not isinstance(data, dict):
                self.malformed += 1
                return set()
            return self.add_event({**data, "source": f"{hub}/{data.get('source', '?')}"})
        if len(rest) == 3 and rest[0] == "rules":
            return self._apply_rule(f"{hub}/{rest[1]}", rest[2], payload)
        if len(rest) == 2 and rest[1] == "state":
            return self._apply_state(f"{hub}/{rest[0]}", payload, retained)
        if len(rest) == 2 and rest[1] == "snapshot":
            cam = self.camera(f"{hub}/{rest[0]}")
            cam.snapshot = payload or None
            cam.snapshot_seq += 1
            return {"cameras"}
        return set()

    def hub_lines(self) -> list[str]:
        """One line per hub: its status, its bridge, and how it sees the others."""
        lines = []
        for name, h in sorted(self.hubs.items()):
            bridge = h.link.get("bridge", "?") if h.link else "?"
            peers = h.link.get("peers") if isinstance(h.link.get("peers"), dict) else {}
            seen = f"{self.clock() - h.last_alive:.0f}s ago" if h.last_alive else "–"
            others = ", ".join(f"{p} {v}" for p, v in sorted(peers.items())) or "–"
            lines.append(
                f"[b]{name}[/b]: {h.status or '?'} · bridge {bridge} · heartbeat {seen}"
                f" · sees {others}"
            )
        return lines

    def link_json(self) -> str:
        """Return every hub's status and link as JSON (for scripts and tests)."""
        return json.dumps(
            {n: {"status": h.status, "link": h.link} for n, h in sorted(self.hubs.items())}
        )
