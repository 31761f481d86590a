"""Events: the live stream (bounded, appended in batches), filters, and the cause chain."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import Input, Static

from hub.dash.model import DashEvent
from hub.dash.text import summarize
from hub.dash.views.base import View
from hub.dash.views.eventlist import EventList, header_text

MAX_ROWS = 500
"""Rows kept in the table; the model keeps a longer (also bounded) history for causes."""


class ChainLine(Widget):
    """The cause chain line: a fixed height, so redrawing it never re-lays out the screen."""

    text: reactive[str] = reactive("")

    def render(self) -> str:
        return self.text


class EventsView(View):
    """The event list with device/kind filters; the highlighted event's cause chain below."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "focus_filter", "Filter"),
        Binding("escape", "clear_filter", "Clear filter", show=False),
    ]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self._shown_seq = 0

    def compose(self) -> ComposeResult:
        with Horizontal(id="event-filters"):
            yield Input(placeholder="device…", id="filter-device")
            yield Input(placeholder="kind…", id="filter-kind")
        yield Static(header_text(), id="event-header")
        yield EventList(MAX_ROWS, id="event-list")
        yield ChainLine(id="chain")

    def focus_main(self) -> None:
        self.query_one(EventList).focus()

    @property
    def filters(self) -> tuple[str, str]:
        """Return the (device, kind) filter texts."""
        return (
            self.query_one("#filter-device", Input).value,
            self.query_one("#filter-kind", Input).value,
        )

    def _rows(self, events: list[DashEvent]) -> list[tuple[str, tuple[str, ...]]]:
        return [
            (ev.id, (self.clock_text(ev.ts), ev.source, ev.kind, summarize(ev.data)))
            for ev in events
        ]

    def rebuild(self) -> None:
        """Show the newest matching events from scratch (after a filter change)."""
        device, kind = self.filters
        events = list(self.model.filtered(device, kind))[-MAX_ROWS:]
        self.query_one(EventList).set_rows(self._rows(events))
        self._shown_seq = self.model.event_seq
        self._show_chain()

    def refresh_view(self) -> None:
        new = self.model.event_seq - self._shown_seq
        if new <= 0:
            return
        self._shown_seq = self.model.event_seq
        events = self.model.events
        tail = [events[i] for i in range(max(0, len(events) - new), len(events))]
        device, kind = self.filters
        if device or kind:
            tail = list(self.model.filtered(device, kind, tail))
        self.query_one(EventList).append_rows(self._rows(tail[-MAX_ROWS:]))

    def _show_chain(self) -> None:
        event_id = self.query_one(EventList).selected_id()
        chain = self.model.cause_chain(event_id) if event_id else []
        self.query_one(ChainLine).text = (
            "Cause: " + " ← ".join(chain) if len(chain) > 1 else (chain[0] if chain else "")
        )

    def shown_event_ids(self) -> list[str]:
        """Return the ids of the events in the list, top to bottom."""
        return [event_id for event_id, _ in self.query_one(EventList).rows]

    def selected_event(self) -> DashEvent | None:
        """Return the event under the cursor."""
        return self.model.by_id.get(self.query_one(EventList).selected_id() or "")

    @on(EventList.Highlighted)
    def _highlighted(self) -> None:
        self._show_chain()

    @on(Input.Changed)
    def _filter_changed(self) -> None:
        self.rebuild()

    @on(Input.Submitted)
    def _filter_submitted(self) -> None:
        self.query_one(EventList).focus()

    def action_focus_filter(self) -> None:
        """Put the cursor in the device filter."""
        self.query_one("#filter-device", Input).focus()

    def action_clear_filter(self) -> None:
        """Clear both filters and go back to the list."""
        for inp in self.query(Input):
            inp.value = ""
        self.query_one(EventList).focus()
