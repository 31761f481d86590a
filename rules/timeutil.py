"""Calendar arithmetic on the engine's virtual clock: windows, sun times, next fire times."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from rules.errors import RuleRuntimeError

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@lru_cache(maxsize=64)
def zone(name: str) -> ZoneInfo:
    """Return a cached ZoneInfo."""
    return ZoneInfo(name)


def local(ts: float, tz: str) -> datetime:
    """Return the aware local datetime of an epoch time."""
    return datetime.fromtimestamp(ts, zone(tz))


def in_window(t: dtime, after: dtime | None, before: dtime | None) -> bool:
    """True when t is inside [after, before); after > before crosses midnight."""
    if after is not None and before is not None and after > before:
        return t >= after or t < before
    return (after is None or t >= after) and (before is None or t < before)


@lru_cache(maxsize=1024)
def _sun_times(lat: float, lon: float, day: date, tz: str) -> dict[str, datetime]:
    from astral import Observer
    from astral.sun import sunrise, sunset

    obs = Observer(latitude=lat, longitude=lon)
    return {
        "sunrise": sunrise(obs, day, tzinfo=zone(tz)),
        "sunset": sunset(obs, day, tzinfo=zone(tz)),
    }


def sun_time(location: Any, day: date, which: str, tz: str) -> datetime:
    """Return today's sunrise or sunset at the location, as a local aware datetime."""
    if location is None:
        raise RuleRuntimeError(
            "sun triggers and conditions need hub.location (latitude, longitude)"
        )
    lat, lon = _latlon(location)
    try:
        return _sun_times(lat, lon, day, tz)[which]
    except ValueError as e:  # polar day or night: the sun never crosses the horizon
        raise RuleRuntimeError(f"no {which} on {day}: {e}") from e


def _latlon(location: Any) -> tuple[float, float]:
    if isinstance(location, dict):
        return float(location["latitude"]), float(location["longitude"])
    if hasattr(location, "latitude"):
        return float(location.latitude), float(location.longitude)
    return float(location[0]), float(location[1])


def next_at(clock: dtime, now: float, tz: str) -> float:
    """Return the next epoch time strictly after now at this local time of day."""
    cur = local(now, tz)
    day = cur.date()
    for _ in range(3):
        cand = datetime.combine(day, clock, zone(tz)).timestamp()
        if cand > now:
            return cand
        day += timedelta(days=1)
    raise RuleRuntimeError("no next time found")  # unreachable


@lru_cache(maxsize=256)
def _cron(expr: str, tz: str) -> Any:
    from apscheduler.triggers.cron import CronTrigger

    return CronTrigger.from_crontab(expr, timezone=zone(tz))


def next_cron(expr: str, now: float, tz: str) -> float | None:
    """Return the next cron fire time strictly after now (APScheduler as a pure calculator)."""
    after = local(now, tz) + timedelta(seconds=1)
    nxt = _cron(expr, tz).get_next_fire_time(None, after.replace(microsecond=0))
    return nxt.timestamp() if nxt else None


def next_sun(location: Any, which: str, offset: float, now: float, tz: str) -> float | None:
    """Return the next sunrise/sunset (+offset) strictly after now; None near the poles."""
    day = local(now, tz).date() - timedelta(days=1)
    for _ in range(400):
        try:
            cand = sun_time(location, day, which, tz).timestamp() + offset
        except RuleRuntimeError:
            cand = None
        if cand is not None and cand > now:
            return cand
        day += timedelta(days=1)
    return None
