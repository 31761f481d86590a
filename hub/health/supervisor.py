"""The supervisor: restarts a failed component with backoff; gives up on one that keeps failing.

`Supervisor.supervise(components)` returns wrappers that the runtime starts and stops like any
component. A wrapped component has failed when its start() raises, when an executor, subscription
handler or on_event of it raises, when its optional `check()` raises, or when it calls
`ctx.report_failure(exc)` on the context it was given. Each failure raises `component.failed`;
a restart that keeps running for `settle` seconds raises `component.recovered`. After
`max_failures` failures within `window` seconds the component is left stopped and reported
(`gave_up: true`). A critical component (the rule engine) or a critical probe (the MQTT link,
the journal writer) that cannot recover makes the process exit non-zero, so systemd restarts
the whole hub.
"""

from __future__ import annotations

import asyncio
import atexit
import contextlib
import inspect
import logging
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from hub.component import Component, HubContext
from hub.health.routing import SupervisedContext
from rules.events import Event

log = logging.getLogger(__name__)

EXIT_FATAL = 70  # EX_SOFTWARE: systemd's Restart=on-failure restarts the hub
FatalHandler = Callable[[str, str], None]


def exit_process(ctx: Any, code: int = EXIT_FATAL, grace: float = 30.0) -> FatalHandler:
    """Return a fatal handler that stops the hub cleanly, then exits with code."""

    def fatal(name: str, reason: str) -> None:
        stop = getattr(ctx, "request_stop", None)
        if threading.current_thread() is not threading.main_thread() and callable(stop):
            # A hub embedded in another program's thread (tests, the simulator) must not kill
            # its host: stop the hub only. The daemon runs its loop in the main thread.
            log.critical("fatal: %s cannot recover (%s); stopping the embedded hub", name, reason)
            stop()
            return
        log.critical("fatal: %s cannot recover (%s); exiting with %d", name, reason, code)
        # The clean stop flushes the journal; the exit code is forced once Python has finished.
        atexit.register(os._exit, code)
        timer = threading.Timer(grace, os._exit, args=(code,))
        timer.daemon = True
        timer.start()
        if callable(stop):
            stop()
        else:
            os._exit(code)

    return fatal


