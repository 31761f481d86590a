"""The SQLite journal: order, duplicates, last state, commit barriers, retention, filters."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from hub.store import Store, read_events, read_states
from rules.events import Event


def test_events_in_order_duplicates_once_and_last_state(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        evs = [Event("state", "door", {"contact": i % 2 == 0}) for i in range(100)]
        for e in evs:
            store.append(e)
        store.append(evs[5])  # a redelivery of the same event
        store.set_state("door", {"contact": False}, evs[-1].ts, evs[-1].id)
        assert store.flush()
    got = list(read_events(tmp_path / "edgehub.db"))
    assert [e.id for e in got] == [e.id for e in evs]
    assert got[3] == evs[3]
    assert read_states(tmp_path / "edgehub.db") == {"door": {"contact": False}}
    conn = sqlite3.connect(tmp_path / "edgehub.db")
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_after_commit_runs_once_everything_before_is_written(tmp_path: Path) -> None:
    seen: list[int] = []
    with Store(tmp_path) as store:
        for i in range(500):
            store.append(Event("state", "s", {"i": i}))
        store.after_commit(lambda: seen.append(len(list(read_events(store.path)))))
        store.flush()
    assert seen == [500]


def test_dedup_keys_survive_a_reopen(tmp_path: Path) -> None:
    with Store(tmp_path) as store:
        store.append(Event("state", "s", {"t": 1}), dedup=1234)
        store.append(Event("state", "s", {"t": 2}), dedup=5678)
    with Store(tmp_path) as store:
        assert store.recent_dedup_keys() == [1234, 5678]


def test_filters_since_device_kind_and_limit(tmp_path: Path) -> None:
    now = time.time()
    with Store(tmp_path) as store:
        store.append(Event("state", "door", {"contact": True}, ts=now - 3600))
        store.append(Event("state", "hall", {"occupancy": True}, ts=now - 60))
        store.append(Event("camera.motion", "cam", {"phase": "start"}, ts=now - 30))
        store.append(Event("camera.detection", "cam", {"label": "person"}, ts=now - 20))
    db = tmp_path / "edgehub.db"
    assert [e.source for e in read_events(db, since=now - 600)] == ["hall", "cam", "cam"]
    assert [e.source for e in read_events(db, device="door")] == ["door"]
    assert [e.kind for e in read_events(db, kind="camera")] == ["camera.motion", "camera.detection"]
    assert [e.kind for e in read_events(db, limit=1)] == ["camera.detection"]


def test_retention_by_age_and_size(tmp_path: Path) -> None:
    now = time.time()
    store = Store(tmp_path, retention_days=1, max_mb=0.5).open()
    for i in range(50):
        store.append(Event("state", "old", {"i": i}, ts=now - 3 * 86400))
    for i in range(6000):
        store.append(Event("state", "new", {"i": i, "pad": "x" * 200}, ts=now - 10 + i / 1000))
    store.sweep_now()
    store.close()
    got = list(read_events(tmp_path / "edgehub.db"))
    assert not [e for e in got if e.source == "old"]
    # Oldest went first, the newest are kept.
    assert 0 < len(got) < 6000 and got[-1].data["i"] == 5999
    assert (tmp_path / "edgehub.db").stat().st_size < 2_000_000


def test_events_cli_reads_the_journal(tmp_path: Path, capsys) -> None:
    from hub.cli import main

    with Store(tmp_path) as store:
        store.append(Event("state", "door", {"contact": False}))
        store.append(Event("state", "hall", {"occupancy": True}))
    assert main(["events", "--data-dir", str(tmp_path), "--device", "door", "--since", "10m"]) == 0
    out = capsys.readouterr().out
    assert "door" in out and '"contact": false' in out and "hall" not in out
