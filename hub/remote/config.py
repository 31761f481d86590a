"""The `remote:` section of hub.yaml (every key optional): how hubs watch each other."""

from __future__ import annotations

from pydantic import Field

from hub.config.devices import Duration, Strict


class RemoteConfig(Strict):
    """Heartbeat of this hub, and when another hub's silence makes its devices stale."""

    enabled: bool = True
    heartbeat: Duration = Field(5.0, gt=0)
    # None: three heartbeats.
    stale_after: Duration | None = None
