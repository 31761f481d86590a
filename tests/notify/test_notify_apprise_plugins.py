"""Apprise plugins loaded from each URL's schema only, with apprise's own results (issue #8)."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Each case in a fresh interpreter: once apprise has loaded every plugin, it cannot be undone.
PROBE = textwrap.dedent(
    """
    import json, sys
    from hub.notify.apprise_plugins import instantiate

    out = []
    for url in sys.argv[1:]:
        p = instantiate(url)
        out.append(None if p is None else [type(p).__name__, p.url(privacy=False)])
    mods = sorted(m for m in sys.modules if m.startswith("apprise.plugins."))
    print(json.dumps({"plugins": out, "modules": mods}))
    """
)
REFERENCE = textwrap.dedent(
    """
    import json, sys
    import apprise

    out = []
    for url in sys.argv[1:]:
        p = apprise.Apprise.instantiate(url)
        out.append(None if p is None else [type(p).__name__, p.url(privacy=False)])
    print(json.dumps({"plugins": out}))
    """
)

# Services a home is likely to use, well-formed and not, with placeholders already filled.
URLS = [
    "ntfy://ntfy.sh/edgehub-alice",
    "ntfys://user:pass@ntfy.example.org/topic?priority=high",
    "tgram://123456789:AAbbCCddEEffGGhhIIjj/12345",
    "tgram://not a token/12345",
    "pover://uQiRzpo4DXghDmr9QzzfQu27cmVRsG@azGDORePK8gMaC0QOYAMyEEuzJnyUi",
    "mailtos://user:secret@example.com?to=bob@example.com",
    "json://192.0.2.5:8080/hook",
    "jsons://user:pw@hooks.example.org/hook/#alice",
    "form://192.0.2.5/hook",
    "discord://1234567890/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
    "gotify://gotify.example.org/AbCdEfGhIjKlMnO",
    "hassio://hass.local/long-lived-token-abcdef",
    "mqtt://broker.local/home/alerts",
    "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ",
    "signal://signal.local:8080/+15551234567/+15557654321",
    "pover://tooshort@x",
]


def _run(script: str, urls: list[str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", script, *urls],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_known_schemas_build_the_plugin_apprise_builds_from_their_module_alone() -> None:
    narrow = _run(PROBE, URLS)
    full = _run(REFERENCE, URLS)
    # The same service with the same options, and the same refusals, URL by URL.
    for url, mine, theirs in zip(URLS, narrow["plugins"], full["plugins"], strict=True):
        assert mine == theirs, url
    assert narrow["plugins"][0][0] == "NotifyNtfy"
    assert narrow["plugins"][3] is None  # refused alike: the bad token
    # Only the modules of these services were imported, not apprise's ~190.
    loaded = {m.removeprefix("apprise.plugins.").split(".")[0] for m in narrow["modules"]}
    assert loaded <= {
        "base",
        "ntfy",
        "telegram",
        "pushover",
        "email",
        "custom_json",
        "custom_form",
        "discord",
        "gotify",
        "home_assistant",
        "mqtt",
        "slack",
        "signal_api",
    }


def test_an_owner_with_ntfy_loads_one_plugin_module(tmp_path: Path) -> None:
    script = textwrap.dedent(
        """
        import json, sys
        from hub.config.owners import owners_from_dict
        from hub.notify.service import NotifyService

        owners = owners_from_dict({"alice": {"notify": ["ntfy://ntfy.sh/edgehub-alice"]},
                                   "bob": {"notify": ["ntfys://ntfy.sh/edgehub-bob"]}})
        svc = NotifyService(sys.argv[1], owners)
        print(json.dumps({"channels": sorted(c.owner for c in svc.channels.values()),
                          "modules": sorted(m for m in sys.modules
                                            if m.startswith("apprise.plugins."))}))
        svc.stop()
        """
    )
    seen = _run(script, [str(tmp_path / "edgehub.db")])
    assert seen["channels"] == ["alice", "bob"]
    assert seen["modules"] == ["apprise.plugins.base", "apprise.plugins.ntfy"]


def test_a_schema_outside_the_table_still_works_through_apprise() -> None:
    # Discord's own webhook URL: apprise finds the service by its native URL parser.
    url = "https://discord.com/api/webhooks/1234567890/AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
    narrow = _run(PROBE, [url, "nope://host/x"])
    assert narrow["plugins"][0][0] == "NotifyDiscord"
    assert narrow["plugins"][1] is None
    assert len(narrow["modules"]) > 100  # the fallback: every plugin, as apprise does


def test_the_schema_table_matches_the_installed_apprise() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "hub.notify.apprise_plugins"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    table = (ROOT / "hub" / "notify" / "apprise_schemas.py").read_text()
    if out.stdout != table:
        pytest.fail(
            "hub/notify/apprise_schemas.py is stale for the installed apprise; regenerate it: "
            ".venv/bin/python -m hub.notify.apprise_plugins > hub/notify/apprise_schemas.py"
        )
