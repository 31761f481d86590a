"""Run a Hub on its own event loop in a background thread (tests, benchmarks, demos)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from hub.component import Component
from hub.config import Config
from hub.runtime import Hub
from hub.wiring import Backends


class HubThread:
    """A Hub in a thread: `with HubThread(config) as hub: ...` waits until it is ready."""

    def __init__(
        self,
        config: Config,
        *,
        backends: Backends | None = None,
        components: list[Component] | None = None,
        **kwargs: Any,
    ):
        self.hub = Hub(config, backends=backends, components=components, **kwargs)
        self._thread = threading.Thread(target=self._run, name="hub", daemon=True)
        self.error: BaseException | None = None

    def _run(self) -> None:
        try:
            asyncio.run(self.hub.run())
        except BaseException as exc:
            self.error = exc
            self.hub.started.set()

    def start(self, timeout: float = 20.0) -> Hub:
        """Start the hub and wait until it is ready; return it."""
        self._thread.start()
        if not self.hub.started.wait(timeout):
            raise TimeoutError("the hub did not become ready")
        if self.error is not None:
            raise self.error
        return self.hub

    def call(self, fn: Any, *args: Any, timeout: float = 10.0) -> Any:
        """Run fn(*args) on the hub's loop (a coroutine function is awaited); return its result."""
        return call_on_loop(self.hub, fn, *args, timeout=timeout)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the hub cleanly and join its thread."""
        self.hub.request_stop()
        self._thread.join(timeout)

    def __enter__(self) -> Hub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def call_on_loop(hub: Hub, fn: Any, *args: Any, timeout: float = 10.0) -> Any:
    """Run fn(*args) on a running hub's loop from another thread; return its result."""

    async def wrapper() -> Any:
        result = fn(*args)
        if asyncio.iscoroutine(result):
            result = await result
        return result

    return asyncio.run_coroutine_threadsafe(wrapper(), hub.loop).result(timeout)
