"""Fixtures for the dashboard tests: a fake hub on the private broker and a wait helper."""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable

from hub.broker import MosquittoBroker
from hub.dash import DashLink, LinkSettings
from hub.dash.app import DashApp

from .fakehub import FakeHub


def async_test(fn: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test body with asyncio.run (no asyncio pytest plugin is installed)."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(fn(*args, **kwargs))

    return wrapper


async def wait_until(pilot: Pilot, cond: Callable[[], object], timeout: float = 8.0) -> None:
    """Let the app run until cond() is truthy; fail with the screen's status after timeout."""
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            status = pilot.app.query_one("#status").render()
            raise AssertionError(f"timed out; status line: {status}")
        await pilot.pause(0.05)
    await asyncio.sleep(0)


def cell(app: DashApp, table_id: str, row: str, column: str) -> str:
    """Return the text of one cell of a table, or '' when the row is not there."""
    table = app.query_one(f"#{table_id}", DataTable)
    try:
        return str(table.get_cell(row, column))
    except Exception:
        return ""


def status_text(app: DashApp) -> str:
    """Return the status line."""
    return str(app.query_one("#status").render())


@pytest.fixture
def fake_hub(broker: MosquittoBroker) -> Iterator[FakeHub]:
    """A scripted hub publishing a small home on the private broker."""
    hub = FakeHub(broker.host, broker.port)
    hub.publish_home()
    yield hub
    hub.close()


@pytest.fixture
def dash_app(broker: MosquittoBroker) -> DashApp:
    """A dashboard linked to the private broker, reconnecting quickly."""
    link = DashLink(LinkSettings(host=broker.host, port=broker.port), reconnect_max=1)
    return DashApp(link, command_timeout=8)
