"""From MQTT messages to state events: topic routing, adapters, duplicates, baselines.

A retained message, or the first message of a device after a start that only repeats
its journaled state, becomes `state.baseline`: listeners update state, rules never fire.
A malformed payload is counted per device and logged at most once a minute per device.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

from paho.mqtt.client import topic_matches_sub

from hub.adapters import Adapter, MalformedPayload, adapter_for
from hub.component import MessageHandler
from hub.config.devices import INPUT_TYPES
from hub.mqtt import Message
from rules.events import Event

log = logging.getLogger(__name__)

REDELIVERY_WINDOW = 30.0  # seconds after a reconnect


def message_key(topic: str, payload: bytes) -> int:
    """Return a stable 63-bit hash of a message (the same in every process)."""
    h = hashlib.blake2b(topic.encode(), digest_size=8)
    h.update(b"\0")
    h.update(payload)
    return int.from_bytes(h.digest(), "big") >> 1


def matches(sub: str, topic: str) -> bool:
    """Return whether topic matches the subscription filter sub."""
    return sub == topic or (("+" in sub or "#" in sub) and topic_matches_sub(sub, topic))


class Ingest:
    """Routes each message to the devices and handlers whose filters match its topic."""

    def __init__(
        self,
        emit: Callable[..., None],
        state: Callable[[str], dict[str, Any]],
        clock: Callable[[], float],
    ):
        self.emit = emit
        self.state = state
        self.clock = clock
        # Called after each batch (the runtime acks the batch once it is journaled).
        self.on_batch_done: Callable[[list[Message]], None] = lambda batch: None
        self.on_batch_start: Callable[[], None] = lambda: None
        self.stats: Counter[str] = Counter()
        self.malformed: Counter[str] = Counter()
        self.routes: dict[str, list[tuple[str, Adapter]]] = {}
        self.handlers: dict[str, list[MessageHandler]] = {}
        self._cache: dict[str, tuple[list[tuple[str, Adapter]], list[MessageHandler]]] = {}
        self._heard: set[str] = set()
        self._recent: deque[int] = deque(maxlen=50000)
        self._recent_set: dict[int, int] = {}  # message hash -> connection it came on
        self._gen_seen: dict[int, float] = {}  # connection -> when its first message came
        self._logged: dict[str, float] = {}

    def add_devices(self, devices: dict[str, Any]) -> list[str]:
        """Route the input devices of the config; return the topic filters to subscribe."""
        topics = []
        for name, dev in devices.items():
            if isinstance(dev, INPUT_TYPES):
                adapter = adapter_for(dev)
                for topic in adapter.topics():
                    self.routes.setdefault(topic, []).append((name, adapter))
                    topics.append(topic)
        self._cache.clear()
        return topics

    def remember(self, key: int, gen: int = 0) -> None:
        """Add a message hash to the window that recognises redeliveries."""
        if len(self._recent) == self._recent.maxlen:
            self._recent_set.pop(self._recent[0], None)
        self._recent.append(key)
        self._recent_set[key] = gen

    def _is_redelivery(self, key: int, msg: Message) -> bool:
        seen_on = self._recent_set.get(key)
        if seen_on is None:
            return False
        if msg.dup:
            return True
        if msg.retain:
            return False  # the broker's stored copy on (re)subscribe: a baseline, not a resend
        # A sensor resends its unacknowledged publishes after a broker crash, and the
        # restarted broker forwards them as new (no DUP): the same message seen on an
        # earlier connection, in the first minute of this one, is taken as a redelivery.
        first = self._gen_seen.get(msg.gen, msg.received)
        # Only across reconnects of this process: after a hub restart the broker marks its
        # redeliveries DUP, and a fresh identical reading must still count.
        return 1 <= seen_on < msg.gen and msg.received - first < REDELIVERY_WINDOW

    def add_handler(self, topic: str, handler: MessageHandler) -> None:
        """Deliver raw messages on topic (wildcards allowed) to handler."""
        self.handlers.setdefault(topic, []).append(handler)
        self._cache.clear()

    def on_messages(self, batch: list[Message]) -> None:
        """Handle a batch of messages from the inbox, on the loop."""
        self.on_batch_start()
        try:
            for msg in batch:
                self.stats["messages"] += 1
                routes, handlers = self._match(msg.topic)
                for device, adapter in routes:
                    self._device_message(device, adapter, msg)
                for handler in handlers:
                    try:
                        handler(msg.topic, msg.payload, msg.retain)
                    except Exception:
                        log.exception("message handler failed topic=%s", msg.topic)
        finally:
            # Always: the runtime holds journal writes and state publishes until here.
            self.on_batch_done(batch)

    def _match(self, topic: str) -> tuple[list[tuple[str, Adapter]], list[MessageHandler]]:
        found = self._cache.get(topic)
        if found is None:
            routes = [r for f, rs in self.routes.items() if matches(f, topic) for r in rs]
            handlers = [h for f, hs in self.handlers.items() if matches(f, topic) for h in hs]
            if len(self._cache) > 10000:
                self._cache.clear()
            found = self._cache[topic] = (routes, handlers)
        return found

    def _device_message(self, device: str, adapter: Adapter, msg: Message) -> None:
        # A QoS 1 redelivery carries DUP and a (topic, payload) we handled recently; after a
        # broker restart it may be one of many from its saved queue, not just the last one.
        key = message_key(msg.topic, msg.payload)
        if msg.gen not in self._gen_seen:
            self._gen_seen[msg.gen] = msg.received
        if self._is_redelivery(key, msg):
            self.stats["duplicate_messages"] += 1
            return
        self.remember(key, msg.gen)
        try:
            reading = adapter.decode(msg.topic, msg.payload)
        except MalformedPayload as exc:
            self.malformed_payload(device, msg.topic, str(exc))
            return
        except Exception as exc:  # an adapter bug must not stop the other devices
            self.malformed_payload(device, msg.topic, f"adapter failed: {exc!r}")
            return
        if reading is None:
            return
        if reading.problems:
            self.malformed_payload(device, msg.topic, "; ".join(reading.problems))
        if not reading.attrs:
            return
        known = self.state(device)
        baseline = msg.retain or (
            device not in self._heard
            and bool(known)
            and all(k in known and known[k] == v for k, v in reading.attrs.items())
        )
        self._heard.add(device)
        kind = "state.baseline" if baseline else "state"
        self.emit(Event(kind, device, reading.attrs, ts=self.clock()), dedup=key)

    def malformed_payload(self, device: str, topic: str, error: str) -> None:
        """Count a bad payload; log it at most once a minute per device."""
        self.malformed[device] += 1
        now = time.monotonic()
        if now - self._logged.get(device, -1e9) >= 60:
            self._logged[device] = now
            log.warning(
                "malformed payload device=%s topic=%s count=%d error=%s",
                device,
                topic,
                self.malformed[device],
                error[:200],
            )
