"""A small harness: the real engine on a virtual clock, with effects recorded at their times."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from rules import Engine, Event, LightCommand, load_text
from rules.parse import parse_duration

PARIS = {"latitude": 48.85, "longitude": 2.35}


def local_ts(text: str, tz: str = "UTC") -> float:
    """Epoch seconds of a local date-time string."""
    return datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(tz)).timestamp()


class Harness:
    """Feeds events at virtual times and records (offset seconds, effect) and traces."""

    def __init__(
        self, text: str, tz: str = "UTC", location: Any = None, start: str = "2026-01-05 12:00"
    ):
        res = load_text(text)
        assert res.ok, res.errors
        self.loaded = res.rules
        self.engine = Engine(res.rules, location=location, timezone=tz)
        self.t0 = local_ts(start, tz)
        self.effects: list[tuple[float, Any]] = []
        self.traces: list[Any] = []
        self._record(self.engine.advance(self.t0), self.t0)

    def _record(self, res: Any, t: float) -> Any:
        self.effects += [(round(t - self.t0, 3), e) for e in res.effects]
        self.traces += res.traces
        return res

    def run_until(self, at: Any) -> None:
        """Fire every timer up to offset `at`."""
        t = self.t0 + parse_duration(at)
        while (d := self.engine.next_deadline()) is not None and d <= t:
            self._record(self.engine.advance(d), d)

    def send(self, kind: str, source: str, data: dict | None = None, at: Any = 0) -> Any:
        """Deliver an event at offset `at` (timers before it fire first)."""
        self.run_until(at)
        t = self.t0 + parse_duration(at)
        return self._record(self.engine.handle(Event(kind, source, data or {}, ts=t), t), t)

    def state(self, device: str, at: Any = 0, **attrs: Any) -> Any:
        """A device reports attributes."""
        return self.send("state", device, attrs, at)

    def baseline(self, device: str, **attrs: Any) -> None:
        """Known state that must never trigger."""
        self.send("state.baseline", device, attrs, 0)

    def lights(self) -> list[tuple[float, str, str, float | None]]:
        """The light commands so far, as (offset, device, state, brightness)."""
        return [
            (t, e.device, e.state, e.brightness)
            for t, e in self.effects
            if isinstance(e, LightCommand)
        ]

    def kinds(self) -> list[str]:
        """Effect class names in order."""
        return [type(e).__name__ for _, e in self.effects]

    def results(self, rule: str | None = None) -> list[str]:
        """Trace results in order (for one rule)."""
        return [t.result for t in self.traces if rule is None or t.rule == rule]


class LoopContext:
    """A small HubContext for the rule host on a real asyncio loop, with a settable clock.

    It stands in for hub/runtime.py's Hub where a broker is not the point of the test:
    executed effects and publications are recorded, emitted events go back to listeners.
    """

    hub_id = "home"

    def __init__(self, data_dir: Any, loop: Any, t: float) -> None:
        self.data_dir, self.loop, self.t = data_dir, loop, t
        self.executed: list[tuple[float, Any]] = []
        self.published: list[tuple[str, str, bool]] = []
        self.handlers: list[tuple[str, Any]] = []
        self.listeners: list[Any] = []
        self.states: dict[str, dict] = {}

    def now(self) -> float:
        return self.t

    def emit(self, event: Any) -> None:
        for fn in self.listeners:
            self.loop.call_soon(fn, event)

    def publish(self, topic: str, payload: Any, retain: bool = False, qos: int = 1) -> None:
        self.published.append((topic, payload, retain))

    def subscribe(self, topic: str, handler: Any) -> None:
        self.handlers.append((topic, handler))

    def deliver(self, topic: str, payload: bytes, retained: bool = False) -> None:
        from rules.match import topic_matches

        for pattern, fn in self.handlers:
            if topic_matches(pattern, topic):
                fn(topic, payload, retained)

    def device_state(self, device: str) -> dict:
        return dict(self.states.get(device, {}))

    def on_effect(self, effect_type: Any, handler: Any) -> None:
        pass

    async def execute(self, effect: Any) -> list:
        self.executed.append((self.t, effect))
        return []
