"""sd_notify for the daemon: READY/STATUS/STOPPING and a watchdog driven by the asyncio loop.

The protocol is one datagram per message on the unix socket named by NOTIFY_SOCKET (a path,
or an abstract name written with a leading '@'). Everything here is a no-op when the hub is
not started by systemd, and a failed send is logged, never raised: systemd bookkeeping must
not take the hub down.
"""

from __future__ import annotations

import asyncio
import contextlib
import faulthandler
import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class SystemdError(RuntimeError):
    """Root of this module's errors: a NOTIFY_SOCKET or WATCHDOG_USEC systemd cannot have set."""


def notify_address(value: str | None) -> str | bytes | None:
    """Return the socket address for a NOTIFY_SOCKET value ('@name' is an abstract socket)."""
    if not value:
        return None
    if value.startswith("@"):
        # Linux abstract namespace: a leading NUL byte instead of '@'.
        return b"\0" + value[1:].encode()
    if value.startswith("/"):
        return value
    raise SystemdError(f"NOTIFY_SOCKET must be an absolute path or start with '@': {value!r}")


def watchdog_interval(environ: Mapping[str, str]) -> float | None:
    """Return the seconds between WATCHDOG=1 pings (half of WATCHDOG_USEC), or None if off."""
    usec = environ.get("WATCHDOG_USEC")
    if not usec:
        return None
    pid = environ.get("WATCHDOG_PID")
    # The watchdog is meant for one process; a child that inherited the variables is not it.
    if pid and pid.isdigit() and int(pid) != os.getpid():
        return None
    try:
        value = int(usec)
    except ValueError as exc:
        raise SystemdError(f"WATCHDOG_USEC is not an integer: {usec!r}") from exc
    if value <= 0:
        return None
    return value / 2_000_000


def _one_line(text: str) -> str:
    # A newline would start a new KEY=VALUE assignment in the datagram.
    return " ".join(text.split())


class SystemdNotifier:
    """Tell systemd how the service is doing; a no-op when NOTIFY_SOCKET is unset."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        env = os.environ if environ is None else environ
        try:
            self.address = notify_address(env.get("NOTIFY_SOCKET"))
            self.interval = watchdog_interval(env) if self.address is not None else None
        except SystemdError as exc:
            # A hub that cannot talk to systemd should still run; say why once.
            log.warning("sd_notify disabled error=%s", exc)
            self.address, self.interval = None, None
        self.sent = 0
        self._sock: socket.socket | None = None
        self._failed = False

    @property
    def enabled(self) -> bool:
        """True when the process runs under systemd with a notify socket."""
        return self.address is not None

    def notify(self, *assignments: str) -> bool:
        """Send KEY=VALUE assignments in one datagram; return whether it was sent."""
        if self.address is None:
            return False
        data = "\n".join(assignments).encode()
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # Never block the asyncio loop on a full receive queue: drop and log instead.
                self._sock.setblocking(False)
            self._sock.sendto(data, self.address)
        except OSError as exc:
            if not self._failed:
                log.warning("sd_notify failed socket=%s error=%s", self.address, exc)
            self._failed = True
            return False
        self._failed = False
        self.sent += 1
        return True

    def ready(self, status: str) -> None:
        """Report start-up finished (broker connected, journal open, rules loaded)."""
        if self.notify("READY=1", f"STATUS={_one_line(status)}"):
            log.info("systemd ready status=%r", status)

    def status(self, text: str) -> None:
        """Set the one-line status shown by `systemctl status edgehub`."""
        self.notify(f"STATUS={_one_line(text)}")

    def reloading(self) -> None:
        """Report a reload in progress (SIGHUP); call ready() again when done."""
        self.notify("RELOADING=1")

    def stopping(self) -> None:
        """Report a clean shutdown in progress so systemd does not treat it as a crash."""
        self.notify("STOPPING=1", "STATUS=stopping")

    def watchdog(self) -> None:
        """Send one keep-alive ping."""
        self.notify("WATCHDOG=1")

    async def watchdog_loop(self) -> None:
        """Ping every half WATCHDOG_USEC from this asyncio loop, so a blocked loop stops them."""
        if self.interval is None:
            return
        # systemd kills a hung service with SIGABRT: first print every thread's Python stack
        # to stderr (the journal), which shows what blocked the loop.
        if not faulthandler.is_enabled():
            faulthandler.enable(all_threads=True)
        log.info("systemd watchdog interval_s=%.3f", self.interval)
        while True:
            self.watchdog()
            await asyncio.sleep(self.interval)

    def close(self) -> None:
        """Close the notify socket."""
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.close()
            self._sock = None
