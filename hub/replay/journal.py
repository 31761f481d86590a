"""Read the hub's journal for a replay: events in order through a cursor (bounded memory),
each marked as an input (what the world did) or an old effect (what the current rules did)."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hub.replay.errors import JournalError
from rules.events import Event

log = logging.getLogger(__name__)

# Kinds a rule's effect leaves in the journal (the light's new state, a SetState, the
# notifier's outcome, a recording): with a cause they are the old effects, not inputs.
_EFFECT_KINDS = frozenset(
    {"state", "recording.started", "recording.finished", "snapshot", "snapshot.taken"}
)
# Causes that are not a rule: a person's command on a /set topic, the health monitor's
# offline/online facts, a camera's own motion recording. A time-triggered run's effects have
# its time.trigger event (source rule:<id>) as their cause: rule effects like any other.
_NOT_RULE_CAUSES = frozenset({"command", "device.offline", "device.online", "camera.motion"})
_RUN_RESULTS = ("ran",)


def is_rule_effect(kind: str, source: str, cause: str | None, cause_kind: str | None) -> bool:
    """True when a journaled event was caused by a rule (so a replay must not feed it back)."""
    if source.startswith("rule:") or kind.startswith("notify.") or kind == "time.trigger":
        return True
    if cause is None or cause_kind in _NOT_RULE_CAUSES:
        return False
    return kind in _EFFECT_KINDS


@dataclass(frozen=True, slots=True)
class JournalRow:
    """One journaled event and whether a rule caused it."""

    event: Event
    by_rule: bool


class Journal:
    """A read-only view of <data_dir>/edgehub.db; every read streams through fetchmany."""

    def __init__(self, path: str | Path, *, batch: int = 2000) -> None:
        self.path = Path(path)
        self.batch = batch

    def _connect(self) -> sqlite3.Connection:
        if not self.path.exists():
            raise JournalError(f"no journal at {self.path}: has the hub run with this data_dir?")
        if not self.path.is_file():
            raise JournalError(f"the journal {self.path} is not a file")
        try:
            conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, timeout=10)
            conn.execute("PRAGMA busy_timeout=10000")
            conn.execute("SELECT id, ts, source, kind, data, cause FROM events LIMIT 1").fetchall()
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc
        return conn

    def check(self) -> None:
        """Raise JournalError (naming the file) unless the journal can be read."""
        self._connect().close()

    def _query(self, sql: str, args: tuple = ()) -> Iterator[tuple]:
        conn = self._connect()
        try:
            cur = conn.execute(sql, args)
            while rows := cur.fetchmany(self.batch):
                yield from rows
        except sqlite3.DatabaseError as exc:
            raise JournalError(f"cannot read the journal {self.path}: {exc}") from exc
        finally:
            conn.close()

    def bounds(self) -> tuple[float, float] | None:
        """Return the times of the first and last journaled events, None when empty."""
        row = next(self._query("SELECT min(ts), max(ts) FROM events"))
        return None if row[0] is None else (float(row[0]), float(row[1]))

    def count(self, start: float, end: float) -> int:
        """Return how many events lie in [start, end)."""
        sql = "SELECT count(*) FROM events WHERE ts >= ? AND ts < ?"
        return int(next(self._query(sql, (start, end)))[0])

    def states_before(self, start: float) -> dict[str, dict[str, Any]]:
        """Return every device's attributes as they stood at start (state events folded)."""
        out: dict[str, dict[str, Any]] = {}
        sql = (
            "SELECT source, data FROM events WHERE ts < ? "
            "AND kind IN ('state', 'state.baseline') ORDER BY ts, id"
        )
        for source, data in self._query(sql, (start,)):
            out.setdefault(source, {}).update(_loads(data, self.path))
        return out

    def rows(self, start: float, end: float) -> Iterator[JournalRow]:
        """Yield the events of [start, end) in time order, each marked input or old effect."""
        sql = (
            "SELECT e.id, e.ts, e.source, e.kind, e.data, e.cause, c.kind FROM events e "
            "LEFT JOIN events c ON c.id = e.cause WHERE e.ts >= ? AND e.ts < ? ORDER BY e.ts, e.id"
        )
        for eid, ts, source, kind, data, cause, cause_kind in self._query(sql, (start, end)):
            ev = Event(kind, source, _loads(data, self.path), float(ts), eid, cause)
            yield JournalRow(ev, is_rule_effect(kind, source, cause, cause_kind))

    def trace_runs(self, start: float, end: float) -> dict[str, int] | None:
        """Return {rule: runs} from the live hub's traces table; None when it has none."""
        marks = ",".join("?" * len(_RUN_RESULTS))
        sql = (
            f"SELECT rule, count(*) FROM traces WHERE ts >= ? AND ts < ? "
            f"AND result IN ({marks}) GROUP BY rule"
        )
        try:
            return {r: int(n) for r, n in self._query(sql, (start, end, *_RUN_RESULTS))}
        except JournalError as exc:
            if "no such table" in str(exc):
                return None
            raise


def _loads(text: str, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(text)
    except (TypeError, ValueError) as exc:
        raise JournalError(f"the journal {path} holds an event that is not JSON: {exc}") from exc
    return data if isinstance(data, dict) else {"value": data}
