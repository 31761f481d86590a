"""Item 3: the no-camera hub starts without apprise, OpenCV, onnxruntime or numpy in memory."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

HEAVY = ("apprise", "cv2", "onnxruntime", "numpy")

SCRIPT = textwrap.dedent(
    """
    import json, sys
    from hub.background import HubThread
    from hub.config import validate_config
    from hub.wiring import Backends, build_components

    config = validate_config(json.loads(sys.argv[1]))
    build_components(config, backends=Backends())
    with HubThread(config) as hub:  # and the whole hub started: every component's start()
        names = [c.name for c in hub.components]
    print(json.dumps({"components": names,
                      "heavy": [m for m in sys.argv[2].split(",") if m in sys.modules]}))
    """
)


def run_hub_in_subprocess(broker, tmp_path: Path, **extra) -> dict:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "hall.yaml").write_text(
        "- id: hall\n"
        "  triggers: [{device: hall_motion, attribute: occupancy, to: true}]\n"
        "  actions: [{light: hall_light, state: on}]\n"
    )
    config = {
        "hub": {"id": "test", "data_dir": str(tmp_path / "data"), "pin_factory": "mock"},
        "mqtt": {"host": broker.host, "port": broker.port},
        "devices": {
            "hall_motion": {"type": "motion", "topic": "z2m/hall", "format": "zigbee2mqtt"},
            "hall_light": {"type": "light", "gpio": {"pin": 17}},
        },
        "rules": str(tmp_path / "rules"),
        **extra,
    }
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, json.dumps(config), ",".join(HEAVY)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_hub_without_owners_or_cameras_loads_no_heavy_library(broker, tmp_path) -> None:
    seen = run_hub_in_subprocess(broker, tmp_path)
    assert {"lights", "notify", "rules"} <= set(seen["components"])
    assert seen["heavy"] == []


def test_an_owner_with_a_channel_brings_apprise_in(broker, tmp_path) -> None:
    seen = run_hub_in_subprocess(
        broker, tmp_path, owners={"alice": {"notify": ["json://127.0.0.1:9/hook"]}}
    )
    assert "apprise" in seen["heavy"]
