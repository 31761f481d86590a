"""Which other hubs can be reached now: their status, their heartbeat and our own bridge.

A hub is reachable when its retained status says online, its heartbeat (edgehub/<hub>/alive)
was heard recently (once heard at all), and our site's bridge is up (mosquitto's own
notification on $SYS/broker/connection/<id>/state). The retained status alone cannot tell:
when the bridge or the centre is down, every site keeps the last "online" it saw.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class Peer:
    """What we know of one other hub."""

    hub: str
    status: str | None = None
    last_alive: float | None = None
    devices: dict[str, str] = field(default_factory=dict)
    up: bool | None = None
    reason: str = "unknown"


class Peers:
    """The other hubs, and a pure reachability verdict for each (clock injected)."""

    def __init__(
        self, own: str, stale_after: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.own = own
        self.stale_after = stale_after
        self.clock = clock
        self.peers: dict[str, Peer] = {}
        self.bridges: dict[str, bool] = {}

    def peer(self, hub: str) -> Peer:
        """Return (creating) the record of a hub."""
        p = self.peers.get(hub)
        if p is None:
            p = self.peers[hub] = Peer(hub)
        return p

    @property
    def bridge_up(self) -> bool | None:
        """True when a bridge of our broker is connected; None when the broker has none."""
        if not self.bridges:
            return None
        return any(self.bridges.values())

    def verdict(self, hub: str) -> tuple[bool, str]:
        """Return (reachable, reason) for a hub now."""
        p = self.peers.get(hub)
        if self.bridge_up is False:
            return False, "bridge down"
        if p is None or p.status is None:
            return False, "never seen"
        if p.status != "online":
            return False, f"hub {p.status}"
        if p.last_alive is not None and self.clock() - p.last_alive > self.stale_after:
            return False, "no heartbeat"
        return True, "ok"

    def changes(self) -> list[Peer]:
        """Recompute every hub; return those whose reachability flipped."""
        out = []
        for hub, p in self.peers.items():
            up, reason = self.verdict(hub)
            p.reason = reason
            if up != p.up:
                p.up = up
                out.append(p)
        return out

    def summary(self) -> dict[str, str]:
        """Return {hub: "up" | reason} for the link topic and the dashboard."""
        return {h: ("up" if p.up else p.reason) for h, p in sorted(self.peers.items())}