class Supervisor:
    """Restarts components with backoff and watches liveness probes of the hub's internals."""

    def __init__(
        self,
        *,
        backoff: Sequence[float] = (1.0, 5.0, 30.0),
        max_failures: int = 3,
        window: float = 600.0,
        check_interval: float = 5.0,
        settle: float = 10.0,
        stop_timeout: float = 10.0,
        critical: Iterable[str] = ("rules",),
        fatal: FatalHandler | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.backoff = tuple(backoff) or (1.0,)
        self.max_failures = max_failures
        self.window = window
        self.check_interval = check_interval
        self.settle = settle
        self.stop_timeout = stop_timeout
        self.critical = set(critical)
        self.clock = clock
        self._fatal = fatal
        self.ctx: HubContext | None = None
        self.members: dict[str, Supervised] = {}
        self._probes: dict[str, _Probe] = {}
        self._monitor: asyncio.Task | None = None
        self.fatal_reason: str | None = None

    def supervise(self, components: Iterable[Component]) -> list[Component]:
        """Wrap each component; return the list to hand to the runtime."""
        return [self.wrap(c) for c in components]

    def wrap(self, component: Component, *, critical: bool | None = None) -> Supervised:
        """Wrap one component (critical by default when its name is in `critical`)."""
        crit = component.name in self.critical if critical is None else critical
        member = Supervised(component, self, critical=crit)
        self.members[component.name] = member
        return member

    def watch(
        self,
        name: str,
        alive: Callable[[], bool],
        *,
        dead_after: float = 60.0,
        critical: bool = True,
    ) -> None:
        """Watch a liveness probe; a probe false for dead_after seconds is a failure."""
        self._probes[name] = _Probe(name, alive, dead_after, critical)

    def status(self) -> dict[str, dict[str, Any]]:
        """Return {name: {"state", "restarts", "error"}} for every component and probe."""
        out = {name: m.status() for name, m in self.members.items()}
        for name, probe in self._probes.items():
            out[name] = {"state": probe.state, "restarts": 0, "error": probe.error}
        return out

    # -- called by the members --------------------------------------------------------------
    def attach(self, ctx: HubContext) -> None:
        """Remember the hub context and start the monitor loop (once)."""
        if self.ctx is None:
            self.ctx = ctx
        if self._monitor is None or self._monitor.done():
            self._monitor = asyncio.get_running_loop().create_task(self._watch_loop())

    def detach(self) -> None:
        """Stop the monitor once no member runs any more."""
        if self._monitor is not None and all(m.state != "running" for m in self.members.values()):
            self._monitor.cancel()
            self._monitor = None

    def emit(self, kind: str, source: str, data: dict[str, Any]) -> None:
        """Raise an event through the hub (quietly skipped before the hub is attached)."""
        if self.ctx is not None:
            self.ctx.emit(Event(kind=kind, source=source, data=data, ts=self.clock()))

    def delay_for(self, attempt: int) -> float:
        """Return the backoff before restart number attempt (1-based)."""
        return self.backoff[min(attempt, len(self.backoff)) - 1]

    def die(self, name: str, reason: str) -> None:
        """A critical part cannot recover: hand over to the fatal handler (once)."""
        if self.fatal_reason is not None:
            return
        self.fatal_reason = f"{name}: {reason}"
        handler = self._fatal or exit_process(self.ctx)
        handler(name, reason)

    async def _watch_loop(self) -> None:
        while True:
            await asyncio.sleep(self.check_interval)
            now = self.clock()
            for member in list(self.members.values()):
                member.run_check()
                member.settle(now)
            for probe in self._probes.values():
                self._check_probe(probe, now)

    def _check_probe(self, probe: _Probe, now: float) -> None:
        try:
            alive = bool(probe.alive())
            error = None
        except Exception as exc:
            alive, error = False, f"{type(exc).__name__}: {exc}"
        if alive:
            if probe.state == "failed":
                self.emit("component.recovered", "hub", {"component": probe.name, "probe": True})
            probe.state, probe.dead_since, probe.error = "running", None, None
            return
        if probe.dead_since is None:
            probe.dead_since = now
        probe.error = error or probe.error or "not alive"
        if probe.state == "running" and now - probe.dead_since >= probe.dead_after:
            probe.state = "failed"
            data = {"component": probe.name, "error": probe.error, "critical": probe.critical}
            self.emit("component.failed", "hub", {**data, "gave_up": probe.critical})
            log.error("probe failed name=%s error=%s", probe.name, probe.error)
            if probe.critical:
                self.die(probe.name, probe.error)


class _Probe:
    def __init__(self, name: str, alive: Callable[[], bool], dead_after: float, critical: bool):
        self.name = name
        self.alive = alive
        self.dead_after = dead_after
        self.critical = critical
        self.state = "running"
        self.dead_since: float | None = None
        self.error: str | None = None


class Supervised:
    """One component under supervision; the runtime sees an ordinary component."""

    def __init__(self, inner: Component, supervisor: Supervisor, *, critical: bool) -> None:
        self.inner = inner
        self.name = inner.name
        self.critical = critical
        self.sup = supervisor
        self.state = "new"  # new, running, restarting, stopped (given up or by the hub)
        self.restarts = 0
        self.error: str | None = None
        self._failures: deque[float] = deque()
        self._failed_at: float | None = None
        self._restarted_at: float | None = None
        self._starting = False
        self._task: asyncio.Task | None = None
        self._ctx: SupervisedContext | None = None
        self._on_event = getattr(inner, "on_event", None)  # looked up once: every event passes

    def __getattr__(self, name: str) -> Any:
        # Anything else is the component's own (tests and tools look components up by name).
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def status(self) -> dict[str, Any]:
        """Return this component's state, restart count and last error."""
        return {"state": self.state, "restarts": self.restarts, "error": self.error}

    async def start(self, ctx: HubContext) -> None:
        """Start the component; a failure is reported and retried, not raised."""
        self.sup.attach(ctx)
        self._ctx = SupervisedContext(ctx, self)
        try:
            await self.inner.start(self._ctx)
        except Exception as exc:
            self.fail(exc)
            return
        self.state = "running"

    async def stop(self) -> None:
        """Stop the component (and any pending restart)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        # A restart cut short in the middle of start() may have left things running too.
        was_running = self.state == "running" or self._starting
        self.state = "stopped"
        self.sup.detach()
        if was_running:
            await self.inner.stop()

    def on_event(self, event: Event) -> None:
        """Pass every event on to the component while it runs."""
        handler = self._on_event
        if handler is None or self.state != "running":
            return
        try:
            handler(event)
        except Exception as exc:
            if self.critical:
                # The runtime isolates one bad event; restarting the rule engine would not help.
                log.exception("on_event failed component=%s kind=%s", self.name, event.kind)
                return
            self.fail(exc)

    async def reload(self) -> None:
        """Pass SIGHUP's reload on to the component."""
        fn = getattr(self.inner, "reload", None)
        if self.state == "running" and callable(fn):
            result = fn()
            if inspect.isawaitable(result):
                await result

    def run_check(self) -> None:
        """Run the component's own health check, if it has one."""
        check = getattr(self.inner, "check", None)
        if self.state != "running" or not callable(check):
            return
        try:
            check()
        except Exception as exc:
            self.fail(exc)

    def fail(self, exc: BaseException) -> None:
        """Record a failure; schedule a restart with backoff or give up."""
        if self.state in ("restarting", "stopped"):
            return  # already being handled, given up, or stopped by the hub
        now = self.sup.clock()
        self.error = f"{type(exc).__name__}: {exc}"
        self._failures.append(now)
        while self._failures and self._failures[0] < now - self.sup.window:
            self._failures.popleft()
        self._failed_at = self._failed_at or now
        attempt = len(self._failures)
        gave_up = attempt >= self.sup.max_failures
        data: dict[str, Any] = {
            "component": self.name,
            "error": self.error,
            "failures": attempt,
            "critical": self.critical,
            "gave_up": gave_up,
        }
        if gave_up:
            self.state = "stopped"
            data["state"] = "stopped"
            log.error("component gave up name=%s failures=%d error=%s", self.name, attempt, exc)
        else:
            self.state = "restarting"
            data["restart_in"] = self.sup.delay_for(attempt)
            log.warning("component failed name=%s attempt=%d error=%s", self.name, attempt, exc)
        self.sup.emit("component.failed", "hub", data)
        if self._ctx is not None:
            self._ctx.generation += 1  # handlers of the failed run go quiet
        self._task = asyncio.get_running_loop().create_task(self._recover(gave_up, attempt))

    async def _recover(self, gave_up: bool, attempt: int) -> None:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(self.inner.stop(), self.sup.stop_timeout)
        if gave_up:
            if self.critical:
                self.sup.die(self.name, self.error or "failed")
            return
        await asyncio.sleep(self.sup.delay_for(attempt))
        assert self._ctx is not None
        self.restarts += 1
        self._task = None
        self._starting = True
        try:
            await self.inner.start(self._ctx)
        except Exception as exc:
            self.state = "failed"
            self.fail(exc)
            return
        finally:
            self._starting = False
        self.state = "running"
        self._restarted_at = self.sup.clock()

    def settle(self, now: float) -> None:
        """Call it recovered once a restarted component has kept running for `settle` seconds."""
        if self.state != "running" or self._restarted_at is None or self._failed_at is None:
            return
        if now - self._restarted_at < self.sup.settle:
            return
        down = self._restarted_at - self._failed_at
        self._failed_at = self._restarted_at = None
        log.info("component recovered name=%s restarts=%d", self.name, self.restarts)
        self.sup.emit(
            "component.recovered",
            "hub",
            {"component": self.name, "restarts": self.restarts, "down_for": round(down, 3)},
        )
