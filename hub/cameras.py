"""The cameras component: runs each configured camera inside the hub.

Emits camera.motion, camera.online/offline, recording.started/finished, camera.detection and
storage.full; executes the Record and Snapshot effects; indexes clips in the `recordings`
table of <data_dir>/edgehub.db; publishes `edgehub/<hub>/<camera>/state` and the latest
snapshot JPEG (retained) on `edgehub/<hub>/<camera>/snapshot`; obeys
`edgehub/<hub>/<camera>/set` with {"record": seconds} or {"snapshot": true}.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from devices.camera import (
    Camera,
    ClipInfo,
    MotionConfig,
    OpenCVSource,
    RecordConfig,
    RetentionConfig,
    Storage,
)
from devices.errors import CameraError
from hub.component import HubContext
from hub.store import DB_NAME, connect
from rules.effects import Effect, Record, Snapshot
from rules.events import Event

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS recordings (
    id INTEGER PRIMARY KEY, camera TEXT NOT NULL, start REAL NOT NULL, end REAL,
    cause TEXT, file TEXT NOT NULL UNIQUE, size INTEGER, reason TEXT, event_id TEXT
);
CREATE INDEX IF NOT EXISTS recordings_camera ON recordings (camera, start);
"""

SourceFactory = Callable[[str], Any]
AnalyzeFactory = Callable[[str, Any], Any]


