"""The outbox: every notification is a durable row before anything is sent.

One row per (notification, channel). A row's `key` is unique, so executing the same Notify
twice (a replay, a restart in the middle of a run) inserts nothing new. Messages folded by a
cooldown are kept as rows too (status "folded", one per owner) until a digest replaces them,
so a repeat is never dropped silently, even across a kill -9.

Statuses: pending (to send; held while hold_until is ahead), clip (waiting for a clip to
finish), sent, failed, folded, digested.
"""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from hub.notify import OutboxError
from hub.notify.rows import FIELDS, INSERT, Channel, Message, Row

__all__ = ["Channel", "Message", "Outbox", "Row"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL UNIQUE,
  owner TEXT NOT NULL,
  channel TEXT NOT NULL,
  channel_name TEXT NOT NULL,
  grp TEXT,
  rule TEXT,
  cause TEXT,
  title TEXT NOT NULL,
  message TEXT NOT NULL,
  priority TEXT NOT NULL,
  camera TEXT,
  attach TEXT,
  attachment TEXT,
  status TEXT NOT NULL,
  created REAL NOT NULL,
  hold_until REAL NOT NULL DEFAULT 0,
  next_try REAL NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  last_error TEXT,
  done_at REAL
);
CREATE INDEX IF NOT EXISTS outbox_queue ON outbox(status, channel, id);
CREATE INDEX IF NOT EXISTS outbox_grp ON outbox(grp, status);
CREATE TABLE IF NOT EXISTS notify_windows (
  grp TEXT PRIMARY KEY,
  owner TEXT NOT NULL,
  rule TEXT,
  opened REAL NOT NULL,
  ends REAL NOT NULL
);
"""


class Outbox:
    """The outbox table in a SQLite file (WAL, durable commits), safe to share between threads."""

    def __init__(self, db_path: str | Path, busy_timeout_ms: int = 30000):
        self.path = Path(db_path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=30
            )
            self._db.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
            self._db.execute("PRAGMA journal_mode=WAL")
            # FULL: a row marked sent survives a power cut, which keeps the resend window small.
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise OutboxError(f"cannot open the outbox in {self.path}: {exc}") from exc
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the database connection."""
        with self._lock:
            self._db.close()

    def _tx(self, fn: Callable[[sqlite3.Connection], Any]) -> Any:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                out = fn(self._db)
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            return out

    def _rows(self, sql: str, args: Sequence[Any] = ()) -> list[Row]:
        with self._lock:
            cur = self._db.execute(f"SELECT {', '.join(FIELDS)} FROM outbox {sql}", args)
            return [Row(*r) for r in cur.fetchall()]

    # ---- writing -------------------------------------------------------------------------
    def submit(
        self,
        msg: Message,
        channels: Sequence[Channel],
        now: float,
        *,
        hold_until: float = 0.0,
        cooldowns: Sequence[tuple[str, float]] = (),
    ) -> str:
        """Store msg for each channel; return queued, held, folded or duplicate.

        cooldowns are (group, seconds) pairs checked in order: if a group's window is open
        the message is folded into it; otherwise every group opens a window from now.
        """

        def run(db: sqlite3.Connection) -> str:
            seen = db.execute(
                # Every row of msg has the key "<msg.key>:<suffix>"; ";" sorts right after ":".
                "SELECT 1 FROM outbox WHERE key > ? AND key < ? LIMIT 1",
                (msg.key + ":", msg.key + ";"),
            ).fetchone()
            if seen:
                return "duplicate"
            for grp, _secs in cooldowns:
                w = db.execute("SELECT ends FROM notify_windows WHERE grp = ?", (grp,)).fetchone()
                if w and w[0] > now:
                    self._insert(db, msg, Channel("", ""), grp, "folded", now, 0.0, ":folded")
                    return "folded"
            for grp, secs in cooldowns:
                if secs > 0:
                    db.execute(
                        "INSERT OR REPLACE INTO notify_windows(grp, owner, rule, opened, ends) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (grp, msg.owner, msg.rule, now, now + secs),
                    )
            status = "clip" if msg.attach == "clip" and not msg.attachment else "pending"
            for ch in channels:
                self._insert(db, msg, ch, None, status, now, hold_until, ":" + ch.id)
            return "held" if hold_until > now else "queued"

        return self._tx(run)

    @staticmethod
    def _insert(
        db: sqlite3.Connection,
        msg: Message,
        ch: Channel,
        grp: str | None,
        status: str,
        now: float,
        hold_until: float,
        suffix: str,
    ) -> None:
        values = {
            **dataclasses.asdict(msg),
            "key": msg.key + suffix,
            "channel": ch.id,
            "channel_name": ch.name,
            "grp": grp,
            "status": status,
            "created": now,
            "hold_until": hold_until,
        }
        db.execute(
            f"INSERT OR IGNORE INTO outbox({', '.join(INSERT)}) "
            f"VALUES ({', '.join(':' + c for c in INSERT)})",
            values,
        )

    def mark_sent(self, row_id: int, now: float) -> None:
        """Record that a row was delivered (a durable commit, right after the send)."""
        self._tx(
            lambda db: db.execute(
                "UPDATE outbox SET status='sent', done_at=?, attempts=attempts+1 WHERE id=?",
                (now, row_id),
            )
        )

    def mark_retry(self, row_id: int, next_try: float, error: str) -> None:
        """Record a failed attempt and when to try again."""
        self._tx(
            lambda db: db.execute(
                "UPDATE outbox SET next_try=?, attempts=attempts+1, last_error=? WHERE id=?",
                (next_try, error[:500], row_id),
            )
        )

    def mark_failed(self, row_id: int, now: float, error: str) -> None:
        """Give up on a row."""
        self._tx(
            lambda db: db.execute(
                "UPDATE outbox SET status='failed', done_at=?, last_error=? WHERE id=?",
                (now, error[:500], row_id),
            )
        )

    def attach_clip(self, camera: str, path: str, since: float) -> list[Row]:
        """Give a finished clip to rows of camera waiting for one; return them."""
        rows = self._rows(
            "WHERE status='clip' AND camera=? AND created>=? ORDER BY id", (camera, since)
        )
        self._tx(
            lambda db: db.executemany(
                "UPDATE outbox SET status='pending', attachment=? WHERE id=?",
                [(path, r.id) for r in rows],
            )
        )
        return rows

    def release_clip_waits(self, older_than: float) -> list[Row]:
        """Send rows whose clip never came (with the snapshot they carry, if any)."""
        rows = self._rows("WHERE status='clip' AND created<? ORDER BY id", (older_than,))
        self._tx(
            lambda db: db.executemany(
                "UPDATE outbox SET status='pending', message=message || ? WHERE id=?",
                [("\n(clip not available)", r.id) for r in rows],
            )
        )
        return rows

    def close_windows(
        self,
        now: float,
        make_digest: Callable[[list[Row], str], tuple[Message, Sequence[Channel], float]],
    ) -> list[Message]:
        """Turn each expired cooldown window's folded rows into one digest message.

        make_digest(folded rows, group) returns (digest message, channels, hold_until). A window
        with repeats reopens from now so a steady stream gives one digest per cooldown.
        """

        def run(db: sqlite3.Connection) -> list[Message]:
            out: list[Message] = []
            wins = db.execute(
                "SELECT grp, opened, ends FROM notify_windows WHERE ends <= ?", (now,)
            ).fetchall()
            for grp, _opened, ends in wins:
                cur = db.execute(
                    f"SELECT {', '.join(FIELDS)} FROM outbox "
                    "WHERE grp=? AND status='folded' ORDER BY id",
                    (grp,),
                )
                folded = [Row(*r) for r in cur.fetchall()]
                if not folded:
                    db.execute("DELETE FROM notify_windows WHERE grp=?", (grp,))
                    continue
                msg, channels, hold = make_digest(folded, grp)
                db.execute(
                    "UPDATE outbox SET status='digested', done_at=? "
                    "WHERE grp=? AND status='folded'",
                    (now, grp),
                )
                db.execute(
                    "UPDATE notify_windows SET opened=?, ends=? WHERE grp=?",
                    (now, now + (ends - _opened), grp),
                )
                for ch in channels:
                    self._insert(db, msg, ch, None, "pending", now, hold, ":" + ch.id)
                out.append(msg)
            return out

        return self._tx(run)

    def prune(self, before: float) -> list[str]:
        """Delete finished rows done before `before`; return attachments no longer in use."""

        def run(db: sqlite3.Connection) -> list[str]:
            done = "status IN ('sent', 'failed', 'digested') AND done_at < ?"
            files = {
                r[0]
                for r in db.execute(
                    f"SELECT DISTINCT attachment FROM outbox WHERE {done} "
                    "AND attachment IS NOT NULL",
                    (before,),
                )
            }
            db.execute(f"DELETE FROM outbox WHERE {done}", (before,))
            used = {
                r[0]
                for r in db.execute(
                    "SELECT DISTINCT attachment FROM outbox WHERE attachment IS NOT NULL"
                )
            }
            return sorted(files - used)

        return self._tx(run)

    # ---- reading -------------------------------------------------------------------------
    def head(self, channel: str, now: float) -> Row | None:
        """Return the oldest row of channel that is due to be sent (held rows do not block)."""
        rows = self._rows(
            "WHERE status='pending' AND channel=? AND hold_until<=? ORDER BY id LIMIT 1",
            (channel, now),
        )
        return rows[0] if rows else None

    def next_wake(self, channel: str, now: float) -> float | None:
        """Return when channel next has something to do: its head's retry or a hold ending."""
        head = self.head(channel, now)
        with self._lock:
            r = self._db.execute(
                "SELECT MIN(hold_until) FROM outbox "
                "WHERE status='pending' AND channel=? AND hold_until>?",
                (channel, now),
            ).fetchone()
        times = [t for t in (head.next_try if head else None, r[0] if r else None) if t]
        return min(times) if times else None

    def next_window_end(self) -> float | None:
        """Return when the earliest cooldown window closes."""
        with self._lock:
            r = self._db.execute("SELECT MIN(ends) FROM notify_windows").fetchone()
        return r[0] if r and r[0] is not None else None

    def rows(self, status: str | None = None) -> list[Row]:
        """Return all rows (or those with status) in order."""
        if status is None:
            return self._rows("ORDER BY id")
        return self._rows("WHERE status=? ORDER BY id", (status,))

    def counts(self) -> dict[str, int]:
        """Return the number of rows per status."""
        with self._lock:
            cur = self._db.execute("SELECT status, COUNT(*) FROM outbox GROUP BY status")
            return dict(cur.fetchall())
