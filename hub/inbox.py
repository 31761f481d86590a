"""The bounded queue that carries received MQTT messages from paho's thread into asyncio.

Inbox wakes the loop only when it goes from empty to busy (one wakeup per burst, not per
message), hands messages over in batches, and counts what it drops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple

log = logging.getLogger(__name__)


class Message(NamedTuple):
    """One received message, as it crosses from paho's thread into the loop."""

    topic: str
    payload: bytes
    retain: bool
    dup: bool
    received: float
    mid: int = 0
    qos: int = 0
    gen: int = 0  # the connection it arrived on; acks from an older one are not sent


class Inbox:
    """A bounded, thread-safe queue from paho's thread into an asyncio loop."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        handler: Callable[[list[Message]], None],
        maxsize: int = 20000,
        batch: int = 500,
    ):
        self.loop = loop
        self.handler = handler
        self.maxsize = maxsize
        self.batch = batch
        self.dropped = 0
        self.full_waits = 0  # times the link stopped reading because the inbox was full
        self.received = 0
        self._items: deque[Message] = deque()
        self._lock = threading.Lock()
        self._space = threading.Condition(self._lock)
        self._scheduled = False
        self._paused = False
        self._last_drop_log = 0.0

    def pause(self) -> None:
        """Hold messages (bounded) until resume(): the hub is not ready to hand them out."""
        with self._lock:
            self._paused = True

    def resume(self) -> None:
        """Deliver what was held, then everything as it comes (call on the loop)."""
        with self._lock:
            self._paused = False
            if self._scheduled or not self._items:
                return
            self._scheduled = True
        self.loop.call_soon(self._drain)

    def put(self, item: Message, wait: float = 0.2) -> bool:
        """Queue item (any thread); wait briefly for room, then drop it, counted and logged."""
        with self._lock:
            if len(self._items) >= self.maxsize:
                # Waiting holds back paho, so TCP pushes back on the broker before we drop.
                self._space.wait_for(lambda: len(self._items) < self.maxsize, wait)
            if len(self._items) >= self.maxsize:
                self.dropped += 1
                now = time.monotonic()
                if now - self._last_drop_log > 10:
                    self._last_drop_log = now
                    log.error(
                        "mqtt inbox full size=%d dropped_total=%d", self.maxsize, self.dropped
                    )
                return False
            self._items.append(item)
            self.received += 1
            if self._scheduled or self._paused:
                return True
            self._scheduled = True
        if asyncio._get_running_loop() is self.loop:
            self.loop.call_soon(self._drain)  # no self-pipe write when already on the loop
            return True
        # A closed loop means we are shutting down.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self._drain)
        return True

    def __len__(self) -> int:
        return len(self._items)

    def room(self) -> int:
        """Free places; at 0 the loop-driven link stops reading (counted and logged)."""
        free = self.maxsize - len(self._items)
        if free <= 0:
            self.full_waits += 1
            now = time.monotonic()
            if now - self._last_drop_log > 10:
                self._last_drop_log = now
                log.warning(
                    "mqtt inbox full size=%d reading paused full_waits_total=%d",
                    self.maxsize,
                    self.full_waits,
                )
        return free

    def _drain(self) -> None:
        with self._lock:
            n = min(self.batch, len(self._items))
            items = [self._items.popleft() for _ in range(n)]
            self._space.notify_all()
            more = bool(self._items)
            if not more:
                self._scheduled = False
        try:
            self.handler(items)
        finally:
            if more:
                # Yield to the loop between batches so timers and other tasks keep running.
                self.loop.call_soon(self._drain)
