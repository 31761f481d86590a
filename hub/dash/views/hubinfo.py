"""Hub: uptime, broker connection, event rate, CPU temperature, disk free, component health."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from hub.dash.views.base import View, row_table, sync_rows


def _duration(seconds: Any) -> str:
    if not isinstance(seconds, int | float):
        return str(seconds) if seconds is not None else "–"
    s = int(seconds)
    d, s = divmod(s, 86400)
    h, s = divmod(s, 3600)
    m, s = divmod(s, 60)
    return (f"{d}d " if d else "") + f"{h:02d}:{m:02d}:{s:02d}"


def _pick(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        node: Any = data
        for part in key.split("."):
            node = node.get(part) if isinstance(node, dict) else None
        if node is not None:
            return node
    return None


def _gb(v: Any) -> str:
    if isinstance(v, int | float):
        return f"{v / 1e9:.1f} GB" if v > 1e6 else f"{v:.1f} GB"
    return "–" if v is None else str(v)


class HubView(View):
    """Facts about the hub from its health topic and from this dashboard's own link."""

    def compose(self) -> ComposeResult:
        yield Static("", id="hub-facts")
        yield row_table("components", name="Component", status="Status", detail="Detail")

    def refresh_view(self) -> None:
        h = self.model.health
        temp = _pick(h, "cpu_temp", "cpu_temp_c", "cpu.temperature")
        disk = _pick(h, "disk.data.free_gb", "disk_free_gb", "disk.free_gb")
        rec = _pick(h, "disk.recordings.free_gb")
        hub_rate = _pick(h, "event_rate", "events_per_s")
        status = self.model.hub_status or "?"
        broker = "connected" if self.dash.connected else "DISCONNECTED"
        if self.dash.link is None:
            broker = "no link (offline view)"
        hub_broker = {True: "connected", False: "DISCONNECTED"}.get(_pick(h, "broker"), "?")
        load = _pick(h, "load")
        mem = _pick(h, "memory.used_pct")
        throttled = [k for k, v in (_pick(h, "throttled") or {}).items() if v]
        offline = _pick(h, "devices_offline") or []
        rate_text = f"{hub_rate:.1f}/s at the hub, " if isinstance(hub_rate, int | float) else ""
        uptime = _duration(_pick(h, "uptime_s", "uptime"))
        facts = [
            f"Hub [b]{self.model.hub_id}[/b]: {status} · up {uptime} · broker link {hub_broker}",
            f"Broker {self.dash.broker_address} from here: {broker}",
            f"Events: {rate_text}{self.model.event_rate():.1f}/s here",
            f"CPU: {f'{temp:.1f} °C' if isinstance(temp, int | float) else '–'}"
            + (f" · load {load[0]:.2f}" if isinstance(load, list) and load else "")
            + (f" · memory {mem:.0f}% used" if isinstance(mem, int | float) else "")
            + (f" · THROTTLED: {', '.join(throttled)}" if throttled else ""),
            f"Disk free: {_gb(disk)} data"
            + (f", {_gb(rec)} recordings" if rec is not None and rec != disk else ""),
        ]
        if offline:
            facts.append(f"Devices offline: {', '.join(map(str, offline))}")
        facts.extend(getattr(self.model, "hub_lines", list)())  # --hub '*': one line per hub
        self.query_one("#hub-facts", Static).update("\n".join(facts))
        comps = _pick(h, "components") or {}
        if isinstance(comps, list):
            comps = {str(c.get("name", i)): c for i, c in enumerate(comps) if isinstance(c, dict)}
        rows = {}
        for name, info in sorted(comps.items()):
            if isinstance(info, dict):
                st = str(info.get("status") or info.get("state") or "?")
                detail = str(info.get("error") or info.get("detail") or "")
            else:
                st, detail = str(info), ""
            rows[name] = (name, st, detail[:50])
        sync_rows(self.query_one("#components", DataTable), rows)
