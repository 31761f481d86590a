"""From a Notify effect to outbox rows: owners, attachments, quiet hours, cooldowns, digests."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path

from hub.config.owners import NotifyConfig, OwnerConfig
from hub.notify.outbox import Channel, Message, Outbox, Row
from hub.notify.policy import cooldown_groups, digest_message, quiet_hold_until
from rules.effects import Notify
from rules.events import new_event_id

log = logging.getLogger(__name__)

SnapshotSource = Callable[[str], bytes | None]
"""camera name -> its latest snapshot JPEG, or None."""


@dataclass(frozen=True)
class Submitted:
    """What became of a notification for one owner."""

    owner: str
    status: str  # queued | held | folded | duplicate | unknown_owner | no_channels
    message: Message
    hold_until: float = 0.0


class Notifier:
    """Turns Notify effects into outbox rows; the policy half of the notifier."""

    def __init__(
        self,
        outbox: Outbox,
        owners: Mapping[str, OwnerConfig],
        channels: Mapping[str, Sequence[Channel]],
        cfg: NotifyConfig,
        attach_dir: str | Path,
        tz: tzinfo | None = None,
        snapshots: SnapshotSource | None = None,
    ):
        self.outbox = outbox
        self.owners = dict(owners)
        self.channels = {k: list(v) for k, v in channels.items()}
        self.cfg = cfg
        self.attach_dir = Path(attach_dir)
        self.attach_dir.mkdir(parents=True, exist_ok=True)
        self.tz = tz
        self.snapshots = snapshots
        self.wake: Callable[[], None] | None = None  # the sender's wake(), once it exists
        self._now = 0.0
        self._pruned = 0.0

    def submit(self, effect: Notify, now: float) -> list[Submitted]:
        """Store effect for each of its owners, before anything is sent."""
        base = _effect_key(effect)
        attachment = self._attachment(effect, base)
        out: list[Submitted] = []
        for owner in effect.owners:
            msg = Message(
                key=f"{base}:{owner}",
                owner=owner,
                title=effect.title,
                message=effect.message,
                priority=effect.priority,
                rule=effect.rule,
                cause=effect.cause,
                camera=effect.camera,
                attach=effect.attach,
                attachment=attachment,
            )
            cfg = self.owners.get(owner)
            if cfg is None:
                log.warning("notify.unknown_owner owner=%s rule=%s", owner, effect.rule)
                out.append(Submitted(owner, "unknown_owner", msg))
                continue
            if not self.channels.get(owner):
                log.warning("notify.no_channels owner=%s rule=%s", owner, effect.rule)
                out.append(Submitted(owner, "no_channels", msg))
                continue
            hold = quiet_hold_until(cfg.quiet_hours, effect.priority, now, self.tz)
            status = self.outbox.submit(
                msg,
                self.channels.get(owner, []),
                now,
                hold_until=hold,
                cooldowns=cooldown_groups(owner, effect.rule, self.cfg),
            )
            log.info("notify.%s owner=%s rule=%s", status, owner, effect.rule)
            out.append(Submitted(owner, status, msg, hold))
        return out

    def housekeep(self, now: float) -> float | None:
        """Send digests of closed cooldown windows and clips that never came; return next time."""
        self._now = now
        digests = self.outbox.close_windows(now, self._make_digest)
        released = self.outbox.release_clip_waits(now - self.cfg.clip_wait)
        if (digests or released) and self.wake is not None:
            self.wake()
        if now - self._pruned > 3600:
            self._pruned = now
            self._prune(now - self.cfg.retention_days * 86400)
        ends = self.outbox.next_window_end()
        clip_rows = self.outbox.rows("clip")
        clip_next = min((r.created + self.cfg.clip_wait for r in clip_rows), default=None)
        times = [t for t in (ends, clip_next) if t is not None]
        return min(times) if times else None

    def _prune(self, before: float) -> None:
        for name in self.outbox.prune(before):
            p = Path(name)
            # Only our own copies are deleted, with the channel-sized variants made from them.
            if p.parent != self.attach_dir:
                continue
            for f in [p, *p.parent.glob(f"{p.stem}.*.jpg")]:
                f.unlink(missing_ok=True)

    def _make_digest(self, folded: list[Row], grp: str) -> tuple[Message, list[Channel], float]:
        msg = digest_message(folded, grp, self.tz)
        cfg = self.owners.get(msg.owner)
        hold = quiet_hold_until(cfg.quiet_hours if cfg else None, msg.priority, self._now, self.tz)
        log.info("notify.digest owner=%s group=%s folded=%d", msg.owner, grp, len(folded))
        return msg, self.channels.get(msg.owner, []), hold

    def _attachment(self, effect: Notify, base: str) -> str | None:
        """Keep the file to attach beside the outbox, so it outlives the camera's sweeper."""
        if effect.attach not in ("snapshot", "clip"):
            return None
        name = hashlib.sha256(base.encode()).hexdigest()[:20]
        src = (
            effect.data.get("snapshot") if effect.attach == "snapshot" else effect.data.get("clip")
        )
        if src and Path(src).is_file():
            dst = self.attach_dir / f"{name}{Path(src).suffix or '.jpg'}"
            if not dst.exists():
                try:
                    os.link(src, dst)  # cheap on the same disk; a copy otherwise
                except OSError:
                    shutil.copyfile(src, dst)
            return str(dst)
        if effect.attach == "snapshot" and effect.camera and self.snapshots:
            jpeg = self.snapshots(effect.camera)
            if jpeg:
                dst = self.attach_dir / f"{name}.jpg"
                dst.write_bytes(jpeg)
                return str(dst)
        if effect.attach == "snapshot":
            log.warning("notify.no_snapshot camera=%s rule=%s", effect.camera, effect.rule)
        return None


def _effect_key(effect: Notify) -> str:
    """Return the effect's identity: the same effect executed twice gives the same key."""
    if effect.cause is None:
        return "once:" + new_event_id()
    body = f"{effect.rule}|{effect.title}|{effect.message}|{','.join(effect.owners)}"
    return f"{effect.cause}:{hashlib.sha256(body.encode()).hexdigest()[:12]}"
