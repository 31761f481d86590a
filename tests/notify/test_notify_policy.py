"""Quiet hours, cooldown digests, giving up after max age: what the owner's webhook receives."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from notify_helpers import FakeClock, Receiver, jpeg_file

from hub.config.owners import NotifyConfig, owners_from_dict
from hub.notify.outbox import Row
from hub.notify.service import NotifyService
from rules.effects import Notify

NIGHT = datetime(2026, 11, 27, 23, 30, tzinfo=UTC).timestamp()
MORNING = datetime(2026, 11, 28, 7, 0, 1, tzinfo=UTC).timestamp()


def service(tmp_path: Path, receiver: Receiver, clock: FakeClock, **opts: Any) -> NotifyService:
    owners = owners_from_dict(
        {"alice": {"notify": [receiver.url()], "quiet_hours": {"from": "23:00", "to": "07:00"}}}
    )
    cfg = NotifyConfig(**{"cooldown": 0, "backoff_initial": 0.1, "backoff_max": 0.2, **opts})
    return NotifyService(tmp_path / "edgehub.db", owners, cfg, clock=clock, tz=UTC)


def settle(receiver: Receiver, n: int, extra: float = 0.3) -> list[dict[str, Any]]:
    """Wait for n posts, then a little longer to see that no more come."""
    receiver.wait_for(n)
    time.sleep(extra)
    return list(receiver.posts)


def test_quiet_hours_hold_normal_pass_critical(tmp_path: Path, receiver: Receiver) -> None:
    clock = FakeClock(NIGHT)
    svc = service(tmp_path, receiver, clock)
    svc.start()
    try:
        (normal,) = svc.submit(Notify(owners=("alice",), title="door opened", cause="e1"))
        (critical,) = svc.submit(
            Notify(owners=("alice",), title="smoke!", priority="critical", cause="e2")
        )
        assert (normal.status, critical.status) == ("held", "queued")
        assert normal.hold_until == datetime(2026, 11, 28, 7, 0, tzinfo=UTC).timestamp()
        posts = settle(receiver, 1)
        assert [p["json"]["title"] for p in posts] == ["smoke!"]
        assert posts[0]["json"]["type"] == "failure"  # critical is shown as apprise's failure
        clock.t = MORNING
        svc.sender.wake()
        posts = settle(receiver, 2)
    finally:
        svc.stop()
    assert [p["json"]["title"] for p in posts] == ["smoke!", "door opened"]


def test_burst_of_50_gives_one_message_and_one_digest(tmp_path: Path, receiver: Receiver) -> None:
    clock = FakeClock(MORNING + 3600)
    snap = jpeg_file(tmp_path / "snap.jpg")
    svc = service(tmp_path, receiver, clock, cooldown=60)
    svc.start()
    try:
        statuses = []
        for i in range(50):
            clock.t += 0.5  # a windy minute: the branch trips the camera every half second
            (s,) = svc.submit(
                Notify(
                    owners=("alice",),
                    title="Motion in the garden",
                    message=f"garden cam, trigger {i}",
                    rule="garden_motion",
                    cause=f"ev-{i}",
                    attach="snapshot",
                    camera="garden",
                    data={"snapshot": str(snap)},
                )
            )
            statuses.append(s.status)
        assert statuses == ["queued"] + ["folded"] * 49
        assert len(settle(receiver, 1)) == 1
        clock.t += 60  # the cooldown window closes
        svc.sender.wake()
        posts = settle(receiver, 2)
        assert len(posts) == 2
        assert svc.outbox.counts() == {"sent": 2, "digested": 49}
    finally:
        svc.stop()
    digest = posts[1]["json"]
    assert digest["title"] == "Motion in the garden (and 49 more)"
    assert "garden cam, trigger 49" in digest["message"]
    assert len(digest["attachments"]) == 1


def test_repeat_of_same_effect_is_not_sent_twice(tmp_path: Path, receiver: Receiver) -> None:
    clock = FakeClock(MORNING)
    svc = service(tmp_path, receiver, clock)
    svc.start()
    try:
        effect = Notify(owners=("alice",), title="hello", rule="r", cause="ev-same")
        assert svc.submit(effect)[0].status == "queued"
        assert svc.submit(effect)[0].status == "duplicate"  # e.g. replayed after a restart
        assert len(settle(receiver, 1)) == 1
    finally:
        svc.stop()


def test_gives_up_after_max_age_and_reports_failed(tmp_path: Path, receiver: Receiver) -> None:
    receiver.status = 503
    outcomes: list[tuple[str, Row]] = []
    owners = owners_from_dict({"bob": {"notify": [receiver.url()]}})
    cfg = NotifyConfig(cooldown=0, backoff_initial=0.05, backoff_max=0.1, max_age=0.5)
    svc = NotifyService(
        tmp_path / "edgehub.db", owners, cfg, on_outcome=lambda s, r: outcomes.append((s, r))
    )
    svc.start()
    try:
        svc.submit(Notify(owners=("bob",), title="never", cause="e"))
        deadline = time.monotonic() + 10
        while len(outcomes) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert svc.outbox.counts() == {"failed": 1}
    finally:
        svc.stop()
    # Owners' dashboards hear of the outage once, then of the outcome.
    assert [s for s, _ in outcomes] == ["retrying", "failed"]
    row = outcomes[1][1]
    assert row.attempts >= 3
    assert "503" in (row.last_error or "") or "Unavailable" in (row.last_error or "")


def test_owner_cooldown_folds_across_rules(tmp_path: Path, receiver: Receiver) -> None:
    clock = FakeClock(MORNING + 7200)
    svc = service(tmp_path, receiver, clock, owner_cooldown=30)
    svc.start()
    try:
        got = [
            svc.submit(Notify(owners=("alice",), title=t, rule=r, cause=f"e-{r}"))[0].status
            for t, r in [("Door", "door"), ("Window", "window"), ("Smoke test", "smoke")]
        ]
        assert got == ["queued", "folded", "folded"]
        settle(receiver, 1)
        clock.t += 31
        svc.sender.wake()
        posts = settle(receiver, 2)
    finally:
        svc.stop()
    digest = posts[1]["json"]
    assert digest["title"] == "Smoke test (and 2 more)"
    assert "- Window (x1)" in digest["message"] and "- Smoke test (x1)" in digest["message"]
