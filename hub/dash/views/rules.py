"""Rules: enabled, last run, result, latency; a screen with a rule's latest traces."""

from __future__ import annotations

import json
from datetime import datetime, tzinfo
from typing import Any, ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Static

from hub.dash.model import Rule
from hub.dash.views.base import View, row_table, selected_key, sync_rows

_MARK = {True: "✓", False: "✗", None: "·"}


def _verdict(item: dict[str, Any]) -> bool | None:
    for key in ("verdict", "result", "ok", "passed", "value"):
        v = item.get(key)
        if isinstance(v, bool):
            return v
        if isinstance(v, str) and v.lower() in ("true", "pass", "passed", "ok", "false", "fail"):
            return v.lower() in ("true", "pass", "passed", "ok")
    return None


def _short(value: Any, width: int = 60) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    return text if len(text) <= width else text[: width - 1] + "…"


def _plain(result: str) -> str:
    try:
        from rules.trace import RESULTS  # the engine's own plain words, when it is there
    except ImportError:  # pragma: no cover - only before the rule engine exists
        return result
    return RESULTS.get(result, result)


def format_trace(trace: dict[str, Any], tz: tzinfo | None) -> str:
    """Return a trace as lines: trigger, each condition's verdict, actions, outcome and why."""
    lines: list[str] = []
    ts = trace.get("ts") or trace.get("time")
    when = ""
    if isinstance(ts, int | float):
        when = datetime.fromtimestamp(ts, tz).strftime("%H:%M:%S")
    result = str(trace.get("result") or "?")
    lines.append(f"[b]{when}[/b] {_plain(result)}".strip())
    trigger = trace.get("trigger")
    if isinstance(trigger, dict):
        trigger = trigger.get("detail") or trigger.get("platform") or trigger
    if trigger is not None:
        source = trace.get("source")
        on = f" (on {trace.get('event_kind')} from {source})" if source else ""
        lines.append(f"  trigger: {_short(trigger)}{on}")
    for i, cond in enumerate(trace.get("conditions") or []):
        if isinstance(cond, dict):
            path = cond.get("path") or f"conditions[{i}]"
            desc = cond.get("detail") or cond.get("condition") or ""
            seen = cond.get("values", cond.get("seen"))
            extra = f" saw {_short(seen, 40)}" if seen is not None else ""
            lines.append(f"  {_MARK[_verdict(cond)]} {path} {_short(desc, 50)}{extra}".rstrip())
        else:
            lines.append(f"  · {_short(cond)}")
    for i, act in enumerate(trace.get("actions") or []):
        if isinstance(act, dict):
            name = act.get("path") or act.get("action") or act.get("type") or f"actions[{i}]"
            dur = act.get("duration_ms")
            dur_text = f" ({dur:.1f} ms)" if isinstance(dur, int | float) else ""
            lines.append(f"  → {name} {_short(act.get('result', ''), 50)}{dur_text}")
        else:
            lines.append(f"  → {_short(act)}")
    why = trace.get("reason") or trace.get("why") or trace.get("error")
    if why:
        lines.append(f"  why: {_short(why, 70)}")
    latency = trace.get("latency_ms")
    if isinstance(latency, int | float):
        lines.append(f"  latency {latency:.2f} ms")
    return "\n".join(lines)


def _ms(v: Any) -> str:
    return f"{v:.1f}" if isinstance(v, int | float) else "–"


class RuleTraceScreen(ModalScreen[None]):
    """The latest traces of one rule, newest first; updates live."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close"),
        Binding("e", "toggle_enabled", "Enable/disable"),
        Binding("r", "run_now", "Run now"),
    ]

    def __init__(self, rule: str) -> None:
        super().__init__()
        self.rule_name = rule

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="trace-box"):
            yield Static("", id="trace-title")
            yield Static("", id="trace-body")

    def on_mount(self) -> None:
        self.refresh_view()

    def refresh_view(self) -> None:
        """Redraw the traces from the model."""
        app = self.app
        rule: Rule = app.model.rule(self.rule_name)  # type: ignore[attr-defined]
        enabled = rule.state.get("enabled")
        state = {True: "enabled", False: "DISABLED", None: "?"}[enabled]
        self.query_one("#trace-title", Static).update(
            f"[b]rule {self.rule_name}[/b] — {state} — {len(rule.traces)} traces "
            "(e enable/disable, r run now, esc close)"
        )
        body = "\n\n".join(format_trace(t, app.tz) for t in rule.traces)  # type: ignore[attr-defined]
        self.query_one("#trace-body", Static).update(body or "no traces yet")

    def action_toggle_enabled(self) -> None:
        """Ask the hub to flip this rule's enabled flag."""
        self.app.toggle_rule(self.rule_name)  # type: ignore[attr-defined]

    def action_run_now(self) -> None:
        """Ask the hub to run this rule now."""
        self.app.send_command(f"rules/{self.rule_name}", {"run": True})  # type: ignore[attr-defined]


class RulesView(View):
    """The rules table; enter opens traces, e enables/disables, r runs now."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open_traces", "Traces"),
        Binding("e", "toggle_enabled", "Enable/disable"),
        Binding("r", "run_now", "Run now"),
    ]

    def compose(self) -> ComposeResult:
        yield row_table(
            "rule-list",
            name="Rule",
            enabled="On",
            last_run="Last run",
            result="Result",
            p50="p50 ms",
            p99="p99 ms",
        )

    def refresh_view(self) -> None:
        rows: dict[str, tuple[str, ...]] = {}
        for name in sorted(self.model.rules):
            rule = self.model.rules[name]
            st = dict(rule.state)
            latest = rule.traces[0] if rule.traces else None
            # The newest evaluation says more than the last run: "conditions_false" is why
            # a rule did not fire just now.
            ts = latest.get("ts") if latest else None
            if latest and isinstance(ts, int | float) and ts >= (st.get("last_run") or 0):
                st["result"] = latest.get("result")
            enabled = {True: "yes", False: "no"}.get(st.get("enabled"), "?")  # type: ignore[arg-type]
            last = st.get("last_run")
            rows[name] = (
                name,
                enabled,
                self.clock_text(last) if isinstance(last, int | float) else "–",
                "error" if st.get("error") else str(st.get("result") or "–"),
                _ms(st.get("p50_ms")),
                _ms(st.get("p99_ms")),
            )
        sync_rows(self.query_one("#rule-list", DataTable), rows)

    def _selected(self) -> str | None:
        key = selected_key(self.query_one("#rule-list", DataTable))
        if key is None:
            self.dash.say("no rule selected")
        return key

    @on(DataTable.RowSelected, "#rule-list")
    def _open(self, event: DataTable.RowSelected) -> None:
        self.app.push_screen(RuleTraceScreen(str(event.row_key.value)))

    def action_open_traces(self) -> None:
        """Open the selected rule's traces."""
        name = self._selected()
        if name:
            self.app.push_screen(RuleTraceScreen(name))

    def action_toggle_enabled(self) -> None:
        """Ask the hub to flip the selected rule's enabled flag."""
        name = self._selected()
        if name:
            self.dash.toggle_rule(name)

    def action_run_now(self) -> None:
        """Ask the hub to run the selected rule now."""
        name = self._selected()
        if name:
            self.dash.send_command(f"rules/{name}", {"run": True})
