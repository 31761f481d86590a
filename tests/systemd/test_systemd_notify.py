"""SystemdNotifier against a real unix datagram socket standing in for systemd's NOTIFY_SOCKET."""

from __future__ import annotations

import asyncio
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.systemd import SystemdError, SystemdNotifier, notify_address, watchdog_interval


class FakeSystemd:
    """The receiving end of NOTIFY_SOCKET: a bound AF_UNIX datagram socket."""

    def __init__(self, address: str | bytes) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(address)
        self.sock.setblocking(False)

    def drain(self) -> list[dict[str, str]]:
        """Return every message received so far, parsed into KEY=VALUE dicts."""
        out = []
        while True:
            try:
                data = self.sock.recv(4096)
            except BlockingIOError:
                return out
            out.append(dict(line.split("=", 1) for line in data.decode().splitlines()))

    def wait(self, timeout: float = 5.0) -> dict[str, str]:
        """Block until one message arrives and return it."""
        self.sock.settimeout(timeout)
        try:
            data = self.sock.recv(4096)
        finally:
            self.sock.setblocking(False)
        return dict(line.split("=", 1) for line in data.decode().splitlines())


@pytest.fixture
def systemd(tmp_path: Path) -> Iterator[tuple[FakeSystemd, str]]:
    path = str(tmp_path / "notify.sock")
    fake = FakeSystemd(path)
    yield fake, path
    fake.sock.close()


def test_without_notify_socket_everything_is_a_quiet_no_op() -> None:
    n = SystemdNotifier(environ={"WATCHDOG_USEC": "1000000"})
    assert not n.enabled and n.interval is None
    n.ready("ok")
    n.status("x")
    n.stopping()
    # Returns at once instead of pinging nobody forever.
    asyncio.run(asyncio.wait_for(n.watchdog_loop(), 1))
    assert n.sent == 0


def test_ready_status_stopping_arrive_as_datagrams(systemd: tuple[FakeSystemd, str]) -> None:
    fake, path = systemd
    n = SystemdNotifier(environ={"NOTIFY_SOCKET": path})
    n.ready("broker connected, 5 devices,\n3 rules")
    n.status("2 cameras recording")
    n.reloading()
    n.stopping()
    msgs = fake.drain()
    assert msgs == [
        {"READY": "1", "STATUS": "broker connected, 5 devices, 3 rules"},
        {"STATUS": "2 cameras recording"},
        {"RELOADING": "1"},
        {"STOPPING": "1", "STATUS": "stopping"},
    ]
    n.close()


def test_abstract_socket_named_with_at_sign() -> None:
    name = f"edgehub-test-{os.getpid()}-{time.monotonic_ns()}"
    fake = FakeSystemd(b"\0" + name.encode())
    try:
        n = SystemdNotifier(environ={"NOTIFY_SOCKET": "@" + name})
        n.ready("up")
        assert fake.wait() == {"READY": "1", "STATUS": "up"}
    finally:
        fake.sock.close()


def test_watchdog_pings_at_half_of_watchdog_usec(systemd: tuple[FakeSystemd, str]) -> None:
    fake, path = systemd
    n = SystemdNotifier(environ={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "200000"})
    assert n.interval == pytest.approx(0.1)
    arrivals: list[float] = []

    async def main() -> None:
        task = asyncio.create_task(n.watchdog_loop())
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()

        def on_readable() -> None:
            for msg in fake.drain():
                assert msg == {"WATCHDOG": "1"}
                arrivals.append(time.monotonic())
            if len(arrivals) >= 6 and not fut.done():
                fut.set_result(None)

        loop.add_reader(fake.sock.fileno(), on_readable)
        await asyncio.wait_for(fut, 10)
        loop.remove_reader(fake.sock.fileno())
        task.cancel()

    asyncio.run(main())
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    # Never faster than the period (systemd would not mind, but it would be a busy loop).
    assert min(gaps) >= 0.09, gaps


def test_no_watchdog_while_the_loop_is_blocked(systemd: tuple[FakeSystemd, str]) -> None:
    fake, path = systemd
    n = SystemdNotifier(environ={"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "100000"})

    async def main() -> tuple[int, int, int]:
        task = asyncio.create_task(n.watchdog_loop())
        await asyncio.sleep(0.3)
        before = len(fake.drain())
        # A handler that hangs the loop: the socket must stay silent for the whole hang.
        time.sleep(0.6)
        during = len(fake.drain())
        await asyncio.sleep(0.3)
        after = len(fake.drain())
        task.cancel()
        return before, during, after

    before, during, after = asyncio.run(main())
    assert before >= 2
    assert during == 0
    assert after >= 2


def test_watchdog_meant_for_another_pid_is_ignored(systemd: tuple[FakeSystemd, str]) -> None:
    _, path = systemd
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000", "WATCHDOG_PID": "1"}
    assert SystemdNotifier(environ=env).interval is None
    env["WATCHDOG_PID"] = str(os.getpid())
    assert SystemdNotifier(environ=env).interval == pytest.approx(0.5)


def test_a_vanished_socket_is_logged_not_raised(
    systemd: tuple[FakeSystemd, str], caplog: pytest.LogCaptureFixture
) -> None:
    fake, path = systemd
    fake.sock.close()
    os.unlink(path)
    n = SystemdNotifier(environ={"NOTIFY_SOCKET": path})
    n.ready("up")
    n.status("still up")
    assert n.sent == 0
    assert len([r for r in caplog.records if "sd_notify failed" in r.message]) == 1


def test_bad_environment_disables_instead_of_crashing() -> None:
    with pytest.raises(SystemdError):
        notify_address("relative/path")
    n = SystemdNotifier(environ={"NOTIFY_SOCKET": "relative.sock"})
    assert not n.enabled
    assert watchdog_interval({"WATCHDOG_USEC": "0"}) is None


HUNG = """
import asyncio, os, sys, time
from hub.systemd import SystemdNotifier

def stuck_in_a_blocking_call():
    time.sleep(60)

async def main():
    n = SystemdNotifier()
    asyncio.get_running_loop().create_task(n.watchdog_loop())
    await asyncio.sleep(0.3)
    print("blocking", flush=True)
    stuck_in_a_blocking_call()

asyncio.run(main())
"""


def test_watchdog_kill_leaves_the_blocking_stack_in_the_journal(
    systemd: tuple[FakeSystemd, str],
) -> None:
    fake, path = systemd
    env = dict(os.environ, NOTIFY_SOCKET=path, WATCHDOG_USEC="200000")
    proc = subprocess.Popen(
        [sys.executable, "-c", HUNG], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"blocking\n"
    time.sleep(0.3)
    pings = len(fake.drain())
    time.sleep(0.5)
    # The loop is stuck: no WATCHDOG=1 any more, so systemd sends its WatchdogSignal.
    assert pings >= 1 and fake.drain() == []
    proc.send_signal(signal.SIGABRT)
    _, err = proc.communicate(timeout=10)
    assert proc.returncode == -signal.SIGABRT
    assert b"stuck_in_a_blocking_call" in err, err.decode()
