"""hub.yaml: the pydantic models and the loader that reports errors as file:line: key.path."""

from hub.config.devices import (
    ButtonDevice,
    CameraDevice,
    ContactDevice,
    GpioLightConfig,
    LightDevice,
    MotionDevice,
    SensorDevice,
    VirtualDevice,
    parse_duration,
)
from hub.config.loader import ConfigError, load_config, validate_config
from hub.config.models import BrokerConfig, Config, MqttConfig, StoreConfig

__all__ = [
    "BrokerConfig",
    "ButtonDevice",
    "CameraDevice",
    "Config",
    "ConfigError",
    "ContactDevice",
    "GpioLightConfig",
    "LightDevice",
    "MotionDevice",
    "MqttConfig",
    "SensorDevice",
    "StoreConfig",
    "VirtualDevice",
    "load_config",
    "parse_duration",
    "validate_config",
]
