"""The rule language as pydantic models: validation, and the JSON Schema for editors."""

from __future__ import annotations

from datetime import time as dtime
from typing import Annotated, Any, Literal, Union

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    WithJsonSchema,
    field_validator,
)

from rules.parse import parse_clock, parse_duration, parse_percent

Duration = Annotated[
    float,
    BeforeValidator(parse_duration),
    WithJsonSchema(
        {"type": ["string", "number"], "description": "seconds, or 30s, 2m, 1h30m, -30m"}
    ),
]
Percent = Annotated[
    float,
    BeforeValidator(parse_percent),
    WithJsonSchema({"type": ["string", "number"], "description": "0-100 or 60%"}),
]


def _clock_str(v: object) -> str:
    return parse_clock(v).strftime("%H:%M:%S")


Clock = Annotated[
    str,
    BeforeValidator(_clock_str),
    WithJsonSchema({"type": "string", "pattern": r"^\d{1,2}:\d{2}(:\d{2})?$"}),
]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
TAG = "§"  # marks union tags in error locations so the loader can drop them


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _one_or_many(v: object) -> object:
    return [v] if isinstance(v, str) else v


# ---------------------------------------------------------------- triggers
class DeviceTrigger(_Model):
    """Fires when a device attribute changes to/from a value, or crosses above/below."""

    device: str
    attribute: str | None = None
    to: Any = None
    from_: Any = Field(None, alias="from")
    above: float | None = None
    below: float | None = None
    for_: Duration | None = Field(None, alias="for")
    # Also fire when the same value is reported again (a motion sensor re-reporting occupancy
    # while someone is still there), not only on a change.
    repeat: bool = False
    id: str | None = None


class CameraTrigger(_Model):
    """Fires on a camera detection of a label with at least min_score."""

    camera: str
    detected: Annotated[list[str] | None, BeforeValidator(_one_or_many)] = None
    min_score: float = Field(0.0, ge=0.0, le=1.0)
    id: str | None = None


class MqttTrigger(_Model):
    """Fires on a message on an MQTT topic (+ and # wildcards), optionally with a payload."""

    topic: str
    payload: str | None = None
    id: str | None = None


class TimeTrigger(_Model):
    """Fires every day at a time of day."""

    at: Clock
    id: str | None = None


class CronTrigger(_Model):
    """Fires on a crontab schedule (minute hour day month weekday)."""

    cron: str
    id: str | None = None

    @field_validator("cron")
    @classmethod
    def _valid_cron(cls, v: str) -> str:
        from apscheduler.triggers.cron import CronTrigger as _Cron

        try:
            _Cron.from_crontab(v, timezone="UTC")
        except ValueError as e:
            raise ValueError(f"invalid cron expression {v!r}: {e}") from None
        return v


class SunTrigger(_Model):
    """Fires at sunrise or sunset, shifted by offset."""

    sun: Literal["sunrise", "sunset"]
    offset: Duration = 0.0
    id: str | None = None


class EventTrigger(_Model):
    """Fires on a hub event kind (device.offline, hub.started...), optionally from one source."""

    event: str
    source: str | None = None
    data: dict[str, Any] | None = None
    id: str | None = None


def _key_tag(keys: tuple[str, ...]) -> Any:
    def pick(v: Any) -> str | None:
        if isinstance(v, BaseModel):
            v = v.model_dump(by_alias=True)
        if isinstance(v, dict):
            for k in keys:
                if k in v:
                    return TAG + k
        return None

    return pick


def _keyed_union(kind: str, noun: str, members: dict[str, type[BaseModel]]) -> Any:
    # One model per key, chosen by which key the mapping carries; the tag
    # order is the order keys are tried in, and the union order the schema's.
    keys = tuple(members)
    return Annotated[
        Union[tuple(Annotated[m, Tag(TAG + k)] for k, m in members.items())],  # noqa: UP007
        Discriminator(
            _key_tag(keys),
            custom_error_type=f"{kind}_kind",
            custom_error_message=f"expected {noun} with one of: " + ", ".join(keys),
        ),
    ]


Trigger = _keyed_union(
    "trigger",
    "a trigger",
    {
        "device": DeviceTrigger,
        "camera": CameraTrigger,
        "topic": MqttTrigger,
        "at": TimeTrigger,
        "cron": CronTrigger,
        "sun": SunTrigger,
        "event": EventTrigger,
    },
)


# -------------------------------------------------------------- conditions
class DeviceCondition(_Model):
    """True when a device attribute is a value (or one of a list), above or below."""

    device: str
    attribute: str
    is_: Any = Field(None, alias="is")
    above: float | None = None
    below: float | None = None


class TimeWindow(_Model):
    """A time-of-day window; after > before crosses midnight."""

    after: Clock | None = None
    before: Clock | None = None
    weekdays: Annotated[list[Weekday] | None, BeforeValidator(_one_or_many)] = None


class TimeCondition(_Model):
    """True inside a time window."""

    time: TimeWindow


class SunWindow(_Model):
    """A window between sun events; after sunset before sunrise is the night."""

    after: Literal["sunrise", "sunset"] | None = None
    before: Literal["sunrise", "sunset"] | None = None
    after_offset: Duration = 0.0
    before_offset: Duration = 0.0


class SunCondition(_Model):
    """True inside a sun window."""

    sun: SunWindow


class AllCondition(_Model):
    """True when every sub-condition is true."""

    all: list[Condition]


