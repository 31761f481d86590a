"""Cameras: the latest snapshot in half-block colour, detections, and finished recordings."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.reactive import reactive
from textual.widget import Widget
from textual.widgets import DataTable, Static

from hub.dash import halfblock
from hub.dash.views.base import View, row_table, selected_key, sync_rows


class SnapshotImage(Widget):
    """A JPEG drawn with '▀' cells; decoded once per snapshot, resized per widget size."""

    jpeg: reactive[bytes | None] = reactive(None)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._rgb: Any = None
        self._cache: tuple[tuple[int, int], Text] | None = None

    def watch_jpeg(self, data: bytes | None) -> None:
        self._rgb = halfblock.decode_jpeg(data) if data else None
        self._cache = None

    def render(self) -> Text:
        if self.jpeg is None:
            return Text("no snapshot yet (s takes one)", style="dim")
        if self._rgb is None:
            return Text("snapshot is not a JPEG", style="red")
        size = (self.content_size.width, self.content_size.height)
        if self._cache is None or self._cache[0] != size:
            self._cache = (size, halfblock.render(self._rgb, *size))
        return self._cache[1]


class CamerasView(View):
    """Pick a camera on the left; r records 30 s, s takes a snapshot."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "record", "Record"),
        Binding("s", "snapshot", "Snapshot"),
    ]

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="camera-side"):
                yield row_table("camera-list", name="Camera", state="State")
                yield Static("", id="detections")
                yield row_table("recordings", time="Clip", len="Len", file="File")
            yield SnapshotImage(id="snapshot")

    def current(self) -> str | None:
        """Return the name of the selected camera."""
        return selected_key(self.query_one("#camera-list", DataTable))

    def refresh_view(self) -> None:
        rows = {}
        for name in sorted(self.model.cameras):
            st = self.model.devices[name].state if name in self.model.devices else {}
            flags = ["motion" if st.get("motion") else "calm"]
            if st.get("recording"):
                flags.append("● rec")
            if self.model.devices.get(name) and self.model.devices[name].online is False:
                flags = ["OFFLINE"]
            rows[name] = (name, " ".join(flags))
        sync_rows(self.query_one("#camera-list", DataTable), rows)
        self._show_camera()

    def _show_camera(self) -> None:
        cam = self.model.cameras.get(self.current() or "")
        img = self.query_one("#snapshot", SnapshotImage)
        img.jpeg = cam.snapshot if cam else None
        dets = [
            f"{self.clock_text(d.get('ts'))} {d.get('label', '?')} {float(d.get('score', 0)):.2f}"
            for d in (cam.detections if cam else [])
        ][:5]
        self.query_one("#detections", Static).update(
            "Detections:\n" + ("\n".join(dets) if dets else "none yet")
        )
        rows = {}
        for i, rec in enumerate(cam.recordings if cam else []):
            length = rec.get("duration")
            if length is None and isinstance(rec.get("end"), int | float):
                length = rec["end"] - float(rec.get("start") or rec["end"])
            file = str(rec.get("file") or rec.get("path") or "?").rsplit("/", 1)[-1]
            rows[f"c{len(cam.recordings) - i}"] = (  # type: ignore[union-attr]
                self.clock_text(rec.get("start") or rec.get("ts")),
                f"{length:.0f}s" if isinstance(length, int | float) else "–",
                file,
            )
        sync_rows(self.query_one("#recordings", DataTable), rows)

    @on(DataTable.RowHighlighted, "#camera-list")
    def _camera_changed(self) -> None:
        self._show_camera()

    def action_record(self) -> None:
        """Ask the hub to record the selected camera for 30 s."""
        name = self.current()
        if name:
            self.dash.send_command(name, {"record": 30})

    def action_snapshot(self) -> None:
        """Ask the hub for a new snapshot of the selected camera."""
        name = self.current()
        if name:
            self.dash.send_command(name, {"snapshot": True})
