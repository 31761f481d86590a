"""Notifications: what the hub sent, holds in its outbox, or failed to send."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from hub.dash.text import notification_status
from hub.dash.views.base import View, row_table, sync_rows


class NotificationsView(View):
    """Counts by status and the latest notifications, newest first."""

    def compose(self) -> ComposeResult:
        yield Static("", id="notify-counts")
        yield row_table(
            "notify-list",
            time="Time",
            status="Status",
            owner="Owner",
            title="Title",
            detail="Detail",
        )

    def refresh_view(self) -> None:
        counts = self.model.notification_counts()
        main = [f"{k} {counts.get(k, 0)}" for k in ("sent", "pending", "failed")]
        other = [
            f"{k} {v}" for k, v in sorted(counts.items()) if k not in ("sent", "pending", "failed")
        ]
        self.query_one("#notify-counts", Static).update(" · ".join(main + other))
        rows = {}
        newest = sorted(
            self.model.notifications.items(), key=lambda kv: kv[1].get("ts", 0), reverse=True
        )
        for key, n in newest:
            owner = n.get("owner") or n.get("owners") or ""
            if isinstance(owner, list):
                owner = ",".join(map(str, owner))
            detail = n.get("error") or n.get("message") or ""
            attempts = n.get("attempts")
            if attempts:
                detail = f"{detail} (try {attempts})".strip()
            rows[key] = (
                self.clock_text(n.get("ts")),
                notification_status(n),
                str(owner),
                str(n.get("title") or ""),
                str(detail)[:60],
            )
        table = self.query_one("#notify-list", DataTable)
        if list(rows) != [k.value for k in table.rows]:
            table.clear()  # newest first: order changes as they arrive, so redraw
        sync_rows(table, rows)
