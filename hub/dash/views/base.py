"""What every view shares: access to the app's model and clock, and the selected row's key."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from textual.containers import Vertical
from textual.widgets import DataTable

if TYPE_CHECKING:
    from hub.dash.app import DashApp
    from hub.dash.model import HomeModel


class View(Vertical):
    """A tab's content: redrawn from the model when the model says it changed."""

    @property
    def dash(self) -> DashApp:
        """Return the running DashApp."""
        return self.app  # type: ignore[return-value]

    @property
    def model(self) -> HomeModel:
        """Return the app's model of the home."""
        return self.dash.model

    def refresh_view(self) -> None:
        """Redraw from the model (called in batches, never per message)."""

    def on_mount(self) -> None:
        self.refresh_view()

    def focus_main(self) -> None:
        """Give the keyboard to the view's main table, so its keys work at once."""
        tables = self.query(DataTable)
        if tables:
            tables.first().focus()

    def clock_text(self, ts: float | None) -> str:
        """Return ts as HH:MM:SS in the app's time zone."""
        if ts is None:
            return "–"
        return datetime.fromtimestamp(ts, self.dash.tz).strftime("%H:%M:%S")


def selected_key(table: DataTable[Any]) -> str | None:
    """Return the key of the row under the cursor, or None for an empty table."""
    if table.row_count == 0:
        return None
    try:
        return table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
    except Exception:  # CellDoesNotExist while rows are being replaced
        return None


def row_table(table_id: str, **columns: str) -> DataTable[str]:
    """Return a row-cursor table with these columns (key=label, in order)."""
    table: DataTable[str] = DataTable(id=table_id, cursor_type="row")
    for key, label in columns.items():
        table.add_column(label, key=key)
    return table


def sync_rows(table: DataTable[Any], rows: dict[str, tuple[Any, ...]]) -> None:
    """Make the table show rows (key -> cells) in order, updating cells in place."""
    columns = list(table.columns)
    for key in [k for k in table.rows if k.value not in rows]:
        table.remove_row(key)
    for key, cells in rows.items():
        if key in table.rows:
            old = table.get_row(key)
            for col, new, was in zip(columns, cells, old, strict=False):
                if new != was:
                    table.update_cell(key, col, new)
        else:
            table.add_row(*cells, key=key)
