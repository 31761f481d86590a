"""A bounded, fast event list: Textual's line API draws only the visible rows.

DataTable re-indexes every row on each removal, which is too slow for a stream of hundreds
of events a second; this widget keeps a deque and costs O(visible rows) per redraw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

COLUMNS = (("Time", 8), ("Source", 22), ("Kind", 18))
"""Fixed columns; Detail takes the rest of the width."""


def _fit(text: str, width: int) -> str:
    return text.ljust(width) if len(text) <= width else text[: width - 1] + "…"


def header_text() -> str:
    """Return the column header line that matches the rows."""
    return " " + " ".join(_fit(name, w) for name, w in COLUMNS) + " Detail"


class EventList(ScrollView, can_focus=True):
    """Rows of (event id, cells); a cursor that follows the newest row until moved."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "move(-1)", "Up", show=False),
        Binding("down", "move(1)", "Down", show=False),
        Binding("pageup", "move(-10)", "Page up", show=False),
        Binding("pagedown", "move(10)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "follow", "Follow"),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {"event-list--cursor", "event-list--dim"}

    class Highlighted(Message):
        """The cursor moved onto another event."""

        def __init__(self, event_id: str | None) -> None:
            super().__init__()
            self.event_id = event_id

    def __init__(self, max_rows: int = 500, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.rows: deque[tuple[str, tuple[str, ...]]] = deque(maxlen=max_rows)
        self.cursor = -1
        self.following = True
        self._last_highlight: str | None = None

    @property
    def row_count(self) -> int:
        """Return how many rows are held."""
        return len(self.rows)

    def selected_id(self) -> str | None:
        """Return the event id under the cursor."""
        return self.rows[self.cursor][0] if 0 <= self.cursor < len(self.rows) else None

    def set_rows(self, rows: Iterable[tuple[str, tuple[str, ...]]]) -> None:
        """Replace every row and follow the newest."""
        self.rows.clear()
        self.rows.extend(rows)
        self.following = True
        self._moved()

    def append_rows(self, rows: list[tuple[str, tuple[str, ...]]]) -> None:
        """Add rows at the bottom; the oldest fall off the top."""
        if not rows:
            return
        overflow = max(0, len(self.rows) + len(rows) - (self.rows.maxlen or 0))
        self.rows.extend(rows)
        if not self.following:
            self.cursor = max(0, self.cursor - overflow)
        self._moved()

    def _moved(self) -> None:
        if self.following:
            self.cursor = len(self.rows) - 1
        self.virtual_size = Size(self.size.width, len(self.rows))
        height = self.scrollable_content_region.height or self.size.height
        if self.following:
            self.scroll_to(y=max(0, len(self.rows) - height), animate=False, immediate=True)
        elif self.cursor < self.scroll_offset.y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif height and self.cursor >= self.scroll_offset.y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True)
        self.refresh()
        selected = self.selected_id()
        if selected != self._last_highlight:
            self._last_highlight = selected
            self.post_message(self.Highlighted(selected))

    def action_move(self, step: int) -> None:
        """Move the cursor; moving off the newest row stops following."""
        if not self.rows:
            return
        self.cursor = min(len(self.rows) - 1, max(0, self.cursor + step))
        self.following = self.cursor == len(self.rows) - 1
        self._moved()

    def action_first(self) -> None:
        """Go to the oldest row."""
        self.cursor, self.following = 0, False
        self._moved()

    def action_follow(self) -> None:
        """Go to the newest row and keep following new ones."""
        self.following = True
        self._moved()

    def on_click(self, event: events.Click) -> None:
        index = event.y + self.scroll_offset.y
        if 0 <= index < len(self.rows):
            self.cursor = index
            self.following = index == len(self.rows) - 1
            self._moved()

    def on_resize(self) -> None:
        self._moved()

    def render_line(self, y: int) -> Strip:
        index = y + self.scroll_offset.y
        width = self.scrollable_content_region.width
        if index >= len(self.rows):
            return Strip.blank(width, self.rich_style)
        _, cells = self.rows[index]
        base = self.rich_style
        if index == self.cursor and self.has_focus:
            base = base + self.get_component_rich_style("event-list--cursor")
        elif index == self.cursor:
            base = base + Style(reverse=True)
        dim = base + self.get_component_rich_style("event-list--dim", partial=True)
        segments = [Segment(" " + _fit(cells[0], COLUMNS[0][1]) + " ", dim)]
        for text, (_, w) in zip(cells[1:3], COLUMNS[1:], strict=False):
            segments.append(Segment(_fit(text, w) + " ", base))
        used = sum(w + 1 for _, w in COLUMNS) + 1
        segments.append(
            Segment(_fit(cells[3] if len(cells) > 3 else "", max(1, width - used)), base)
        )
        return Strip(segments).crop(0, width).extend_cell_length(width, base)
