"""Home: every device with its state, last seen, battery and online; lights and cameras act here."""

from __future__ import annotations

from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import DataTable, Static

from hub.dash.model import Device
from hub.dash.text import QUIET, ago, summarize
from hub.dash.views.base import View, row_table, selected_key, sync_rows


def brightness_pct(state: dict[str, Any]) -> int | None:
    """Return a light's brightness (0-255 on the wire) as a percentage."""
    b = state.get("brightness")
    return round(b * 100 / 255) if isinstance(b, int | float) else None


def device_state_text(dev: Device, last_detection: dict[str, Any] | None = None) -> str:
    """Return what the State column says for one device."""
    st = dev.state
    if dev.type == "light":
        pct = brightness_pct(st)
        on = str(st.get("state", "?"))
        return f"{on} {pct}%" if pct is not None and on == "ON" else on
    if dev.type == "camera":
        parts = ["motion" if st.get("motion") else "calm"]
        if st.get("recording"):
            parts.append("● rec")
        if last_detection:
            parts.append(f"{last_detection.get('label', '?')} {last_detection.get('score', 0):.2f}")
        return " ".join(parts)
    if dev.type == "contact" and isinstance(st.get("contact"), bool):
        return "closed" if st["contact"] else "OPEN"  # Zigbee2MQTT: true means closed
    if dev.type == "motion" and isinstance(st.get("occupancy"), bool):
        return "occupied" if st["occupancy"] else "clear"
    return summarize({k: v for k, v in st.items() if k not in QUIET}) or "–"


class HomeView(View):
    """The devices table; t toggles a light, +/- dims it, r records, s snapshots a camera."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("t", "toggle", "Toggle light"),
        Binding("plus,equals_sign", "dim(1)", "Brighter"),
        Binding("minus", "dim(-1)", "Dimmer"),
        Binding("r", "record", "Record"),
        Binding("s", "snapshot", "Snapshot"),
    ]

    def compose(self) -> ComposeResult:
        yield row_table(
            "devices",
            name="Device",
            type="Type",
            state="State",
            seen="Seen",
            battery="Batt",
            online="Online",
        )
        yield Static("", id="device-detail")

    def refresh_view(self) -> None:
        now = self.model.clock()
        rows: dict[str, tuple[str, ...]] = {}
        for name in sorted(self.model.devices):
            dev = self.model.devices[name]
            cam = self.model.cameras.get(name)
            det = cam.detections[0] if cam and cam.detections else None
            battery = dev.state.get("battery")
            online = {True: "online", False: "OFFLINE", None: "–"}[dev.online]
            rows[name] = (
                name,
                dev.type,
                device_state_text(dev, det),
                ago(dev.last_seen, now),
                f"{battery}%" if battery is not None else "–",
                online,
            )
        sync_rows(self.query_one("#devices", DataTable), rows)
        self._show_detail()

    @on(DataTable.RowHighlighted, "#devices")
    def _show_detail(self) -> None:
        dev = self.model.devices.get(selected_key(self.query_one("#devices", DataTable)) or "")
        text = ""
        if dev is not None:
            attrs = " ".join(f"{k}={v}" for k, v in dev.state.items() if k != "last_seen")
            text = f"{dev.name}: {attrs}" if attrs else dev.name
        self.query_one("#device-detail", Static).update(text)

    def _selected(self, kind: str) -> Device | None:
        key = selected_key(self.query_one("#devices", DataTable))
        dev = self.model.devices.get(key or "")
        if dev is None or dev.type != kind:
            self.dash.say(f"select a {kind} first")
            return None
        return dev

    def action_toggle(self) -> None:
        """Ask the hub to switch the selected light to the opposite of its reported state."""
        dev = self._selected("light")
        if dev:
            new = "OFF" if dev.state.get("state") == "ON" else "ON"
            self.dash.send_command(dev.name, {"state": new})

    def action_dim(self, step: int) -> None:
        """Ask the hub for a brightness one step (1/8) up or down from the reported one."""
        dev = self._selected("light")
        if dev:
            now = dev.state.get("brightness")
            base = now if isinstance(now, int | float) and dev.state.get("state") == "ON" else 0
            value = int(min(255, max(1, base + step * 32)))
            self.dash.send_command(dev.name, {"state": "ON", "brightness": value})

    def action_record(self) -> None:
        """Ask the hub to record the selected camera for 30 s."""
        dev = self._selected("camera")
        if dev:
            self.dash.send_command(dev.name, {"record": 30})

    def action_snapshot(self) -> None:
        """Ask the hub for a new snapshot of the selected camera."""
        dev = self._selected("camera")
        if dev:
            self.dash.send_command(dev.name, {"snapshot": True})
