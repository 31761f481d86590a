"""Fixtures of the replay tests: journals written through hub/store.py's public API."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hub.store import DB_NAME, Store
from rules.events import Event


@pytest.fixture
def write_journal(tmp_path: Path) -> Callable[[list[Event]], Path]:
    """Return a function that journals events (as the hub would) and returns the db path."""

    def write(events: list[Event]) -> Path:
        with Store(tmp_path / "data") as store:
            for ev in events:
                store.append(ev)
        return tmp_path / "data" / DB_NAME

    return write


@pytest.fixture
def rules_dir(tmp_path: Path) -> Callable[[str, str], Path]:
    """Return a function that writes a rules folder named name holding text."""

    def make(name: str, text: str) -> Path:
        d = tmp_path / name
        d.mkdir(exist_ok=True)
        (d / "rules.yaml").write_text(text)
        return d

    return make
