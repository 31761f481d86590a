"""Runs a notifier's sender over an existing outbox until killed (the kill -9 tests' victim)."""

from __future__ import annotations

import json
import signal
import sys
import threading

from hub.config.owners import NotifyConfig, owners_from_dict
from hub.notify.service import NotifyService


def main() -> None:
    db, owners_json, cfg_json = sys.argv[1:4]
    svc = NotifyService(
        db, owners_from_dict(json.loads(owners_json)), NotifyConfig(**json.loads(cfg_json))
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    svc.start()
    print("ready", flush=True)
    done.wait()
    svc.stop()


if __name__ == "__main__":
    main()
