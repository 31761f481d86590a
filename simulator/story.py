"""The live story: one readable line per thing that happened, chained by cause.

21:04:07 hall_motion occupancy → rule hall_motion_light → hall_light ON 60% [GPIO17 0.60] (1.2 ms)

A sensor event is held for a moment so the hub's answer joins it on one line; rules that
looked at it and did not run are named with the condition that stopped them.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# Kinds that would drown the story (health every minute, command echoes, lifecycle).
QUIET = {
    "hub.health",
    "state.baseline",
    "command",
    "command.result",
    "mqtt.message",
    "rule.run",
    "camera.online",
    "hub.started",
    "hub.stopping",
    "camera.snapshot",
}
RAN = ("ran", "resumed", "stopped")
HOLD_S = 0.3  # real seconds a root event waits for the hub's answer


def summary(kind: str, source: str, data: dict[str, Any]) -> str:
    """Return a short phrase for an event: "hall_motion occupancy", "hall_light ON 60%"."""
    if kind == "state":
        if "state" in data:
            text = f"{source} {data['state']}"
            if data.get("brightness") is not None and data.get("state") == "ON":
                text += f" {round(float(data['brightness']) / 255 * 100)}%"
            return text
        parts = []
        for k, v in data.items():
            if k in ("battery", "linkquality", "voltage", "illuminance_lux", "pressure"):
                continue
            if k == "occupancy":
                parts.append("occupancy" if v else "clear")
            elif k == "contact":
                parts.append("closed" if v else "open")
            elif k == "action":
                if v:
                    parts.append(f"{v}")
            elif k == "temperature":
                parts.append(f"{v} °C")
            elif k == "humidity":
                parts.append(f"{v} %RH")
            elif k == "illuminance":
                if "occupancy" not in data:  # a PIR's lux reading is noise in the story
                    parts.append(f"{v} lx")
            else:
                parts.append(f"{k}={v}")
        return f"{source} {' '.join(parts)}".strip()
    if kind == "camera.detection":
        score = data.get("score")
        pct = f" {round(float(score) * 100)}%" if isinstance(score, int | float) else ""
        return f"{source} sees {data.get('label', '?')}{pct}"
    if kind == "camera.motion":
        return f"{source} motion {data.get('phase', '')}".strip()
    if kind == "recording.started":
        return f"{source} recording"
    if kind == "recording.finished":
        secs = (data.get("end") or 0) - (data.get("start") or 0)
        return f"{source} clip saved ({secs:.1f} s, {data.get('frames', '?')} frames)"
    if kind.startswith("notify."):
        who = data.get("owner", "?")
        return f'notify {who} "{data.get("title") or data.get("message", "")}" {kind[7:]}'
    short = ", ".join(f"{k}={v}" for k, v in list(data.items())[:3])
    return f"{source} {kind} {short}".strip()


def why_not(trace: dict[str, Any]) -> str:
    """Return why a rule did not run, from its trace: "conditions[0]: local time ...; wants ..."."""
    falses = [c for c in trace.get("conditions") or [] if c.get("verdict") is False]
    if falses:
        top = ([c for c in falses if "." not in str(c.get("path"))] or falses)[0]
        return f"{top.get('path')}: {top.get('detail', 'false')}"
    return str(trace.get("result", "?")).replace("_", " ")


def explain(trace: dict[str, Any]) -> str:
    """Return a trace in one line: rule, result, trigger, false conditions, actions."""
    parts = [f"rule {trace.get('rule')}: {str(trace.get('result')).replace('_', ' ')}"]
    trig = trace.get("trigger") or {}
    if trig.get("detail"):
        parts.append(f"trigger: {trig['detail']}")
    for c in trace.get("conditions") or []:
        parts.append(f"{c.get('path')} {c.get('verdict')}: {c.get('detail', '')}")
    if trace.get("actions"):
        parts.append("actions: " + "; ".join(str(a.get("result")) for a in trace["actions"]))
    if trace.get("error"):
        parts.append(f"error: {trace['error']}")
    return " | ".join(parts)


class Story:
    """Turns the hub's events and traces into lines; call flush() now and then."""

    def __init__(
        self,
        out: Callable[[str], None] = print,
        tz: str = "UTC",
        probe: Callable[[str], str | None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        speed: float = 1.0,
    ) -> None:
        self.out, self.zone, self.probe, self._mono = out, ZoneInfo(tz), probe, monotonic
        self.speed = speed
        self.events: OrderedDict[str, dict[str, Any]] = OrderedDict()
        self.traces: dict[str, list[dict[str, Any]]] = {}
        self._held: OrderedDict[str, float] = OrderedDict()
        self._timed: list[tuple[float, dict[str, Any]]] = []
        self.lines: list[str] = []

    def clock(self, ts: float) -> str:
        """Return HH:MM:SS in the hub's time zone."""
        return datetime.fromtimestamp(ts, self.zone).strftime("%H:%M:%S")

    def _say(self, text: str) -> None:
        self.lines.append(text)
        self.out(text)

    def trace(self, tr: dict[str, Any]) -> None:
        """Keep a rule trace by the event that triggered it (timed triggers: by arrival)."""
        if tr.get("event_id") and tr.get("result") != "not_matched":
            self.traces.setdefault(str(tr["event_id"]), []).append(tr)
        if tr.get("result") in RAN:
            self._timed.append((self._mono(), tr))
            self._timed = self._timed[-50:]

    def _timed_cause(self, device: str) -> dict[str, Any] | None:
        """A recent rule run whose actions name this device: the likely cause of a state
        that came without one (time, sun and cron triggers have no event)."""
        now = self._mono()
        for at, tr in reversed(self._timed):
            acts = " ".join(str(a.get("result")) for a in tr.get("actions") or [])
            if now - at < 3 and device in acts:
                return tr
        return None

    def event(self, ev: dict[str, Any], at: float | None = None) -> None:
        """Tell an event heard at `at`: hold roots for their answer, chain answers to them."""
        ts = float(ev.get("ts") or 0)
        # The hub's own stamp, unless a component stamped it off the simulated clock.
        ev = {**ev, "_at": ts if at is None or abs(ts - at) < 30 else at}
        eid = str(ev.get("id"))
        self.events[eid] = ev
        while len(self.events) > 5000:
            self.events.popitem(last=False)
        kind = str(ev.get("kind"))
        if kind in QUIET:
            return
        cause = ev.get("cause")
        ran = [t for t in self.traces.get(str(cause), []) if t.get("result") in RAN]
        timed = self._timed_cause(str(ev.get("source"))) if kind == "state" else None
        if cause and ran:
            self._answer(ev, self.events.get(str(cause)), ran[0])
        elif timed is not None and not timed.get("event_id"):
            self._answer(ev, None, timed)
        else:
            self._held[eid] = self._mono()

    def _answer(self, ev: dict[str, Any], root: dict[str, Any] | None, tr: dict[str, Any]) -> None:
        text = summary(str(ev["kind"]), str(ev.get("source")), ev.get("data") or {})
        if ev.get("kind") == "recording.started" and ev.get("data", {}).get("start"):
            text += f" (pre-roll {float(ev['ts']) - float(ev['data']['start']):.1f} s)"
        if ev.get("kind") == "state" and self.probe is not None:
            pin = self.probe(str(ev.get("source")))
            if pin:
                text += f" [{pin}]"
        self._tell_before(root)
        trig = tr.get("trigger") or {}
        head = f"{trig.get('platform', 'timer')} {trig.get('id') or ''}".strip()
        if root is not None:
            head = summary(str(root["kind"]), str(root.get("source")), root.get("data") or {})
            self._held.pop(str(root.get("id")), None)
        lat = tr.get("latency_ms")
        tail = ""
        if isinstance(lat, int | float) and tr.get("result") == "ran":
            # The engine measures on the hub's clock: at speed N a real ms reads as N ms.
            tail = f" ({lat / self.speed:.1f} ms)"
        self._say(f"{self.clock(ev['_at'])} {head} → rule {tr.get('rule')} → {text}{tail}")

    def _tell_before(self, root: dict[str, Any] | None) -> None:
        """Tell the held events that came before this root, so the story stays in order."""
        stop = str(root.get("id")) if root is not None else None
        older = []
        for eid in self._held:
            if eid == stop:
                break
            older.append(eid)
        if older:
            self._flush_ids(older)

    def _devices_acted(self) -> str:
        return " ".join(
            str(a.get("result")) for _, tr in self._timed for a in tr.get("actions") or []
        )

    def phone(self, item: dict[str, Any]) -> None:
        """Tell that an owner's phone received a notification."""
        att = item.get("attachments") or []
        extra = f" + {att[0]['filename']} ({att[0]['size'] // 1024} kB)" if att else ""
        head = f"{self.clock(float(item['at']))} {item['owner']}'s phone:"
        self._say(f'{head} "{item["title"]}" {item["message"]}{extra}')

    def flush(self, force: bool = False) -> None:
        """Tell the held events whose answer did not come, with the rules that declined."""
        now = self._mono()
        due = []
        for eid, since in self._held.items():
            if not force and now - since < HOLD_S:
                break
            due.append(eid)
        self._flush_ids(due)

    def _flush_ids(self, ids: list[str]) -> None:
        for eid in ids:
            if eid not in self._held:
                continue  # told meanwhile, as the root of an answer or an earlier event
            answered = {str(self.events.get(h, {}).get("cause")) for h in self._held}
            del self._held[eid]
            ev = self.events.get(eid)
            if ev is None:
                continue
            if eid in answered and any(t.get("result") in RAN for t in self.traces.get(eid, [])):
                continue  # its answer, still held, tells it on one line
            # An answer whose trace came late (a busy machine): chain it after all.
            cause = str(ev.get("cause"))
            ran = [t for t in self.traces.get(cause, []) if t.get("result") in RAN]
            if (
                not ran
                and ev.get("kind") == "state"
                and str(ev.get("source")) in self._devices_acted()
            ):
                late = self._timed_cause(str(ev.get("source")))
                ran = [late] if late is not None else []
            if ran:
                root = self.events.get(str(ran[0].get("event_id")))
                self._answer(ev, root, ran[0])
                continue
            what = summary(str(ev["kind"]), str(ev.get("source")), ev.get("data") or {})
            text = f"{self.clock(ev['_at'])} {what}"
            skipped = [t for t in self.traces.get(eid, []) if t.get("result") not in RAN]
            for t in skipped[:2]:
                text += f" → rule {t.get('rule')} did not run ({why_not(t)})"
            self._say(text)
