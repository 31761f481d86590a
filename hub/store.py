"""The SQLite journal: events in order and the last state of each device, one writer thread.

Writes are queued from the asyncio loop and committed by one thread in groups (group
commit), so the hot path never waits on the disk. Other parts of the hub add their own
tables to the same file through their own connections: WAL and busy_timeout keep them
from blocking each other, and the writer never holds a transaction for long.
"""

from __future__ import annotations

import json
import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.jsontext import to_json
from rules.events import Event

log = logging.getLogger(__name__)

DB_NAME = "edgehub.db"
_BATCH = 2000
# SQLite's own checkpoint runs inside the commit that crosses wal_autocheckpoint pages, on
# the writer thread, and fsyncs there: 1-event commits measured p99 3 ms / p99.9 12-18 ms
# with it, 0.2-0.8 ms / 0.2-1.8 ms without (bench/RESULTS.md, "Spine: ingest"). A thread
# of its own checkpoints instead (PASSIVE: it never blocks the writer); SQLite's stays as a
# backstop at ~40 MB of WAL in case that thread falls behind.
_CHECKPOINT_EVERY = 0.5  # seconds, while there is something new
# Once woken, the writer may wait this long for more before it commits: the loop's puts
# meanwhile wake nobody, and paced readings share a commit instead of one each. Acks still
# follow the commit. Off by default: 2 ms took motion -> light's p99 at 1,000/s from 14-52
# to 7-9 ms and the hub's CPU per reading down by ~0.06 ms, but it is added to every
# event's journaled latency (bench/ingest.py p50 1.7 ms, goal < 1 ms; bench/RESULTS.md).
COMMIT_WINDOW = 0.0
_BACKSTOP_PAGES = 10000
_SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    id TEXT PRIMARY KEY, ts REAL NOT NULL, source TEXT NOT NULL, kind TEXT NOT NULL,
    data TEXT NOT NULL, cause TEXT, dedup INTEGER
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_ts ON events (ts);
CREATE INDEX IF NOT EXISTS events_source ON events (source, ts);
CREATE TABLE IF NOT EXISTS device_state (
    device TEXT PRIMARY KEY, data TEXT NOT NULL, ts REAL NOT NULL, event_id TEXT
);
"""


class StoreError(RuntimeError):
    """The journal cannot be opened or written."""


def connect(path: str | Path, *, readonly: bool = False) -> sqlite3.Connection:
    """Open the hub database the way every part of the hub must: WAL, busy_timeout."""
    if readonly:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    else:
        conn = sqlite3.connect(str(path), timeout=10, check_same_thread=False)
        # Only takes effect on a new file (before WAL and tables); lets retention shrink it.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


@dataclass(frozen=True, slots=True)
class _Barrier:
    fn: Callable[[], None]


@dataclass(frozen=True, slots=True)
class _State:
    device: str
    data: dict[str, Any]
    ts: float
    event_id: str | None


class Store:
    """The journal and last-state tables of <data_dir>/edgehub.db."""

    def __init__(
        self,
        data_dir: str | Path,
        *,
        retention_days: float = 30.0,
        max_mb: float = 512.0,
        synchronous: str = "normal",
        commit_window: float = COMMIT_WINDOW,
    ):
        self.path = Path(data_dir) / DB_NAME
        self.retention_days = retention_days
        self.max_mb = max_mb
        self.synchronous = synchronous
        self.commit_window = commit_window
        self.written = 0
        self.write_errors = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._enqueued = 0
        self._committed = 0
        self._cond = threading.Condition()
        self._listeners: list[Callable[[list[Event]], None]] = []
        self._thread: threading.Thread | None = None
        self._conn: sqlite3.Connection | None = None
        self._last_sweep = 0.0
        self._held: list[Any] | None = None
        # The writer's own sweep and sweep_now() share the connection: one at a time, or
        # both delete "the oldest 5,000" and retention empties the journal.
        self._sweep_lock = threading.Lock()
        self._holder = 0
        self._checkpointer: threading.Thread | None = None
        self._checkpoint_stop = threading.Event()
        self.checkpoints = 0

    # -- lifecycle --------------------------------------------------------------------------
    def open(self) -> Store:
        """Create the file and tables if needed and start the writer thread."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._conn = connect(self.path)
            self._conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
            self._conn.execute(f"PRAGMA wal_autocheckpoint={_BACKSTOP_PAGES}")
            self._conn.executescript(_SCHEMA)
            cols = {r[1] for r in self._conn.execute("PRAGMA table_info(events)")}
            if "dedup" not in cols:  # a journal from before message hashes were kept
                self._conn.execute("ALTER TABLE events ADD COLUMN dedup INTEGER")
            self._conn.commit()
        except sqlite3.Error as exc:
            raise StoreError(f"cannot open the journal {self.path}: {exc}") from exc
        self._thread = threading.Thread(target=self._writer, name="journal-writer", daemon=True)
        self._thread.start()
        self._checkpoint_stop.clear()
        self._checkpointer = threading.Thread(
            target=self._checkpoint_loop, name="journal-checkpoint", daemon=True
        )
        self._checkpointer.start()
        return self

    def close(self) -> None:
        """Commit everything queued, stop the writer and checkpoint the WAL."""
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(30)
        self._thread = None
        if self._checkpointer is not None:
            self._checkpoint_stop.set()
            self._checkpointer.join(30)
            self._checkpointer = None
        if self._conn is not None:
            try:
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
            except sqlite3.Error as exc:
                log.warning("journal checkpoint failed error=%s", exc)
            self._conn.close()
            self._conn = None

    def __enter__(self) -> Store:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing (any thread) ---------------------------------------------------------------
    def append(self, event: Event, dedup: int | None = None) -> None:
        """Queue an event for the journal; a duplicate id is journaled once.

        dedup is a stable hash of the MQTT message behind the event, kept so a redelivery
        after a crash is still recognised (recent_dedup_keys).
        """
        self._put(event if dedup is None else (event, dedup))

    def after_commit(self, fn: Callable[[], None]) -> None:
        """Call fn on the writer thread once everything queued before it is committed."""
        self._put(_Barrier(fn))

    def hold(self) -> None:
        """Gather this thread's writes until release(), to hand them to the writer at once."""
        # Handing items over one by one woke the writer for each, and it committed an event,
        # its state and its ack barrier in separate transactions.
        self._held = []
        self._holder = threading.get_ident()

    def release(self) -> None:
        """Queue everything gathered since hold() as one group."""
        items, self._held = self._held, None
        if items:
            self._queue.put(items)

    def _put(self, item: Any) -> None:
        self._enqueued += 1
        if self._held is not None and threading.get_ident() == self._holder:
            self._held.append(item)
        else:
            self._queue.put(item)

    def set_state(
        self, device: str, data: dict[str, Any], ts: float, event_id: str | None = None
    ) -> None:
        """Queue the new last state of a device."""
        self._put(_State(device, dict(data), ts, event_id))

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed; return False on timeout."""
        target = self._enqueued
        with self._cond:
            return self._cond.wait_for(lambda: self._committed >= target, timeout)

    def add_commit_listener(self, fn: Callable[[list[Event]], None]) -> None:
        """Call fn(events) on the writer thread after each commit (benchmarks, health)."""
        self._listeners.append(fn)

    @property
    def backlog(self) -> int:
        """Items queued but not yet committed."""
        return self._enqueued - self._committed

    def _writer(self) -> None:
        assert self._conn is not None
        stop = False
        while not stop:
            item = self._queue.get()
            if self.commit_window > 0 and item is not None:
                time.sleep(self.commit_window)
            batch = item if isinstance(item, list) else [item]
            while len(batch) < _BATCH:
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
                if isinstance(item, list):
                    batch.extend(item)
                else:
                    batch.append(item)
            if any(b is None for b in batch):
                stop = True
                batch = [b for b in batch if b is not None]
            pairs = [
                (b, None) if isinstance(b, Event) else b
                for b in batch
                if isinstance(b, Event | tuple)
            ]
            events = [e for e, _ in pairs]
            try:
                self._commit(pairs, [b for b in batch if isinstance(b, _State)])
            except Exception:  # the writer thread must outlive any one bad batch
                self.write_errors += len(pairs)
                log.exception("journal batch failed events=%d", len(pairs))
            for b in batch:
                if isinstance(b, _Barrier):
                    try:
                        b.fn()
                    except Exception:
                        log.exception("journal after-commit callback failed")
            with self._cond:
                self._committed += len(batch)
                self._cond.notify_all()
            for fn in self._listeners:
                try:
                    fn(events)
                except Exception:
                    log.exception("journal commit listener failed")
            if time.monotonic() - self._last_sweep > 600:
                self._sweep()

    def _checkpoint_loop(self) -> None:
        """Checkpoint the WAL into the database off the writer's commits (see _BACKSTOP_PAGES)."""
        try:
            conn = connect(self.path)
            conn.execute(f"PRAGMA synchronous={self.synchronous.upper()}")
        except sqlite3.Error as exc:
            log.warning("journal checkpointer not started error=%s", exc)
            return
        done = 0
        try:
            while not self._checkpoint_stop.wait(_CHECKPOINT_EVERY):
                if self._committed == done:
                    continue
                done = self._committed
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or locked: the next round tries again
                    log.warning("journal checkpoint failed error=%s", exc)
        finally:
            conn.close()

    def _commit(self, events: list[tuple[Event, int | None]], states: list[_State]) -> None:
        assert self._conn is not None
        rows = [(e.id, e.ts, e.source, e.kind, to_json(e.data), e.cause, d) for e, d in events]
        latest = {s.device: s for s in states}
        srows = [(s.device, to_json(s.data), s.ts, s.event_id) for s in latest.values()]
        for attempt in range(5):
            try:
                with self._conn:
                    self._conn.executemany(
                        "INSERT OR IGNORE INTO events VALUES (?,?,?,?,?,?,?)", rows
                    )
                    self._conn.executemany(
                        "INSERT OR REPLACE INTO device_state VALUES (?,?,?,?)", srows
                    )
                self.written += len(rows)
                return
            except sqlite3.Error as exc:
                log.warning("journal write failed attempt=%d error=%s", attempt + 1, exc)
                time.sleep(0.05 * 2**attempt)
        self.write_errors += len(rows)
        log.error("journal dropped events=%d after 5 failed writes", len(rows))

    def _sweep(self) -> None:
        """Delete events older than retention_days, then oldest first while over max_mb."""
        with self._sweep_lock:
            self._sweep_locked()

    def _sweep_locked(self) -> None:
        assert self._conn is not None
        self._last_sweep = time.monotonic()
        cutoff = time.time() - self.retention_days * 86400
        try:
            aged = self._delete_chunks(
                "DELETE FROM events WHERE id IN (SELECT id FROM events WHERE ts < ? LIMIT 5000)",
                (cutoff,),
            )
            if aged:
                self._conn.executescript("PRAGMA incremental_vacuum;")
            while (size := self._size_mb()) > self.max_mb:
                # A fixed 5,000 emptied a small journal: take the excess share, in steps.
                rows = self._conn.execute("SELECT count(*) FROM events").fetchone()[0]
                chunk = max(100, min(5000, int(rows * (1 - self.max_mb / size)) + 1))
                n = self._delete_chunks(
                    "DELETE FROM events WHERE id IN (SELECT id FROM events ORDER BY id LIMIT ?)",
                    (chunk,),
                    once=True,
                )
                if n == 0:
                    break
                # executescript steps it to the end; execute() frees one page per step.
                self._conn.executescript("PRAGMA incremental_vacuum;")
        except sqlite3.Error as exc:
            log.warning("journal retention sweep failed error=%s", exc)

    def _delete_chunks(self, sql: str, args: tuple, once: bool = False) -> int:
        # Small transactions, so other writers of the file never wait long.
        assert self._conn is not None
        total = 0
        while True:
            with self._conn:
                n = self._conn.execute(sql, args).rowcount
            total += n
            if n == 0 or once:
                return total

    def _size_mb(self) -> float:
        assert self._conn is not None
        pages = self._conn.execute("PRAGMA page_count").fetchone()[0]
        free = self._conn.execute("PRAGMA freelist_count").fetchone()[0]
        size = self._conn.execute("PRAGMA page_size").fetchone()[0]
        return (pages - free) * size / 1e6

    def sweep_now(self) -> None:
        """Run retention now (tests, CLI); safe only while the writer is idle."""
        self.flush()
        self._sweep()

    # -- reading (separate connections) -----------------------------------------------------
    def recent_dedup_keys(self, limit: int = 50000) -> list[int]:
        """Return the message hashes of the last journaled events, oldest first."""
        conn = connect(self.path, readonly=True)
        try:
            rows = conn.execute(
                "SELECT dedup FROM (SELECT id, dedup FROM events WHERE dedup IS NOT NULL "
                "ORDER BY id DESC LIMIT ?) ORDER BY id",
                (limit,),
            ).fetchall()
        finally:
            conn.close()
        return [r[0] for r in rows]

    def last_states(self) -> dict[str, dict[str, Any]]:
        """Return {device: attributes} as last journaled."""
        return read_states(self.path)


