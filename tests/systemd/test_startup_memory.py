"""The hub hands start-up's freed heap back to the OS once it is ready (idle RSS, issue #8)."""

from __future__ import annotations

import re
import sys

import pytest

from hub.memory import release_startup_memory


def _rss_mb() -> float:
    with open("/proc/self/status") as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1)) / 1024


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
def test_freed_heap_pinned_by_a_live_block_goes_back_to_the_os() -> None:
    # 1 kB blocks come from glibc's heap, not pymalloc; the last one still alive pins the top,
    # so freeing the rest leaves ~40 MB resident until the heap is trimmed.
    blocks = [bytes(1024) + bytes([i % 256]) for i in range(40_000)]
    keep = blocks[-1]
    del blocks
    before = _rss_mb()
    assert release_startup_memory() is True
    after = _rss_mb()
    assert keep
    assert before - after > 20, f"RSS {before:.1f} -> {after:.1f} MB"
