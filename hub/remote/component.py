"""The remote-device component: other hubs' devices as `<hub>/<device>`, over bridged brokers.

It follows the manifests (edgehub/<hub>/devices) and the states of the remote devices the
rules name, turns them into `state` events with source `<hub>/<device>`, marks them
`stale: true` while their hub cannot be reached, and carries out light actions on them by
publishing on edgehub/<hub>/<device>/set: sent at once, queued until the hub is back (up to
the rule's deadline) or failed with a `remote.unreachable` event, as the rule asks. Nothing
here waits on the network: publishing only queues in paho, so the local loop never blocks.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import inspect
import json
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hub.component import HubContext
from hub.remote.commands import DEFAULT_DEADLINE_S, Outbox, Pending, command_payload
from hub.remote.errors import RemoteError
from hub.remote.peers import Peer, Peers
from rules.effects import Effect, LightCommand
from rules.events import Event

log = logging.getLogger(__name__)

BRIDGE_TOPIC = "$SYS/broker/connection/+/state"
# After a bridge (re)connects, the centre replays its retained copies of our own topics, which
# may be older than ours: for this long, an own state that differs from ours is re-published.
ECHO_WINDOW_S = 30.0
CATALOGUE_FILE = "remote_manifests.json"


def _read_catalogue(path: Path) -> dict[str, dict[str, str]]:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {h: dict(d) for h, d in data.items() if isinstance(d, dict)}


def _write_catalogue(path: Path, text: str) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(text)
        tmp.replace(path)
    except OSError as e:
        log.warning("cannot save remote manifests path=%s error=%s", path, e)


class RemoteComponent:
    """A hub Component: remote devices in, remote light commands out."""

    name = "remote"

    def __init__(
        self,
        *,
        names: Callable[[], set[str]] | None = None,
        on_catalogue: Callable[[], Any] | None = None,
        heartbeat: float = 5.0,
        stale_after: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.names = names or (lambda: set())
        self.on_catalogue = on_catalogue
        self.heartbeat = heartbeat
        self.stale_after = stale_after if stale_after is not None else 3 * heartbeat
        self.monotonic = monotonic
        # {hub: {device: type}} from the retained manifests; inner dicts are replaced, never
        # mutated, because the rule loader reads them from a worker thread.
        self.catalogue: dict[str, dict[str, str]] = {}
        self.peers = Peers("", self.stale_after, monotonic)
        self.outbox = Outbox()
        self.stats: dict[str, int] = {"sent": 0, "queued": 0, "failed": 0, "expired": 0}
        self._ctx: HubContext | None = None
        self._last: dict[str, dict[str, Any]] = {}
        self._stale: set[str] = set()
        self._own_link = ""
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._reload: asyncio.TimerHandle | None = None
        self._tasks: list[asyncio.Task] = []
        self._cache: Path | None = None
        # Tells our heartbeat from another hub's that was given the same id by mistake.
        self.instance = uuid.uuid4().hex[:12]
        self.duplicate_id = False
        self._stopped = False
        self._echo_until = 0.0

    # ------------------------------------------------------------ lifecycle
    async def start(self, ctx: HubContext) -> None:
        """Subscribe to the other hubs' topics, register the executor, start the heartbeat."""
        self._ctx = ctx
        self._stopped = False
        self.peers.own = ctx.hub_id
        # The manifests seen last run: the rules validate at once, before any has arrived.
        self._cache = Path(ctx.data_dir) / CATALOGUE_FILE
        self.catalogue.update(await ctx.loop.run_in_executor(None, _read_catalogue, self._cache))
        ctx.subscribe("edgehub/+/devices", self._on_manifest)
        ctx.subscribe("edgehub/+/status", self._on_status)
        ctx.subscribe("edgehub/+/alive", self._on_alive)
        # Without no-local every retained state this hub publishes (one or two per reading)
        # came straight back, to be parsed and dropped: a bridge's echoes after a reconnect,
        # the only copies _check_echo needs, come from the bridge's client and still arrive.
        ctx.subscribe("edgehub/+/+/state", self._on_state, no_local=True)
        ctx.subscribe(f"edgehub/{ctx.hub_id}/link", self._on_own_link)
        ctx.subscribe(BRIDGE_TOPIC, self._on_bridge)
        register = getattr(ctx, "on_remote_effect", None)
        if not callable(register):
            raise RemoteError("this hub cannot route effects on remote devices")
        register(self.execute)
        self._tasks.append(ctx.loop.create_task(self._beat()))
        log.info("remote started hub=%s heartbeat=%gs", ctx.hub_id, self.heartbeat)

    async def stop(self) -> None:
        """Stop the heartbeat; queued commands are dropped (and logged)."""
        # From here our own "offline" will be heard: it must not be "corrected" to online.
        self._stopped = True
        for t in self._tasks:
            t.cancel()
        for h in self._timers.values():
            h.cancel()
        if self._reload is not None:
            self._reload.cancel()
        if len(self.outbox):
            log.warning("remote stopping with %d queued commands dropped", len(self.outbox))

    async def _beat(self) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        topic = f"edgehub/{ctx.hub_id}/alive"
        while True:
            body = json.dumps({"ts": round(ctx.now(), 3), "instance": self.instance})
            # QoS 0, not retained: a heartbeat held in a bridge queue would only lie.
            with contextlib.suppress(Exception):
                ctx.publish(topic, body, retain=False, qos=0)
            self._recheck()
            await asyncio.sleep(self.heartbeat)

    # ------------------------------------------------------------ what others announce
    def _hub_of(self, topic: str) -> str:
        return topic.split("/")[1]

    def _on_manifest(self, topic: str, payload: bytes, retained: bool) -> None:
        hub = self._hub_of(topic)
        if self._ctx is None or hub == self._ctx.hub_id:
            return
        devices: dict[str, str] | None = None
        if payload:
            try:
                body = json.loads(payload)
                devices = {n: str(d.get("type", "")) for n, d in body["devices"].items()}
            except (ValueError, KeyError, TypeError, AttributeError) as e:
                log.warning("bad manifest hub=%s error=%s", hub, e)
                return
        self.peers.peer(hub)
        if devices == self.catalogue.get(hub):
            return
        if devices is None:
            self.catalogue.pop(hub, None)
        else:
            self.catalogue[hub] = devices
        log.info("remote manifest hub=%s devices=%d", hub, len(devices or {}))
        self._catalogue_changed()

    def _catalogue_changed(self) -> None:
        # Manifests come in bursts (every hub's, retained, at connect): revalidate once.
        if self._ctx is None:
            return
        if self._reload is not None:
            self._reload.cancel()
        self._reload = self._ctx.loop.call_later(0.2, self._call_catalogue)

    def _call_catalogue(self) -> None:
        self._reload = None
        assert self._ctx is not None
        if self._cache is not None:
            _write_catalogue(self._cache, json.dumps(self.catalogue, sort_keys=True))
        if self.on_catalogue is None:
            return
        result = self.on_catalogue()
        if inspect.isawaitable(result):
            self._tasks.append(self._ctx.loop.create_task(result))  # type: ignore[arg-type]

    def _on_status(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self._ctx is not None
        hub = self._hub_of(topic)
        text = payload.decode("utf-8", "replace")
        if hub == self._ctx.hub_id:
            if text != "online" and self.peers.bridges and not self._stopped:
                # A stale copy echoed back by a bridge after a reconnect: we are running.
                self._ctx.publish(topic, "online", retain=True, qos=1)
            return
        self.peers.peer(hub).status = text
        self._recheck()

    def _on_alive(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self._ctx is not None
        hub = self._hub_of(topic)
        if hub == self._ctx.hub_id:
            self._check_own_alive(payload)
            return
        p = self.peers.peer(hub)
        p.last_alive = self.monotonic()
        if not p.up:
            self._recheck()

    def _check_own_alive(self, payload: bytes) -> None:
        try:
            other = json.loads(payload).get("instance")
        except (ValueError, AttributeError):
            return
        if other and other != self.instance and not self.duplicate_id:
            assert self._ctx is not None
            self.duplicate_id = True
            hub = self._ctx.hub_id
            log.error("another hub runs with id=%s: topics, will and manifest collide", hub)
            self._ctx.emit(
                Event(
                    "remote.duplicate_id",
                    "hub",
                    {"hub": hub, "other": other},
                    ts=self._ctx.now(),
                )
            )

    def _on_bridge(self, topic: str, payload: bytes, retained: bool) -> None:
        up = payload.strip() == b"1"
        if up:
            self._echo_until = self.monotonic() + ECHO_WINDOW_S
        self.peers.bridges[topic.split("/")[3]] = up
        self._recheck()

    def _on_state(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self._ctx is not None
        ctx = self._ctx
        _, hub, dev, _ = topic.split("/")
        if hub == ctx.hub_id:
            self._check_echo(topic, dev, payload)
            return
        name = f"{hub}/{dev}"
        if name not in self.names():
            return
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            log.warning("remote state not a JSON object device=%s", name)
            return
        data.pop("stale", None)
        if name not in self._last:  # what the journal kept from the last run
            last = ctx.device_state(name)
            last.pop("stale", None)
            self._last[name] = last
        # A bridge replays retained states on every reconnect, and QoS 1 may deliver twice:
        # the same state again is not news (and must not fire a rule twice).
        if data == self._last.get(name) and name not in self._stale:
            return
        self._last[name] = data
        p = self.peers.peers.get(hub)
        if name in self._stale and (p is None or p.up):
            self._stale.discard(name)
        # Always there, so a condition can ask for `stale: false`.
        data = {**data, "stale": name in self._stale}
        kind = "state.baseline" if retained else "state"
        ctx.emit(Event(kind, name, data, ts=ctx.now()))

    def _check_echo(self, topic: str, dev: str, payload: bytes) -> None:
        if self._ctx is None or self._stopped or self.monotonic() > self._echo_until:
            return  # only a bridge that just connected echoes old copies back at us
        mine = self._ctx.device_state(dev)
        if not mine:
            return
        try:
            seen = json.loads(payload)
        except ValueError:
            seen = None
        if seen != mine:
            self._ctx.publish(topic, json.dumps(mine), retain=True, qos=1)

    def _on_own_link(self, topic: str, payload: bytes, retained: bool) -> None:
        if self._stopped or not self._own_link:
            return
        if payload.decode("utf-8", "replace") != self._own_link:
            assert self._ctx is not None
            self._ctx.publish(topic, self._own_link, retain=True, qos=1)

    # ------------------------------------------------------------ reachability
    def _recheck(self) -> None:
        ctx = self._ctx
        if ctx is None:
            return
        flipped = self.peers.changes()
        for p in flipped:
            self._flipped(p)
        link = json.dumps(
            {
                "bridge": {None: "none", True: "up", False: "down"}[self.peers.bridge_up],
                "peers": self.peers.summary(),
            }
        )
        if link != self._own_link:
            self._own_link = link
            with contextlib.suppress(Exception):
                ctx.publish(f"edgehub/{ctx.hub_id}/link", link, retain=True, qos=1)

    def _flipped(self, p: Peer) -> None:
        ctx = self._ctx
        assert ctx is not None
        log.info("remote hub=%s up=%s reason=%s", p.hub, p.up, p.reason)
        ctx.emit(
            Event(
                "remote.link",
                p.hub,
                {"hub": p.hub, "up": p.up, "reason": p.reason},
                ts=ctx.now(),
            )
        )
        for name in sorted(self.names()):
            if not name.startswith(p.hub + "/"):
                continue
            if p.up and name in self._stale:
                self._stale.discard(name)
                ctx.emit(Event("state", name, {"stale": False}, ts=ctx.now()))
            elif not p.up and name not in self._stale:
                self._stale.add(name)
                ctx.emit(Event("state", name, {"stale": True}, ts=ctx.now()))
        if p.up:
            ready, expired = self.outbox.take_for(p.hub, ctx.now())
            for cmd in ready:
                self._drop_timer(cmd.id)
                self._send(cmd)
            for cmd in expired:
                self._drop_timer(cmd.id)
                self._expired(cmd)

    # ------------------------------------------------------------ commands
    async def execute(self, effect: Effect) -> list[Event]:
        """Carry out an effect on `<hub>/<device>`: send, queue or fail (the rule's choice)."""
        ctx = self._ctx
        assert ctx is not None
        device = str(getattr(effect, "device", ""))
        hub, _, dev = device.partition("/")
        if hub == ctx.hub_id:
            await ctx.execute(dataclasses.replace(effect, device=dev))  # type: ignore[type-var]
            return []
        if not isinstance(effect, LightCommand):
            raise RemoteError(f"{type(effect).__name__} cannot act on another hub's {device}")
        now = ctx.now()
        deadline = effect.deadline if effect.deadline is not None else DEFAULT_DEADLINE_S
        cmd = Pending(hub, dev, f"edgehub/{hub}/{dev}/set", effect, now, now + deadline)
        up, reason = self.peers.verdict(hub)
        data = {"hub": hub, "device": dev, "command": cmd.id, "rule": effect.rule}
        if up:
            self._send(cmd)
            return [Event("remote.sent", device, data, ts=now)]
        if effect.on_unreachable == "fail":
            self.stats["failed"] += 1
            log.info("remote command failed device=%s reason=%s", device, reason)
            return [Event("remote.unreachable", device, {**data, "reason": reason}, ts=now)]
        self.outbox.add(cmd)
        self.stats["queued"] += 1
        self._timers[cmd.id] = ctx.loop.call_later(deadline, self._deadline, cmd.id)
        log.info("remote command queued device=%s reason=%s deadline=%gs", device, reason, deadline)
        data.update(reason=reason, deadline=deadline)
        return [Event("remote.queued", device, data, ts=now)]

    def _send(self, cmd: Pending) -> None:
        ctx = self._ctx
        assert ctx is not None
        payload = command_payload(cmd.effect, cmd.id, ctx.hub_id, cmd.expires)
        ctx.publish(cmd.topic, payload, retain=False, qos=1)
        self.stats["sent"] += 1

    def _drop_timer(self, cmd_id: str) -> None:
        h = self._timers.pop(cmd_id, None)
        if h is not None:
            h.cancel()

    def _deadline(self, cmd_id: str) -> None:
        self._timers.pop(cmd_id, None)
        cmd = self.outbox.expire(cmd_id)
        if cmd is not None:
            self._expired(cmd)

    def _expired(self, cmd: Pending) -> None:
        ctx = self._ctx
        assert ctx is not None
        self.stats["expired"] += 1
        device = f"{cmd.hub}/{cmd.device}"
        data = {"hub": cmd.hub, "device": cmd.device, "command": cmd.id, "rule": cmd.effect.rule}
        data.update(reason="deadline passed", queued_s=round(ctx.now() - cmd.created, 3))
        log.info("remote command expired device=%s", device)
        ctx.emit(Event("remote.unreachable", device, data, ts=ctx.now(), cause=cmd.effect.cause))
