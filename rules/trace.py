"""What the engine returns: effects, traces (why a rule did or did not run) and timer records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rules.effects import Effect

# Trace results, in plain words for `edgehub why`.
RESULTS = {
    "ran": "ran",
    "resumed": "resumed after a delay or wait",
    "not_matched": "did not run: the trigger did not match",
    "conditions_false": "did not run: a condition was false",
    "already_running": "did not run: mode single and already running",
    "queued": "queued behind a running run",
    "queue_full": "did not run: the queue is full",
    "max_runs": "did not run: max parallel runs reached",
    "disabled": "did not run: the rule is disabled",
    "stopped": "ran and stopped at a stop action",
    "error": "failed with an error",
    "for_started": "trigger matched; waiting for it to hold",
    "for_cancelled": "did not run: the trigger stopped holding before its for: duration",
    "timeout": "a wait timed out",
    "dropped": "a timer that expired while the hub was down was dropped (on_restart: drop)",
}


@dataclass
class Trace:
    """One evaluation of one rule: trigger, conditions with the values seen, actions, result."""

    rule: str
    ts: float
    result: str = "ran"
    event_id: str | None = None
    event_kind: str | None = None
    source: str | None = None
    trigger: dict[str, Any] | None = None
    conditions: list[dict[str, Any]] = field(default_factory=list)
    actions: list[dict[str, Any]] = field(default_factory=list)
    latency_ms: float | None = None
    run_id: str | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (published on edgehub/<hub>/rules/<rule>/trace)."""
        # Shallow on purpose: the parts are already plain JSON values, and asdict's deep copy
        # was most of the cost of tracing.
        return {f: getattr(self, f) for f in _TRACE_FIELDS}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Trace:
        """Rebuild a Trace from its JSON form."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})

    def explain(self) -> str:
        """Return one plain-words line: what happened and why."""
        what = RESULTS.get(self.result, self.result)
        parts = [what]
        if self.trigger and self.trigger.get("detail"):
            parts.append(f"trigger: {self.trigger['detail']}")
        falses = [c for c in self.conditions if c.get("verdict") is False]
        if self.result == "conditions_false" and falses:
            top = ([c for c in falses if "." not in c["path"]] or falses)[0]
            parts.append(f"{top['path']} was false: {top.get('detail', '')}")
        if self.actions:
            parts.append("actions: " + "; ".join(a["result"] for a in self.actions))
        if self.error:
            parts.append(f"error: {self.error}")
        return " - ".join(parts)


_TRACE_FIELDS = tuple(Trace.__dataclass_fields__)


@dataclass
class TimerRecord:
    """A durable timer: for:, delay, wait timeout or auto-off, with its wall-clock deadline."""

    id: str
    kind: str  # "for" | "delay" | "wait" | "auto_off"
    rule: str
    deadline: float | None
    data: dict[str, Any] = field(default_factory=dict)
    digest: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return the JSON-ready form (stored in the hub's timers table)."""
        return {
            "id": self.id, "kind": self.kind, "rule": self.rule, "deadline": self.deadline,
            "data": self.data, "digest": self.digest,
        }  # fmt: skip

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TimerRecord:
        """Rebuild a record from its JSON form."""
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})


@dataclass
class Result:
    """What one call into the engine produced."""

    effects: list[Effect] = field(default_factory=list)
    traces: list[Trace] = field(default_factory=list)

    def extend(self, other: Result) -> Result:
        """Append another result's effects and traces; return self."""
        self.effects.extend(other.effects)
        self.traces.extend(other.traces)
        return self
