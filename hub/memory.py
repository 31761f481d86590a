"""Give start-up's freed heap back to the OS once the hub is ready.

Loading the config and rules (YAML, pydantic, Jinja2 compiles) allocates and frees tens of
thousands of small objects; glibc keeps the freed pages in its arenas, so a long-lived daemon
would hold them for good. One `malloc_trim(0)` after start-up returns them (about 1 MB on the
example home; bench/RESULTS.md, "Service").
"""

from __future__ import annotations

import ctypes
import gc


def release_startup_memory() -> bool:
    """Collect garbage and trim glibc's heap; False where there is no glibc (musl, macOS)."""
    gc.collect()
    try:
        # The process's own symbols include libc's; find_library would run ldconfig.
        trim = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True
