"""The shipped unit, and the unit the installer writes, verify clean and score <= 2.0."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from hub.service_install import UNIT_TEMPLATE, parse_unit, render_unit

ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze is not installed")
EDGEHUB = str(Path(sys.executable).with_name("edgehub"))


def analyze(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run systemd-analyze and return its result."""
    return subprocess.run(
        [ANALYZE or "systemd-analyze", *args], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def installed_unit(tmp_path: Path) -> Path:
    """Write the unit as install-service renders it, pointing at this venv's edgehub script."""
    unit = tmp_path / "edgehub.service"
    unit.write_text(render_unit(UNIT_TEMPLATE.read_text(), exec_path=EDGEHUB, user="edgehub"))
    return unit


def exposure(output: str) -> float:
    """Return the overall exposure figure of `systemd-analyze security`."""
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", output)
    assert m, output[-2000:]
    return float(m.group(1))


@needs_analyze
def test_installed_unit_verifies_without_a_single_warning(tmp_path: Path) -> None:
    result = analyze("verify", str(installed_unit(tmp_path)), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    # verify exits 0 on unknown keys and bad values, so any output at all is a failure.
    assert result.stderr.strip() == "" and result.stdout.strip() == ""


@needs_analyze
def test_shipped_template_has_no_warning_but_its_placeholder_exec_path(tmp_path: Path) -> None:
    result = analyze("verify", str(UNIT_TEMPLATE), cwd=tmp_path)
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert all("/opt/edgehub/venv/bin/edgehub" in ln for ln in lines), lines


@needs_analyze
def test_verify_check_would_catch_a_typo(tmp_path: Path) -> None:
    # Guards the test above against passing vacuously.
    unit = installed_unit(tmp_path)
    unit.write_text(unit.read_text().replace("ProtectSystem=strict", "ProtectSytem=strict"))
    result = analyze("verify", str(unit), cwd=tmp_path)
    assert "Unknown key 'ProtectSytem'" in result.stderr


@needs_analyze
@pytest.mark.parametrize("which", ["template", "installed"])
def test_security_exposure_is_at_most_2(tmp_path: Path, which: str) -> None:
    unit = UNIT_TEMPLATE if which == "template" else installed_unit(tmp_path)
    result = analyze("security", "--offline=true", "--no-pager", str(unit), cwd=tmp_path)
    score = exposure(result.stdout)
    print(f"systemd-analyze security ({which}): {score}")
    assert score <= 2.0


@needs_analyze
def test_security_report_shows_the_key_protections(tmp_path: Path) -> None:
    result = analyze(
        "security", "--offline=true", "--no-pager", str(installed_unit(tmp_path)), cwd=tmp_path
    )
    passed = {ln.split()[1] for ln in result.stdout.splitlines() if ln.startswith("✓")}
    for item in (
        "ProtectSystem=",
        "ProtectHome=",
        "PrivateTmp=",
        "NoNewPrivileges=",
        "User=/DynamicUser=",
        "CapabilityBoundingSet=~CAP_SYS_ADMIN",
        "SystemCallFilter=~@privileged",
        "RestrictAddressFamilies=~AF_PACKET",
        "MemoryDenyWriteExecute=",
        "UMask=",
        "NotifyAccess=",
    ):
        assert item in passed, item


def test_unit_is_a_notify_service_with_watchdog_and_device_allow_list() -> None:
    s = parse_unit(UNIT_TEMPLATE.read_text())
    assert s["Service.Type"] == ["notify"]
    assert s["Service.Restart"] == ["on-failure"]
    assert int(s["Service.WatchdogSec"][0]) > 0
    assert s["Service.SupplementaryGroups"] == ["gpio video"]
    assert s["Service.StateDirectory"] == ["edgehub"]
    assert s["Service.ConfigurationDirectory"] == ["edgehub"]
    assert s["Service.DevicePolicy"] == ["closed"]
    assert s["Service.CapabilityBoundingSet"] == [""]
    assert s["Service.UMask"] == ["0077"]
    allowed = " ".join(s["Service.DeviceAllow"])
    for dev in ("gpiochip", "video4linux", "media", "dma_heap"):
        assert f"char-{dev} rw" in allowed
    assert "@system-service" in s["Service.SystemCallFilter"]


def test_render_points_exec_start_at_the_venv_and_sets_the_user() -> None:
    text = render_unit(UNIT_TEMPLATE.read_text(), exec_path="/srv/venv/bin/edgehub", user="hub")
    s = parse_unit(text)
    assert s["Service.ExecStart"] == ["/srv/venv/bin/edgehub run -c /etc/edgehub/hub.yaml"]
    assert s["Service.User"] == ["hub"] and s["Service.Group"] == ["hub"]
