"""Trigger matching and condition evaluation; each verdict comes with what was seen."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from rules import schema as s
from rules.errors import RuleRuntimeError
from rules.events import Event
from rules.templates import evaluate
from rules.timeutil import WEEKDAYS, in_window, local, sun_time

_WORDS = {"on": True, "true": True, "off": False, "false": False}


def norm(v: Any) -> Any:
    """Compare "ON", "on", True alike (YAML reads a bare on as true; Zigbee2MQTT sends "ON")."""
    if isinstance(v, str):
        low = v.strip().lower()
        return _WORDS.get(low, low)
    return v


def show(v: Any) -> str:
    """Format a value for a trace detail, JSON-like but cheap."""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, int | float):
        return f"{v:g}" if isinstance(v, float) else str(v)
    return json.dumps(v, default=str)


def same(a: Any, b: Any) -> bool:
    """Equality after norm()."""
    return norm(a) == norm(b)


def _num(v: Any) -> float | None:
    if isinstance(v, bool) or v is None:
        return None
    try:
        return float(v)
    except (TypeError, ValueError):
        return None


def topic_matches(pattern: str, topic: str) -> bool:
    """MQTT wildcard match: + is one level, # is the rest."""
    p, t = pattern.split("/"), topic.split("/")
    for i, part in enumerate(p):
        if part == "#":
            return True
        if i >= len(t) or (part != "+" and part != t[i]):
            return False
    return len(p) == len(t)


def holds(trig: s.DeviceTrigger, value: Any) -> bool:
    """True when a value satisfies the trigger's to/above/below (ignoring from)."""
    fs = trig.model_fields_set
    if "to" in fs and not same(value, trig.to):
        return False
    if trig.above is not None or trig.below is not None:
        n = _num(value)
        if n is None:
            return False
        if trig.above is not None and not n > trig.above:
            return False
        if trig.below is not None and not n < trig.below:
            return False
    return True


def _wants(trig: s.DeviceTrigger) -> str:
    fs, w = trig.model_fields_set, []
    if "from" in fs or "from_" in fs:
        w.append(f"from {show(trig.from_)}")
    if "to" in fs:
        w.append(f"to {show(trig.to)}")
    if trig.above is not None:
        w.append(f"above {trig.above:g}")
    if trig.below is not None:
        w.append(f"below {trig.below:g}")
    return " ".join(w) or "any change"


# Attributes that report a moment, not a state: a button's second "single" press is a new
# event even though the value did not change (Zigbee2MQTT may or may not send "" in between).
MOMENTARY = frozenset({"action"})


def device_trigger(
    trig: s.DeviceTrigger, event: Event, prev: dict[str, Any]
) -> tuple[bool | None, dict[str, Any]]:
    """Match a state event: (True fired | False not | None attribute not reported, context)."""
    attr = trig.attribute
    if attr is None:
        changed = {k: v for k, v in event.data.items() if not same(prev.get(k), v)}
        ctx = {"platform": "device", "device": event.source, "attribute": None, "changes": changed}
        ctx["detail"] = f"{event.source} changed {sorted(changed)}" if changed else "no change"
        return bool(changed), ctx
    if attr not in event.data:
        return None, {}
    new, old = event.data[attr], prev.get(attr)
    ctx = {
        "platform": "device", "device": event.source, "attribute": attr,
        "from_state": old, "to_state": new, "value": new,
    }  # fmt: skip
    numeric = trig.above is not None or trig.below is not None
    if numeric:
        fired = holds(trig, new) and (old is None or not holds(trig, old))
    else:
        fs = trig.model_fields_set
        from_ok = not ("from" in fs or "from_" in fs) or same(old, trig.from_)
        changed = trig.repeat or attr in MOMENTARY or not same(old, new)
        fired = changed and holds(trig, new) and from_ok
    ctx["detail"] = f"{event.source}.{attr} went {show(old)} -> {show(new)}; wants {_wants(trig)}"
    return fired, ctx


