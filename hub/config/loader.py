"""Read hub.yaml: every error at once, each as `file:line: key.path: expected X, got Y`."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from hub.config.devices import DEVICE_NAME
from hub.config.models import Config

_SECRET_WORDS = ("password", "token", "secret", "key", "notify")


class ConfigError(ValueError):
    """hub.yaml is invalid; .errors holds one line per problem."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def _lines(node: yaml.Node, path: tuple, out: dict[tuple, int], dups: list[str]) -> None:
    """Record the line of every key (and value) under node, keyed by its path."""
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        seen: set[Any] = set()
        for knode, vnode in node.value:
            key = knode.value
            if key in seen:
                dups.append(f"{knode.start_mark.line + 1}:{'.'.join(map(str, (*path, key)))}")
            seen.add(key)
            out[(*path, key)] = knode.start_mark.line + 1
            _lines(vnode, (*path, key), out, dups)
            out[(*path, key)] = knode.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out, dups)


def _data_path(data: Any, loc: tuple) -> tuple:
    """Map a pydantic error location onto the YAML data, dropping union tags it inserts."""
    path: list[Any] = []
    cur = data
    for part in loc:
        if (isinstance(cur, dict) and part in cur) or (
            isinstance(cur, list) and isinstance(part, int) and part < len(cur)
        ):
            path.append(part)
            cur = cur[part]
        elif (
            isinstance(cur, dict)
            and isinstance(part, str)
            and (part in ("function-after", "function-before") or cur.get("type") == part)
        ):
            continue  # a discriminator tag or validator wrapper, not a key of the file
        else:
            path.append(part)
            cur = None
    return tuple(path)


def _dotted(path: tuple) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _model_at(path: tuple, data: Any) -> type[BaseModel] | None:
    """Return the model class that holds the keys at path (for "did you mean")."""
    from hub.config.models import Config as Root

    model: Any = Root
    cur = data
    for part in path:
        if model is None:
            return None
        if model is Root and part == "devices":
            model, cur = "devices", cur.get("devices") if isinstance(cur, dict) else None
            continue
        if model == "devices":
            kind = cur.get(part, {}).get("type") if isinstance(cur, dict) else None
            model = _device_model(kind)
            cur = cur.get(part) if isinstance(cur, dict) else None
            continue
        field = model.model_fields.get(part) if isinstance(model, type) else None
        if field is None:
            return None
        model = _sub_model(field.annotation)
        cur = cur.get(part) if isinstance(cur, dict) else None
    return model if isinstance(model, type) else None


def _device_model(kind: Any) -> type[BaseModel] | None:
    from hub.config import devices as dev

    table = {
        "motion": dev.MotionDevice,
        "contact": dev.ContactDevice,
        "sensor": dev.SensorDevice,
        "button": dev.ButtonDevice,
        "light": dev.LightDevice,
        "camera": dev.CameraDevice,
        "virtual": dev.VirtualDevice,
    }
    return table.get(kind)


def _sub_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _sub_model(arg)
        if found is not None:
            return found
    return None


def _shown(value: Any, path: tuple) -> str:
    if any(w in str(p).lower() for p in path for w in _SECRET_WORDS):
        return "***"
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _message(err: dict, path: tuple, data: Any) -> str:
    kind = err["type"]
    if kind == "extra_forbidden":
        msg = "unknown key"
        model = _model_at(path[:-1], data)
        if model is not None:
            names = [n for n in model.model_fields if n != "source"]
            close = difflib.get_close_matches(str(path[-1]), names, n=1, cutoff=0.6)
            msg += (
                f" (did you mean {close[0]}?)" if close else f"; expected one of {', '.join(names)}"
            )
        return msg
    if kind == "missing":
        return "missing required key"
    if kind in ("union_tag_invalid", "union_tag_not_found"):
        from hub.config.devices import DEVICE_TYPES

        found = err.get("ctx", {}).get("tag")
        msg = f"expected one of {', '.join(DEVICE_TYPES)}"
        if kind == "union_tag_not_found":
            return f"missing required key; {msg}"
        close = difflib.get_close_matches(str(found), DEVICE_TYPES, n=1, cutoff=0.6)
        return (
            msg + f", got {json.dumps(found)}" + (f" (did you mean {close[0]}?)" if close else "")
        )
    text = err["msg"].replace("Input should be", "expected").replace("Value error, ", "")
    if text and text[0].isupper() and not text.startswith("expected"):
        text = text[0].lower() + text[1:]
    return f"{text}, got {_shown(err.get('input'), path)}"


def validate_config(data: Any, file: str = "hub.yaml", text: str | None = None) -> Config:
    """Validate parsed YAML data; raise ConfigError listing every problem with file:line."""
    lines: dict[tuple, int] = {}
    dups: list[str] = []
    if text is not None:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        if node is not None:
            _lines(node, (), lines, dups)
    errors = [f"{file}:{d.split(':')[0]}: {d.split(':', 1)[1]}: duplicate key" for d in dups]
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            [f"{file}:1: expected a mapping at the top level, got {type(data).__name__}"]
        )
    devices = data.get("devices")
    for name in devices if isinstance(devices, dict) else ():
        if not DEVICE_NAME.match(str(name)):
            line = lines.get(("devices", name), 1)
            errors.append(
                f"{file}:{line}: devices.{name}: expected a device name of a-z, 0-9 and _ only"
            )
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            path = _data_path(data, tuple(err["loc"]))
            if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
                path = (*path, "type")
            line = next((lines[path[:i]] for i in range(len(path), -1, -1) if path[:i] in lines), 1)
            errors.append(f"{file}:{line}: {_dotted(path)}: {_message(err, path, data)}")
        raise ConfigError(sorted(errors, key=_line_of)) from None
    if errors:
        raise ConfigError(sorted(errors, key=_line_of))
    return cfg


def _line_of(error: str) -> int:
    parts = error.split(":")
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def _resolve(cfg: Config, base: Path) -> Config:
    """Make file paths absolute: data_dir from the working directory, the rest from the file."""

    def rel(p: Path | None) -> Path | None:
        return None if p is None else (p if p.is_absolute() else (base / p).resolve())

    cfg.hub.data_dir = cfg.hub.data_dir.expanduser().absolute()
    cfg.rules = rel(cfg.rules)
    cfg.secrets = rel(cfg.secrets)
    if cfg.mqtt is not None:
        cfg.mqtt.password_file = rel(cfg.mqtt.password_file)
        if not isinstance(cfg.mqtt.tls, bool):
            tls = cfg.mqtt.tls
            tls.ca_certs, tls.certfile, tls.keyfile = (
                rel(tls.ca_certs),
                rel(tls.certfile),
                rel(tls.keyfile),
            )
    return cfg


def load_config(path: str | Path) -> Config:
    """Read and validate a hub.yaml; raise ConfigError with every problem at once."""
    p = Path(path)
    try:
        text = p.read_text()
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read: {exc.strerror}"]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError([f"{p}:{line}: invalid YAML: {problem}"]) from None
    cfg = validate_config(data, str(p), text)
    cfg.source = p.resolve()
    return _resolve(cfg, p.resolve().parent)
