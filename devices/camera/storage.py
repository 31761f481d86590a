"""Recording storage: the full-disk guard and retention sweeping by age, total size, free disk."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

log = logging.getLogger(__name__)

MEDIA_SUFFIXES = (".mp4", ".jpg")


class DiskUsage(NamedTuple):
    """What shutil.disk_usage returns."""

    total: int
    used: int
    free: int


DiskUsageFn = Callable[[Path], DiskUsage]


@dataclass
class RetentionConfig:
    """Keep media at most `days` old, at most max_bytes in total, and min_free of the disk free."""

    days: float | None = 7.0
    max_bytes: int | None = None
    min_free: float = 0.10  # fraction of the disk that must stay free


def _default_usage(path: Path) -> DiskUsage:
    u = shutil.disk_usage(path)
    return DiskUsage(u.total, u.used, u.free)


class Storage:
    """The media folder of the cameras, with its limits; disk_usage is injectable for tests."""

    def __init__(
        self,
        root: Path,
        retention: RetentionConfig | None = None,
        disk_usage: DiskUsageFn | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.retention = retention or RetentionConfig()
        self._usage = disk_usage or _default_usage
        self._clock = clock
        self._total: tuple[float, int] | None = None  # (when, bytes): walking the tree is slow

    def media(self) -> list[tuple[float, int, Path]]:
        """Return (mtime, size, path) of every clip and snapshot, oldest first."""
        out = []
        for dirpath, _, files in os.walk(self.root):
            for f in files:
                if f.endswith(MEDIA_SUFFIXES):
                    p = Path(dirpath) / f
                    try:
                        st = p.stat()
                    except FileNotFoundError:
                        continue
                    out.append((st.st_mtime, st.st_size, p))
        out.sort()
        return out

    def total_bytes(self, exclude: Path | None = None) -> int:
        """Return the bytes used by media (other than exclude), rescanned every 10 s at most."""
        now = time.monotonic()
        if self._total is None or now - self._total[0] > 10.0:
            total = sum(size for _, size, p in self.media() if p != exclude)
            self._total = (now, total)
        return self._total[1]

    def problem(self, extra_bytes: int = 0, exclude: Path | None = None) -> str | None:
        """Return why there is no room (extra_bytes being written to exclude), or None."""
        r = self.retention
        u = self._usage(self.root)
        if u.total and u.free < r.min_free * u.total:
            return f"free disk {u.free / u.total:.1%} is below the {r.min_free:.0%} floor"
        if r.max_bytes is not None and self.total_bytes(exclude) + extra_bytes > r.max_bytes:
            return f"recordings exceed their {r.max_bytes} byte quota"
        return None

    def sweep(self, keep: set[Path] | None = None) -> list[Path]:
        """Delete media by age, then oldest first while over quota or short of free disk."""
        keep = keep or set()
        r = self.retention
        deleted: list[Path] = []
        items = [m for m in self.media() if m[2] not in keep]
        now = self._clock()
        if r.days is not None:
            cutoff = now - r.days * 86400
            while items and items[0][0] < cutoff:
                deleted.append(self._delete(items.pop(0)[2]))
        total = sum(size for _, size, _ in items) + sum(
            p.stat().st_size for p in keep if p.exists()
        )
        while items:
            u = self._usage(self.root)
            over_quota = r.max_bytes is not None and total > r.max_bytes
            low_disk = bool(u.total) and u.free < r.min_free * u.total
            if not (over_quota or low_disk):
                break
            _, size, path = items.pop(0)
            deleted.append(self._delete(path))
            total -= size
        self._total = None
        if deleted:
            log.info("retention swept %d files from %s", len(deleted), self.root)
        return deleted

    def _delete(self, path: Path) -> Path:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return path
