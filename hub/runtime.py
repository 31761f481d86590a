"""The asyncio Hub: implements hub/component.py's HubContext and runs the components.

Order of an event: journaled (queued to the writer in order) -> device state updated and
published retained -> published on edgehub/<hub>/events -> every listener's on_event.
Events emitted while listeners run are queued behind, so every listener sees one order.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import signal
import threading
from collections import Counter, deque
from typing import Any

from hub.component import Component, EffectHandler, MessageHandler
from hub.config import Config
from hub.embedded_broker import AmqttBroker, EmbeddedBroker, start_embedded_broker
from hub.ingest import Ingest
from hub.jsontext import to_json
from hub.memory import release_startup_memory
from hub.mqtt import BrokerLogin, Inbox, LinkSettings, MqttLink
from hub.store import Store
from hub.wiring import Backends, build_components
from rules.effects import Effect, Emit, Publish, SetState
from rules.events import Event

log = logging.getLogger(__name__)
event_log = logging.getLogger("hub.events")

_STATE_KINDS = ("state", "state.baseline")


class HubError(RuntimeError):
    """The hub cannot do what was asked."""


class NoExecutor(HubError, LookupError):
    """No component carries out this kind of effect."""


class Hub:
    """The running hub: one asyncio loop, one MQTT link, one journal, the components."""

    def __init__(
        self,
        config: Config,
        *,
        backends: Backends | None = None,
        components: list[Component] | None = None,
        log_events: bool | None = None,
    ):
        self.config = config
        self.hub_id = config.hub.id
        self.data_dir = config.hub.data_dir
        self.backends = backends or Backends()
        self.loop: asyncio.AbstractEventLoop = None  # type: ignore[assignment]
        self.store = Store(
            self.data_dir,
            retention_days=config.store.retention_days,
            max_mb=config.store.max_mb,
            synchronous=config.store.synchronous,
        )
        self.link: MqttLink | None = None
        self.broker: EmbeddedBroker | None = None
        self.components: list[Component] = []
        self.started = threading.Event()  # set once ready (tests, benchmarks)
        self.stats: Counter[str] = Counter()
        self.manifest_extra: dict[str, Any] = {"rules": []}
        self._given_components = components
        self._log_events = config.logging.events if log_events is None else log_events
        self._state: dict[str, dict[str, Any]] = {}
        self.ingest = Ingest(self.emit, self.device_state, self.now)
        self._executors: dict[type, EffectHandler] = {}
        self._remote_executor: EffectHandler | None = None
        self._listeners: list[Any] = []
        self._no_local: set[str] = set()
        self._pending: deque[tuple[Event, int | None]] = deque()
        self._dirty: dict[str, Event] = {}
        self._holding = False
        self._dispatching = False
        self._recent: deque[str] = deque(maxlen=20000)
        self._recent_set: set[str] = set()
        self._stop: asyncio.Event | None = None
        self._loop_thread = 0
        self._tasks: list[asyncio.Task] = []
        self._notifier: Any = None
        self.on_effect(Publish, self._do_publish)
        self.on_effect(SetState, self._do_set_state)
        self.on_effect(Emit, self._do_emit)

    # -- HubContext -------------------------------------------------------------------------
    def now(self) -> float:
        """Return the hub's clock (epoch seconds)."""
        return self.backends.clock()

    def topic(self, *parts: str) -> str:
        """Return edgehub/<hub>/<parts...>."""
        return "/".join(("edgehub", self.hub_id, *parts))

    def emit(self, event: Event, *, dedup: int | None = None) -> None:
        """Journal, publish and hand an event to the listeners; safe from any thread."""
        if self.loop is not None and threading.get_ident() != self._loop_thread:
            self.loop.call_soon_threadsafe(self._enqueue, event, dedup)
        else:
            self._enqueue(event, dedup)

    def publish(self, topic: str, payload: str | bytes, retain: bool = False, qos: int = 1) -> None:
        """Publish on the hub's broker; safe from any thread."""
        if self.link is None:
            raise HubError("the hub is not connected yet")
        # A plain QoS 1 publish is a command a device waits for (a Zigbee2MQTT light's
        # /set): it goes out now, not after the rest of the reading's bookkeeping.
        self.link.publish(topic, payload, qos=qos, retain=retain, flush=qos > 0 and not retain)

    def subscribe(self, topic: str, handler: MessageHandler, *, no_local: bool = False) -> None:
        """Call handler(topic, payload, retained) on the loop for messages on topic.

        no_local: not for the hub's own publishes on topic (MQTT 5; see MqttLink.subscribe).
        """
        self.ingest.add_handler(topic, handler)
        if no_local:
            self._no_local.add(topic)
        if self.link is not None:
            self.link.subscribe(topic, no_local=no_local)

    def device_state(self, device: str) -> dict[str, Any]:
        """Return a copy of the last known attributes of a device."""
        return dict(self._state.get(device, {}))

    def on_effect(self, effect_type: type[Effect], handler: EffectHandler) -> None:
        """Register the executor of one Effect type (the last registration wins)."""
        self._executors[effect_type] = handler

    def on_remote_effect(self, handler: EffectHandler) -> None:
        """Register the executor of effects on another hub's device (`<hub>/<device>`)."""
        self._remote_executor = handler

    async def execute(self, effect: Effect) -> list[Event]:
        """Carry out an effect; emit and return the events it caused, with its cause."""
        handler = next(
            (self._executors[t] for t in type(effect).__mro__ if t in self._executors), None
        )
        if self._remote_executor is not None and "/" in str(getattr(effect, "device", "")):
            handler = self._remote_executor
        if handler is None:
            raise NoExecutor(f"no executor for {type(effect).__name__}")
        result = handler(effect)
        if inspect.isawaitable(result):
            result = await result
        events = []
        for ev in result or []:
            if ev.cause is None and effect.cause is not None:
                ev = dataclasses.replace(ev, cause=effect.cause)
            self.emit(ev)
            events.append(ev)
        return events

    def set_manifest(self, key: str, value: Any) -> None:
        """Add a key to the retained device manifest (the rule host adds "rules") and republish."""
        self.manifest_extra[key] = value
        if self.link is not None:
            self._publish_manifest()

    # -- default executors ------------------------------------------------------------------
    def _do_publish(self, effect: Publish) -> list[Event]:
        self.publish(effect.topic, effect.payload, retain=effect.retain, qos=effect.qos)
        return []

    def _do_set_state(self, effect: SetState) -> list[Event]:
        return [Event("state", effect.device, dict(effect.attributes), ts=self.now())]

    def _do_emit(self, effect: Emit) -> list[Event]:
        source = effect.source or (f"rule:{effect.rule}" if effect.rule else "hub")
        return [Event(effect.kind, source, dict(effect.data), ts=self.now())]

    # -- events -----------------------------------------------------------------------------
    def _enqueue(self, event: Event, dedup: int | None = None) -> None:
        self._pending.append((event, dedup))
        if self._dispatching:
            return
        self._dispatching = True
        try:
            while self._pending:
                self._process(*self._pending.popleft())
        finally:
            self._dispatching = False

    def _process(self, event: Event, dedup: int | None = None) -> None:
        if event.id in self._recent_set:
            self.stats["duplicate_events"] += 1
            return
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.discard(self._recent[0])
        self._recent.append(event.id)
        self._recent_set.add(event.id)
        self.stats["events"] += 1
        self.store.append(event, dedup)
        if event.kind in _STATE_KINDS:
            state = self._state.setdefault(event.source, {})
            changed = any(state.get(k, state) != v for k, v in event.data.items())
            state.update(event.data)
            if changed or event.kind == "state":
                self._dirty[event.source] = event
                if not self._holding:
                    self._flush_state()
        # QoS 0: the stream is in order over one TCP connection, and a PUBACK per event
        # would cost the hub more CPU than the journal does.
        self._try_publish(self.topic("events"), to_json(event.to_dict()), False, 0)
        if self._log_events:
            event_log.info(
                "event kind=%s source=%s data=%s cause=%s",
                event.kind,
                event.source,
                to_json(event.data),
                event.cause,
            )
        for listener in self._listeners:
            try:
                listener(event)
            except Exception:
                log.exception("on_event failed listener=%r kind=%s", listener, event.kind)

    def _hold_state(self) -> None:
        # During one inbox batch a device's state is written and published once, at the end:
        # a burst of readings from one sensor must not become a burst of retained publishes.
        self._holding = True

    def _flush_state(self) -> None:
        self._holding = False
        dirty, self._dirty = self._dirty, {}
        for source, event in dirty.items():
            state = self._state[source]
            self.store.set_state(source, state, event.ts, event.id)
            if "/" not in source:  # `<hub>/<device>` is another hub's: it publishes its own
                self._try_publish(self.topic(source, "state"), json.dumps(state), True, 1)

    def _try_publish(self, topic: str, payload: str, retain: bool, qos: int) -> None:
        if self.link is not None:
            self.link.publish(topic, payload, qos=qos, retain=retain)

    # -- lifecycle --------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the journal, connect, start the components; return once ready."""
        self.loop = asyncio.get_running_loop()
        self._loop_thread = threading.get_ident()
        self._stop = asyncio.Event()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        await self.loop.run_in_executor(None, self.store.open)
        self._state = self.store.last_states()
        for name, dev in self.config.devices.items():
            if dev.type == "virtual" and name not in self._state:
                self._state[name] = dict(dev.attributes)
        self._notifier = _systemd_notifier()
        if self.config.mqtt is None:
            b = self.config.broker
            self.broker = await self.loop.run_in_executor(
                None, start_embedded_broker, self.data_dir, b.host, b.port, b.backend
            )
        settings = self._link_settings()
        for key in await self.loop.run_in_executor(None, self.store.recent_dedup_keys):
            self.ingest.remember(key)
        inbox = Inbox(self.loop, self.ingest.on_messages, maxsize=self._queue_size())
        # The link's network I/O runs on this loop: no paho thread between broker and hub.
        self.link = MqttLink(settings, inbox, on_loop=True)
        link = self.link

        def batch_start() -> None:
            self._hold_state()
            self.store.hold()

        def batch_done(batch: list) -> None:
            self._flush_state()
            self.store.after_commit(lambda: link.ack(batch))
            self.store.release()

        self.ingest.on_batch_start = batch_start

        self.ingest.on_batch_done = batch_done
        connected = asyncio.Event()
        self.link.add_connect_hook(lambda: self.loop.call_soon_threadsafe(connected.set))
        self.link.add_connect_hook(self._publish_manifest)
        for topic in self.ingest.handlers:
            self.link.subscribe(topic, no_local=topic in self._no_local)
        # Subscribed from the first connect, but held until the components listen, so
        # nothing published meanwhile is lost and every listener hears every baseline.
        inbox.pause()
        for topic in self.ingest.add_devices(self.config.devices):
            self.link.subscribe(topic)
        self.link.start()
        if self._notifier is not None:
            self._notifier.status(f"waiting for the broker at {settings.host}:{settings.port}")
        # SIGTERM while the broker is unreachable must not wait for it (systemd would SIGKILL).
        waits = [asyncio.ensure_future(e.wait()) for e in (connected, self._stop)]
        await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for w in waits:
            w.cancel()
        if not connected.is_set():
            return
        for comp in (
            self._given_components
            if self._given_components is not None
            else (build_components(self.config, backends=self.backends))
        ):
            await self._start_component(comp)
        inbox.resume()
        # Ready means subscribed: a message published right after is not missed.
        await self.loop.run_in_executor(None, self.link.wait_subscribed, 5.0)
        self._publish_manifest()
        self.emit(
            Event(
                "hub.started",
                "hub",
                {"components": [c.name for c in self.components]},
                ts=self.now(),
            )
        )
        release_startup_memory()
        if self._notifier is not None:
            self._notifier.ready(
                f"{len(self.config.devices)} devices, {len(self.components)} components, "
                f"broker {settings.host}:{settings.port}"
            )
            self._tasks.append(self.loop.create_task(self._notifier.watchdog_loop()))
        self.started.set()
        log.info(
            "hub ready id=%s devices=%d components=%d",
            self.hub_id,
            len(self.config.devices),
            len(self.components),
        )

    async def _start_component(self, comp: Component) -> None:
        try:
            await comp.start(self)
        except Exception as exc:
            log.exception("component failed to start name=%s", comp.name)
            self.emit(
                Event(
                    "component.failed",
                    "hub",
                    {"component": comp.name, "error": str(exc)},
                    ts=self.now(),
                )
            )
            return
        self.components.append(comp)
        if callable(getattr(comp, "on_event", None)):
            self._listeners.append(comp.on_event)

    async def stop(self) -> None:
        """Stop components in reverse, publish offline, flush the journal, stop the broker."""
        if self._notifier is not None:
            self._notifier.stopping()
        if self.loop is not None and self.link is not None:
            self.emit(Event("hub.stopping", "hub", {}, ts=self.now()))
        for task in self._tasks:
            task.cancel()
        for comp in reversed(self.components):
            try:
                await asyncio.wait_for(comp.stop(), 30)
            except Exception:
                log.exception("component failed to stop name=%s", comp.name)
        self.components.clear()
        self._listeners.clear()
        if self.link is not None:
            await self.loop.run_in_executor(None, self.link.stop)
        await self.loop.run_in_executor(None, self.store.close)
        if self.broker is not None:
            await self.loop.run_in_executor(None, self.broker.stop)
            self.broker = None
        log.info("hub stopped id=%s events=%d", self.hub_id, self.stats["events"])

    def request_stop(self) -> None:
        """Ask run() to stop; safe from any thread and from signal handlers."""
        if self.loop is not None and self._stop is not None:
            # A hub that failed to start has already closed its loop: nothing to stop.
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._stop.set)

    async def reload(self) -> None:
        """SIGHUP: call reload() on the components that have it."""
        log.info("hub reload")
        for comp in self.components:
            fn = getattr(comp, "reload", None)
            if callable(fn):
                try:
                    result = fn()
                    if inspect.isawaitable(result):
                        await result
                except Exception:
                    log.exception("component reload failed name=%s", comp.name)

    @property
    def malformed(self) -> Counter[str]:
        """Malformed payloads counted per device."""
        return self.ingest.malformed

    async def run(self, install_signals: bool = False) -> None:
        """Start, serve until request_stop() (or SIGTERM/SIGINT), then stop cleanly."""
        self.loop = asyncio.get_running_loop()
        if install_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                self.loop.add_signal_handler(sig, self.request_stop)
            self.loop.add_signal_handler(
                signal.SIGHUP, lambda: self.loop.create_task(self.reload())
            )
        try:
            await self.start()
            assert self._stop is not None
            await self._stop.wait()
        finally:
            await self.stop()

    # -- helpers ----------------------------------------------------------------------------
    def _link_settings(self) -> LinkSettings:
        s = LinkSettings(
            client_id=f"edgehub-{self.hub_id}",
            status_topic=self.topic("status"),
        )
        m = self.config.mqtt
        if m is None:
            assert self.broker is not None
            s.host, s.port = self.broker.host, self.broker.port
            if isinstance(self.broker, AmqttBroker):
                s.protocol = "3.1.1"  # amqtt 0.12 speaks only 3.1.1
            return s
        s.host, s.port, s.login = m.host, m.port, BrokerLogin.from_config(m)
        s.protocol, s.keepalive, s.session_expiry = m.protocol, m.keepalive, int(m.session_expiry)
        return s

    def _queue_size(self) -> int:
        return self.config.mqtt.queue_size if self.config.mqtt is not None else 20000

    def _publish_manifest(self) -> None:
        devices = {
            name: dev.model_dump(mode="json", exclude_none=True, exclude={"fields"})
            for name, dev in self.config.devices.items()
        }
        for d in devices.values():
            if isinstance(d.get("gpio"), dict):
                d["dimmable"] = d["gpio"].get("dimmable", False)
        body = {"hub": self.hub_id, "devices": devices, **self.manifest_extra}
        if self.link is not None:
            self.link.publish(self.topic("devices"), json.dumps(body), qos=1, retain=True)


def _systemd_notifier() -> Any:
    try:
        from hub.systemd import SystemdNotifier
    except ImportError:
        return None
    try:
        return SystemdNotifier()
    except Exception:
        log.exception("systemd notifier unavailable")
        return None


async def run_hub(
    config: Config, *, backends: Backends | None = None, log_events: bool = False
) -> None:
    """Run a hub from config until SIGTERM/SIGINT (the `edgehub run` command)."""
    hub = Hub(config, backends=backends, log_events=log_events or None)
    with contextlib.suppress(asyncio.CancelledError):
        await hub.run(install_signals=True)
