"""Pure decisions: quiet hours, retry backoff, cooldown groups and the digest text."""

from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, timedelta, tzinfo

from hub.config.owners import NotifyConfig, QuietHours
from hub.notify.rows import PRIORITY_ORDER, Message, Row

# How each priority is shown by apprise services that have levels.
NOTIFY_TYPE = {"normal": "info", "high": "warning", "critical": "failure"}


def quiet_hold_until(
    quiet: QuietHours | None, priority: str, now: float, tz: tzinfo | None = None
) -> float:
    """Return when a message may be sent under quiet hours (0: now); critical is never held."""
    if quiet is None or priority == "critical":
        return 0.0
    start, end = quiet.minutes()
    if start == end:
        return 0.0
    dt = datetime.fromtimestamp(now, tz)
    minute = dt.hour * 60 + dt.minute
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return 0.0
    until = dt.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if until <= dt:
        until += timedelta(days=1)
    return until.timestamp()


def backoff_delay(attempt: int, cfg: NotifyConfig, rnd: random.Random | None = None) -> float:
    """Return the delay before retry number `attempt` (1-based): doubling, capped, jittered."""
    base = min(cfg.backoff_max, cfg.backoff_initial * 2 ** max(0, attempt - 1))
    r = (rnd or random).random()
    return max(0.05, base * (1 + cfg.jitter * (2 * r - 1)))


def cooldown_groups(owner: str, rule: str | None, cfg: NotifyConfig) -> list[tuple[str, float]]:
    """Return the cooldown windows a message falls into: per rule and owner, then per owner."""
    groups: list[tuple[str, float]] = []
    if rule:
        secs = cfg.rule_cooldown.get(rule, cfg.cooldown)
        if secs > 0:
            groups.append((f"rule:{rule}:{owner}", secs))
    if cfg.owner_cooldown > 0:
        groups.append((f"owner:{owner}", cfg.owner_cooldown))
    return groups


def digest_message(folded: list[Row], grp: str, tz: tzinfo | None = None) -> Message:
    """Fold the repeats of one cooldown window into a single "and N more" message."""
    last = folded[-1]
    n = len(folded)
    since = datetime.fromtimestamp(folded[0].created, tz).strftime("%H:%M:%S")
    titles = Counter(r.title for r in folded)
    if len(titles) == 1:
        body = f"{last.message}\n\nand {n} more like this since {since}"
    else:
        lines = [f"- {t} (x{c})" for t, c in titles.most_common(5)]
        body = f"{n} more notifications since {since}:\n" + "\n".join(lines)
    with_file = next((r for r in reversed(folded) if r.attachment), None)
    priority = max((r.priority for r in folded), key=lambda p: PRIORITY_ORDER.get(p, 0))
    return Message(
        key=f"digest:{grp}:{folded[0].id}",
        owner=last.owner,
        title=f"{last.title} (and {n} more)",
        message=body,
        priority=priority,
        rule=last.rule,
        cause=last.cause,
        camera=last.camera,
        attach=with_file.attach if with_file else None,
        attachment=with_file.attachment if with_file else None,
    )
