"""What the hub measures about itself: CPU temperature and throttling, load, memory, disks, rates.

Everything is read from kernel files under an injectable root (so tests point it at a folder that
looks like a Pi's /sys and /proc) and through injectable functions for disk usage and load.
A missing file is normal on a machine that is not a Pi: its figure is simply None.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# Bits of the firmware's get_throttled word (the same word `vcgencmd get_throttled` prints).
_THROTTLE_BITS = {
    0: "under_voltage",
    1: "freq_capped",
    2: "throttled",
    3: "soft_temp_limit",
    16: "under_voltage_occurred",
    17: "freq_capped_occurred",
    18: "throttled_occurred",
    19: "soft_temp_limit_occurred",
}


class DiskUsage(NamedTuple):
    """The shape returned by shutil.disk_usage."""

    total: int
    used: int
    free: int


DiskUsageFn = Callable[[str], DiskUsage]


def _read(path: Path) -> str | None:
    try:
        return path.read_text().strip()
    except (OSError, UnicodeDecodeError):
        return None


class HostProbe:
    """Reads the host's health figures from the kernel; every reader returns None when absent."""

    def __init__(
        self,
        root: Path | str = "/",
        disk_usage: DiskUsageFn | None = None,
        loadavg: Callable[[], tuple[float, float, float]] | None = None,
    ) -> None:
        self.root = Path(root)
        self._disk_usage = disk_usage or shutil.disk_usage
        self._loadavg = loadavg or os.getloadavg

    def cpu_temperature(self) -> float | None:
        """Return the CPU temperature in °C from /sys/class/thermal, or None."""
        zones = sorted((self.root / "sys/class/thermal").glob("thermal_zone*"))
        readings = []
        for zone in zones:
            raw = _read(zone / "temp")
            if raw is None or not raw.lstrip("-").isdigit():
                continue
            kind = (_read(zone / "type") or "").lower()
            readings.append((0 if ("cpu" in kind or "soc" in kind) else 1, int(raw) / 1000.0))
        return min(readings)[1] if readings else None

    def throttling(self) -> dict[str, bool] | None:
        """Return the Pi's throttling flags from the firmware or hwmon files, or None."""
        raw = _read(self.root / "sys/devices/platform/soc/soc:firmware/get_throttled")
        if raw is not None:
            try:
                word = int(raw, 16)
            except ValueError:
                word = None
            if word is not None:
                return {name: bool(word >> bit & 1) for bit, name in _THROTTLE_BITS.items()}
        for hwmon in sorted((self.root / "sys/class/hwmon").glob("hwmon*")):
            if _read(hwmon / "name") == "rpi_volt":
                alarm = _read(hwmon / "in0_lcrit_alarm")
                if alarm is not None:
                    return {"under_voltage": alarm == "1"}
        return None

    def load(self) -> list[float] | None:
        """Return the 1, 5 and 15 minute load averages."""
        try:
            return [round(x, 2) for x in self._loadavg()]
        except OSError:
            return None

    def memory(self) -> dict[str, float] | None:
        """Return total and available memory in MB and the percentage used."""
        text = _read(self.root / "proc/meminfo")
        if text is None:
            return None
        fields = {}
        for line in text.splitlines():
            name, _, rest = line.partition(":")
            parts = rest.split()
            if parts and parts[0].isdigit():
                fields[name] = int(parts[0])  # kB
        total, avail = fields.get("MemTotal"), fields.get("MemAvailable")
        if not total or avail is None:
            return None
        return {
            "total_mb": round(total / 1024, 1),
            "available_mb": round(avail / 1024, 1),
            "used_pct": round(100 * (total - avail) / total, 1),
        }

    def disk(self, path: Path | str) -> dict[str, Any] | None:
        """Return the size, free space and free percentage of the filesystem holding path."""
        try:
            usage = self._disk_usage(str(path))
        except OSError:
            return None
        free_pct = 100.0 * usage.free / usage.total if usage.total else 0.0
        return {
            "path": str(path),
            "total_gb": round(usage.total / 1e9, 3),
            "free_gb": round(usage.free / 1e9, 3),
            "free_pct": round(free_pct, 2),
            "used_pct": round(100.0 - free_pct, 2),
        }


def file_size_mb(path: Path) -> float | None:
    """Return the size of a SQLite database with its WAL and shared-memory files, in MB."""
    total = 0
    found = False
    for suffix in ("", "-wal", "-shm"):
        try:
            total += Path(f"{path}{suffix}").stat().st_size
            found = True
        except OSError:
            continue
    return round(total / 1e6, 3) if found else None


class EventRate:
    """Counts events in one-second buckets and reports the rate over a trailing window."""

    def __init__(self, window: float = 60.0) -> None:
        self.window = window
        self._buckets: deque[list[float]] = deque()  # [second, count]
        self.total = 0

    def record(self, now: float) -> None:
        """Count one event at time now."""
        second = float(int(now))
        if self._buckets and self._buckets[-1][0] == second:
            self._buckets[-1][1] += 1
        else:
            self._buckets.append([second, 1])
        self.total += 1
        self._trim(now)

    def rate(self, now: float) -> float:
        """Return events per second over the trailing window."""
        self._trim(now)
        return round(sum(c for _, c in self._buckets) / self.window, 3)

    def _trim(self, now: float) -> None:
        while self._buckets and self._buckets[0][0] <= now - self.window:
            self._buckets.popleft()
