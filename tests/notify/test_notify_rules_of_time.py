"""The pure parts: quiet-hour windows across midnight, backoff growth, retention."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from pathlib import Path

from hub.config.owners import NotifyConfig, QuietHours
from hub.notify.outbox import Channel, Message, Outbox
from hub.notify.policy import backoff_delay, quiet_hold_until


def ts(h: int, m: int, day: int = 27) -> float:
    return datetime(2026, 11, day, h, m, tzinfo=UTC).timestamp()


def test_quiet_hours_across_midnight_and_within_a_day() -> None:
    night = QuietHours.model_validate({"from": "23:00", "to": "07:00"})
    assert quiet_hold_until(night, "normal", ts(22, 59), UTC) == 0.0
    assert quiet_hold_until(night, "normal", ts(23, 0), UTC) == ts(7, 0, 28)
    assert quiet_hold_until(night, "high", ts(3, 0, 28), UTC) == ts(7, 0, 28)
    assert quiet_hold_until(night, "normal", ts(7, 0, 28), UTC) == 0.0
    assert quiet_hold_until(night, "critical", ts(3, 0, 28), UTC) == 0.0
    lunch = QuietHours.model_validate({"from": "12:00", "to": "13:30"})
    assert quiet_hold_until(lunch, "normal", ts(12, 45), UTC) == ts(13, 30)
    assert quiet_hold_until(lunch, "normal", ts(13, 30), UTC) == 0.0


def test_backoff_doubles_with_jitter_up_to_the_cap() -> None:
    cfg = NotifyConfig(backoff_initial=2, backoff_max=60, jitter=0.2)
    rnd = random.Random(7)
    for attempt, base in [(1, 2), (2, 4), (3, 8), (5, 32), (6, 60), (20, 60)]:
        d = backoff_delay(attempt, cfg, rnd)
        assert base * 0.8 <= d <= base * 1.2


def test_prune_drops_old_finished_rows_keeps_pending(tmp_path: Path) -> None:
    ob = Outbox(tmp_path / "edgehub.db")
    ch = Channel("c1", "json://x")
    for i in range(3):
        ob.submit(
            Message(key=f"k{i}", owner="a", title=f"t{i}", message="", attachment=f"/f{i}"),
            [ch],
            now=100.0 + i,
        )
    rows = ob.rows()
    ob.mark_sent(rows[0].id, 110.0)
    ob.mark_failed(rows[1].id, 500.0, "gone")
    assert ob.prune(before=200.0) == ["/f0"]
    assert [r.title for r in ob.rows()] == ["t1", "t2"]
    ob.close()
