"""Delivery through a real apprise json:// post to a loopback HTTP server."""

from __future__ import annotations

import base64
from pathlib import Path

from notify_helpers import Receiver, jpeg_file

from hub.config.owners import NotifyConfig, owners_from_dict
from hub.notify.service import NotifyService
from rules.effects import Notify


def make_service(tmp_path: Path, receiver: Receiver, **cfg: object) -> NotifyService:
    owners = owners_from_dict({"alice": {"notify": [receiver.url()]}})
    opts = {"cooldown": 0, "backoff_initial": 0.1, "backoff_max": 0.3, **cfg}
    return NotifyService(tmp_path / "edgehub.db", owners, NotifyConfig(**opts))


def test_snapshot_arrives_as_base64_attachment(tmp_path: Path, receiver: Receiver) -> None:
    snap = jpeg_file(tmp_path / "snap.jpg")
    svc = make_service(tmp_path, receiver)
    svc.start()
    try:
        svc.submit(
            Notify(
                owners=("alice",),
                title="Person at the door",
                message="front_door saw a person",
                attach="snapshot",
                camera="front_door",
                data={"snapshot": str(snap)},
                rule="door_person",
                cause="ev-1",
            )
        )
        (post,) = receiver.wait_for(1)
    finally:
        svc.stop()
    body = post["json"]
    assert body["title"] == "Person at the door"
    assert body["message"] == "front_door saw a person"
    (att,) = body["attachments"]
    assert base64.b64decode(att["base64"]) == snap.read_bytes()
    assert att["mimetype"] == "image/jpeg"
    assert len(post["headers"]["idempotency-key"]) == 32


def test_receiver_down_then_back_every_message_once_in_order(
    tmp_path: Path, receiver: Receiver
) -> None:
    receiver.stop()  # the home's internet is down
    svc = make_service(tmp_path, receiver)
    svc.start()
    try:
        for i in range(10):
            svc.submit(Notify(owners=("alice",), title=f"m{i}", message="x", cause=f"ev-{i}"))
        import time

        time.sleep(1.0)  # several failed attempts with backoff
        assert receiver.posts == []
        receiver.start()
        receiver.wait_for(10)
        time.sleep(0.3)
        assert svc.outbox.counts() == {"sent": 10}
    finally:
        svc.stop()
    assert receiver.titles() == [f"m{i}" for i in range(10)]
