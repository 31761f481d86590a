"""The root of hub.yaml: hub, mqtt, broker, store, logging, devices, rules, owners, secrets."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_core import PydanticCustomError

from hub.config.devices import Device, Duration, Strict
from hub.health.config import HealthConfig
from hub.remote.config import RemoteConfig

try:  # written by the notifications engineer; accept plain mappings until it exists
    from hub.config.owners import NotifyConfig, OwnerConfig
except ImportError:  # pragma: no cover - only while hub/config/owners.py is missing
    OwnerConfig = dict[str, Any]  # type: ignore[misc,assignment]
    NotifyConfig = dict[str, Any]  # type: ignore[misc,assignment]

PinFactory = Literal["mock", "lgpio", "rpigpio", "native"]


def on_raspberry_pi() -> bool:
    """Return True when running on a Raspberry Pi (from the device tree model)."""
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text().lower()
    except OSError:
        return False


def default_pin_factory() -> str:
    """Return GPIOZERO_PIN_FACTORY when set, else lgpio on a Pi and mock elsewhere."""
    env = os.environ.get("GPIOZERO_PIN_FACTORY", "").strip().lower()
    if env in ("mock", "lgpio", "rpigpio", "native"):
        return env
    return "lgpio" if on_raspberry_pi() else "mock"


class Location(Strict):
    """Where the home is, for sunrise/sunset triggers."""

    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise PydanticCustomError(
                "timezone", "expected an IANA time zone such as Europe/Amsterdam"
            ) from None
        return v


class HubSection(Strict):
    """The hub itself."""

    id: str = Field("home", pattern=r"^[a-z0-9_-]+$")
    # Relative to the working directory (systemd runs the hub in its StateDirectory).
    data_dir: Path = Path("./data")
    location: Location | None = None
    pin_factory: PinFactory = Field(default_factory=default_pin_factory)


class TlsConfig(Strict):
    """TLS to the broker; paths relative to the config file."""

    ca_certs: Path | None = None
    certfile: Path | None = None
    keyfile: Path | None = None
    insecure: bool = False


class MqttConfig(Strict):
    """An external broker. Omit the whole section to use the embedded broker."""

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    tls: TlsConfig | bool = False
    protocol: Literal["auto", "5", "3.1.1"] = "auto"
    keepalive: int = Field(30, ge=5, le=3600)
    session_expiry: Duration = 86400.0
    queue_size: int = Field(20000, ge=100)

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol_str(cls, v: Any) -> Any:
        return str(v) if isinstance(v, int | float) else v

    @model_validator(mode="after")
    def _one_password(self) -> MqttConfig:
        if self.password is not None and self.password_file is not None:
            raise PydanticCustomError(
                "password_twice", "expected password or password_file, not both"
            )
        return self

    def resolved_password(self) -> str | None:
        """Return the password from the config, password_file or EDGEHUB_MQTT_PASSWORD."""
        if self.password is not None:
            return self.password.get_secret_value()
        if self.password_file is not None:
            return self.password_file.read_text().strip()
        return os.environ.get("EDGEHUB_MQTT_PASSWORD")


class BrokerConfig(Strict):
    """The embedded broker, used when there is no `mqtt` section."""

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    backend: Literal["auto", "mosquitto", "amqtt"] = "auto"


class StoreConfig(Strict):
    """The SQLite journal."""

    retention_days: float = Field(30, gt=0)
    max_mb: float = Field(512, gt=0)
    # normal survives a crashed process; full also survives a power cut, at one fsync a batch.
    synchronous: Literal["normal", "full"] = "normal"


class LoggingConfig(Strict):
    """Log output."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"
    # Log every event, one line each (noisy; `edgehub run --log-events` does the same).
    events: bool = False


class Config(Strict):
    """The whole hub.yaml."""

    hub: HubSection = Field(default_factory=HubSection)
    mqtt: MqttConfig | None = None
    broker: BrokerConfig = Field(default_factory=BrokerConfig)
    store: StoreConfig = Field(default_factory=StoreConfig)
    logging: LoggingConfig = Field(default_factory=LoggingConfig)
    devices: dict[str, Device] = Field(default_factory=dict)
    rules: Path | None = None
    owners: dict[str, OwnerConfig] = Field(default_factory=dict)
    notify: NotifyConfig | None = None
    secrets: Path | None = None
    health: HealthConfig = Field(default_factory=HealthConfig)
    remote: RemoteConfig = Field(default_factory=RemoteConfig)
    # Where the file was read from; relative paths (rules, secrets, files) resolve against it.
    source: Path | None = Field(None, exclude=True)

    def device_types(self) -> dict[str, str]:
        """Return {device name: type}, for the rule loader."""
        return {name: d.type for name, d in self.devices.items()}
