"""The notifier as a hub component: executes Notify effects, reports on events and MQTT."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path
from typing import Any

from hub.component import HubContext
from hub.config.owners import NotifyConfig, OwnerConfig
from hub.notify.notifier import Submitted
from hub.notify.rows import Row, notification_id
from hub.notify.service import NotifyService
from rules.effects import Effect, Notify
from rules.events import Event

log = logging.getLogger(__name__)


class NotifierComponent:
    """Delivers owners' notifications through the outbox; name "notify"."""

    name = "notify"

    def __init__(
        self,
        owners: Mapping[str, OwnerConfig],
        cfg: NotifyConfig | None = None,
        secrets_path: str | Path | None = None,
        *,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] | None = None,
        tz: tzinfo | None = None,
    ):
        self.owners = dict(owners)
        self.cfg = cfg or NotifyConfig()
        self.secrets_path = secrets_path
        self.env = env
        self.clock = clock
        self.tz = tz
        self.service: NotifyService | None = None
        self._ctx: HubContext | None = None
        self._snapshots: dict[str, bytes] = {}

    @property
    def topic(self) -> str:
        """Return the topic where each notification's queued/held/folded/sent/... is published."""
        assert self._ctx is not None
        return f"edgehub/{self._ctx.hub_id}/notifications"

    async def start(self, ctx: HubContext) -> None:
        """Open the outbox, resume what it holds, and take over Notify effects."""
        self._ctx = ctx
        self.service = await asyncio.to_thread(
            NotifyService,
            Path(ctx.data_dir) / "edgehub.db",
            self.owners,
            self.cfg,
            secrets_path=self.secrets_path,
            env=self.env,
            clock=self.clock or ctx.now,
            tz=self.tz,
            on_outcome=self._on_outcome,
            snapshots=self._snapshots.get,
        )
        ctx.subscribe(f"edgehub/{ctx.hub_id}/+/snapshot", self._on_snapshot)
        ctx.on_effect(Notify, self._execute)
        self.service.start()
        counts = self.service.outbox.counts()
        log.info(
            "notify.started channels=%d pending=%d",
            len(self.service.channels),
            counts.get("pending", 0) + counts.get("clip", 0),
        )

    async def stop(self) -> None:
        """Let a send in progress finish and be marked, then close the outbox."""
        if self.service is not None:
            await asyncio.to_thread(self.service.stop)
            self.service = None

    def on_event(self, event: Event) -> None:
        """Hand a finished clip to the messages waiting for it."""
        if event.kind != "recording.finished" or self.service is None or self._ctx is None:
            return
        path = next((event.data[k] for k in ("file", "path", "clip") if event.data.get(k)), None)
        if path is None:
            return
        started = float(event.data.get("start") or event.ts)
        fut = self._ctx.loop.run_in_executor(
            None, self.service.clip_finished, event.source, str(path), started
        )
        fut.add_done_callback(_log_failure)

    async def _execute(self, effect: Effect) -> list[Event]:
        assert isinstance(effect, Notify) and self.service is not None
        # The outbox commit is durable (fsync); keep it off the event loop.
        submitted = await asyncio.to_thread(self.service.submit, effect)
        events = []
        now = self._ctx.now() if self._ctx is not None else time.time()
        for s in submitted:
            if s.status == "duplicate":
                continue
            data = self._publish(s.status, _submitted_dict(s))
            # queued is shown on the topic only: notify.sent follows in a moment.
            if s.status != "queued":
                events.append(Event(kind=f"notify.{s.status}", source="notify", data=data, ts=now))
        return events

    def _on_outcome(self, status: str, row: Row) -> None:
        # Called from a sender thread; emit and publish are thread-safe.
        if self._ctx is None:
            return
        data = self._publish(status, row.to_dict())
        if status in ("sent", "failed"):
            event = Event(
                kind=f"notify.{status}",
                source="notify",
                data=data,
                cause=row.cause,
                ts=self._ctx.now(),
            )
            self._ctx.emit(event)

    def _publish(self, status: str, data: dict[str, Any]) -> dict[str, Any]:
        data = {**data, "status": status}
        if self._ctx is not None:
            self._ctx.publish(self.topic, json.dumps(data), retain=False, qos=1)
        return data

    def latest_snapshot(self, camera: str) -> bytes | None:
        """Return the latest snapshot JPEG seen for camera, if any."""
        return self._snapshots.get(camera)

    def _on_snapshot(self, topic: str, payload: bytes, retained: bool) -> None:
        # edgehub/<hub>/<camera>/snapshot carries the latest JPEG of each camera.
        camera = topic.split("/")[-2]
        if payload[:2] == b"\xff\xd8":
            self._snapshots[camera] = payload


def _log_failure(fut: asyncio.Future) -> None:
    if not fut.cancelled() and fut.exception() is not None:
        log.error("notify.clip_attach_failed error=%s", fut.exception())


def _submitted_dict(s: Submitted) -> dict[str, Any]:
    m = s.message
    return {
        "notification": notification_id(m.key),
        "owner": s.owner,
        "title": m.title,
        "message": m.message,
        "priority": m.priority,
        "rule": m.rule,
        "cause": m.cause,
        "camera": m.camera,
        "hold_until": s.hold_until or None,
    }
