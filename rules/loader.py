"""Load rule files: YAML with line numbers, validation, errors as file:line: keypath: message."""

from __future__ import annotations

import difflib
import gc
import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from rules import schema as s
from rules.templates import check_syntax

RULE_SUFFIXES = (".yaml", ".yml")


@dataclass
class LoadedRule:
    """A rule as loaded: the validated model (None when invalid), where it came from, its error."""

    id: str
    rule: s.Rule | None
    file: str = "<memory>"
    line: int = 0
    error: str | None = None
    digest: str = ""

    @property
    def enabled(self) -> bool:
        """True when the rule is valid and not switched off in its file."""
        return self.rule is not None and self.error is None and self.rule.enabled


@dataclass
class LoadResult:
    """Every rule found (invalid ones disabled with their error) and every error message."""

    rules: list[LoadedRule] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    # Every `<hub>/<device>` name the rules use (the remote component follows these).
    remote: set[str] = field(default_factory=set)

    @property
    def ok(self) -> bool:
        """True when there was no error at all."""
        return not self.errors


def _known_keys() -> list[str]:
    keys: set[str] = set()
    for m in vars(s).values():
        if isinstance(m, type) and issubclass(m, s.BaseModel) and m is not s.BaseModel:
            keys.update((f.alias or n) for n, f in m.model_fields.items())
    return sorted(keys)


_KEYS = _known_keys()
_MEMBERS = {
    "trigger": {
        "device": s.DeviceTrigger, "camera": s.CameraTrigger, "topic": s.MqttTrigger,
        "at": s.TimeTrigger, "cron": s.CronTrigger, "sun": s.SunTrigger, "event": s.EventTrigger,
    },
    "condition": {
        "device": s.DeviceCondition, "time": s.TimeCondition, "sun": s.SunCondition,
        "all": s.AllCondition, "any": s.AnyCondition, "not": s.NotCondition,
        "template": s.TemplateCondition, "trigger": s.TriggerCondition,
    },
    "action": {
        "light": s.LightAction, "record": s.RecordAction, "snapshot": s.SnapshotAction,
        "notify": s.NotifyAction, "publish": s.PublishAction, "set": s.SetAction,
        "delay": s.DelayAction, "wait": s.WaitAction, "if": s.IfAction, "choose": s.ChooseAction,
        "stop": s.StopAction, "emit": s.EmitAction,
    },
}  # fmt: skip
_CATEGORY = {
    "triggers": "trigger", "wait": "trigger", "conditions": "condition", "if": "condition",
    "all": "condition", "any": "condition", "not": "condition", "actions": "action",
    "then": "action", "else": "action", "default": "action",
}  # fmt: skip
_NESTED = {
    (s.TimeCondition, "time"): s.TimeWindow,
    (s.SunCondition, "sun"): s.SunWindow,
    (s.ChooseAction, "choose"): s.ChooseOption,
}


def _keys_at(raw_loc: tuple) -> list[str]:
    """Return the keys allowed where an unknown key was found (for "did you mean")."""
    model: Any = s.Rule
    cat = None
    for p in raw_loc[:-1]:
        if isinstance(p, str) and p.startswith(s.TAG):
            model = _MEMBERS.get(cat or "", {}).get(p[len(s.TAG) :], model)
        elif isinstance(p, str):
            cat = _CATEGORY.get(p, cat)
            model = _NESTED.get((model, p), model)
    return [f.alias or n for n, f in model.model_fields.items()]


