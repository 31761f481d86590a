"""The notifier without the hub: outbox, policy and sender built from the owners' config."""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import tzinfo
from pathlib import Path

from hub.config.owners import NotifyConfig, OwnerConfig, resolve_channels
from hub.notify.channels import AppriseChannel
from hub.notify.notifier import Notifier, SnapshotSource, Submitted
from hub.notify.outbox import Channel, Outbox
from hub.notify.sender import Outcome, Sender
from rules.effects import Notify


class NotifyService:
    """Everything that delivers notifications, sharing one outbox in <data_dir>/edgehub.db."""

    def __init__(
        self,
        db_path: str | Path,
        owners: Mapping[str, OwnerConfig],
        cfg: NotifyConfig | None = None,
        *,
        secrets_path: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        on_outcome: Outcome | None = None,
        snapshots: SnapshotSource | None = None,
        rnd: random.Random | None = None,
    ):
        self.cfg = cfg or NotifyConfig()
        self.clock = clock
        specs = resolve_channels(owners, secrets_path, env)
        self.channels: dict[str, AppriseChannel] = {}
        per_owner: dict[str, list[Channel]] = {}
        for owner, owner_specs in specs.items():
            for spec in owner_specs:
                made = AppriseChannel(spec, self.cfg.timeout)
                # Two owners may share a URL: one channel, one ordered queue.
                ch = self.channels.setdefault(made.id, made)
                per_owner.setdefault(owner, []).append(Channel(ch.id, ch.name))
        self.outbox = Outbox(db_path)
        self.notifier = Notifier(
            self.outbox,
            owners,
            per_owner,
            self.cfg,
            Path(db_path).parent / "notify",
            tz=tz,
            snapshots=snapshots,
        )
        self.sender = Sender(
            self.outbox,
            self.channels,
            self.cfg,
            clock=clock,
            on_outcome=on_outcome,
            housekeep=self.notifier.housekeep,
            rnd=rnd,
        )
        self.notifier.wake = self.sender.wake

    def start(self) -> None:
        """Start sending (resuming whatever the outbox still holds)."""
        self.sender.start()

    def submit(self, effect: Notify) -> list[Submitted]:
        """Store a Notify effect in the outbox and wake the sender."""
        out = self.notifier.submit(effect, self.clock())
        self.sender.wake()
        return out

    def clip_finished(self, camera: str, path: str, started: float) -> int:
        """Give a finished clip to the messages waiting for it; return how many."""
        rows = self.outbox.attach_clip(camera, path, started - self.cfg.clip_wait)
        if rows:
            self.sender.wake()
        return len(rows)

    def stop(self) -> None:
        """Stop the sender and close the outbox."""
        self.sender.stop()
        self.outbox.close()
