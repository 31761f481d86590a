"""The health component: feeds the pure detectors from the hub's events and publishes hub.health.

It hears every event (on_event), watches availability topics, runs a tick on the asyncio loop
(silence, disks, changes) and emits hub.health every `interval` and whenever something that
matters changes (broker, component states, throttling, disks, offline devices); the latest
hub.health data is also retained on edgehub/<hub>/health.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from hub.component import HubContext
from hub.config import Config
from hub.health.anomaly import AnomalyDetector, AnomalyPolicy
from hub.health.availability import availability_topic, parse_availability
from hub.health.config import HealthConfig
from hub.health.devices import DeviceMonitor, DevicePolicy
from hub.health.metrics import EventRate, HostProbe, file_size_mb
from hub.health.sources import INPUT_TYPES, JournalProbe, journal_history, zigbee2mqtt_bridges
from hub.health.storage import StorageWatch
from hub.health.supervisor import Supervisor
from rules.events import Event

log = logging.getLogger(__name__)


class HealthComponent:
    """Device health, anomalies, hub metrics; reports through events and the health topic."""

    name = "health"

    def __init__(
        self,
        config: Config,
        *,
        supervisor: Supervisor | None = None,
        probe: HostProbe | None = None,
        settings: HealthConfig | None = None,
    ) -> None:
        self.config = config
        self.settings = settings or getattr(config, "health", None) or HealthConfig()
        self.supervisor = supervisor
        self.probe = probe or HostProbe()
        d = self.settings.devices
        self._policy = DevicePolicy(
            offline_after=d.offline_after,
            min_offline=d.min_offline,
            battery_low=d.battery_low,
            chatter_changes=d.chatter_changes,
            chatter_window=d.chatter_window,
            stuck_after=d.stuck_after,
        )
        self.monitor = DeviceMonitor(self._policy)
        a = self.settings.anomaly
        self._anomaly_policy = AnomalyPolicy(threshold=a.threshold, min_scale=a.min_scale)
        loc = config.hub.location
        self._tz = ZoneInfo(loc.timezone) if loc is not None else None
        self.detectors: dict[tuple[str, str], AnomalyDetector] = {}
        self.storage = StorageWatch(**self._storage_limits())
        self.rate = EventRate()
        self.ctx: HubContext | None = None
        self._task: asyncio.Task | None = None
        self._started = 0.0
        self._last_report = 0.0
        self._signature: Any = None
        self._report_pending = False
        self._replaying = False
        self._backlog: list[Event] = []
        self._hub_started = True
        self._held: list[tuple[list[Event], Event | None, bool]] = []
        self._own: set[str] = set()  # ids of the state events this component raised
        self.last: dict[str, Any] = {}

    def _storage_limits(self) -> dict[str, float]:
        floors = [
            dev.record.retain.min_free
            for dev in self.config.devices.values()
            if dev.type == "camera"
        ]
        stop = max(floors, default=None)
        warn = self.settings.storage.warn_free
        if stop is not None and warn <= stop:
            log.warning("storage warn_free %.0f%% is not above min_free %.0f%%", warn, stop)
            warn = stop + 5.0
        return {"warn_free": warn, "stop_free": stop}

    # -- lifecycle ---------------------------------------------------------------------------
    async def start(self, ctx: HubContext) -> None:
        """Register devices and availability topics, watch the hub's parts, start the tick."""
        self.ctx = ctx
        now = ctx.now()
        self._started = now
        started = getattr(ctx, "started", None)  # the runtime's "ready" flag
        self._hub_started = not hasattr(started, "is_set") or started.is_set()
        for name, dev in self.config.devices.items():
            if dev.type not in INPUT_TYPES:
                continue
            policy = self._policy
            if dev.expect_every is not None:
                policy = DevicePolicy(**{**_fields(policy), "expect_every": dev.expect_every})
            self.monitor.add_device(name, now, policy)
            topic = availability_topic(dev.topic, dev.format)
            if topic is not None:
                ctx.subscribe(topic, lambda t, p, r, _n=name: self._on_availability(_n, p))
        # Replaying the journal takes a while on a Pi: do it off the loop without holding up
        # the hub's start; live readings wait in a backlog until it is done.
        self._replaying = True
        replay = asyncio.get_running_loop().run_in_executor(
            None, self._learn_history, Path(ctx.data_dir) / "edgehub.db"
        )
        replay.add_done_callback(self._history_done)
        for bridge, devices in zigbee2mqtt_bridges(self.config).items():
            ctx.subscribe(bridge, lambda t, p, r, _d=devices: self._on_bridge(_d, p))
        self._watch_internals(ctx)
        self._task = asyncio.get_running_loop().create_task(self._tick_loop())
        self._report_soon()  # after start returns, so this component counts as running

    def _learn_history(self, db: Path) -> dict[str, list[float]]:
        """Replay the journal into the anomaly detectors (in a worker thread, while the loop
        only queues readings); return each device's message times for the monitor."""
        started = time.monotonic()
        history = journal_history(db, self.monitor_devices(), self.settings.anomaly.history)
        for events in history.values():
            for event in events:
                self._detect(event, quiet=True)
        log.info(
            "health history devices=%d readings=%d took=%.2fs",
            len(history),
            sum(map(len, history.values())),
            time.monotonic() - started,
        )
        return {name: [e.ts for e in events[-51:]] for name, events in history.items()}

    def _history_done(self, replay: asyncio.Future) -> None:
        """Back on the loop: seed the intervals, then feed the readings that waited."""
        try:
            for name, times in replay.result().items():
                self.monitor.seed(name, times)
        except Exception:
            log.exception("health history replay failed")
        self._replaying = False
        backlog, self._backlog = self._backlog, []
        for event in backlog:
            self._detect(event)

    def monitor_devices(self) -> list[str]:
        """Return the configured input devices the monitor watches."""
        return [n for n, d in self.config.devices.items() if d.type in INPUT_TYPES]

    async def stop(self) -> None:
        """Stop the tick."""
        if self._task is not None:
            self._task.cancel()
            self._task = None

    def _watch_internals(self, ctx: Any) -> None:
        """Let the supervisor watch the MQTT link and the journal writer (when the hub has them)."""
        sup = self.supervisor
        if sup is None:
            return
        s = self.settings.supervisor
        link = getattr(ctx, "link", None)
        if link is not None and hasattr(link, "connected"):
            sup.watch("mqtt", link.connected.is_set, dead_after=s.mqtt_dead_after)
        store = getattr(ctx, "store", None)
        if store is not None and hasattr(store, "backlog"):
            sup.watch("journal", JournalProbe(store), dead_after=s.journal_dead_after)

    # -- input -------------------------------------------------------------------------------
    def on_event(self, event: Event) -> None:
        """Feed every event to the detectors; emit what they raise."""
        self.rate.record(event.ts)
        if event.id in self._own:
            self._own.discard(event.id)
            return
        kind = event.kind
        if kind == "hub.started" and not self._hub_started:
            self._hub_started = True
            held, self._held = self._held, []
            for events, cause, state_topic in held:
                self._emit(events, cause, state_topic)
        if kind == "state":
            self._state(event)
        elif kind in ("camera.offline", "camera.online"):
            online = kind == "camera.online"
            now = self.ctx.now() if self.ctx else event.ts
            out = self.monitor.availability(event.source, online, now)
            for ev in out:
                ev.data["reason"] = "camera"
                ev.data["detail"] = event.data.get("reason")
            self._emit(out, event, state_topic=False)
        elif kind in ("component.failed", "component.recovered", "storage.full"):
            self._report_soon()

    def _state(self, event: Event) -> None:
        self._emit(self.monitor.observe(event.source, event.data, event.ts), event)
        if self._replaying:
            self._backlog.append(event)
        else:
            self._detect(event)

    def _detect(self, event: Event, quiet: bool = False) -> None:
        """Feed the numeric attributes of a state event to their anomaly detectors."""
        attrs = event.data
        wanted = self.settings.anomaly
        if wanted.devices is not None and event.source not in wanted.devices:
            return
        for attr in wanted.attributes:
            value = attrs.get(attr)
            if isinstance(value, bool) or not isinstance(value, int | float):
                continue
            key = (event.source, attr)
            det = self.detectors.get(key)
            if det is None:
                det = self.detectors[key] = AnomalyDetector(self._anomaly_policy, self._tz)
            anomaly = det.update(float(value), event.ts)
            if anomaly is not None and not quiet:
                data = {"device": event.source, "attribute": attr, **anomaly.to_data()}
                log.info("sensor anomaly device=%s attribute=%s value=%s", *key, value)
                self._emit([Event("sensor.anomaly", event.source, data, ts=event.ts)], event)

    def _on_availability(self, device: str, payload: bytes) -> None:
        online = parse_availability(payload)
        if online is None or self.ctx is None:
            return
        self._emit(self.monitor.availability(device, online, self.ctx.now()), None)

    def _on_bridge(self, devices: list[str], payload: bytes) -> None:
        """The Zigbee2MQTT bridge itself: offline takes its devices along; online brings back
        only those it took (the others wait for their own message)."""
        online = parse_availability(payload)
        if online is None or self.ctx is None:
            return
        now = self.ctx.now()
        for device in devices:
            if online and self.monitor.offline_reason(device) != "bridge":
                continue
            self._emit(self.monitor.availability(device, online, now, reason="bridge"), None)

    def _emit(self, events: list[Event], cause: Event | None, state_topic: bool = True) -> None:
        if self.ctx is None or not events:
            return
        if not self._hub_started:
            # The rule host starts last: what health finds during start-up (a camera that is
            # unplugged, a retained "offline") waits for hub.started, so rules hear it.
            self._held.append((events, cause, state_topic))
            return
        changed = False
        for ev in events:
            if cause is not None and ev.cause is None:
                ev = Event(ev.kind, ev.source, ev.data, ts=ev.ts, cause=cause.id)
            self.ctx.emit(ev)
            if ev.kind in ("device.offline", "device.online"):
                changed = True
                if state_topic:
                    # The device's retained state says it too, for dashboards and HA.
                    online = ev.kind == "device.online"
                    st = Event("state", ev.source, {"online": online}, ts=ev.ts, cause=ev.id)
                    self._own.add(st.id)
                    self.ctx.emit(st)
        if changed:
            self._report_soon()

    # -- periodic ----------------------------------------------------------------------------
    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.settings.tick)
            try:
                self.tick()
            except Exception:
                log.exception("health tick failed")

    def tick(self) -> None:
        """Check silence and disks; report hub.health when due or changed."""
        if self.ctx is None:
            return
        now = self.ctx.now()
        self._emit(self.monitor.tick(now), None)
        self.report()

    def _report_soon(self) -> None:
        """Report once after the current burst (twenty devices behind one bridge, one report)."""
        if self._report_pending or self.ctx is None:
            return
        self._report_pending = True

        def run() -> None:
            self._report_pending = False
            try:
                self.report(force=not self._signature)
            except Exception:
                log.exception("health report failed")

        self.ctx.loop.call_soon(run)

    def report(self, force: bool = False) -> dict[str, Any] | None:
        """Emit hub.health (and retain it) when due, changed or forced; return its data."""
        if self.ctx is None:
            return None
        now = self.ctx.now()
        data = self.snapshot(now)
        for name in ("data", "recordings"):
            for ev in self.storage.check(name, data["disk"].get(name), now):
                self.ctx.emit(ev)
        data["storage_warning"] = [n for n in ("data", "recordings") if self.storage.is_warning(n)]
        signature = _signature(data)
        due = now - self._last_report >= self.settings.interval
        if not (force or due or signature != self._signature):
            return None
        self._signature = signature
        self._last_report = now
        self.last = data
        self.ctx.emit(Event("hub.health", "hub", data, ts=now))
        try:
            self.ctx.publish(f"edgehub/{self.ctx.hub_id}/health", json.dumps(data), retain=True)
        except Exception as exc:  # not connected right now: the next report retains it
            log.debug("health not published: %s", exc)
        return data

    def snapshot(self, now: float) -> dict[str, Any]:
        """Return the hub's health figures now."""
        ctx = self.ctx
        data_dir = Path(ctx.data_dir) if ctx is not None else Path(self.config.hub.data_dir)
        media = data_dir / "media"
        link = getattr(ctx, "link", None)
        connected = getattr(link, "connected", None)
        started = time.monotonic()
        data: dict[str, Any] = {
            "uptime": round(now - self._started, 1),
            "cpu_temp": self.probe.cpu_temperature(),
            "throttled": self.probe.throttling(),
            "load": self.probe.load(),
            "memory": self.probe.memory(),
            "disk": {
                "data": self.probe.disk(data_dir),
                "recordings": self.probe.disk(media if media.exists() else data_dir),
            },
            "db_mb": file_size_mb(data_dir / "edgehub.db"),
            "event_rate": self.rate.rate(now),
            "events_total": self.rate.total,
            "broker": None if connected is None else bool(connected.is_set()),
            "components": self._components(),
            "devices_offline": self.monitor.offline_devices(),
        }
        data["probe_ms"] = round((time.monotonic() - started) * 1000, 2)
        return data

    def _components(self) -> dict[str, dict[str, Any]]:
        if self.supervisor is not None:
            return self.supervisor.status()
        comps = getattr(self.ctx, "components", None) or []
        return {c.name: {"state": "running", "restarts": 0, "error": None} for c in comps}


def _fields(policy: DevicePolicy) -> dict[str, Any]:
    return {name: getattr(policy, name) for name in policy.__dataclass_fields__}


def _signature(data: dict[str, Any]) -> Any:
    """The parts of hub.health whose change is worth an immediate report."""
    throttled = data.get("throttled") or {}
    now_flags = tuple(sorted(k for k, v in throttled.items() if v and not k.endswith("occurred")))
    return (
        data.get("broker"),
        tuple(sorted((n, c.get("state")) for n, c in data.get("components", {}).items())),
        now_flags,
        tuple(data.get("devices_offline", ())),
        tuple(data.get("storage_warning", ())),
    )


def make_supervisor(config: Config, **overrides: Any) -> Supervisor:
    """Return a Supervisor with the restart policy of config.health.supervisor."""
    settings: HealthConfig = getattr(config, "health", None) or HealthConfig()
    s = settings.supervisor
    kwargs: dict[str, Any] = {
        "backoff": s.backoff,
        "max_failures": s.max_failures,
        "window": s.window,
        "settle": s.settle,
        "critical": s.critical,
    }
    return Supervisor(**{**kwargs, **overrides})
