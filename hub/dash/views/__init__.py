"""The dashboard's views, one module each; each renders from the HomeModel in refresh_view()."""

from __future__ import annotations

from hub.dash.views.cameras import CamerasView
from hub.dash.views.events import EventsView
from hub.dash.views.home import HomeView
from hub.dash.views.hubinfo import HubView
from hub.dash.views.notifications import NotificationsView
from hub.dash.views.rules import RulesView, RuleTraceScreen

__all__ = [
    "CamerasView",
    "EventsView",
    "HomeView",
    "HubView",
    "NotificationsView",
    "RuleTraceScreen",
    "RulesView",
]
