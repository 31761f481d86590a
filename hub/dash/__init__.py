"""The Textual dashboard: sees and steers the hub only through its MQTT topics."""

from __future__ import annotations

from hub.dash.errors import DashConfigError, DashError
from hub.dash.link import DashLink, LinkSettings
from hub.dash.model import HomeModel

__all__ = ["DashApp", "DashConfigError", "DashError", "DashLink", "HomeModel", "LinkSettings"]


def __getattr__(name: str) -> object:
    # The Textual app is imported on first use so the model and link stay light to import.
    if name == "DashApp":
        from hub.dash.app import DashApp

        return DashApp
    raise AttributeError(name)
