"""The hub context as a supervised component sees it: its handlers report its failures."""

from __future__ import annotations

import inspect
from typing import Any, Protocol

from hub.component import EffectHandler, HubContext, MessageHandler
from hub.health.errors import ComponentGaveUp
from rules.effects import Effect
from rules.events import Event


class Member(Protocol):
    """What the context needs of the supervised component it belongs to."""

    name: str
    state: str

    def fail(self, exc: BaseException) -> None:
        """Record a failure of the component."""


class SupervisedContext:
    """The hub context as a supervised component sees it: its handlers report its failures.

    Subscriptions and executors are registered with the hub once and routed to the handlers of
    the component's current run, so a restarted component does not pile up duplicate handlers.
    """

    def __init__(self, ctx: HubContext, member: Member) -> None:
        self._ctx = ctx
        self._member = member
        self.generation = 0
        self._subs: dict[str, list[tuple[int, MessageHandler]]] = {}
        self._effects: dict[type[Effect], tuple[int, EffectHandler]] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._ctx, name)

    def report_failure(self, exc: BaseException) -> None:
        """Let the component say it is broken (from the asyncio loop or any thread)."""
        self._ctx.loop.call_soon_threadsafe(self._member.fail, exc)

    def subscribe(self, topic: str, handler: MessageHandler, *, no_local: bool = False) -> None:
        """Subscribe through the hub once per topic; route to the current run's handlers."""
        first = topic not in self._subs
        current = [(g, h) for g, h in self._subs.get(topic, ()) if g == self.generation]
        self._subs[topic] = [*current, (self.generation, handler)]
        if first:
            # Only when asked: a context without the option still serves everything else.
            options = {"no_local": True} if no_local else {}
            self._ctx.subscribe(
                topic, lambda t, p, r, _topic=topic: self._deliver(_topic, t, p, r), **options
            )

    def _deliver(self, key: str, topic: str, payload: bytes, retained: bool) -> None:
        if self._member.state != "running":
            return
        for gen, handler in list(self._subs.get(key, ())):
            if gen != self.generation:
                continue
            try:
                handler(topic, payload, retained)
            except Exception as exc:
                self._member.fail(exc)
                return

    def on_effect(self, effect_type: type[Effect], handler: EffectHandler) -> None:
        """Register an executor that refuses while the component is down."""
        first = effect_type not in self._effects
        self._effects[effect_type] = (self.generation, handler)
        if first:
            self._ctx.on_effect(effect_type, lambda e, _t=effect_type: self._execute(_t, e))

    async def _execute(self, effect_type: type[Effect], effect: Effect) -> list[Event] | None:
        gen, handler = self._effects[effect_type]
        if self._member.state != "running" or gen != self.generation:
            raise ComponentGaveUp(f"component {self._member.name} is {self._member.state}")
        try:
            result = handler(effect)
            if inspect.isawaitable(result):
                result = await result
        except Exception as exc:
            self._member.fail(exc)
            raise
        return result
