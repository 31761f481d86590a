"""The decision core: the rule language and a pure, deterministic engine."""

from rules.effects import Effect, Emit, LightCommand, Notify, Publish, Record, SetState, Snapshot
from rules.engine import Engine
from rules.errors import RuleRuntimeError, RulesError, RuleSyntaxError
from rules.events import Event, new_event_id
from rules.loader import LoadedRule, LoadResult, load_rules, load_text
from rules.schema import rules_json_schema
from rules.trace import Result, TimerRecord, Trace

__all__ = [
    "Effect",
    "Emit",
    "Engine",
    "Event",
    "LightCommand",
    "LoadResult",
    "LoadedRule",
    "Notify",
    "Publish",
    "Record",
    "Result",
    "RuleRuntimeError",
    "RuleSyntaxError",
    "RulesError",
    "SetState",
    "Snapshot",
    "TimerRecord",
    "Trace",
    "load_rules",
    "load_text",
    "new_event_id",
    "rules_json_schema",
]
