"""The supervisor in a real hub on a real broker: restart with backoff, give up, exit non-zero."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from hub.background import HubThread, call_on_loop
from hub.health.supervisor import EXIT_FATAL, Supervisor
from hub.store import read_events
from rules.effects import LightCommand
from rules.events import Event

from .conftest import hub_config


def write_clip(path: Path, frames: int = 30) -> Path:
    """A small real video: a bright square crossing a grey scene."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 10.0, (64, 48))
    for i in range(frames):
        f = np.full((48, 64, 3), 90, np.uint8)
        f[10:30, i * 2 % 44 : i * 2 % 44 + 20] = 250
        w.write(f)
    w.release()
    return path


class CameraPipeline:
    """A camera pipeline: a thread decoding a real video file and publishing its progress.

    `crash_runs` of its runs die on frame 12 (a decoder fault); the others finish the clip.
    """

    def __init__(self, name: str, clip: Path, crash_runs: int) -> None:
        self.name = name
        self.clip = clip
        self.crash_runs = crash_runs
        self.runs = 0
        self.ctx = None
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._stop = threading.Event()

    async def start(self, ctx) -> None:
        self.ctx = ctx
        self.runs += 1
        self._error = None
        self._stop.clear()
        crash = self.runs <= self.crash_runs
        self._thread = threading.Thread(target=self._work, args=(crash,), daemon=True)
        self._thread.start()

    def _work(self, crash: bool) -> None:
        try:
            cap = cv2.VideoCapture(str(self.clip))
            n = 0
            while not self._stop.is_set():
                ok, _frame = cap.read()
                if not ok:
                    break
                n += 1
                if crash and n == 12:
                    raise RuntimeError("decoder fault at frame 12")
            cap.release()
            self.ctx.publish(
                f"edgehub/test/{self.name}/state", json.dumps({"frames": n, "run": self.runs})
            )
        except BaseException as exc:
            self._error = exc

    def check(self) -> None:
        """Raise the worker's error: the supervisor's way of seeing a dead pipeline."""
        if self._error is not None:
            raise self._error

    async def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)


def fast_supervisor(**kw) -> Supervisor:
    return Supervisor(backoff=(0.05, 0.1, 0.2), check_interval=0.05, settle=0.3, **kw)


def test_pipeline_that_throws_is_restarted_and_reported(broker, tmp_path, collector):
    pipeline = CameraPipeline("porch_pipeline", write_clip(tmp_path / "porch.avi"), crash_runs=1)
    sup = fast_supervisor()
    with HubThread(hub_config(broker, tmp_path / "data"), components=sup.supervise([pipeline])):
        failed = collector.wait_event("component.failed")
        assert failed["data"]["component"] == "porch_pipeline"
        assert "decoder fault" in failed["data"]["error"]
        assert failed["data"]["gave_up"] is False and failed["data"]["restart_in"] == 0.05
        recovered = collector.wait_event("component.recovered")
        assert recovered["data"] == {
            "component": "porch_pipeline",
            "restarts": 1,
            "down_for": recovered["data"]["down_for"],
        }
        # The restarted pipeline does its job: the whole clip is decoded on its second run.
        state = json.loads(collector.last("edgehub/test/porch_pipeline/state"))
        assert state == {"frames": 30, "run": 2}
        assert sup.status()["porch_pipeline"]["state"] == "running"


def test_pipeline_that_keeps_failing_is_left_stopped(broker, tmp_path, collector):
    pipeline = CameraPipeline("porch_pipeline", write_clip(tmp_path / "porch.avi"), crash_runs=99)
    sup = fast_supervisor(max_failures=3)
    with HubThread(hub_config(broker, tmp_path / "data"), components=sup.supervise([pipeline])):
        gave_up = collector.wait_event("component.failed", lambda e: e["data"]["gave_up"])
        assert gave_up["data"]["state"] == "stopped"
        assert gave_up["data"]["failures"] == 3
        time.sleep(0.5)  # ten check intervals, many backoffs: no further attempt
        assert pipeline.runs == 3
        assert [e["data"]["failures"] for e in collector.events("component.failed")] == [1, 2, 3]
        assert collector.events("component.recovered") == []
        assert sup.status()["porch_pipeline"] == {
            "state": "stopped",
            "restarts": 2,
            "error": "RuntimeError: decoder fault at frame 12",
        }


class BadLights:
    """A light executor that throws on its first command, then works."""

    name = "lights"

    def __init__(self) -> None:
        self.starts = 0
        self.done: list[str] = []

    async def start(self, ctx) -> None:
        self.starts += 1
        ctx.on_effect(LightCommand, self.command)

    def command(self, effect: LightCommand) -> list[Event]:
        if self.starts == 1:
            raise OSError("GPIO chip busy")
        self.done.append(effect.device)
        return [Event("state", effect.device, {"state": "ON"})]

    async def stop(self) -> None:
        pass


def test_executor_that_throws_is_restarted_and_serves_again(broker, tmp_path, collector):
    lights = BadLights()
    sup = fast_supervisor()
    with HubThread(
        hub_config(broker, tmp_path / "data"), components=sup.supervise([lights])
    ) as hub:
        with pytest.raises(OSError):
            call_on_loop(hub, hub.execute, LightCommand(device="hall_light"))
        collector.wait_event("component.recovered")
        events = call_on_loop(hub, hub.execute, LightCommand(device="hall_light"))
        assert [(e.kind, e.source) for e in events] == [("state", "hall_light")]
        assert lights.done == ["hall_light"] and lights.starts == 2


def test_dead_probe_of_a_critical_part_calls_fatal(broker, tmp_path, collector):
    calls: list[tuple[str, str]] = []
    sup = fast_supervisor(fatal=lambda name, reason: calls.append((name, reason)))
    sup.watch("journal", lambda: False, dead_after=0.1)
    pipeline = CameraPipeline("porch_pipeline", write_clip(tmp_path / "porch.avi"), crash_runs=0)
    with HubThread(hub_config(broker, tmp_path / "data"), components=sup.supervise([pipeline])):
        failed = collector.wait_event("component.failed")
        assert failed["data"]["component"] == "journal" and failed["data"]["critical"]
        deadline = time.monotonic() + 5
        while not calls and time.monotonic() < deadline:
            time.sleep(0.05)
        assert calls == [("journal", "not alive")]


SCRIPT = """
import asyncio, sys
from hub.config import validate_config
from hub.runtime import Hub
from hub.health.supervisor import Supervisor

class RuleEngine:
    name = "rules"
    async def start(self, ctx):
        raise RuntimeError("rules database is corrupt")
    async def stop(self):
        pass

config = validate_config({{
    "hub": {{"id": "test", "data_dir": {data!r}, "pin_factory": "mock"}},
    "mqtt": {{"host": "{host}", "port": {port}}},
}})
sup = Supervisor(backoff=(0.05,), max_failures=3)
hub = Hub(config, components=sup.supervise([RuleEngine()]))
asyncio.run(hub.run())
print("run returned", flush=True)
"""


def test_critical_component_that_cannot_recover_exits_non_zero(broker, tmp_path):
    data = tmp_path / "data"
    script = SCRIPT.format(data=str(data), host=broker.host, port=broker.port)
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == EXIT_FATAL, proc.stderr[-2000:]
    # It stopped cleanly first: the journal holds the failures and the hub's stop.
    kinds = [(e.kind, e.data.get("gave_up")) for e in read_events(data / "edgehub.db")]
    assert ("component.failed", True) in kinds
    assert ("hub.stopping", None) in kinds
