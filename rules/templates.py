"""Jinja2 templates and expressions, only through the sandbox (no eval anywhere)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from jinja2 import TemplateSyntaxError
from jinja2.sandbox import SandboxedEnvironment

from rules.errors import RuleRuntimeError

_env = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_TRUE = {"true", "1", "yes", "on"}


def is_template(text: str) -> bool:
    """Return True when text has Jinja markup and must be rendered."""
    return "{{" in text or "{%" in text


@lru_cache(maxsize=4096)
def _template(text: str) -> Any:
    return _env.from_string(text)


@lru_cache(maxsize=4096)
def _expression(text: str) -> Any:
    return _env.compile_expression(text)


def check_syntax(text: str, expression: bool = False) -> str | None:
    """Return None when text compiles, else the syntax error message."""
    try:
        if expression and not is_template(text):
            _expression(text)
        else:
            _template(text)
    except TemplateSyntaxError as e:
        return f"template syntax error: {e.message}"
    return None


def render(text: str, variables: dict[str, Any]) -> str:
    """Render a string template; plain strings come back unchanged."""
    if not is_template(text):
        return text
    try:
        return _template(text).render(variables)
    except Exception as e:  # a user template can raise anything; report it as the rule's error
        raise RuleRuntimeError(f"template {text!r} failed: {e}") from e


def render_value(value: Any, variables: dict[str, Any]) -> Any:
    """Render every string inside a value (dicts and lists too)."""
    if isinstance(value, str):
        return render(value, variables)
    if isinstance(value, dict):
        return {k: render_value(v, variables) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, variables) for v in value]
    return value


def evaluate(text: str, variables: dict[str, Any]) -> Any:
    """Evaluate an expression ("trigger.device") or a {{ template }} to a value."""
    if is_template(text):
        out = render(text, variables).strip()
        low = out.lower()
        if low in _TRUE:
            return True
        if low in {"false", "0", "no", "off", "", "none"}:
            return False
        return out
    try:
        return _expression(text)(**variables)
    except Exception as e:  # same as render: the rule's error, not the engine's
        raise RuleRuntimeError(f"expression {text!r} failed: {e}") from e