class AnyCondition(_Model):
    """True when any sub-condition is true."""

    any: list[Condition]


class NotCondition(_Model):
    """True when no sub-condition is true."""

    not_: list[Condition] = Field(alias="not")


class TemplateCondition(_Model):
    """A Jinja2 expression (or {{ template }}) evaluated in a sandbox."""

    template: str


class TriggerCondition(_Model):
    """True when the run was started by the trigger with this id (or one of these ids)."""

    trigger: Annotated[list[str], BeforeValidator(_one_or_many)]


Condition = _keyed_union(
    "condition",
    "a condition",
    {
        "device": DeviceCondition,
        "time": TimeCondition,
        "sun": SunCondition,
        "all": AllCondition,
        "any": AnyCondition,
        "not": NotCondition,
        "template": TemplateCondition,
        "trigger": TriggerCondition,
    },
)


# ----------------------------------------------------------------- actions
def _light_state(v: object) -> object:
    # YAML 1.1 reads a bare on/off as a boolean.
    if v is True:
        return "on"
    if v is False:
        return "off"
    return v.lower() if isinstance(v, str) else v


class LightAction(_Model):
    """Turn lights on/off/toggle; `for` turns them off again later (restarted each time)."""

    light: Annotated[list[str], BeforeValidator(_one_or_many)]
    state: Annotated[Literal["on", "off", "toggle"], BeforeValidator(_light_state)] = "on"
    brightness: Percent | None = None
    transition: Duration | None = None
    for_: Duration | None = Field(None, alias="for")


class RecordAction(_Model):
    """Record a camera for at least `for`."""

    record: str
    for_: Duration | None = Field(None, alias="for")


class SnapshotAction(_Model):
    """Take a snapshot on a camera."""

    snapshot: str


class NotifyAction(_Model):
    """Notify owners; title and message are templates."""

    notify: Annotated[list[str], BeforeValidator(_one_or_many)]
    title: str = ""
    message: str = ""
    attach: Literal["snapshot", "clip"] | None = None
    priority: Literal["normal", "high", "critical"] = "normal"
    camera: str | None = None


class PublishAction(_Model):
    """Publish an MQTT message; topic and string payloads are templates, dicts are sent as JSON."""

    publish: str
    payload: str | int | float | bool | dict[str, Any] | list[Any] = ""
    retain: bool = False
    qos: Literal[0, 1, 2] = 1


class SetAction(BaseModel):
    """Set attributes of a virtual device: `- set: alarm` then `mode: away` (values templated)."""

    model_config = ConfigDict(extra="allow")
    set: str


class DelayAction(_Model):
    """Wait for a duration (a durable timer)."""

    delay: Duration


class WaitAction(_Model):
    """Wait for a trigger, up to timeout; continue_on_timeout false stops the run."""

    wait: Trigger
    timeout: Duration | None = None
    continue_on_timeout: bool = True


class IfAction(_Model):
    """Run `then` when all conditions hold, else `else`."""

    if_: list[Condition] = Field(alias="if")
    then: list[Action]
    else_: list[Action] = Field(default_factory=list, alias="else")


class ChooseOption(_Model):
    """One branch of choose."""

    conditions: list[Condition]
    actions: list[Action]


class ChooseAction(_Model):
    """Run the first option whose conditions hold, else default."""

    choose: list[ChooseOption]
    default: list[Action] = Field(default_factory=list)


class StopAction(_Model):
    """End the run here."""

    stop: str = ""


class EmitAction(_Model):
    """Raise an event of this kind (other rules can trigger on it with `event:`)."""

    emit: str
    data: dict[str, Any] = Field(default_factory=dict)


Action = _keyed_union(
    "action",
    "an action",
    {
        "light": LightAction,
        "record": RecordAction,
        "snapshot": SnapshotAction,
        "notify": NotifyAction,
        "publish": PublishAction,
        "set": SetAction,
        "delay": DelayAction,
        "wait": WaitAction,
        "if": IfAction,
        "choose": ChooseAction,
        "stop": StopAction,
        "emit": EmitAction,
    },
)


# -------------------------------------------------------------------- rule
class RemoteOptions(_Model):
    """What a light action on another hub's device does when that hub cannot be reached."""

    on_unreachable: Literal["queue", "fail"] = "queue"
    deadline: Duration = 300.0


class Rule(_Model):
    """One rule: triggers, conditions, actions and how runs overlap."""

    id: str = Field(pattern=r"^[A-Za-z0-9_\-]+$")
    description: str = ""
    enabled: bool = True
    triggers: list[Trigger] = Field(min_length=1)
    conditions: list[Condition] = Field(default_factory=list)
    actions: list[Action] = Field(min_length=1)
    mode: Literal["single", "restart", "queued", "parallel"] = "single"
    max: int = Field(10, ge=1)
    per: str | None = None
    on_restart: Literal["fire", "drop"] = "fire"
    remote: RemoteOptions = Field(default_factory=RemoteOptions)


for _m in (AllCondition, AnyCondition, NotCondition, IfAction, ChooseOption, ChooseAction, Rule):
    _m.model_rebuild()


def clock(v: str) -> dtime:
    """Return the time of day of a validated Clock string."""
    return dtime.fromisoformat(v)


def rules_json_schema() -> dict[str, Any]:
    """Return the JSON Schema of a rule file (a list of rules)."""
    from pydantic import TypeAdapter

    schema = TypeAdapter(list[Rule]).json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "edgehub rules file"
    return schema
