"""examples/multisite: both hub.yaml load, and each hub's rules validate against the other's
devices (as its manifest would announce them); the bridge snippets match bridge_config()."""

from __future__ import annotations

from pathlib import Path

from hub.config import load_config
from hub.remote.bridge import bridge_config
from rules import load_rules

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "multisite"


def test_each_hubs_rules_validate_against_the_others_manifest():
    cfgs = {name: load_config(EXAMPLE / name / "hub.yaml") for name in ("house", "garage")}
    for name, cfg in cfgs.items():
        assert cfg.hub.id == name
        others = {c.hub.id: c.device_types() for n, c in cfgs.items() if n != name}
        res = load_rules(cfg.rules, cfg.device_types(), others)
        assert res.errors == [], res.errors
        assert res.remote and all(r.split("/")[0] in others for r in res.remote)


def test_site_broker_configs_carry_the_bridge_lines():
    for hub in ("house", "garage"):
        conf = (EXAMPLE / hub / "mosquitto.conf").read_text()
        have = {line.strip() for line in conf.splitlines()}
        want = bridge_config(hub, "centre.example.lan:8883", restart=(2, 30), keepalive=20)
        for line in want.splitlines():
            assert line in have, f"{hub}/mosquitto.conf lacks {line!r}"
        assert f"remote_clientid bridge-{hub}" in have
