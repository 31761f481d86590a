"""Hub metrics read from kernel files: a folder laid out like a Pi's /sys and /proc."""

from __future__ import annotations

from pathlib import Path

from hub.health.metrics import DiskUsage, EventRate, HostProbe, file_size_mb

MEMINFO = """MemTotal:        3884360 kB
MemFree:          912344 kB
MemAvailable:    2942180 kB
Buffers:          123456 kB
"""


def fake_pi(root: Path, throttled: str = "0x50005") -> Path:
    zone = root / "sys/class/thermal/thermal_zone0"
    zone.mkdir(parents=True)
    (zone / "type").write_text("cpu-thermal\n")
    (zone / "temp").write_text("61234\n")
    fw = root / "sys/devices/platform/soc/soc:firmware"
    fw.mkdir(parents=True)
    (fw / "get_throttled").write_text(throttled + "\n")
    (root / "proc").mkdir()
    (root / "proc/meminfo").write_text(MEMINFO)
    return root


def test_pi_figures_from_kernel_files(tmp_path):
    probe = HostProbe(root=fake_pi(tmp_path), loadavg=lambda: (0.52, 0.31, 0.2))
    assert probe.cpu_temperature() == 61.234
    flags = probe.throttling()
    # 0x50005: under-voltage now, throttled now, and both have happened since boot.
    assert flags["under_voltage"] and flags["throttled"]
    assert flags["under_voltage_occurred"] and flags["throttled_occurred"]
    assert not flags["freq_capped"] and not flags["soft_temp_limit"]
    assert probe.load() == [0.52, 0.31, 0.2]
    mem = probe.memory()
    assert mem["total_mb"] == round(3884360 / 1024, 1)
    assert mem["used_pct"] == round(100 * (3884360 - 2942180) / 3884360, 1)


def test_under_voltage_from_hwmon_when_firmware_file_is_absent(tmp_path):
    hw = tmp_path / "sys/class/hwmon/hwmon1"
    hw.mkdir(parents=True)
    (hw / "name").write_text("rpi_volt\n")
    (hw / "in0_lcrit_alarm").write_text("1\n")
    assert HostProbe(root=tmp_path).throttling() == {"under_voltage": True}


def test_missing_files_give_none_not_errors(tmp_path):
    probe = HostProbe(root=tmp_path)
    assert probe.cpu_temperature() is None
    assert probe.throttling() is None
    assert probe.memory() is None


def test_real_host_figures_are_plausible(tmp_path):
    probe = HostProbe()
    disk = probe.disk(tmp_path)
    assert disk is not None and 0 <= disk["free_pct"] <= 100
    assert disk["free_pct"] + disk["used_pct"] == 100.0
    assert probe.memory()["total_mb"] > 0


def test_disk_figures_use_the_injected_usage(tmp_path):
    probe = HostProbe(disk_usage=lambda p: DiskUsage(total=1000, used=900, free=100))
    assert probe.disk(tmp_path)["free_pct"] == 10.0


def test_database_size_counts_wal(tmp_path):
    db = tmp_path / "edgehub.db"
    db.write_bytes(b"x" * 4096)
    Path(f"{db}-wal").write_bytes(b"x" * 8192)
    assert file_size_mb(db) == 0.012
    assert file_size_mb(tmp_path / "missing.db") is None


def test_event_rate_over_trailing_minute():
    rate = EventRate(window=60)
    for i in range(120):
        rate.record(1000.0 + i * 0.5)  # two per second for a minute
    assert rate.rate(1059.9) == 2.0
    assert rate.rate(1200.0) == 0.0
    assert rate.total == 120
