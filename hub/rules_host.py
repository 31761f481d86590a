"""The rule host: runs the pure engine inside the hub (events in, effects executed), keeps
durable timers and traces in SQLite, hot-reloads the rules folder, and serves rule topics."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import sqlite3
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from hub.component import HubContext
from hub.eager import start_eagerly
from hub.jsontext import to_json
from rules import Engine, Event, LoadResult, Result, RulesError, TimerRecord, Trace, load_rules
from rules.loader import RULE_SUFFIXES
from rules.match import topic_matches

log = logging.getLogger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS timers (
    id TEXT PRIMARY KEY, rule TEXT NOT NULL, kind TEXT NOT NULL, deadline REAL, record TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS traces (
    id INTEGER PRIMARY KEY, ts REAL NOT NULL, rule TEXT NOT NULL, result TEXT NOT NULL,
    event_id TEXT, trace TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS traces_rule_ts ON traces (rule, ts);
"""


def open_db(path: Path) -> sqlite3.Connection:
    """Open (and create) the rule tables in the hub's SQLite file, WAL with a busy timeout."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=10)
    db.execute("PRAGMA busy_timeout=10000")
    db.execute("PRAGMA journal_mode=WAL")
    # WAL + NORMAL survives a process kill (kill -9); only a power cut may lose the last commits.
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    return db


def read_traces(db: sqlite3.Connection, rule: str, since: float) -> list[Trace]:
    """Return the traces of a rule since an epoch time, oldest first."""
    rows = db.execute(
        "SELECT trace FROM traces WHERE rule = ? AND ts >= ? ORDER BY ts, id", (rule, since)
    ).fetchall()
    return [Trace.from_dict(json.loads(r[0])) for r in rows]


class RulesHost:
    """A hub Component: loads the rules folder and runs the engine on the hub's loop."""

    name = "rules"

    def __init__(
        self,
        rules_path: Path | str,
        *,
        known_devices: dict[str, str] | None = None,
        location: Any = None,
        timezone: str = "UTC",
        trace_days: float = 7.0,
        poll_interval: float = 1.0,
        db_path: Path | None = None,
        write_delay: float = 0.1,
        trace_delay: float = 0.02,
        remote_devices: dict[str, dict[str, str]] | None = None,
    ) -> None:
        self.rules_path = Path(rules_path)
        self.known_devices = known_devices
        # {hub: {device: type}} from other hubs' manifests (live, kept by hub/remote).
        self.remote_devices = remote_devices
        self.remote_names: set[str] = set()
        self.location, self.timezone = location, timezone
        self.trace_days, self.poll_interval = trace_days, poll_interval
        self.db_path = db_path
        self.engine: Engine | None = None
        self.last_errors: list[str] = []
        self.latencies: dict[str, deque[float]] = {}
        self._ctx: HubContext | None = None
        self._db: sqlite3.Connection | None = None
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rules-db")
        self._saved_version = -1
        self._wake: asyncio.TimerHandle | None = None
        self._wake_at: float | None = None
        self.write_delay = write_delay
        # Traces wait this long on the loop before they are serialised, published and queued
        # for SQLite: the bookkeeping of a burst is done once, away from its light commands.
        self.trace_delay = trace_delay
        self._traces: list[Trace] = []
        self._trace_handle: asyncio.TimerHandle | asyncio.Handle | None = None
        self._rows: list[tuple] = []
        self._timer_rows: dict[str, tuple | None] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._dirty_states: set[str] = set()
        self._tasks: list[asyncio.Task] = []
        self._running: set[asyncio.Task] = set()
        self._topics: set[str] = set()
        self._watched: set[str] = set()
        self._mtimes: dict[str, float] = {}
        self._last_run: dict[str, tuple[float, str]] = {}
        self._last_sweep = 0.0

    @classmethod
    def from_config(cls, config: Any, **kw: Any) -> RulesHost:
        """Build the host from hub.yaml: the rules folder, devices, location and time zone."""
        loc = config.hub.location
        return cls(
            config.rules,
            known_devices=config.device_types(),
            location=loc,
            timezone=loc.timezone if loc is not None else "UTC",
            **kw,
        )

    # ------------------------------------------------------------ lifecycle
    async def start(self, ctx: HubContext) -> None:
        """Load rules, restore saved timers, subscribe, start watching the folder."""
        self._ctx = ctx
        path = self.db_path or Path(ctx.data_dir) / "edgehub.db"
        self._db = await ctx.loop.run_in_executor(self._writer, open_db, path)
        res = self._load()
        for err in res.errors:
            log.error("rule error %s", err)
        self.engine = Engine(res.rules, location=self.location, timezone=self.timezone)
        now = ctx.now()
        for dev in [*(self.known_devices or {}), *sorted(self.remote_names)]:
            st = ctx.device_state(dev)
            if st:
                self.engine.handle(Event("state.baseline", dev, st, ts=now), now)
        saved = await ctx.loop.run_in_executor(self._writer, self._read_timers)
        self._apply(self.engine.restore(saved, now))
        # Rows of timers that restore() dropped (rule changed or gone, on_restart: drop) go too.
        armed = {r.id for r in self.engine.timers()}
        for r in saved:
            if r.id not in armed:
                self._timer_rows.setdefault(r.id, None)
        self._flush_writes()
        self._mtimes = self._scan()
        ctx.subscribe(f"edgehub/{ctx.hub_id}/rules/+/set", self._on_set)
        self._sync_subscriptions()
        self._publish_states()
        if self.poll_interval > 0:
            self._tasks.append(ctx.loop.create_task(self._watch()))
        log.info(
            "rules started rules=%d errors=%d timers=%d",
            len(res.rules),
            len(res.errors),
            len(saved),
        )

    async def stop(self) -> None:
        """Persist timers, stop watching, close the database."""
        for t in self._tasks:
            t.cancel()
        if self._wake is not None:
            self._wake.cancel()
        self._persist_timers()
        self._flush_writes()
        await asyncio.get_running_loop().run_in_executor(self._writer, self._close)
        self._writer.shutdown(wait=True)

    def _close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None

    # ------------------------------------------------------------ events and time
    def on_event(self, event: Event) -> None:
        """Feed every hub event to the engine."""
        if self.engine is None or self._ctx is None:
            return
        now = self._ctx.now()
        res = self.engine.handle(event, now)
        lag = max(0.0, now - event.ts) * 1000  # queued in the hub before it reached us
        for tr in res.traces:
            if tr.latency_ms is not None and tr.event_id == event.id:
                tr.latency_ms = round(tr.latency_ms + lag, 3)
        self._apply(res)

    def tick(self) -> None:
        """Fire every timer due by the hub's clock (called by the loop at the next deadline)."""
        self._wake = None
        if self.engine is not None and self._ctx is not None:
            self._apply(self.engine.advance(self._ctx.now()))

    def _apply(self, res: Result) -> None:
        ctx = self._ctx
        assert ctx is not None and self.engine is not None
        for tr in res.traces:
            if tr.event_kind == "time" and tr.event_id is not None:
                # Journaled before the effects it causes, under the id the engine gave them.
                ctx.emit(self._time_event(tr))
        for eff in res.effects:
            self._start_effect(eff)
        if res.traces:
            self._traces.extend(res.traces)
            self._traces_soon()
        self._persist_timers()
        self._schedule()

    def _start_effect(self, effect: Any) -> None:
        # Eagerly, as Python 3.12's eager tasks do: an effect that never waits (a light
        # command, a publish) is carried out right here, inside the batch that brought its
        # event, instead of one loop turn later behind the rest of the batch. Only an effect
        # that really awaits something becomes a task, from where it stopped.
        assert self._ctx is not None
        task = start_eagerly(self._ctx.loop, self._execute(effect))
        if task is None:
            return
        # The loop keeps only weak references to tasks: hold them until they are done.
        self._running.add(task)
        task.add_done_callback(self._running.discard)

    def _time_event(self, tr: Trace) -> Event:
        """Return the time.trigger event of a time-triggered run (at, cron or sun)."""
        assert self.engine is not None
        trig = tr.trigger or {}
        data: dict[str, Any] = {"trigger": trig.get("detail"), "result": tr.result}
        lr = self.engine.rule(tr.rule)
        idx = trig.get("idx")
        if lr is not None and lr.rule is not None and isinstance(idx, int):
            t = lr.rule.triggers[idx]
            if at := getattr(t, "at", None):
                data["trigger"] = f"at {at}"
            elif cron := getattr(t, "cron", None):
                data["trigger"] = f"cron {cron}"
            elif sun := getattr(t, "sun", None):
                offset = getattr(t, "offset", 0.0)
                data["trigger"] = f"sun {sun}" + (f" {offset:+g}s" if offset else "")
            if t.id:
                data["id"] = t.id
        return Event("time.trigger", f"rule:{tr.rule}", data, ts=tr.ts, id=tr.event_id or "")

    async def _execute(self, effect: Any) -> None:
        assert self._ctx is not None
        try:
            await self._ctx.execute(effect)
        except Exception as e:  # one failed effect must not stop the others or the engine
            log.warning(
                "effect failed rule=%s effect=%s error=%s", effect.rule, type(effect).__name__, e
            )

    def _schedule(self) -> None:
        assert self._ctx is not None and self.engine is not None
        deadline = self.engine.next_deadline()
        if deadline == self._wake_at and self._wake is not None:
            return
        if self._wake is not None:
            self._wake.cancel()
            self._wake = None
        self._wake_at = deadline
        if deadline is not None:
            delay = max(0.0, deadline - self._ctx.now())
            self._wake = self._ctx.loop.call_later(delay, self.tick)

    # ------------------------------------------------------------ persistence
    # Group commit: rows gather on the loop and one writer job per write_delay stores them in
    # one transaction, so the hot path never waits on SQLite (or on the writer thread's GIL).
    def _read_timers(self) -> list[TimerRecord]:
        assert self._db is not None
        rows = self._db.execute("SELECT record FROM timers").fetchall()
        return [TimerRecord.from_dict(json.loads(r[0])) for r in rows]

    def _persist_timers(self) -> None:
        if self.engine is None or self.engine.version == self._saved_version:
            return
        self._saved_version = self.engine.version
        changed, gone = self.engine.timer_changes()
        for r in changed:
            self._timer_rows[r.id] = (r.id, r.rule, r.kind, r.deadline, json.dumps(r.to_dict()))
        for tid in gone:
            self._timer_rows[tid] = None
        if changed or gone:
            self._soon()

    def _soon(self) -> None:
        if self._flush_handle is None and self._ctx is not None:
            self._flush_handle = self._ctx.loop.call_later(self.write_delay, self._flush_writes)

    def _flush_writes(self) -> None:
        self._flush_traces()
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        rows, self._rows = self._rows, []
        timers, self._timer_rows = self._timer_rows, {}
        for rule in self._dirty_states:
            self._publish_state(rule)
        self._dirty_states.clear()
        if rows or timers:
            now = self._ctx.now() if self._ctx is not None else 0.0
            self._writer.submit(self._write, rows, timers, now)

    def _write(self, rows: list[tuple], timers: dict[str, tuple | None], now: float) -> None:
        db = self._db
        if db is None:
            return
        try:
            with db:
                db.execute("BEGIN")
                db.executemany(
                    "INSERT INTO traces (ts, rule, result, event_id, trace) VALUES (?,?,?,?,?)",
                    rows,
                )
                db.executemany(
                    "DELETE FROM timers WHERE id = ?",
                    [(k,) for k, v in timers.items() if v is None],
                )
                db.executemany(
                    "INSERT OR REPLACE INTO timers VALUES (?, ?, ?, ?, ?)",
                    [v for v in timers.values() if v is not None],
                )
                if now - self._last_sweep > 3600:
                    self._last_sweep = now
                    db.execute("DELETE FROM traces WHERE ts < ?", (now - self.trace_days * 86400,))
        except sqlite3.Error as e:
            log.error("rules database write failed error=%s", e)

    def flush(self) -> None:
        """Write everything pending and wait for it (call on the hub's loop; tests, shutdown)."""
        self._flush_writes()
        self._writer.submit(lambda: None).result()

    def _traces_soon(self) -> None:
        if self._trace_handle is not None or self._ctx is None:
            return
        loop = self._ctx.loop
        if self.trace_delay > 0:
            self._trace_handle = loop.call_later(self.trace_delay, self._flush_traces)
        else:
            self._trace_handle = loop.call_soon(self._flush_traces)

    def _flush_traces(self) -> None:
        """Serialise, publish and queue for SQLite every trace gathered since the last flush."""
        if self._trace_handle is not None:
            self._trace_handle.cancel()
            self._trace_handle = None
        traces, self._traces = self._traces, []
        if not traces:
            return
        # The hub's MQTT link can hold paho's wake-ups until the end of a group of publishes
        # (one wake-up for the group, not one per trace); a plain context has no such thing.
        coalesced: Callable[..., Any] | None = getattr(
            getattr(self._ctx, "link", None), "coalesced", None
        )
        if coalesced is not None:
            coalesced(self._record, traces)
        else:
            self._record(traces)

    def _record(self, traces: list[Trace]) -> None:
        ctx = self._ctx
        assert ctx is not None
        prefix = f"edgehub/{ctx.hub_id}/rules/"
        rows = self._rows
        for tr in traces:
            text = to_json(tr.to_dict())
            rows.append((tr.ts, tr.rule, tr.result, tr.event_id, text))
            with contextlib.suppress(Exception):
                ctx.publish(f"{prefix}{tr.rule}/trace", text, False, 0)
            if tr.result in ("ran", "resumed", "stopped", "error"):
                if tr.latency_ms is not None:
                    self.latencies.setdefault(tr.rule, deque(maxlen=1000)).append(tr.latency_ms)
                self._last_run[tr.rule] = (tr.ts, tr.result)
                self._dirty_states.add(tr.rule)
        self._soon()

    # ------------------------------------------------------------ rule topics
    def _publish_state(self, rule: str) -> None:
        ctx, eng = self._ctx, self.engine
        if ctx is None or eng is None:
            return
        lr = eng.rule(rule)
        last = self._last_run.get(rule)
        lat = sorted(self.latencies.get(rule, ()))
        body = {
            "enabled": eng.is_enabled(rule),
            "last_run": last[0] if last else None,
            "result": last[1] if last else None,
            "p50_ms": lat[len(lat) // 2] if lat else None,
            "p99_ms": lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else None,
            "error": lr.error if lr else None,
        }
        with contextlib.suppress(Exception):
            ctx.publish(f"edgehub/{ctx.hub_id}/rules/{rule}/state", json.dumps(body), True, 1)

    def _publish_states(self) -> None:
        assert self.engine is not None and self._ctx is not None
        for r in self.engine.rules():
            self._publish_state(r.id)
        set_manifest = getattr(self._ctx, "set_manifest", None)
        if callable(set_manifest):
            set_manifest("rules", [r.id for r in self.engine.rules()])

    def _on_set(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained or self.engine is None or self._ctx is None:
            return
        rule = topic.split("/")[-2]
        try:
            cmd = json.loads(payload)
            if not isinstance(cmd, dict):
                raise ValueError("expected a JSON object")
            if "enabled" in cmd:
                self.engine.set_enabled(rule, bool(cmd["enabled"]))
                log.info("rule %s rule=%s", "enabled" if cmd["enabled"] else "disabled", rule)
                self._apply(Result())
            if cmd.get("run"):
                self._apply(self.engine.run_now(rule, self._ctx.now()))
            self._publish_state(rule)
        except (ValueError, LookupError, RulesError) as e:
            log.warning("bad rule command topic=%s error=%s", topic, e)

    def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        if retained or self._ctx is None:
            return  # a retained message is old news, not something that just happened
        if not any(topic_matches(p, topic) for p in self._watched):
            return  # a topic an old version of the rules watched (there is no unsubscribe)
        text = payload.decode("utf-8", "replace")
        ev = Event("mqtt.message", "mqtt", {"topic": topic, "payload": text}, ts=self._ctx.now())
        self._ctx.emit(ev)

    def _sync_subscriptions(self) -> None:
        assert self.engine is not None and self._ctx is not None
        self._watched = self.engine.mqtt_topics()
        for topic in sorted(self._watched - self._topics):
            self._ctx.subscribe(topic, self._on_message)
            self._topics.add(topic)

    # ------------------------------------------------------------ reload
    def _load(self) -> LoadResult:
        res = load_rules(self.rules_path, self.known_devices, self.remote_devices)
        self.remote_names = set(res.remote)
        return res

    async def reload(self) -> bool:
        """Validate the rules folder and swap it in; on any error keep the running rules."""
        if self.engine is None:
            return False
        # Parsing a big folder takes a while: off the loop, then the swap itself is instant.
        res = await asyncio.get_running_loop().run_in_executor(None, self._load)
        self.last_errors = list(res.errors)
        if res.errors:
            for err in res.errors:
                log.error("rules reload rejected, old rules keep running: %s", err)
            return False
        self.engine.replace_rules(res.rules)
        self._sync_subscriptions()
        self._publish_states()
        self._apply(Result())
        log.info("rules reloaded rules=%d", len(res.rules))
        return True

    def _scan(self) -> dict[str, float]:
        p = self.rules_path
        files = [p] if p.is_file() else (p.rglob("*") if p.is_dir() else [])
        out = {}
        for f in files:
            if f.suffix in RULE_SUFFIXES and ".test." not in f.name:
                with contextlib.suppress(OSError):
                    st = f.stat()
                    out[str(f)] = st.st_mtime_ns + st.st_size
        return out

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval)
            seen = self._scan()
            if seen != self._mtimes:
                self._mtimes = seen
                await self.reload()