def read_states(path: str | Path) -> dict[str, dict[str, Any]]:
    """Return {device: attributes} from a hub database."""
    if not Path(path).exists():
        return {}
    conn = connect(path, readonly=True)
    try:
        return {d: json.loads(s) for d, s in conn.execute("SELECT device, data FROM device_state")}
    except sqlite3.OperationalError:
        return {}
    finally:
        conn.close()


def read_events(
    path: str | Path,
    *,
    since: float | None = None,
    device: str | None = None,
    kind: str | None = None,
    after_id: str | None = None,
    limit: int | None = None,
) -> Iterator[Event]:
    """Yield journaled events in order, filtered by time, device (source) and kind prefix."""
    sql, args = "SELECT id, ts, source, kind, data, cause FROM events WHERE 1=1", []
    if since is not None:
        sql += " AND ts >= ?"
        args.append(since)
    if device is not None:
        sql += " AND source = ?"
        args.append(device)
    if kind is not None:
        sql += " AND (kind = ? OR kind LIKE ?)"
        args += [kind, kind + ".%"]
    if after_id is not None:
        sql += " AND id > ?"
        args.append(after_id)
    sql += " ORDER BY id"
    if limit is not None:
        sql = f"SELECT * FROM ({sql} DESC LIMIT {int(limit)}) ORDER BY id"
    conn = connect(path, readonly=True)
    try:
        for eid, ts, source, knd, data, cause in conn.execute(sql, args).fetchall():
            yield Event(kind=knd, source=source, data=json.loads(data), ts=ts, id=eid, cause=cause)
    finally:
        conn.close()