def _line_map(node: yaml.Node, path: tuple = (), out: dict | None = None) -> dict:
    out = {} if out is None else out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for k, v in node.value:
            key = k.value
            out[(*path, key)] = k.start_mark.line + 1
            _line_map(v, (*path, key), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, v in enumerate(node.value):
            _line_map(v, (*path, i), out)
    return out


def keypath(loc: tuple) -> str:
    """Format a location as [1].conditions[0].sun.after."""
    out = ""
    for p in loc:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out.lstrip(".")


def _line_of(lines: dict, loc: tuple) -> int:
    for n in range(len(loc), -1, -1):
        if loc[:n] in lines:
            return lines[loc[:n]]
    return 1


def _got(value: Any) -> str:
    return (
        json.dumps(value, default=str)
        if not isinstance(value, dict)
        else "{" + ", ".join(map(str, value)) + "}"
    )


def _message(err: dict, raw_loc: tuple = ()) -> str:
    kind, value = err["type"], err.get("input")
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'|(\d+)", err["ctx"]["expected"])
        choices = [a or b for a, b in choices]
        msg = f"expected {' or '.join(choices)}, got {_got(value)}"
        near = difflib.get_close_matches(str(value), choices, n=1)
        return msg + (f" (did you mean {near[0]}?)" if near else "")
    if kind == "extra_forbidden":
        key = str(err["loc"][-1])
        near = difflib.get_close_matches(key, _keys_at(raw_loc), n=1) or difflib.get_close_matches(
            key, _KEYS, n=1
        )
        return f'unknown key "{key}"' + (f" (did you mean {near[0]}?)" if near else "")
    if kind == "missing":
        return f'missing required key "{err["loc"][-1]}"'
    if kind.endswith("_kind"):
        return f"{err['msg']}; got {_got(value)}"
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ")
    return f"{err['msg']}, got {_got(value)}"


def _check_rule(
    rule: s.Rule,
    known: dict[str, str] | None,
    remote: dict[str, dict[str, str]] | None = None,
    found: set[str] | None = None,
) -> list[tuple[tuple, str]]:
    """Checks beyond the schema: template syntax and device names (local and `<hub>/<device>`)."""
    problems: list[tuple[tuple, str]] = []
    virtual = {
        a.set for _, a in _walk_actions(rule.actions, ("actions",)) if isinstance(a, s.SetAction)
    }

    def device(loc: tuple, name: str, want: str | None = None) -> None:
        if "/" in name:
            if found is not None:
                found.add(name)
            if remote is not None:
                problems.extend((loc, m) for m in _remote_problems(name, remote, want))
            return
        if known is None or name in virtual:
            return
        if name not in known:
            near = difflib.get_close_matches(name, list(known), n=1)
            hint = f" (did you mean {near[0]}?)" if near else ""
            problems.append((loc, f'unknown device "{name}"{hint}'))
        elif want and known[name] != want:
            problems.append((loc, f'"{name}" is a {known[name]}, expected a {want}'))

    def template(loc: tuple, text: str, expression: bool = False) -> None:
        err = check_syntax(text, expression)
        if err:
            problems.append((loc, err))

    def trig(loc: tuple, t: Any, waiting: bool = False) -> None:
        if isinstance(t, s.DeviceTrigger):
            device((*loc, "device"), t.device)
            fs = t.model_fields_set
            if t.attribute is None and fs & {"to", "from_", "above", "below"}:
                problems.append((loc, "to, from, above and below need an attribute"))
            if waiting and t.for_ is not None:
                problems.append(((*loc, "for"), "for: is not supported in wait (use timeout)"))
        elif waiting and isinstance(t, s.TimeTrigger | s.CronTrigger | s.SunTrigger):
            problems.append((loc, "wait needs a device, camera, topic or event trigger"))
        elif isinstance(t, s.CameraTrigger):
            device((*loc, "camera"), t.camera, "camera")

    def conds(loc: tuple, cs: list) -> None:
        for i, c in enumerate(cs):
            here = (*loc, i)
            if isinstance(c, s.DeviceCondition):
                device((*here, "device"), c.device)
            elif isinstance(c, s.TemplateCondition):
                template((*here, "template"), c.template, expression=True)
            elif isinstance(c, s.AllCondition | s.AnyCondition | s.NotCondition):
                key = "all" if isinstance(c, s.AllCondition) else "any"
                key = "not" if isinstance(c, s.NotCondition) else key
                conds((*here, key), getattr(c, key if key != "not" else "not_"))

    for i, t in enumerate(rule.triggers):
        trig(("triggers", i), t)
    kinds = {t.event for t in rule.triggers if isinstance(t, s.EventTrigger)}
    for loc, a in _walk_actions(rule.actions, ("actions",)):
        if isinstance(a, s.EmitAction) and a.emit in kinds:
            problems.append(((*loc, "emit"), f'emits "{a.emit}", which triggers this rule again'))
    conds(("conditions",), rule.conditions)
    if rule.per:
        template(("per",), rule.per, expression=True)
    for loc, a in _walk_actions(rule.actions, ("actions",)):
        if isinstance(a, s.LightAction):
            for n in a.light:
                device((*loc, "light"), n, "light")
        elif isinstance(a, s.RecordAction | s.SnapshotAction):
            key = "record" if isinstance(a, s.RecordAction) else "snapshot"
            device((*loc, key), getattr(a, key), "camera")
        elif isinstance(a, s.NotifyAction):
            template((*loc, "title"), a.title)
            template((*loc, "message"), a.message)
        elif isinstance(a, s.PublishAction):
            template((*loc, "publish"), a.publish)
            if isinstance(a.payload, str):
                template((*loc, "payload"), a.payload)
        elif isinstance(a, s.WaitAction):
            trig((*loc, "wait"), a.wait, waiting=True)
        elif isinstance(a, s.IfAction):
            conds((*loc, "if"), a.if_)
        elif isinstance(a, s.ChooseAction):
            for j, o in enumerate(a.choose):
                conds((*loc, "choose", j, "conditions"), o.conditions)
    return problems


def _remote_problems(name: str, remote: dict[str, dict[str, str]], want: str | None) -> list[str]:
    """Check `<hub>/<device>` against the manifests other hubs announce."""
    hub, _, dev = name.partition("/")
    devs = remote.get(hub)
    if devs is None:
        near = difflib.get_close_matches(hub, list(remote), n=1)
        hint = f" (did you mean {near[0]}?)" if near else ""
        return [f'unknown hub "{hub}": no manifest on edgehub/{hub}/devices{hint}']
    if dev not in devs:
        near = difflib.get_close_matches(dev, list(devs), n=1)
        hint = f" (did you mean {hub}/{near[0]}?)" if near else ""
        return [f'unknown device "{name}": hub {hub} does not announce it{hint}']
    if want and devs[dev] != want:
        return [f'"{name}" is a {devs[dev]}, expected a {want}']
    return []


def _walk_actions(actions: list, loc: tuple) -> Iterator[tuple[tuple, Any]]:
    for i, a in enumerate(actions):
        here = (*loc, i)
        yield here, a
        if isinstance(a, s.IfAction):
            yield from _walk_actions(a.then, (*here, "then"))
            yield from _walk_actions(a.else_, (*here, "else"))
        elif isinstance(a, s.ChooseAction):
            for j, o in enumerate(a.choose):
                yield from _walk_actions(o.actions, (*here, "choose", j, "actions"))
            yield from _walk_actions(a.default, (*here, "default"))


def digest(raw: Any) -> str:
    """Return a stable hash of a rule's raw form (unchanged rules keep timers on reload)."""
    return hashlib.sha1(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()[:16]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: ~10x faster


def _parse(text: str) -> tuple[Any, Any]:
    """Compose once (for line numbers) and construct the data from the same nodes."""
    loader = _Loader(text)
    # Building a big node tree triggers the cyclic GC over and over (10,000 rules: 7 s instead
    # of 1 s); nothing here makes cycles, so pause it while parsing.
    paused = gc.isenabled() and len(text) > 100_000
    if paused:
        gc.disable()
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()
        if paused:
            gc.enable()


def load_text(
    text: str,
    name: str = "<memory>",
    known_devices: dict[str, str] | None = None,
    remote_devices: dict[str, dict[str, str]] | None = None,
) -> LoadResult:
    """Load the rules of one YAML document; remote_devices is {hub: {device: type}}."""
    res = LoadResult()
    try:
        node, data = _parse(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        res.errors.append(f"{name}:{line}: {getattr(e, 'problem', None) or e}")
        return res
    if data is None:
        return res
    lines = _line_map(node) if node is not None else {}
    if not isinstance(data, list):
        res.errors.append(f"{name}:1: expected a list of rules, got {type(data).__name__}")
        return res
    for i, raw in enumerate(data):
        rid = raw.get("id") if isinstance(raw, dict) else None
        rid = str(rid) if rid else f"{Path(name).stem}_{i}"
        line = lines.get((i,), 1)
        try:
            rule = s.Rule.model_validate(raw)
        except ValidationError as e:
            msgs = []
            for err in e.errors():
                loc = tuple(
                    p for p in err["loc"] if not (isinstance(p, str) and p.startswith(s.TAG))
                )
                full = (i, *loc)
                msgs.append(
                    f"{name}:{_line_of(lines, full)}: {keypath(full)}: {_message(err, err['loc'])}"
                )
            res.errors.extend(msgs)
            res.rules.append(LoadedRule(rid, None, name, line, "; ".join(msgs), digest(raw)))
            continue
        problems = _check_rule(rule, known_devices, remote_devices, res.remote)
        msgs = [
            f"{name}:{_line_of(lines, (i, *loc))}: {keypath((i, *loc))}: {m}" for loc, m in problems
        ]
        res.errors.extend(msgs)
        res.rules.append(LoadedRule(rid, rule, name, line, "; ".join(msgs) or None, digest(raw)))
    return res


def load_rules(
    path: str | Path,
    known_devices: dict[str, str] | None = None,
    remote_devices: dict[str, dict[str, str]] | None = None,
) -> LoadResult:
    """Load a rule file or every *.yaml under a folder (rule tests *.test.yaml excluded)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.suffix in RULE_SUFFIXES and ".test." not in p.name
        )
        base = path.parent
    else:
        files, base = [path], None
    res = LoadResult()
    seen: dict[str, str] = {}
    for f in files:
        name = str(f.relative_to(base)) if base is not None else str(path)
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            res.errors.append(f"{name}:1: cannot read: {e}")
            continue
        one = load_text(text, name, known_devices, remote_devices)
        res.errors.extend(one.errors)
        res.remote |= one.remote
        for r in one.rules:
            if r.id in seen:
                msg = f"{r.file}:{r.line}: duplicate rule id {r.id!r} (first in {seen[r.id]})"
                res.errors.append(msg)
                r.error, r.rule, r.id = msg, r.rule, f"{r.id}@{r.file}:{r.line}"
            else:
                seen[r.id] = f"{r.file}:{r.line}"
            res.rules.append(r)
    return res
