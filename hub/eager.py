"""Start a coroutine eagerly, as Python 3.12's eager tasks do, on Python 3.11.

The rule host runs each effect up to its first real wait inside the batch that brought its
event: a light command goes out at once instead of one loop turn later, behind the rest of the
batch (bench/RESULTS.md, "Rules", "Over the broker"). Only what really waits becomes a task.
"""

from __future__ import annotations

import asyncio
import types
from collections.abc import Coroutine, Generator
from typing import Any


def start_eagerly(
    loop: asyncio.AbstractEventLoop, coro: Coroutine[Any, Any, Any]
) -> asyncio.Task | None:
    """Run coro now until it first waits; None if it finished, else the task that goes on."""
    try:
        pending = coro.send(None)
    except StopIteration:
        return None
    return loop.create_task(_continue(coro, pending))


@types.coroutine
def _resume(coro: Coroutine[Any, Any, Any], pending: Any) -> Generator[Any, Any, Any]:
    """Go on with a coroutine that was started by hand and is suspended on `pending`."""
    while True:
        try:
            sent = yield pending
        except BaseException as exc:  # cancellation (or any throw) goes to the coroutine
            try:
                pending = coro.throw(exc)
            except StopIteration as stop:
                return stop.value
        else:
            try:
                pending = coro.send(sent)
            except StopIteration as stop:
                return stop.value


async def _continue(coro: Coroutine[Any, Any, Any], pending: Any) -> Any:
    return await _resume(coro, pending)
