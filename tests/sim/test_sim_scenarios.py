"""`edgehub sim --check` on the example home's scenarios, as CI runs it, plus one that fails."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.broker import MosquittoBroker

ROOT = Path(__file__).resolve().parents[2]
HOME = ROOT / "examples" / "home"
SCENARIOS = sorted((HOME / "scenarios").glob("*.yaml"))
CAMERA = {"porch_person.yaml", "porch_nuisances.yaml"}  # real-time frames: ~20-30 s each


def sim(broker: MosquittoBroker, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run `edgehub sim` against the test's private broker; return the finished process."""
    cmd = [sys.executable, "-m", "hub", "sim", "-c", str(HOME / "hub.yaml")]
    cmd += ["--broker", f"127.0.0.1:{broker.port}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)


def test_the_example_home_has_scenarios_for_every_must_show() -> None:
    names = {p.name for p in SCENARIOS}
    assert {"hall_at_night.yaml", "around_the_house.yaml"} | CAMERA <= names
    text = "\n".join(p.read_text() for p in SCENARIOS)
    for needle in ("person_walks", "branches_sway", "cloud_shadow", "min_pre_roll", "attach"):
        assert needle in text


@pytest.mark.parametrize(
    "scenario",
    [
        pytest.param(p, id=p.stem, marks=[pytest.mark.slow] if p.name in CAMERA else [])
        for p in SCENARIOS
    ],
)
def test_example_scenario_passes_check(broker: MosquittoBroker, scenario: Path) -> None:
    r = sim(broker, str(scenario), "--check")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "held, ok" in r.stdout and "✗" not in r.stdout
    if scenario.stem == "hall_at_night":
        assert_hall_story(r.stdout)
    if scenario.stem == "porch_person":
        # The phone (a loopback HTTP server) got the rule's message with the snapshot JPEG.
        assert 'alice\'s phone: "Person at the porch"' in r.stdout and ".jpg" in r.stdout


def assert_hall_story(stdout: str) -> None:
    """The live story chains sensor, rule and light, and shows the GPIO pin's duty."""
    on = [line for line in stdout.splitlines() if "hall_light ON" in line]
    assert on, stdout
    # 21:00:03 hall_motion occupancy ... → rule hall_motion_light → hall_light ON 60% [GPIO17 0.60]
    assert "hall_motion occupancy" in on[0] and "→ rule hall_motion_light →" in on[0]
    assert "hall_light ON 60% [GPIO17 0.60]" in on[0] and on[0].startswith("21:0")
    assert any("hall_light OFF [GPIO17 0.00]" in line for line in stdout.splitlines())


def test_a_failing_scenario_exits_nonzero_naming_the_step_with_the_trace(
    broker: MosquittoBroker,
) -> None:
    scenario = Path(__file__).parent / "scenarios" / "fails_in_the_afternoon.yaml"
    r = sim(broker, str(scenario), "--check")
    assert r.returncode == 1, r.stdout + r.stderr
    err = r.stderr
    assert f"FAIL step 2 (at 1s, {scenario}:8): expected hall_light state=ON within 2s" in err
    assert "rule trace:" in err
    assert "rule hall_motion_light: conditions false" in err
    assert "conditions[0] False: local time" in err and "14:00" in err
    # Without --check the same run reports the failure but exits 0 (a demo, not a gate).
    assert sim(broker, str(scenario)).returncode == 0


def test_a_broken_scenario_file_is_named_with_its_line(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nsteps:\n  - at: 0s\n    publish: {device: hall_motion}\n  - at: 1x\n")
    r = sim(broker, str(bad), "--check")
    assert r.returncode == 2
    assert f"{bad}:5: steps[1]: at: expected a duration" in r.stderr
