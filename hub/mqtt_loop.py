"""Run a LinkClient's network I/O on the hub's asyncio loop instead of paho's own thread.

With paho's thread, every received message woke that thread, then the loop, then the
journal writer, each taking the GIL from the others (bench/RESULTS.md, "Spine: ingest":
~7 futex calls per event at 1,000/s). Here the loop reads the socket itself (paho's
external-loop API: loop_read/loop_write/loop_misc), so a message is parsed, routed and
answered on one thread. What paho's thread did is kept: reconnect forever with backoff
(the blocking connect runs in an executor), keepalive (loop_misc every second), and an
exception in our handling never stops the reading (LinkClient and MqttLink catch it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any

from hub.mqtt_client import LinkClient

log = logging.getLogger("hub.mqtt")

_MAX_READ = 1000  # packets per readiness callback, so timers and the inbox get their turn
_FULL_RETRY = 0.05  # seconds before reading again while the inbox is full


class LoopDriver:
    """Drives one LinkClient from an asyncio loop: connect, read, write, keepalive, retry."""

    def __init__(
        self,
        loop: asyncio.AbstractEventLoop,
        client: LinkClient,
        *,
        min_backoff: float,
        max_backoff: float,
        room: Callable[[], int],
        connects: Callable[[], int],
    ):
        self.loop = loop
        self.client = client
        self.min_backoff = min_backoff
        self.max_backoff = max_backoff
        self._room = room  # inbox space: the socket is not read while it is full
        self._connects = connects
        self._sock: Any = None
        self._fd = -1  # the socket's number: it can be unregistered after paho closed it
        self._writer_added = False
        self._write_scheduled = False
        self._kick_pending = False
        self._stopped = False
        self._lost: asyncio.Event | None = None
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task | None = None
        client.io = self
        # With no callback set, paho writes each packet inline from whichever thread queued
        # it, even mid-reconnect; set, every queued packet goes through want_write().
        client.on_socket_register_write = _ignore

    # -- lifecycle (any thread) -------------------------------------------------------------
    def start(self) -> None:
        """Start connecting (and reconnecting) in the background."""
        self._call(self._start)

    def _start(self) -> None:
        if not self._stopped:
            self._task = self.loop.create_task(self._run())

    def stop(self) -> None:
        """Stop reconnecting and stop watching the socket (the owner disconnects first)."""
        self._stopped = True
        self._call(self._stop)

    def _stop(self) -> None:
        self._unwatch()
        if self.client.socket() is not None:
            self.client._sock_close()  # not left open for the broker to time out
        if self._wake is not None:
            self._wake.set()
        if self._task is not None:
            self._task.cancel()

    def _call(self, fn: Callable[[], None]) -> None:
        if self._on_loop():
            fn()
        else:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nothing to drive
                self.loop.call_soon_threadsafe(fn)

    def _on_loop(self) -> bool:
        return asyncio._get_running_loop() is self.loop

    async def _run(self) -> None:
        client = self.client
        delay = self.min_backoff
        self._wake = asyncio.Event()
        while not self._stopped:
            self._lost = asyncio.Event()
            before = self._connects()
            try:
                # DNS and TCP connect block: not on the loop.
                await self.loop.run_in_executor(None, client.reconnect)
            except Exception as exc:  # unreachable, refused, TLS, bad host: retry
                log.debug("mqtt connect failed error=%r", exc)
            else:
                while not self._lost.is_set() and not self._stopped:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._lost.wait(), 1.0)
                    if not self._lost.is_set() and client.socket() is not None:
                        client.loop_misc()  # keepalive: PINGREQ, and a dead link found
            if self._stopped:
                return
            if self._connects() > before:
                delay = self.min_backoff
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)
            delay = min(delay * 2, self.max_backoff)

    # -- paho's socket callbacks (LinkClient calls these, from any thread) -------------------
    def opened(self, sock: Any) -> None:
        """paho opened a socket (in the executor, during reconnect)."""
        self._call(lambda: self._watch(sock))

    def closed(self, sock: Any) -> None:
        """paho is closing the socket: the link is lost (or stopped)."""
        self._call(lambda: self._closed(sock))

    def want_write(self) -> None:
        """paho queued a packet: write it from the loop, once per burst of packets."""
        if self._on_loop():
            self._schedule_write()
        elif not self._kick_pending:
            # One wake-up of the loop however many packets another thread queues.
            self._kick_pending = True
            with contextlib.suppress(RuntimeError):
                self.loop.call_soon_threadsafe(self._kicked)

    def _kicked(self) -> None:
        self._kick_pending = False
        self._schedule_write()

    # -- on the loop ------------------------------------------------------------------------
    def _watch(self, sock: Any) -> None:
        if self._stopped or self.client.socket() is not sock:
            return  # stopped while connecting, or already replaced
        self._unwatch()
        self._sock = sock
        self._fd = sock.fileno()
        self.loop.add_reader(self._fd, self._on_readable)
        self._schedule_write()

    def _unwatch(self) -> None:
        sock, self._sock = self._sock, None
        if sock is None:
            return
        self.loop.remove_reader(self._fd)
        if self._writer_added:
            self.loop.remove_writer(self._fd)
        self._writer_added = False
        self._fd = -1

    def _closed(self, sock: Any) -> None:
        if sock is self._sock:
            self._unwatch()
        if self._lost is not None:
            self._lost.set()

    def _on_readable(self) -> None:
        sock = self._sock
        if sock is None:
            return
        room = self._room()
        if room <= 0:
            # Not reading makes TCP push back on the broker; nothing is dropped.
            self.loop.remove_reader(self._fd)
            self.loop.call_later(_FULL_RETRY, self._resume_reading, sock)
            return
        self.client.loop_read(min(room, _MAX_READ))
        if self._sock is sock and sock.pending():
            # Already received (our buffer or TLS's): epoll will not report it again.
            self.loop.call_soon(self._on_readable)

    def _resume_reading(self, sock: Any) -> None:
        if self._sock is sock:
            self.loop.add_reader(self._fd, self._on_readable)
            self._on_readable()

    def _schedule_write(self) -> None:
        if self._write_scheduled or self._writer_added:
            return  # a write is due, or the socket is full and the writer waits for room
        self._write_scheduled = True
        self.loop.call_soon(self._write)

    def _write(self) -> None:
        self._write_scheduled = False
        sock = self._sock
        client = self.client
        if sock is None or client.socket() is not sock:
            return
        client.loop_write()
        if self._sock is not sock:
            return  # lost while writing
        if client.want_write():
            if not self._writer_added:
                self._writer_added = True
                self.loop.add_writer(self._fd, self._on_writable)
        elif self._writer_added:
            self._writer_added = False
            self.loop.remove_writer(self._fd)

    def _on_writable(self) -> None:
        self._write()


def _ignore(*args: Any) -> None:
    """LinkClient routes paho's write requests to the driver; paho's callback is unused."""