def camera_trigger(trig: s.CameraTrigger, event: Event) -> tuple[bool, dict[str, Any]]:
    """Match a camera.detection event on label and score."""
    d = event.data
    label, score = d.get("label"), _num(d.get("score")) or 0.0
    ok = (trig.detected is None or label in trig.detected) and score >= trig.min_score
    ctx = {
        "platform": "camera", "camera": event.source, "label": label, "score": score,
        "box": d.get("box"), "track": d.get("track"), "snapshot": d.get("snapshot"),
        "detail": f"{event.source} saw {label} at {score:.2f}; wants "
        f"{'/'.join(trig.detected or ['anything'])} >= {trig.min_score:g}",
    }  # fmt: skip
    return ok, ctx


def mqtt_trigger(trig: s.MqttTrigger, event: Event) -> tuple[bool | None, dict[str, Any]]:
    """Match an mqtt.message event on topic pattern (None when another topic) and payload."""
    topic, payload = event.data.get("topic", ""), event.data.get("payload", "")
    if not topic_matches(trig.topic, topic):
        return None, {}
    ok = trig.payload is None or payload == trig.payload
    try:
        pj = json.loads(payload)
    except (TypeError, ValueError):
        pj = None
    ctx = {"platform": "mqtt", "topic": topic, "payload": payload, "payload_json": pj}
    ctx["detail"] = f"{topic} {payload!r}; wants {trig.topic}" + (
        f" {trig.payload!r}" if trig.payload is not None else ""
    )
    return ok, ctx


def event_trigger(trig: s.EventTrigger, event: Event) -> tuple[bool, dict[str, Any]]:
    """Match a hub event on kind, source and a subset of its data."""
    ok = event.kind == trig.event and (trig.source is None or event.source == trig.source)
    if ok and trig.data:
        ok = all(same(event.data.get(k), v) for k, v in trig.data.items())
    ctx = {"platform": "event", "event": event.kind, "source": event.source, "data": event.data}
    ctx["detail"] = f"{event.kind} from {event.source}"
    return ok, ctx


def match_trigger(
    trig: Any, event: Event, prev: dict[str, Any]
) -> tuple[bool | None, dict[str, Any]]:
    """Match any event-driven trigger against an event (time triggers never match events)."""
    if isinstance(trig, s.DeviceTrigger):
        if event.kind != "state" or event.source != trig.device:
            return None, {}
        return device_trigger(trig, event, prev)
    if isinstance(trig, s.CameraTrigger):
        if event.kind != "camera.detection" or event.source != trig.camera:
            return None, {}
        return camera_trigger(trig, event)
    if isinstance(trig, s.MqttTrigger):
        return mqtt_trigger(trig, event) if event.kind == "mqtt.message" else (None, {})
    if isinstance(trig, s.EventTrigger):
        return event_trigger(trig, event)
    return None, {}


