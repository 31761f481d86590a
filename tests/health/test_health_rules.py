"""The example home's health rules load cleanly and do what their rule tests say."""

from __future__ import annotations

from pathlib import Path

from hub.config import load_config
from rules.loader import load_rules
from rules.testing import run_test_file

HOME = Path(__file__).resolve().parents[2] / "examples" / "home"


def test_health_rules_load_without_errors():
    config = load_config(HOME / "hub.yaml")
    loaded = load_rules(HOME / "rules" / "health.yaml", config.device_types())
    assert loaded.errors == []
    assert {r.id for r in loaded.rules} >= {"porch_camera_offline", "disk_filling"}
    assert all(r.error is None for r in loaded.rules)


def test_health_rule_tests_pass():
    outcomes = run_test_file(HOME / "rules" / "health.test.yaml")
    assert outcomes and all(o.ok for o in outcomes), [o for o in outcomes if not o.ok]
