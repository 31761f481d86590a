"""How the dashboard words things: ages, attribute summaries, cause-chain steps, statuses."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.dash.model import DashEvent

QUIET = frozenset({"battery", "linkquality", "voltage", "illuminance_lux", "last_seen", "online"})
"""Attributes every sensor repeats; a cause chain names what changed, not these."""


def ago(ts: float | None, now: float) -> str:
    """Return a short age such as '4s', '3m', '2h' or '–' when never seen."""
    if ts is None:
        return "–"
    d = max(0.0, now - ts)
    if d < 60:
        return f"{d:.0f}s"
    if d < 3600:
        return f"{d // 60:.0f}m"
    if d < 86400:
        return f"{d // 3600:.0f}h"
    return f"{d // 86400:.0f}d"


def summarize(data: dict[str, Any], limit: int = 3) -> str:
    """Return a one-line summary of attributes: 'ON', 'occupancy', 'temperature=21.5'."""
    if "state" in data and isinstance(data["state"], str):
        return data["state"]
    parts = []
    for key, value in data.items():
        if value is True:
            parts.append(key)
        elif value is False:
            parts.append(f"no {key}")
        elif isinstance(value, dict | list):
            continue
        else:
            parts.append(f"{key}={value}")
        if len(parts) >= limit:
            break
    return " ".join(parts)


def describe(event: DashEvent) -> str:
    """Return how an event reads in a cause chain: 'hall_motion occupancy', 'rule x'."""
    if event.kind == "rule.run" or event.source.startswith("rule:"):
        return f"rule {event.source.removeprefix('rule:')}"
    if event.kind in ("state", "state.baseline"):
        main = {k: v for k, v in event.data.items() if k not in QUIET} or event.data
        return f"{event.source} {summarize(main, 1)}".strip()
    if event.kind == "command.result":
        return f"command {event.data.get('topic', '')}".strip()
    return f"{event.source} {event.kind}"


def notification_status(n: dict[str, Any]) -> str:
    """Return a notification's status as one of sent, pending, failed (or what it says)."""
    status = str(n.get("status") or n.get("state") or n.get("result") or "?").lower()
    if status in ("held", "queued", "retrying", "retry", "pending", "clip"):
        return "pending"
    return status
