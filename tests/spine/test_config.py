"""hub.yaml: the issue's shape loads; every error names file:line, key path, value, expectation."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from hub.config import ConfigError, load_config

ISSUE_SHAPE = """\
hub:
  id: home
  data_dir: ./data
  location: {latitude: 52.37, longitude: 4.89, timezone: Europe/Amsterdam}
mqtt:
  host: 127.0.0.1
  port: 1883
  username: hub
  password_file: mqtt.pass
devices:
  hall_motion: {type: motion, topic: zigbee2mqtt/hall_motion, format: zigbee2mqtt}
  front_door:  {type: contact, topic: zigbee2mqtt/front_door, format: zigbee2mqtt}
  garden_temp: {type: sensor, topic: tele/garden/SENSOR, format: tasmota}
  hall_light:  {type: light, gpio: {pin: 17, dimmable: true}}
  porch_light: {type: light, topic: zigbee2mqtt/porch_light, format: zigbee2mqtt}
  porch_cam:
    type: camera
    source: rtsp://192.0.2.10/stream
    detect: {width: 640, height: 360, fps: 5}
    motion: {threshold: 25, min_area: 0.002, mask: [[0,0],[200,0],[200,60],[0,60]]}
    record: {pre: 5s, post: 10s, max: 5m, retain: {days: 7, max_gb: 8, min_free: 10%}}
  alarm: {type: virtual, attributes: {mode: disarmed}}
rules: rules/
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "hub.yaml"
    p.write_text(text)
    return p


def errors_of(tmp_path: Path, text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        load_config(write(tmp_path, text))
    return info.value.errors


def test_the_issue_shape_loads(tmp_path: Path) -> None:
    (tmp_path / "mqtt.pass").write_text("s3cret\n")
    cfg = load_config(write(tmp_path, ISSUE_SHAPE))
    assert cfg.hub.id == "home"
    assert cfg.devices["hall_light"].gpio.pin == 17  # type: ignore[union-attr]
    assert cfg.devices["porch_cam"].record.pre == 5.0  # type: ignore[union-attr]
    assert cfg.devices["porch_cam"].record.max == 300.0  # type: ignore[union-attr]
    assert cfg.devices["porch_cam"].record.retain.min_free == 10.0  # type: ignore[union-attr]
    assert cfg.rules == tmp_path / "rules"
    assert cfg.mqtt is not None and cfg.mqtt.resolved_password() == "s3cret"


def test_example_home_is_valid() -> None:
    cfg = load_config(Path(__file__).parents[2] / "examples/home/hub.yaml")
    assert "hall_motion" in cfg.devices and cfg.mqtt is None


def test_errors_name_file_line_key_path_value_and_expectation(tmp_path: Path) -> None:
    errs = errors_of(
        tmp_path,
        ISSUE_SHAPE.replace("pin: 17,", 'pin: "17a",').replace("max: 5m", "max: 5x"),
    )
    pin = 'devices.hall_light.gpio.pin: expected an integer 0-27, got "17a"'
    assert f"{tmp_path / 'hub.yaml'}:14: {pin}" in errs
    assert any(
        e.startswith(f"{tmp_path / 'hub.yaml'}:21: devices.porch_cam.record.max:") for e in errs
    )
    assert len(errs) == 2


def test_unknown_keys_get_did_you_mean_and_all_errors_come_at_once(tmp_path: Path) -> None:
    text = """\
hub:
  id: home
  data_dirr: ./data
devices:
  porch_light: {type: lihgt, topic: zigbee2mqtt/porch_light}
  hall_motion: {type: motion, topic: zigbee2mqtt/hall_motion, fromat: zigbee2mqtt}
  Hall-Light: {type: light, gpio: {pin: 40}}
  lamp: {type: light}
"""
    errs = errors_of(tmp_path, text)
    f = tmp_path / "hub.yaml"
    assert f"{f}:3: hub.data_dirr: unknown key (did you mean data_dir?)" in errs
    assert any(
        e.startswith(f"{f}:5: devices.porch_light.type: expected one of motion")
        and "(did you mean light?)" in e
        for e in errs
    )
    assert f"{f}:6: devices.hall_motion.fromat: unknown key (did you mean format?)" in errs
    assert any(e.startswith(f"{f}:7: devices.Hall-Light:") for e in errs)
    assert any(
        e.startswith(f"{f}:8: devices.lamp: expected exactly one of gpio or topic") for e in errs
    )


def test_yaml_syntax_error_has_a_line(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, "hub:\n  id: home\n devices: [\n")
    assert errs[0].startswith(f"{tmp_path / 'hub.yaml'}:3: invalid YAML")


def test_duplicate_keys_are_errors(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, "hub:\n  id: a\n  id: b\n")
    assert errs == [f"{tmp_path / 'hub.yaml'}:3: hub.id: duplicate key"]


def test_secrets_are_never_printed(tmp_path: Path) -> None:
    errs = errors_of(tmp_path, "mqtt:\n  password: [hunter2]\n")
    assert "hunter2" not in "\n".join(errs)
    assert any("mqtt.password" in e for e in errs)


def test_edgehub_check_exits_1_with_every_error(tmp_path: Path) -> None:
    bad = write(tmp_path, "hub:\n  idd: x\ndevices:\n  a: {type: motion}\n")
    r = subprocess.run(
        [sys.executable, "-m", "hub", "check", "-c", str(bad)], capture_output=True, text=True
    )
    assert r.returncode == 1
    assert f"{bad}:2: hub.idd: unknown key (did you mean id?)" in r.stderr
    assert f"{bad}:4: devices.a.topic: missing required key" in r.stderr
    good = Path(__file__).parents[2] / "examples/home/hub.yaml"
    r = subprocess.run(
        [sys.executable, "-m", "hub", "check", "-c", str(good)], capture_output=True, text=True
    )
    assert r.returncode == 0, r.stderr