class CamerasComponent:
    """Runs cameras; each one captures, detects motion and records in its own threads."""

    name = "cameras"

    def __init__(
        self,
        configs: Mapping[str, Any],
        *,
        source_factory: SourceFactory | None = None,
        analyze_factory: AnalyzeFactory | None = None,
        disk_usage: Callable | None = None,
        sweep_every: float = 600.0,
    ) -> None:
        self.configs = dict(configs)
        self.source_factory = source_factory
        self.analyze_factory = analyze_factory
        self.disk_usage = disk_usage
        self.sweep_every = sweep_every
        self.cameras: dict[str, Camera] = {}
        self.storages: dict[str, Storage] = {}
        self.ctx: HubContext | None = None
        self.db = None
        self._db_lock = threading.Lock()
        self._motion_id: dict[str, str] = {}
        self._sweeper: asyncio.Task | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    async def start(self, ctx: HubContext) -> None:
        """Open the index, start every camera, register the effects and set topics."""
        self.ctx = ctx
        self.db = connect(Path(ctx.data_dir) / DB_NAME)
        with self._db_lock:
            self.db.executescript(_SCHEMA)
            self.db.commit()
        self._close_interrupted()
        for name, cfg in self.configs.items():
            try:
                cam = self._build(name, cfg)
            except Exception as e:
                log.error("camera %s cannot start: %s", name, e)
                continue
            self.cameras[name] = cam
            self._wire(name, cam)
            cam.start()
            ctx.subscribe(f"edgehub/{ctx.hub_id}/{name}/set", self._on_set)
            self._publish_state(name)
        ctx.on_effect(Record, self.record)
        ctx.on_effect(Snapshot, self.snapshot)
        self._sweeper = asyncio.get_running_loop().create_task(self._sweep_loop())
        log.info("cameras started: %s", ", ".join(self.cameras) or "none")

    async def stop(self) -> None:
        """Stop capture, finish open clips (indexed), close the index."""
        if self._sweeper is not None:
            self._sweeper.cancel()
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(loop.run_in_executor(None, cam.stop) for cam in self.cameras.values())
        )
        self.cameras.clear()
        if self.db is not None:
            with self._db_lock:
                self.db.close()
            self.db = None

    def check(self) -> None:
        """Raise CameraError when a camera's thread has died (the supervisor then restarts us)."""
        for name, cam in self.cameras.items():
            # Camera threads run until stop(); they catch source errors themselves, so a dead
            # one means something escaped them and the camera is silently blind.
            dead = [t.name for t in cam._threads if not t.is_alive()]
            if dead:
                raise CameraError(f"camera {name} thread died: {', '.join(dead)}")

    def _build(self, name: str, cfg: Any) -> Camera:
        assert self.ctx is not None
        media = Path(self.ctx.data_dir) / "media" / name
        r = cfg.record
        retain = r.retain
        storage = Storage(
            media,
            RetentionConfig(
                days=retain.days, max_bytes=int(retain.max_gb * 1e9), min_free=retain.min_free / 100
            ),
            disk_usage=self.disk_usage,
            clock=self.ctx.now,
        )
        self.storages[name] = storage
        analyze = self._analyzer(name, cfg)
        return Camera(
            name,
            self._source(cfg.source, cfg),
            media_root=media,
            width=cfg.detect.width,
            height=cfg.detect.height,
            fps=cfg.detect.fps,
            motion=MotionConfig(**cfg.motion.model_dump(exclude_none=True)),
            record=RecordConfig(pre=r.pre, post=r.post, max=r.max),
            storage=storage,
            analyze=analyze,
            clock=self.ctx.now,
        )

    def _analyzer(self, name: str, cfg: Any) -> Any:
        options = getattr(cfg, "classifier", None)
        if self.analyze_factory is None and options is None:
            return None  # motion only
        try:
            if self.analyze_factory is not None:
                return self.analyze_factory(name, cfg)
            from models.pipeline import build_pipeline

            return build_pipeline(options)
        except Exception as e:  # a bad model must not take the camera down
            log.error("camera %s classifier unavailable, motion only: %s", name, e)
            return None

    def _source(self, spec: str | int, cfg: Any) -> Any:
        if self.source_factory is not None:
            src = self.source_factory(str(spec))
            if src is not None:
                return src
        if str(spec).startswith("sim:"):
            # No factory injected: the simulator's scene renderer, in real time.
            try:
                from simulator.scenes.source import source_for
            except ImportError as e:
                raise CameraError(f"source {spec!r} needs the simulator: {e}") from None
            d = cfg.detect
            return source_for(str(spec), d.width, d.height, d.fps)
        is_file = Path(str(spec)).is_file()
        # A video file acts as a live camera: paced at its frame rate, looping.
        return OpenCVSource(spec, realtime=is_file, loop=is_file)

    # -- camera callbacks (camera threads) ---------------------------------------------------

    def _wire(self, name: str, cam: Camera) -> None:
        cam.on_motion = lambda phase, regions, ts, snap: self._motion(
            name, phase, regions, ts, snap
        )
        cam.on_online = lambda: self._emit(name, "camera.online", {})
        cam.on_offline = lambda reason: self._emit(name, "camera.offline", {"reason": reason})
        cam.on_recording_started = lambda clip: self._clip_started(name, clip)
        cam.on_recording_finished = lambda clip: self._clip_finished(name, clip)
        cam.on_detection = lambda det: self._emit(name, "camera.detection", det)
        cam.on_storage_full = lambda problem: self._emit(name, "storage.full", {"problem": problem})
        cam.on_snapshot = lambda path, jpeg, reason: self._snapshot_out(name, jpeg)

    def _emit(self, name: str, kind: str, data: dict, cause: str | None = None, ts=None) -> Event:
        assert self.ctx is not None
        ev = Event(kind, name, data, ts=self.ctx.now() if ts is None else ts, cause=cause)
        self.ctx.emit(ev)
        self._publish_state(name)
        return ev

    def _motion(self, name: str, phase: str, regions: list, ts: float, snap: Path | None) -> None:
        data = {"phase": phase, "regions": [list(b) for b in regions]}
        if snap is not None:
            data["snapshot"] = str(snap)
        ev = self._emit(
            name,
            "camera.motion",
            data,
            cause=self._motion_id.get(name) if phase == "end" else None,
            ts=ts,
        )
        if phase == "start":
            self._motion_id[name] = ev.id

    def _cause(self, name: str, clip: ClipInfo) -> str | None:
        if clip.cause == "motion":
            return self._motion_id.get(name)
        return None if clip.cause in (None, "request") else clip.cause

    def _clip_started(self, name: str, clip: ClipInfo) -> None:
        cause = self._cause(name, clip)
        ev = self._emit(
            name, "recording.started", {"file": str(clip.file), "start": clip.start}, cause=cause
        )
        self._db(
            "INSERT OR REPLACE INTO recordings (camera, start, cause, file, event_id) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, clip.start, cause, str(clip.file), ev.id),
        )

    def _clip_finished(self, name: str, clip: ClipInfo) -> None:
        data = {
            "file": str(clip.file),
            "start": clip.start,
            "end": clip.end,
            "size": clip.size,
            "frames": clip.frames,
            "reason": clip.reason,
        }
        self._emit(name, "recording.finished", data, cause=self._cause(name, clip))
        self._db(
            "UPDATE recordings SET end = ?, size = ?, reason = ? WHERE file = ?",
            (clip.end, clip.size, clip.reason, str(clip.file)),
        )

    def _snapshot_out(self, name: str, jpeg: bytes) -> None:
        assert self.ctx is not None
        self.ctx.publish(f"edgehub/{self.ctx.hub_id}/{name}/snapshot", jpeg, retain=True, qos=0)

    def _publish_state(self, name: str) -> None:
        assert self.ctx is not None
        cam = self.cameras.get(name)
        if cam is None:
            return
        body = json.dumps(cam.state(), default=str)
        self.ctx.publish(f"edgehub/{self.ctx.hub_id}/{name}/state", body, retain=True, qos=1)

    def _db(self, sql: str, args: tuple) -> None:
        with self._db_lock:
            if self.db is None:
                return
            try:
                self.db.execute(sql, args)
                self.db.commit()
            except Exception:
                log.exception("recordings index write failed")

    # -- effects and commands ----------------------------------------------------------------

    async def record(self, effect: Effect) -> list[Event]:
        """Start or extend a recording (Record effect); the clip announces itself."""
        assert isinstance(effect, Record)
        self._camera(effect.camera).record(effect.duration, effect.cause)
        return []

    async def snapshot(self, effect: Effect) -> list[Event]:
        """Take a snapshot now (Snapshot effect); return a camera.snapshot event."""
        assert isinstance(effect, Snapshot)
        cam = self._camera(effect.camera)
        path = await asyncio.get_running_loop().run_in_executor(None, cam.snapshot, "request")
        if path is None:
            raise CameraError(f"camera {effect.camera!r} has no frame yet")
        now = self.ctx.now() if self.ctx is not None else time.time()
        return [Event("camera.snapshot", effect.camera, {"snapshot": str(path)}, ts=now)]

    def _camera(self, name: str) -> Camera:
        cam = self.cameras.get(name)
        if cam is None:
            raise CameraError(f"no camera named {name!r} is running")
        return cam

    def _on_set(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self.ctx is not None
        if retained:
            return
        ctx = self.ctx
        name = topic.split("/")[-2]
        text = payload[:200].decode("utf-8", errors="replace")
        cmd = Event("command", name, {"topic": topic, "payload": text}, ts=ctx.now())
        ctx.emit(cmd)
        asyncio.get_running_loop().create_task(self._run_set(name, topic, payload, cmd))

    async def _run_set(self, name: str, topic: str, payload: bytes, cmd: Event) -> None:
        assert self.ctx is not None
        result: dict[str, Any] = {"topic": topic, "ok": True}
        try:
            try:
                data = json.loads(payload)
            except ValueError:
                raise CameraError('expected JSON such as {"record": 30}') from None
            if not isinstance(data, dict) or not ({"record", "snapshot"} & data.keys()):
                raise CameraError('expected {"record": seconds} or {"snapshot": true}')
            if "record" in data:
                secs = float(data["record"]) if data["record"] not in (None, True) else None
                await self.ctx.execute(Record(cause=cmd.id, camera=name, duration=secs))
            if data.get("snapshot"):
                evs = await self.ctx.execute(Snapshot(cause=cmd.id, camera=name))
                result["snapshot"] = evs[0].data["snapshot"] if evs else None
        except (CameraError, TypeError, ValueError) as e:
            result = {"topic": topic, "ok": False, "error": str(e)}
            log.warning("camera %s rejected command: %s", name, e)
        self.ctx.emit(Event("command.result", name, result, cause=cmd.id, ts=self.ctx.now()))

    def _close_interrupted(self) -> None:
        # Clips open when the hub died (power cut, kill -9) have no end: record what is there.
        with self._db_lock:
            assert self.db is not None
            rows = self.db.execute("SELECT id, file FROM recordings WHERE end IS NULL").fetchall()
            for rid, file in rows:
                size = Path(file).stat().st_size if Path(file).exists() else 0
                self.db.execute(
                    "UPDATE recordings SET reason = 'interrupted', size = ? WHERE id = ?",
                    (size, rid),
                )
            self.db.commit()
        if rows:
            log.warning("%d recordings were interrupted by the last shutdown", len(rows))

    # -- retention ---------------------------------------------------------------------------

    async def sweep(self) -> list[Path]:
        """Sweep every camera's media by age, size and free disk; drop their index rows."""
        loop = asyncio.get_running_loop()
        deleted: list[Path] = []
        for name, storage in self.storages.items():
            cam = self.cameras.get(name)
            keep = {cam.recorder.clip.file} if cam and cam.recorder.clip else set()
            deleted += await loop.run_in_executor(None, storage.sweep, keep)
        for path in deleted:
            self._db("DELETE FROM recordings WHERE file = ?", (str(path),))
        # Clips the recorder swept itself to make room (or a user deleted) leave the index too.
        with self._db_lock:
            rows = self.db.execute("SELECT file FROM recordings").fetchall() if self.db else []
        for (file,) in rows:
            if not Path(file).exists() and all(
                cam.recorder.clip is None or str(cam.recorder.clip.file) != file
                for cam in self.cameras.values()
            ):
                self._db("DELETE FROM recordings WHERE file = ?", (file,))
        return deleted

    async def _sweep_loop(self) -> None:
        while True:
            try:
                await self.sweep()
            except Exception:
                log.exception("recordings sweep failed")
            await asyncio.sleep(self.sweep_every)
