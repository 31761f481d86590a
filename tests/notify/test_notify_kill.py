"""Killed with SIGKILL mid-delivery, then restarted: every message arrives once, in order.

The receiver kills the process while it holds the 6th post, before answering: the worst
moment, sent but not yet marked. The resend carries the same Idempotency-Key.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from notify_helpers import Receiver

from hub.broker import MosquittoBroker
from hub.config.owners import NotifyConfig, owners_from_dict
from hub.notify.outbox import Outbox
from hub.notify.service import NotifyService
from rules.effects import Notify

HERE = Path(__file__).parent
CFG = {"cooldown": 0, "backoff_initial": 0.1, "backoff_max": 0.5}


def fill_outbox(db: Path, owners: dict[str, Any], n: int) -> None:
    """What the hub's Notify executor does: rows stored, nothing sent yet."""
    svc = NotifyService(db, owners_from_dict(owners), NotifyConfig(**CFG))
    for i in range(n):
        svc.submit(Notify(owners=("alice",), title=f"m{i:02d}", message="x", cause=f"ev-{i}"))
    svc.outbox.close()


def kill_and_resume(receiver: Receiver, start: Callable[[], subprocess.Popen], n: int) -> None:
    proc: dict[str, subprocess.Popen] = {}
    killed = threading.Event()

    def kill_on_sixth(post: dict[str, Any]) -> None:
        if len(receiver.posts) == 5 and not killed.is_set():
            killed.set()
            os.kill(proc["p"].pid, signal.SIGKILL)
            proc["p"].wait()

    receiver.on_post = kill_on_sixth
    proc["p"] = start()
    try:
        assert killed.wait(30)
        receiver.on_post = None
        proc["p"] = start()
        receiver.wait_for(n + 1, timeout=30)
    finally:
        proc["p"].terminate()
        proc["p"].wait(20)


def check_once_in_order(receiver: Receiver, db: Path, n: int) -> None:
    posts = receiver.posts
    # A webhook dedups on Idempotency-Key: what the owner sees is each message once, in order.
    seen: dict[str, str] = {}
    for p in posts:
        seen.setdefault(p["headers"]["idempotency-key"], p["json"]["title"])
    assert list(seen.values()) == [f"m{i:02d}" for i in range(n)]
    # Only the message in flight at the kill is resent, with the same key.
    assert len(posts) == n + 1
    titles = [p["json"]["title"] for p in posts]
    assert titles.count("m05") == 2
    assert all(titles.count(t) == 1 for t in titles if t != "m05")
    ob = Outbox(db)
    assert ob.counts() == {"sent": n}
    ob.close()


def test_sender_process_killed_resumes_once(tmp_path: Path, receiver: Receiver) -> None:
    db = tmp_path / "edgehub.db"
    owners = {"alice": {"notify": [receiver.url()]}}
    fill_outbox(db, owners, 20)

    def start() -> subprocess.Popen:
        args = [str(db), json.dumps(owners), json.dumps(CFG)]
        p = subprocess.Popen(
            [sys.executable, str(HERE / "sender_proc.py"), *args], stdout=subprocess.PIPE, text=True
        )
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        return p

    kill_and_resume(receiver, start, 20)
    check_once_in_order(receiver, db, 20)


def test_hub_killed_with_pending_messages_resumes_once(
    tmp_path: Path, receiver: Receiver, broker: MosquittoBroker
) -> None:
    data = tmp_path / "data"
    owners = {"alice": {"notify": [receiver.url()]}}
    fill_outbox(data / "edgehub.db", owners, 20)
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        json.dumps(
            {
                "hub": {"id": "home", "data_dir": str(data)},
                "mqtt": {"host": broker.host, "port": broker.port},
                "owners": owners,
                "notify": CFG,
            }
        )
    )

    def start() -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "run", "-c", str(cfg), "--log-level", "warning"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    kill_and_resume(receiver, start, 20)
    check_once_in_order(receiver, data / "edgehub.db", 20)
