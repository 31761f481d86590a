"""The sender: one thread per channel works through that channel's outbox rows in order.

A row is sent, then marked sent in a durable commit straight away: that gap is the only
window in which a kill -9 makes a resend, and for webhook channels the resend carries the
same Idempotency-Key. A failure blocks the channel (order is kept) and is retried with
exponential backoff and jitter until the row is older than max_age, then it is failed.
Held rows (quiet hours) do not block the rows behind them.
"""

from __future__ import annotations

import dataclasses
import logging
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from hub.config.owners import NotifyConfig
from hub.notify.outbox import Outbox, Row
from hub.notify.policy import backoff_delay

log = logging.getLogger(__name__)

Outcome = Callable[[str, Row], None]
"""(status "sent" | "retrying" | "failed", row): called from a sender thread."""

# With an injected clock that does not follow real time, waits are capped so the sender
# still looks again; wake() makes it look at once.
_MAX_WAIT = 30.0


class SendChannel(Protocol):
    """What the sender needs of a channel (AppriseChannel, or a test's own)."""

    id: str
    name: str

    def send(
        self, title: str, body: str, priority: str, attachment: str | None, key: str | None
    ) -> tuple[bool, str]:
        """Send one message; return (delivered, answer)."""


class Sender:
    """Works through the outbox; testable alone: Sender(Outbox(path), channels, cfg, clock)."""

    def __init__(
        self,
        outbox: Outbox,
        channels: Mapping[str, SendChannel],
        cfg: NotifyConfig | None = None,
        clock: Callable[[], float] = time.time,
        on_outcome: Outcome | None = None,
        housekeep: Callable[[float], float | None] | None = None,
        rnd: random.Random | None = None,
    ):
        self.outbox = outbox
        self.channels = dict(channels)
        self.cfg = cfg or NotifyConfig()
        self.clock = clock
        self.on_outcome = on_outcome
        self.housekeep = housekeep
        self.rnd = rnd or random.Random()
        self._wake = {cid: threading.Event() for cid in [*self.channels, "_house"]}
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    # ---- one step, usable without threads -------------------------------------------------
    def step(self, channel_id: str) -> bool:
        """Send the channel's due head row, if any; return True when a row was handled."""
        now = self.clock()
        row = self.outbox.head(channel_id, now)
        if row is None or row.next_try > now:
            return False
        ch = self.channels[channel_id]
        # Age counts from when a row could first be sent: a night's hold does not use it up.
        born = max(row.created, row.hold_until)
        if now - born > self.cfg.max_age:
            self._fail(row, now, row.last_error or "expired before it could be sent")
            return True
        try:
            ok, answer = ch.send(row.title, row.message, row.priority, row.attachment, row.token)
        except Exception as exc:  # a plugin bug must not kill the channel's thread
            ok, answer = False, f"{type(exc).__name__}: {exc}"
        done = self.clock()
        if ok:
            self.outbox.mark_sent(row.id, done)
            log.info("notify.sent id=%d owner=%s channel=%s", row.id, row.owner, ch.name)
            self._report("sent", dataclasses.replace(row, status="sent", attempts=row.attempts + 1))
            return True
        attempts = row.attempts + 1
        if done - born >= self.cfg.max_age:
            self._fail(dataclasses.replace(row, attempts=attempts), done, answer)
            return True
        delay = backoff_delay(attempts, self.cfg, self.rnd)
        self.outbox.mark_retry(row.id, done + delay, answer)
        if attempts == 1:  # once per row: an outage is news, each retry is not
            self._report("retrying", dataclasses.replace(row, attempts=1, last_error=answer))
        log.warning(
            "notify.retry id=%d channel=%s attempt=%d in=%.1fs answer=%s",
            row.id,
            ch.name,
            attempts,
            delay,
            answer,
        )
        return True

    def drain(self, channel_id: str) -> int:
        """Handle due rows of one channel until none is due; return how many were handled."""
        n = 0
        while self.step(channel_id):
            n += 1
        return n

    def _fail(self, row: Row, now: float, error: str) -> None:
        self.outbox.mark_failed(row.id, now, error)
        log.warning("notify.failed id=%d owner=%s error=%s", row.id, row.owner, error)
        self._report("failed", dataclasses.replace(row, status="failed", last_error=error))

    def _report(self, status: str, row: Row) -> None:
        if self.on_outcome is None:
            return
        try:
            self.on_outcome(status, row)
        except Exception:
            log.exception("notify.outcome_callback_failed id=%d", row.id)

    # ---- threads ------------------------------------------------------------------------
    def start(self) -> None:
        """Fail rows of channels no longer configured, then start one thread per channel."""
        now = self.clock()
        for row in self.outbox.rows("pending") + self.outbox.rows("clip"):
            if row.channel not in self.channels:
                self._fail(row, now, "the channel is no longer configured")
        for cid in self.channels:
            t = threading.Thread(target=self._run, args=(cid,), name=f"notify-{cid}", daemon=True)
            t.start()
            self._threads.append(t)
        if self.housekeep is not None:
            t = threading.Thread(target=self._run_house, name="notify-house", daemon=True)
            t.start()
            self._threads.append(t)

    def wake(self) -> None:
        """Make every thread look at the outbox now (new rows, or the clock moved)."""
        for ev in self._wake.values():
            ev.set()

    def stop(self, timeout: float = 15.0) -> None:
        """Stop the threads (a send in progress finishes and is marked first)."""
        self._stop.set()
        self.wake()
        deadline = time.monotonic() + timeout
        for t in self._threads:
            t.join(max(0.0, deadline - time.monotonic()))
        self._threads.clear()

    def _run(self, cid: str) -> None:
        ev = self._wake[cid]
        while not self._stop.is_set():
            ev.clear()
            try:
                if self.step(cid):
                    continue
                now = self.clock()
                nxt = self.outbox.next_wake(cid, now)
            except Exception:
                log.exception("notify.sender_error channel=%s", self.channels[cid].name)
                nxt = self.clock() + 5.0
                now = self.clock()
            ev.wait(_MAX_WAIT if nxt is None else min(_MAX_WAIT, max(0.0, nxt - now)))

    def _run_house(self) -> None:
        assert self.housekeep is not None
        ev = self._wake["_house"]
        while not self._stop.is_set():
            ev.clear()
            now = self.clock()
            try:
                nxt = self.housekeep(now)
            except Exception:
                log.exception("notify.housekeeping_error")
                nxt = now + 5.0
            if self._stop.is_set():
                break
            ev.wait(_MAX_WAIT if nxt is None else min(_MAX_WAIT, max(0.0, nxt - now)))
