"""Owners and their notification channels: the `owners:` and `notify:` keys of hub.yaml.

Channel URLs are apprise URLs. `{NAME}` placeholders are filled from the `secrets:` file
(a YAML mapping) or, failing that, the environment; the filled URLs are never logged and
every URL shown in an error is masked.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


class OwnerConfigError(ValueError):
    """An owner's channel cannot be used (unknown secret, URL apprise cannot parse)."""


class QuietHours(BaseModel):
    """A daily window, in the hub's local time, when normal messages are held."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")

    @field_validator("start", "end")
    @classmethod
    def _hhmm(cls, v: str) -> str:
        if not _HHMM.match(v):
            raise ValueError(f"expected a time as HH:MM (24 h), got {v!r}")
        return v

    def minutes(self) -> tuple[int, int]:
        """Return (start, end) as minutes after midnight."""
        h1, m1 = (int(x) for x in self.start.split(":"))
        h2, m2 = (int(x) for x in self.end.split(":"))
        return h1 * 60 + m1, h2 * 60 + m2


class OwnerConfig(BaseModel):
    """One person who receives notifications, on every channel listed in `notify`."""

    # Errors must not echo a URL that may carry a token.
    model_config = ConfigDict(extra="forbid", hide_input_in_errors=True)

    notify: list[str] = Field(default_factory=list)
    quiet_hours: QuietHours | None = None

    @field_validator("notify")
    @classmethod
    def _parseable(cls, urls: list[str]) -> list[str]:
        # URLs with placeholders are checked once secrets are known (resolve_channels).
        for url in urls:
            if not _PLACEHOLDER.search(url) and not _apprise_parses(url):
                raise ValueError(f"apprise cannot parse the URL {mask_url(url)}")
        return urls


class NotifyConfig(BaseModel):
    """Delivery options for all owners (the `notify:` key)."""

    model_config = ConfigDict(extra="forbid")

    max_age: float = Field(86400.0, gt=0, description="seconds a message is retried")
    backoff_initial: float = Field(2.0, gt=0, description="first retry delay, seconds")
    backoff_max: float = Field(300.0, gt=0, description="longest retry delay, seconds")
    jitter: float = Field(0.2, ge=0, le=1, description="fraction of random spread")
    cooldown: float = Field(60.0, ge=0, description="per rule and owner, seconds")
    owner_cooldown: float = Field(0.0, ge=0, description="per owner across rules, seconds")
    rule_cooldown: dict[str, float] = Field(default_factory=dict, description="per-rule override")
    clip_wait: float = Field(180.0, ge=0, description="seconds to wait for a clip to finish")
    timeout: float = Field(10.0, gt=0, description="seconds for one send")
    retention_days: float = Field(30.0, gt=0, description="days finished rows are kept")


@dataclass(frozen=True)
class ChannelSpec:
    """A resolved channel: the real URL (secret) and the safe text to show for it."""

    owner: str
    url: str
    masked: str

    def __repr__(self) -> str:
        return f"ChannelSpec(owner={self.owner!r}, url={self.masked!r})"


def _apprise_parses(url: str) -> bool:
    # Only the URL's own plugin module is imported, not all of apprise's (issue #8).
    from hub.notify.apprise_plugins import instantiate

    return instantiate(url) is not None


def mask_url(url: str) -> str:
    """Return url with its credentials and long tokens hidden, safe for logs and errors."""
    m = re.match(r"^([A-Za-z0-9+.-]+://)(.*)$", url)
    if not m:
        return "***"
    scheme, rest = m.groups()
    rest = re.sub(r"^([^/@?]*):([^/@?]*)@", r"\1:****@", rest)

    def hide(tok: re.Match[str]) -> str:
        s = tok.group(0)
        # Long tokens, and shorter ones with digits, look like keys; names and hosts stay.
        if _PLACEHOLDER.fullmatch(s) or len(s) < 8 or (len(s) < 12 and not re.search(r"\d", s)):
            return s
        return f"{s[:2]}****{s[-2:]}"

    rest = re.sub(r"\{[A-Za-z0-9_]+\}|[^/:@?&=.{}]+", hide, rest)
    return scheme + rest


def load_secrets(path: str | Path | None) -> dict[str, str]:
    """Read the secrets file (a YAML mapping of NAME: value); empty when path is None."""
    if path is None:
        return {}
    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text()) or {}
    except OSError as exc:
        raise OwnerConfigError(f"cannot read the secrets file {p}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        # The parser's message may quote a secret, so only its position is shown.
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise OwnerConfigError(f"the secrets file {p} is not valid YAML{where}") from None
    if not isinstance(data, dict):
        raise OwnerConfigError(f"the secrets file {p} must be a mapping of NAME: value")
    return {str(k): str(v) for k, v in data.items()}


def fill_placeholders(url: str, secrets: Mapping[str, str], env: Mapping[str, str]) -> str:
    """Replace each {NAME} in url from secrets, then env; KeyError names a missing one."""

    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name in secrets:
            return secrets[name]
        if name in env:
            return env[name]
        raise KeyError(name)

    return _PLACEHOLDER.sub(sub, url)


def resolve_channels(
    owners: Mapping[str, OwnerConfig],
    secrets_path: str | Path | None = None,
    env: Mapping[str, str] | None = None,
) -> dict[str, list[ChannelSpec]]:
    """Fill secrets into every owner's URLs and check apprise parses each; all errors at once."""
    secrets = load_secrets(secrets_path)
    environ = os.environ if env is None else env
    errors: list[str] = []
    out: dict[str, list[ChannelSpec]] = {}
    for owner, cfg in owners.items():
        specs: list[ChannelSpec] = []
        for i, template in enumerate(cfg.notify):
            where = f"owners.{owner}.notify[{i}]"
            try:
                url = fill_placeholders(template, secrets, environ)
            except KeyError as exc:
                errors.append(
                    f"{where}: {mask_url(template)}: the secret {{{exc.args[0]}}} is in neither "
                    "the secrets file nor the environment"
                )
                continue
            # The template (placeholders unfilled) is masked too, in case secrets are inline.
            masked = mask_url(template)
            if not _apprise_parses(url):
                errors.append(f"{where}: apprise cannot parse the URL {masked}")
                continue
            specs.append(ChannelSpec(owner=owner, url=url, masked=masked))
        out[owner] = specs
    if errors:
        raise OwnerConfigError("; ".join(errors))
    return out


def owners_from_dict(data: Mapping[str, Any]) -> dict[str, OwnerConfig]:
    """Validate a raw `owners:` mapping (used when the root config is not at hand)."""
    return {name: OwnerConfig.model_validate(v or {}) for name, v in data.items()}
