"""Free-disk thresholds: warn while there is still room, before the camera recorder stops itself.

The recorder stops writing clips below its own `min_free` (issue 4, `record.retain.min_free`). The
warning threshold must sit above it, so an owner hears "the disk is filling" while recordings still
work. Pure and clock-injected: check(...) returns the events to raise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from hub.health.errors import HealthConfigError
from rules.events import Event

log = logging.getLogger(__name__)


@dataclass(slots=True)
class StorageWatch:
    """Raises storage.warning once when a disk's free space falls below warn_free percent."""

    warn_free: float = 15.0  # percent free at which to warn
    stop_free: float | None = 10.0  # the recorder's own min_free, for the message and the check
    rearm: float = 2.0  # percent above warn_free that re-arms the warning
    _warned: dict[str, bool] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.stop_free is not None and self.warn_free <= self.stop_free:
            raise HealthConfigError(
                f"storage warn_free ({self.warn_free}%) must be above the recorder's min_free "
                f"({self.stop_free}%), or the warning would come after recording stops"
            )

    def is_warning(self, name: str) -> bool:
        """Whether the disk called name is below the warning threshold now."""
        return self._warned.get(name, False)

    def check(self, name: str, disk: dict[str, Any] | None, now: float) -> list[Event]:
        """Take a disk reading (HostProbe.disk) for the disk called name; return new warnings."""
        if disk is None:
            return []
        free_pct = float(disk["free_pct"])
        if free_pct < self.warn_free and not self._warned.get(name):
            self._warned[name] = True
            data = {
                "disk": name,
                "path": disk.get("path"),
                "free_pct": round(free_pct, 2),
                "used_pct": round(100.0 - free_pct, 2),
                "free_gb": disk.get("free_gb"),
                "threshold": self.warn_free,
                "recording_stops_at": self.stop_free,
            }
            log.warning("storage low disk=%s free_pct=%.1f", name, free_pct)
            return [Event(kind="storage.warning", source="hub", data=data, ts=now)]
        if free_pct >= self.warn_free + self.rearm and self._warned.get(name):
            self._warned[name] = False
            log.info("storage ok disk=%s free_pct=%.1f", name, free_pct)
        return []
