"""Small value parsers of the rule language: durations, percentages, clock times."""

from __future__ import annotations

import re
from datetime import time as dtime

_UNIT = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"^\s*([+-]?)\s*((?:\d+(?:\.\d+)?\s*(?:ms|s|m|h|d)\s*)+)$")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)")
_HMS = re.compile(r"^([+-]?)(\d{1,2}):(\d{2})(?::(\d{2}))?$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


def parse_duration(value: object) -> float:
    """Return seconds for 90, "90s", "2m", "1h30m", "500ms", "-30m" or "00:02:00"."""
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 30s or 2m, got {value!r}")
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        m = _DURATION.match(value)
        if m:
            total = sum(float(n) * _UNIT[u] for n, u in _PART.findall(m.group(2)))
            return -total if m.group(1) == "-" else total
        m = _HMS.match(value.strip())
        if m:
            total = int(m.group(2)) * 3600 + int(m.group(3)) * 60 + int(m.group(4) or 0)
            return -float(total) if m.group(1) == "-" else float(total)
    raise ValueError(f"expected a duration such as 30s, 2m or 1h30m, got {value!r}")


def parse_percent(value: object) -> float:
    """Return a brightness percentage from 60, 60.5 or "60%"."""
    if isinstance(value, bool):
        raise ValueError(f"expected a percentage such as 60%, got {value!r}")
    if isinstance(value, str):
        s = value.strip()
        s = s.removesuffix("%")
        try:
            value = float(s)
        except ValueError:
            raise ValueError(f"expected a percentage such as 60%, got {value!r}") from None
    if isinstance(value, int | float) and 0 <= value <= 100:
        return float(value)
    raise ValueError(f"expected a percentage between 0% and 100%, got {value!r}")


def parse_clock(value: object) -> dtime:
    """Return a time of day from "07:30" or "07:30:15" (or YAML's sexagesimal int)."""
    if isinstance(value, int) and not isinstance(value, bool):
        # YAML 1.1 reads an unquoted 07:30 as the base-60 number 450.
        value = f"{value // 60:02d}:{value % 60:02d}"
    if isinstance(value, str):
        m = _CLOCK.match(value.strip())
        if m:
            h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
            if h < 24 and mi < 60 and s < 60:
                return dtime(h, mi, s)
    raise ValueError(f'expected a time of day such as "07:30", got {value!r}')
