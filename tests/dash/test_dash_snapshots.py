"""Snapshot tests of the main views with a fixed, simulated home (deterministic clock)."""

from __future__ import annotations

from typing import Any

from .simhome import simulated_home


def test_home_view(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["down"], terminal_size=(80, 24))


def test_events_view_with_cause_chain(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["2", "up", "up", "up", "up", "up"])


def test_rule_traces(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["3", "enter"])


def test_cameras_view(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["4"])


def test_notifications_view(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["5"])


def test_hub_view(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), press=["6"])


def test_home_view_large(snap_compare: Any) -> None:
    assert snap_compare(simulated_home(), terminal_size=(120, 36))
