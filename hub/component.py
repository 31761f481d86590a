"""The small contract between the runtime and the parts it runs (lights, cameras, notifier...).

A component gets a HubContext at start and talks to the rest of the hub only through it:
it emits Events, publishes on MQTT, subscribes to topics, and registers executors for the
Effect types it carries out. This keeps the runtime the only place that wires things.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from rules.effects import Effect
from rules.events import Event

MessageHandler = Callable[[str, bytes, bool], None]
"""(topic, payload, retained): called on the asyncio loop for each message."""

EffectHandler = Callable[[Effect], Awaitable[list[Event] | None] | list[Event] | None]
"""Carries out one effect; returns the events it caused (for example the light's new state)."""


class HubContext(Protocol):
    """What a component may use of the hub."""

    hub_id: str
    data_dir: Path
    loop: asyncio.AbstractEventLoop

    def emit(self, event: Event) -> None:
        """Journal, publish and feed an event to the rules; safe from any thread."""

    def publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 1) -> None:
        """Publish on the hub's broker; safe from any thread."""

    def subscribe(self, topic: str, handler: MessageHandler, *, no_local: bool = False) -> None:
        """Receive messages on topic (wildcards allowed) on the asyncio loop; no_local: not
        the hub's own publishes (MQTT 5)."""

    def device_state(self, device: str) -> dict[str, Any]:
        """Return the last known attributes of a device."""

    def on_effect(self, effect_type: type[Effect], handler: EffectHandler) -> None:
        """Register the executor of one Effect type."""

    def now(self) -> float:
        """Return the hub's clock (epoch seconds)."""

    async def execute(self, effect: Effect) -> list[Event]:
        """Carry out an effect through its registered executor; return the events it caused."""


@runtime_checkable
class Component(Protocol):
    """A part of the hub with a lifecycle."""

    name: str

    async def start(self, ctx: HubContext) -> None:
        """Begin work; return once ready."""

    async def stop(self) -> None:
        """Finish work cleanly (close recordings, flush)."""


class EventListener(Protocol):
    """A component that also hears every event, after it is journaled (the rule host does)."""

    def on_event(self, event: Event) -> None:
        """Called on the asyncio loop for every event, in order."""
