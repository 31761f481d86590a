"""The broker the hub starts itself when hub.yaml has no `mqtt` section.

A private mosquitto process when the binary is installed; otherwise amqtt in a thread of
its own (its own event loop, so a busy hub loop cannot stall it). amqtt 0.12 upgrades QoS 0
publishes and drops the offline queue of anonymous persistent sessions (DESIGN.md), so it
is for `make run` on a bare machine, not for delivery guarantees: the hub warns when used.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Protocol

from hub.broker import (
    BrokerError,
    MosquittoBroker,
    mosquitto_binary,
    refuse_busy_port,
    wait_for_port,
)

log = logging.getLogger(__name__)


class EmbeddedBroker(Protocol):
    """A broker the hub owns: where it listens, and how to stop it."""

    host: str
    port: int

    def stop(self) -> None:
        """Stop the broker."""


class AmqttBroker:
    """amqtt running in its own thread and event loop."""

    def __init__(self, host: str = "127.0.0.1", port: int = 1883):
        self.host = host
        self.port = port
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._stopped: asyncio.Event | None = None
        self._error: BaseException | None = None

    def start(self, timeout: float = 10.0) -> AmqttBroker:
        """Start the broker and wait until it accepts connections."""
        refuse_busy_port(self.host, self.port)
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(ready,), name="amqtt-broker", daemon=True
        )
        self._thread.start()
        ready.wait(timeout)
        if self._error is not None:
            raise BrokerError(f"amqtt did not start on {self.host}:{self.port}: {self._error}")
        wait_for_port(self.host, self.port, timeout)
        return self

    def _run(self, ready: threading.Event) -> None:
        from amqtt.broker import Broker

        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stopped = asyncio.Event()
            config = {
                "listeners": {
                    "default": {"type": "tcp", "bind": f"{self.host}:{self.port}"},
                },
                "plugins": {
                    "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True},
                },
            }
            broker = Broker(config)
            try:
                await broker.start()
            except BaseException as exc:
                self._error = exc
                ready.set()
                return
            ready.set()
            await self._stopped.wait()
            await broker.shutdown()

        for name in ("amqtt", "transitions"):
            logging.getLogger(name).setLevel(logging.ERROR)
        try:
            asyncio.run(main())
        except BaseException as exc:
            self._error = exc
            ready.set()

    def stop(self) -> None:
        """Shut the broker down and join its thread."""
        if self._loop is not None and self._stopped is not None and self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stopped.set)
        if self._thread is not None:
            self._thread.join(10)


def start_embedded_broker(
    data_dir: str | Path, host: str = "127.0.0.1", port: int = 1883, backend: str = "auto"
) -> EmbeddedBroker:
    """Start mosquitto (when installed, or asked for) else amqtt; return it running."""
    if backend == "mosquitto" or (backend == "auto" and mosquitto_binary() is not None):
        # Tied to the hub: a hub killed with SIGKILL must not leave a broker holding the port.
        broker = MosquittoBroker(Path(data_dir) / "broker", port, host, die_with_parent=True)
        # Rewritten every start: the port may have changed since the last run.
        broker.write_config()
        broker.start()
        log.info("embedded broker backend=mosquitto host=%s port=%d", host, port)
        return broker
    log.warning(
        "embedded broker backend=amqtt host=%s port=%d: install mosquitto for QoS 1 "
        "delivery across hub restarts",
        host,
        port,
    )
    return AmqttBroker(host, port).start()
