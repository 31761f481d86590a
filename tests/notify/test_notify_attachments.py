"""Clips once finished, clips that never come, and snapshots sized for the channel."""

from __future__ import annotations

import base64
import time
from pathlib import Path

import cv2
import numpy as np
from notify_helpers import FakeClock, Receiver

from hub.config.owners import NotifyConfig, owners_from_dict
from hub.notify.service import NotifyService
from rules.effects import Notify


def service(tmp_path: Path, receiver: Receiver, clock: FakeClock | None = None) -> NotifyService:
    owners = owners_from_dict({"alice": {"notify": [receiver.url()]}})
    cfg = NotifyConfig(cooldown=0, clip_wait=120)
    kw = {"clock": clock} if clock else {}
    return NotifyService(tmp_path / "edgehub.db", owners, cfg, **kw)


def test_clip_is_sent_once_the_recording_finishes(tmp_path: Path, receiver: Receiver) -> None:
    clip = tmp_path / "garden-0001.mp4"
    clip.write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 40)
    svc = service(tmp_path, receiver)
    svc.start()
    try:
        svc.submit(
            Notify(owners=("alice",), title="Fox", attach="clip", camera="garden", cause="e")
        )
        time.sleep(0.3)
        assert receiver.posts == []  # still recording
        assert svc.clip_finished("garden", str(clip), started=time.time()) == 1
        (post,) = receiver.wait_for(1)
    finally:
        svc.stop()
    (att,) = post["json"]["attachments"]
    assert att["filename"] == "garden-0001.mp4"
    assert base64.b64decode(att["base64"]) == clip.read_bytes()


def test_clip_that_never_comes_is_sent_without_it(tmp_path: Path, receiver: Receiver) -> None:
    clock = FakeClock(1_800_000_000.0)
    svc = service(tmp_path, receiver, clock)
    svc.start()
    try:
        svc.submit(
            Notify(owners=("alice",), title="Fox", attach="clip", camera="garden", cause="e")
        )
        clock.t += 121
        svc.sender.wake()
        (post,) = receiver.wait_for(1)
    finally:
        svc.stop()
    assert post["json"]["attachments"] == []
    assert "(clip not available)" in post["json"]["message"]


def test_large_snapshot_is_downscaled_for_the_channel(tmp_path: Path, receiver: Receiver) -> None:
    rng = np.random.default_rng(1)
    big = rng.integers(0, 255, (3000, 4000, 3), dtype=np.uint8)  # noise: a large JPEG
    snap = tmp_path / "big.jpg"
    snap.write_bytes(cv2.imencode(".jpg", big, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes())
    assert snap.stat().st_size > 2_000_000
    svc = service(tmp_path, receiver)
    svc.start()
    try:
        svc.submit(
            Notify(
                owners=("alice",),
                title="Person",
                attach="snapshot",
                data={"snapshot": str(snap)},
                cause="e",
            )
        )
        (post,) = receiver.wait_for(1)
    finally:
        svc.stop()
    data = base64.b64decode(post["json"]["attachments"][0]["base64"])
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert max(img.shape[:2]) <= 1920 and len(data) <= 2_000_000


def test_clip_too_large_for_a_channel_is_left_out_with_a_note(tmp_path: Path) -> None:
    from hub.notify.channels import Limits, fit_attachment

    clip = tmp_path / "porch.mp4"
    clip.write_bytes(b"\0" * 5000)
    small = Limits(file_bytes=4000, image_bytes=4000, image_side=640)
    assert fit_attachment(str(clip), small, "pover") == (
        None,
        "(clip porch.mp4, 0.0 MB, is too large for this channel)",
    )
    assert fit_attachment(str(clip), Limits(10_000, 10_000, 640), "pover") == (str(clip), "")


def test_image_size_reads_headers_only(tmp_path: Path) -> None:
    from hub.notify.channels import image_size

    img = np.zeros((480, 640, 3), np.uint8)
    for ext in (".jpg", ".png"):
        f = tmp_path / f"a{ext}"
        f.write_bytes(cv2.imencode(ext, img)[1].tobytes())
        assert image_size(f) == (640, 480)
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0\x00\x00garbage")
    assert image_size(bad) is None
