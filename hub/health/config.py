"""The `health:` section of hub.yaml (every key optional)."""

from __future__ import annotations

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from hub.config.devices import Duration, Percent, Strict


class DeviceHealthConfig(Strict):
    """Offline, battery, chattering and stuck thresholds for every input device."""

    offline_after: float = Field(3.0, gt=0)  # missed reporting intervals
    min_offline: Duration = 120.0
    battery_low: Percent | None = 20.0
    chatter_changes: int = Field(6, ge=2)
    chatter_window: Duration = 60.0
    stuck_after: Duration = 6 * 3600.0


class AnomalyConfig(Strict):
    """Which numeric attributes get an anomaly detector, and how sensitive it is."""

    attributes: list[str] = Field(default_factory=lambda: ["temperature", "humidity"])
    devices: list[str] | None = None  # None: every input device reporting those attributes
    threshold: float = Field(5.0, gt=0)
    min_scale: float = Field(0.05, gt=0)
    # Readings per device replayed from the journal at start-up (a week at 5-minute reports),
    # so the time-of-day profile survives a restart.
    history: int = Field(2016, ge=0)


class StorageHealthConfig(Strict):
    """Warn at this free disk; it must sit above every camera's record.retain.min_free."""

    warn_free: Percent = 15.0


class SupervisorConfig(Strict):
    """Restart policy for failed components and the liveness of the hub's own parts."""

    backoff: list[Duration] = Field(default_factory=lambda: [1.0, 5.0, 30.0], min_length=1)
    max_failures: int = Field(3, ge=1)
    window: Duration = 600.0
    settle: Duration = 10.0
    critical: list[str] = Field(default_factory=lambda: ["rules"])
    mqtt_dead_after: Duration = 600.0  # broker unreachable this long: exit for systemd
    journal_dead_after: Duration = 120.0  # journal writer stuck this long: exit for systemd


class HealthConfig(Strict):
    """Device health, anomalies, hub metrics and the supervisor."""

    enabled: bool = True
    interval: Duration = 60.0  # hub.health every interval (and on change)
    tick: Duration = 10.0  # how often silence, disks and changes are checked
    devices: DeviceHealthConfig = Field(default_factory=DeviceHealthConfig)
    anomaly: AnomalyConfig = Field(default_factory=AnomalyConfig)
    storage: StorageHealthConfig = Field(default_factory=StorageHealthConfig)
    supervisor: SupervisorConfig = Field(default_factory=SupervisorConfig)

    @model_validator(mode="after")
    def _tick_within_interval(self) -> HealthConfig:
        if self.tick > self.interval:
            raise PydanticCustomError("tick", "expected tick <= interval")
        return self
