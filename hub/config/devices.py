"""Device models: one pydantic model per device `type`, all with extra="forbid"."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

DEVICE_NAME = re.compile(r"^[a-z0-9_]+$")
Format = Literal["zigbee2mqtt", "tasmota", "shelly", "json", "raw"]

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "min": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|min|m|h|d)?\s*$")


def parse_duration(value: Any) -> float:
    """Return seconds from 5, 2.5, "5s", "10 m", "1h" or "250ms"."""
    if isinstance(value, bool):
        raise PydanticCustomError("duration", "expected a duration such as 5s, 10m or 1h")
    if isinstance(value, int | float):
        if value < 0:
            raise PydanticCustomError("duration", "expected a duration >= 0")
        return float(value)
    m = _DURATION.match(str(value))
    if not m:
        raise PydanticCustomError("duration", "expected a duration such as 5s, 10m or 1h")
    return float(m.group(1)) * _UNITS[m.group(2) or "s"]


def _parse_pin(value: Any) -> int:
    if isinstance(value, bool) or not (
        isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())
    ):
        raise PydanticCustomError("gpio_pin", "expected an integer 0-27")
    pin = int(value)
    if not 0 <= pin <= 27:
        raise PydanticCustomError("gpio_pin", "expected an integer 0-27")
    return pin


def _parse_percent(value: Any) -> float:
    text = str(value).strip().rstrip("%")
    try:
        pct = float(text)
    except ValueError:
        raise PydanticCustomError("percent", "expected a percentage such as 10%") from None
    if not 0 <= pct <= 100:
        raise PydanticCustomError("percent", "expected a percentage 0-100%")
    return pct


Duration = Annotated[float, BeforeValidator(parse_duration)]
GpioPin = Annotated[int, BeforeValidator(_parse_pin)]
Percent = Annotated[float, BeforeValidator(_parse_percent)]


class Strict(BaseModel):
    """Base of every config model: unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")


class _Input(Strict):
    """A device the hub hears over MQTT."""

    topic: str = Field(min_length=1)
    format: Format = "zigbee2mqtt"
    # format json: attribute -> dotted path in the payload ("main.temp").
    fields: dict[str, str] = Field(default_factory=dict)
    # format raw: the attribute a plain payload sets (default from the device type).
    attribute: str | None = None
    # Expected reporting interval, for the health monitor; None = learn it.
    expect_every: Duration | None = None
    room: str | None = None


class MotionDevice(_Input):
    """A motion (occupancy) sensor."""

    type: Literal["motion"]


class ContactDevice(_Input):
    """A door/window contact; contact true means closed."""

    type: Literal["contact"]
    # A switch input (Tasmota SwitchN) reads ON = closed; invert for a sensor wired the other way.
    invert: bool = False


class SensorDevice(_Input):
    """A sensor with readings (temperature, humidity, illuminance, power...)."""

    type: Literal["sensor"]


class ButtonDevice(_Input):
    """A button or remote reporting actions."""

    type: Literal["button"]


class GpioLightConfig(Strict):
    """A light on a GPIO pin through gpiozero."""

    pin: GpioPin
    dimmable: bool = False
    relay: bool = False
    active_high: bool = True
    initial: bool = False
    restore: Literal["off", "on", "last"] = "last"


class LightDevice(Strict):
    """A light: on GPIO, or reached over MQTT (topic + format)."""

    type: Literal["light"]
    gpio: GpioLightConfig | None = None
    topic: str | None = None
    format: Literal["zigbee2mqtt", "tasmota", "shelly"] = "zigbee2mqtt"
    dimmable: bool | None = None
    restore: Literal["off", "on", "last"] = "last"
    room: str | None = None

    @model_validator(mode="after")
    def _one_backend(self) -> LightDevice:
        if (self.gpio is None) == (self.topic is None):
            raise PydanticCustomError("light_backend", "expected exactly one of gpio or topic")
        return self


class DetectConfig(Strict):
    """Resolution and rate the camera is analysed at."""

    width: int = Field(640, ge=32, le=3840)
    height: int = Field(360, ge=32, le=2160)
    fps: float = Field(5, gt=0, le=60)


class MotionConfig(Strict):
    """Motion detector settings; unset ones take the detector's own defaults."""

    threshold: int | None = Field(None, ge=1, le=255)
    min_area: float | None = Field(None, gt=0, lt=1)
    lightning_threshold: float | None = Field(None, gt=0, le=1)
    improve_contrast: bool | None = None
    # Frames a blob under min_area must walk on before it counts (a far-off person); 0 = never.
    small_frames: int | None = Field(None, ge=0, le=30)
    # One polygon [[x,y],...] or a list of polygons, in detect pixels.
    mask: list[list[int]] | list[list[list[int]]] = Field(default_factory=list)


class RetainConfig(Strict):
    """How long recordings are kept."""

    days: float = Field(7, gt=0)
    max_gb: float = Field(8, gt=0)
    min_free: Percent = 10.0


class RecordConfig(Strict):
    """Clip recording around motion."""

    pre: Duration = 5.0
    post: Duration = 10.0
    max: Duration = 300.0
    retain: RetainConfig = Field(default_factory=RetainConfig)


class CameraDevice(Strict):
    """A camera: rtsp URL, a device index or path, a video file, or sim:<scene>."""

    type: Literal["camera"]
    source: str | int
    detect: DetectConfig = Field(default_factory=DetectConfig)
    motion: MotionConfig = Field(default_factory=MotionConfig)
    record: RecordConfig = Field(default_factory=RecordConfig)
    # Classifier options (issue 5); free-form until its model lands.
    classifier: dict[str, Any] | None = None
    room: str | None = None


class VirtualDevice(Strict):
    """A device that exists only in the hub (an alarm mode, a scene flag)."""

    type: Literal["virtual"]
    attributes: dict[str, Any] = Field(default_factory=dict)
    room: str | None = None


Device = Annotated[
    MotionDevice
    | ContactDevice
    | SensorDevice
    | ButtonDevice
    | LightDevice
    | CameraDevice
    | VirtualDevice,
    Field(discriminator="type"),
]
INPUT_TYPES = (MotionDevice, ContactDevice, SensorDevice, ButtonDevice)
DEVICE_TYPES = ("motion", "contact", "sensor", "button", "light", "camera", "virtual")