class Conditions:
    """Evaluates conditions against the engine's state, recording each verdict in a list."""

    def __init__(
        self,
        state: dict[str, dict[str, Any]],
        tz: str,
        location: Any,
        variables: Callable[[], dict[str, Any]],
        trigger: dict[str, Any],
    ) -> None:
        self.state, self.tz, self.location = state, tz, location
        self.variables, self.trigger = variables, trigger
        self.log: list[dict[str, Any]] = []

    def all(self, conds: list[Any], path: str, now: float) -> bool:
        """Evaluate every condition (stopping at the first false), logging each."""
        return all(self.one(c, f"{path}[{i}]", now) for i, c in enumerate(conds))

    def one(self, c: Any, path: str, now: float) -> bool:
        """Evaluate one condition and log what it saw."""
        entry: dict[str, Any] = {"path": path}
        self.log.append(entry)
        try:
            verdict = self._eval(c, path, now, entry)
        except RuleRuntimeError as e:
            verdict, entry["detail"] = False, f"error: {e}"
        entry["verdict"] = verdict
        return verdict

    def _eval(self, c: Any, path: str, now: float, e: dict[str, Any]) -> bool:
        if isinstance(c, s.DeviceCondition):
            e["kind"] = "device"
            v = self.state.get(c.device, {}).get(c.attribute)
            e["saw"] = {f"{c.device}.{c.attribute}": v}
            ok, want = True, []
            if "is_" in c.model_fields_set or "is" in c.model_fields_set:
                opts = c.is_ if isinstance(c.is_, list) else [c.is_]
                ok = any(same(v, o) for o in opts)
                want.append(f"is {show(c.is_)}")
            n = _num(v)
            if c.above is not None:
                ok = ok and n is not None and n > c.above
                want.append(f"above {c.above:g}")
            if c.below is not None:
                ok = ok and n is not None and n < c.below
                want.append(f"below {c.below:g}")
            e["detail"] = f"{c.device}.{c.attribute} is {show(v)}; wants " + (" and ".join(want))
            return ok
        if isinstance(c, s.TimeCondition):
            e["kind"] = "time"
            cur = local(now, self.tz)
            w = c.time
            after, before = (
                (s.clock(w.after) if w.after else None),
                (s.clock(w.before) if w.before else None),
            )
            e["saw"] = {"time": cur.strftime("%H:%M:%S"), "weekday": WEEKDAYS[cur.weekday()]}
            ok = in_window(cur.time(), after, before)
            if w.weekdays is not None:
                ok = ok and WEEKDAYS[cur.weekday()] in w.weekdays
            window = (f" after {w.after}" if w.after else "") + (
                f" before {w.before}" if w.before else ""
            )
            days = f" on {','.join(w.weekdays)}" if w.weekdays else ""
            e["detail"] = f"local time {cur:%a %H:%M:%S}; wants{window}{days}"
            return ok
        if isinstance(c, s.SunCondition):
            e["kind"] = "sun"
            cur = local(now, self.tz)
            w, day = c.sun, cur.date()
            a = sun_time(self.location, day, w.after, self.tz) if w.after else None
            b = sun_time(self.location, day, w.before, self.tz) if w.before else None
            a = a.timestamp() + w.after_offset if a else None
            b = b.timestamp() + w.before_offset if b else None
            if a is not None and b is not None and a > b:
                ok = now >= a or now < b
            else:
                ok = (a is None or now >= a) and (b is None or now < b)
            fmt = lambda t: local(t, self.tz).strftime("%H:%M") if t else "-"  # noqa: E731
            e["saw"] = {
                "time": cur.strftime("%H:%M:%S"),
                w.after or "": fmt(a),
                w.before or "": fmt(b),
            }
            e["detail"] = (
                f"local time {cur:%H:%M}; after {w.after} ({fmt(a)}) before {w.before} ({fmt(b)})"
            )
            return ok
        if isinstance(c, s.AllCondition | s.AnyCondition | s.NotCondition):
            key = "all" if isinstance(c, s.AllCondition) else "any"
            key = "not" if isinstance(c, s.NotCondition) else key
            e["kind"], e["group"] = key, True
            subs = getattr(c, "not_" if key == "not" else key)
            vals = []
            for i, sub in enumerate(subs):
                vals.append(self.one(sub, f"{path}.{key}[{i}]", now))
                if key == "all" and not vals[-1]:
                    break
                if key == "any" and vals[-1]:
                    break
            ok = all(vals) if key == "all" else any(vals)
            e["detail"] = {
                "all": "every one held" if ok else "one did not hold",
                "any": "one held" if ok else "none held",
                "not": "one held" if ok else "none held",
            }[key]
            return not ok if key == "not" else ok
        if isinstance(c, s.TemplateCondition):
            e["kind"] = "template"
            out = evaluate(c.template, self.variables())
            e["saw"], e["detail"] = {"value": str(out)}, f"{c.template} gave {out!r}"
            return bool(out)
        if isinstance(c, s.TriggerCondition):
            e["kind"] = "trigger"
            tid = self.trigger.get("id")
            e["saw"], e["detail"] = {"trigger.id": tid}, f"trigger id {tid!r}; wants {c.trigger}"
            return tid in c.trigger
        raise RuleRuntimeError(f"unknown condition {type(c).__name__}")
