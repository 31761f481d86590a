"""The Textual dashboard: tabs over a HomeModel fed in batches from the MQTT link's thread."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import tzinfo
from typing import Any, ClassVar

from textual import on
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Static, TabbedContent, TabPane

from hub.dash.link import DashLink
from hub.dash.model import HomeModel
from hub.dash.multi import ALL, MultiHomeModel
from hub.dash.views import (
    CamerasView,
    EventsView,
    HomeView,
    HubView,
    NotificationsView,
    RulesView,
    RuleTraceScreen,
)
from hub.dash.views.base import View
from hub.dash.views.home import device_state_text

log = logging.getLogger(__name__)

TABS = (
    ("home", "Home", HomeView),
    ("events", "Events", EventsView),
    ("rules", "Rules", RulesView),
    ("cameras", "Cameras", CamerasView),
    ("notifications", "Notify", NotificationsView),
    ("hub", "Hub", HubView),
)


class Wake(Message):
    """Messages are waiting in the inbox (posted once per batch from the MQTT thread)."""


class ConnectionChanged(Message):
    """The link to the broker went up or down."""

    def __init__(self, connected: bool, reason: str) -> None:
        super().__init__()
        self.connected = connected
        self.reason = reason


class DashApp(App[None]):
    """edgehub's terminal dashboard; link=None shows only what is ingest()ed (tests, replays)."""

    CSS_PATH = "dash.tcss"
    TITLE = "edgehub"
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(i + 1), f"show_tab('{tab}')", label, show=False)
            for i, (tab, label, _) in enumerate(TABS)
        ),
        Binding("q", "quit", "Quit"),
    ]

    connected: reactive[bool] = reactive(False)

    def __init__(
        self,
        link: DashLink | None = None,
        hub_id: str = "home",
        *,
        clock: Callable[[], float] = time.time,
        tz: tzinfo | None = None,
        flush_interval: float = 0.2,
        history: int = 2000,
        max_inbox: int = 20000,
        command_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.link = link
        hub = link.settings.hub_id if link else hub_id
        # --hub '*': every hub on the broker, names as <hub>/<device> (hub/dash/multi.py).
        self.model = (MultiHomeModel if hub == ALL else HomeModel)(hub, clock, history)
        self.tz = tz
        self.flush_interval = flush_interval
        self.max_inbox = max_inbox
        self.command_timeout = command_timeout
        self.dropped = 0
        self.flushes = 0
        self._lock = threading.Lock()
        self._inbox: list[tuple[str, bytes, bool]] = []
        self._wake_posted = False
        self._flush_cost = 0.0
        self._dirty: set[str] = set()
        self._pending: dict[str, dict[str, Any]] = {}
        self._results_seen = 0
        self._reason = "connecting"

    @property
    def broker_address(self) -> str:
        """Return host:port of the broker, or 'none' for a dashboard without a link."""
        return self.link.address if self.link else "none"

    # --- layout -----------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Static("", id="banner")
        with TabbedContent(id="tabs", initial="home"):
            for tab, label, view in TABS:
                with TabPane(label, id=tab):
                    yield view(id=f"view-{tab}")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._update_banner()
        self.view("home").focus_main()
        self.say(f"hub {self.model.hub_id} · keys 1-6 switch views · q quits")
        if self.link is not None:
            self.link.start(self.feed, self.feed_connection)
        # Ages ("seen 4s") and rates move with time even when no message arrives.
        self.set_interval(2.0, self._tick)

    def on_unmount(self) -> None:
        if self.link is not None:
            self.link.stop()

    def view(self, name: str) -> View:
        """Return the view widget of a tab."""
        return self.query_one(f"#view-{name}", View)

    def action_show_tab(self, tab: str) -> None:
        """Switch to a tab."""
        self.query_one(TabbedContent).active = tab

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        tab = event.pane.id or ""
        if tab in self._dirty:
            self._dirty.discard(tab)
            self.view(tab).refresh_view()
        self.view(tab).focus_main()

    # --- ingest (MQTT thread -> UI loop, batched) -------------------------------------------

    def feed(self, topic: str, payload: bytes, retained: bool = False) -> None:
        """Queue one MQTT message; safe from any thread; the UI applies them in batches."""
        with self._lock:
            if len(self._inbox) >= self.max_inbox:
                self.dropped += 1
                return
            self._inbox.append((topic, payload, retained))
            wake = not self._wake_posted
            self._wake_posted = True
        if wake:
            self.post_message(Wake())

    def feed_connection(self, connected: bool, reason: str) -> None:
        """Report the link's state; safe from any thread."""
        self.post_message(ConnectionChanged(connected, reason))

    def ingest(
        self, topic: str, payload: bytes | str | dict[str, Any], retained: bool = False
    ) -> None:
        """Apply one message now, on the UI thread or before the app runs (tests, replays)."""
        if isinstance(payload, dict):
            payload = json.dumps(payload)
        if isinstance(payload, str):
            payload = payload.encode()
        changed = self.model.apply(topic, payload, retained)
        if self.is_running:
            self._redraw(changed)

    @on(Wake)
    def _wake(self) -> None:
        # A slow machine gets fewer, larger batches: drawing never takes more than about a
        # quarter of the time, so keys stay responsive under a flood of events.
        self.set_timer(max(self.flush_interval, 3 * self._flush_cost), self.flush)

    def flush(self) -> None:
        """Apply every queued message and redraw the views they changed, once."""
        with self._lock:
            batch, self._inbox = self._inbox, []
            self._wake_posted = False
        start = time.perf_counter()
        changed: set[str] = set()
        for topic, payload, retained in batch:
            changed |= self.model.apply(topic, payload, retained)
        self.flushes += 1
        self._redraw(changed)
        self._flush_cost = time.perf_counter() - start

    def _redraw(self, changed: set[str]) -> None:
        active = self.query_one(TabbedContent).active
        for name in changed:
            if name == active:
                self.view(name).refresh_view()
            else:
                self._dirty.add(name)
        if "rules" in changed and isinstance(self.screen, RuleTraceScreen):
            self.screen.refresh_view()
        if "hub" in changed:
            self._update_banner()
        self._check_answers(changed)

    def _tick(self) -> None:
        active = self.query_one(TabbedContent).active
        if active in ("home", "hub"):
            self.view(active).refresh_view()

    # --- connection banner ------------------------------------------------------------------

    @on(ConnectionChanged)
    def _connection_changed(self, event: ConnectionChanged) -> None:
        self._reason = event.reason
        self.connected = event.connected

    def watch_connected(self, connected: bool) -> None:
        self._update_banner()
        if self._has_widgets() and self.query_one(TabbedContent).active == "hub":
            self.view("hub").refresh_view()

    def _has_widgets(self) -> bool:
        # Watchers and say() can run before compose has made the widgets.
        return bool(self.query("#banner"))

    def _update_banner(self) -> None:
        if not self._has_widgets():
            return
        banner = self.query_one("#banner", Static)
        text = ""
        if self.link is not None and not self.connected:
            text = (
                f"Broker connection lost ({self._reason}) — reconnecting to {self.broker_address}…"
                if self._reason != "connecting"
                else f"Connecting to broker {self.broker_address}…"
            )
        elif self.model.hub_status == "offline":
            text = f"Hub {self.model.hub_id} is offline (its last will) — showing its last state"
        banner.update(text)
        banner.set_class(bool(text), "-visible")

    # --- commands and the hub's answers -----------------------------------------------------

    def say(self, text: str) -> None:
        """Show one line in the status bar."""
        if self._has_widgets():
            self.query_one("#status", Static).update(text)

    def send_command(self, target: str, payload: dict[str, Any]) -> None:
        """Publish on edgehub/<hub>/<target>/set and wait for the hub's answer."""
        body = json.dumps(payload)
        if self.link is None or not self.connected:
            self.say(f"not connected: {target} {body} not sent")
            return
        self.link.publish(f"{target}/set", payload)
        self._pending[target] = {
            "sent": self.model.clock(),
            "body": body,
            "before": self._answer(target),
        }
        self.say(f"→ {target} {body} … waiting for the hub")
        self.set_timer(self.command_timeout, lambda: self._expire(target, body))

    def toggle_rule(self, name: str) -> None:
        """Ask the hub to flip a rule's enabled flag, from the state the hub last reported."""
        enabled = self.model.rule(name).state.get("enabled", True)
        self.send_command(f"rules/{name}", {"enabled": not enabled})

    def _answer(self, target: str) -> str:
        if target.startswith("rules/"):
            st = self.model.rule(target.removeprefix("rules/")).state
            on_off = {True: "enabled", False: "disabled"}.get(st.get("enabled"), "?")  # type: ignore[arg-type]
            return f"{on_off}, last run {st.get('result', '–')}"
        dev = self.model.devices.get(target)
        return device_state_text(dev) if dev else "?"

    def _check_answers(self, changed: set[str]) -> None:
        if not self._pending:
            self._results_seen = self.model.command_seq
            return
        new = self.model.command_seq - self._results_seen
        results = list(self.model.command_results)[-new:] if new > 0 else []
        self._results_seen = self.model.command_seq
        for ev in results:
            topic = str(ev.data.get("topic", ""))
            for target in list(self._pending):
                if topic.endswith(f"/{target}/set") or topic == f"{target}/set":
                    self._pending.pop(target)
                    if ev.data.get("ok", True):
                        self.say(f"{target}: ok — hub reports {self._answer(target)}")
                    else:
                        self.say(f"{target}: FAILED — {ev.data.get('error', 'no reason given')}")
        for target, info in list(self._pending.items()):
            now = self._answer(target)
            if now != info["before"]:
                self._pending.pop(target)
                self.say(f"{target}: hub reports {now}")

    def _expire(self, target: str, body: str) -> None:
        info = self._pending.get(target)
        if info and info["body"] == body:
            self._pending.pop(target)
            self.say(f"{target}: no answer from the hub after {self.command_timeout:.0f}s")
