"""A private Mosquitto broker process: the embedded broker of `make run` and the tests' broker."""

from __future__ import annotations

import contextlib
import os
import queue
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path


class BrokerError(RuntimeError):
    """The broker could not be started."""


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port that is free on host right now."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def mosquitto_binary() -> str | None:
    """Return the path of the mosquitto binary, or None when it is not installed."""
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)),
        None,
    )


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> None:
    """Block until host:port accepts TCP connections, or raise BrokerError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
            return
        time.sleep(0.02)
    raise BrokerError(f"nothing listens on {host}:{port} after {timeout:.0f}s")


def refuse_busy_port(host: str, port: int) -> None:
    """Raise BrokerError if something already listens on host:port.

    Without this, a broker left over from an earlier run (or any other server) would answer
    the readiness check and the hub would quietly talk to it, with its old retained states.
    """
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=0.2):
        raise BrokerError(
            f"port {host}:{port} is already in use (another broker still running?); "
            "stop it or set another port"
        )


def _spawn(command: list[str]) -> subprocess.Popen:
    # Its own session: a Ctrl-C in the terminal reaches the hub, which stops the broker itself.
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
    )


def _spawn_tied(command: list[str]) -> subprocess.Popen:
    """Start `setpriv --pdeathsig ...` from a thread that lives exactly as long as the child.

    The kernel sends the parent-death signal when the *thread* that forked the child ends, so
    forking from a pool thread that later retires would stop the broker early; this thread
    ends only once the broker has exited, or with the whole process.
    """
    started: queue.Queue = queue.Queue()

    def keeper() -> None:
        try:
            process = _spawn(command)
        except OSError as exc:
            started.put(exc)
            return
        started.put(process)
        process.wait()

    threading.Thread(target=keeper, name="broker-keeper", daemon=True).start()
    got = started.get()
    if isinstance(got, OSError):
        raise got
    return got


class MosquittoBroker:
    """A mosquitto process on a private port with its own config and persistence folder."""

    def __init__(
        self,
        data_dir: str | Path,
        port: int | None = None,
        host: str = "127.0.0.1",
        *,
        die_with_parent: bool = False,
    ):
        """die_with_parent: the broker gets SIGTERM if this process dies, even by SIGKILL
        (the hub's embedded broker; needs util-linux's setpriv, else it is not tied)."""
        self.host = host
        self.port = port or free_port(host)
        self.data_dir = Path(data_dir)
        self.die_with_parent = die_with_parent
        self.process: subprocess.Popen | None = None

    @property
    def config_path(self) -> Path:
        return self.data_dir / "mosquitto.conf"

    def write_config(self, extra: str = "") -> Path:
        """Write the broker's config file and return its path."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        lines = [
            f"listener {self.port} {self.host}",
            "allow_anonymous true",
            # Nagle plus delayed ACKs stalls QoS 1 round trips by ~40 ms (DESIGN.md, known traps).
            "set_tcp_nodelay true",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            # Saved every second so a SIGKILLed broker keeps queued QoS 1 messages.
            "autosave_interval 1",
            "max_queued_messages 100000",
            "max_inflight_messages 0",
            "log_type error",
            "log_type warning",
            f"log_dest file {self.data_dir}/mosquitto.log",
        ]
        if os.geteuid() == 0:
            # Run as root, mosquitto drops to the `mosquitto` user, which cannot write here.
            lines.insert(0, "user root")
        self.config_path.write_text("\n".join(lines) + "\n" + extra)
        return self.config_path

    def start(self, timeout: float = 10.0) -> MosquittoBroker:
        """Start the broker and wait until it accepts connections."""
        binary = mosquitto_binary()
        if binary is None:
            raise BrokerError("mosquitto is not installed (apt-get install mosquitto)")
        if not self.config_path.exists():
            self.write_config()
        refuse_busy_port(self.host, self.port)
        command = [binary, "-c", str(self.config_path)]
        setpriv = shutil.which("setpriv") if self.die_with_parent else None
        if setpriv:
            self.process = _spawn_tied([setpriv, "--pdeathsig", "TERM", *command])
        else:
            self.process = _spawn(command)
        try:
            wait_for_port(self.host, self.port, timeout)
        except BrokerError as exc:
            err = b""
            if self.process.poll() is not None and self.process.stderr:
                err = self.process.stderr.read()
            self.stop()
            raise BrokerError(
                f"mosquitto did not start: {exc} {err.decode(errors='replace')}"
            ) from exc
        return self

    def kill(self) -> None:
        """SIGKILL the broker, as a crash or power cut would."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(5)

    def stop(self) -> None:
        """Stop the broker gracefully (it saves its persistence file)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        if self.process and self.process.stderr:
            self.process.stderr.close()

    def restart(self) -> None:
        """Start again on the same port with the same persistence."""
        self.stop()
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://{self.host}:{self.port}"

    def __enter__(self) -> MosquittoBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
