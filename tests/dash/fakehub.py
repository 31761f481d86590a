"""A scripted stand-in for the hub, test-only: publishes the hub's topics and answers commands.

It follows README.md's MQTT contract (retained state, events with causes, command.result)
so the dashboard can be tested before and independently of the real runtime.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt

from rules.events import Event


def make_jpeg(width: int = 64, height: int = 48, seed: int = 0) -> bytes:
    """Return a small deterministic colour JPEG (a gradient with a block)."""
    x = np.linspace(0, 255, width, dtype=np.uint8)
    img = np.zeros((height, width, 3), np.uint8)
    img[:, :, 0] = x[None, :]
    img[:, :, 1] = np.linspace(0, 255, height, dtype=np.uint8)[:, None]
    img[:, :, 2] = (seed * 80) % 256
    img[height // 3 : height // 2, width // 3 : width // 2] = (255, 255, 255)
    ok, buf = cv2.imencode(".jpg", img)
    assert ok
    return buf.tobytes()


class FakeHub:
    """Publishes a small home (hall light, hall motion, porch camera, two rules)."""

    def __init__(self, host: str, port: int, hub_id: str = "home") -> None:
        self.prefix = f"edgehub/{hub_id}/"
        self.hub_id = hub_id
        self.commands: list[tuple[str, dict[str, Any]]] = []
        self.lights: dict[str, dict[str, Any]] = {"hall_light": {"state": "OFF", "brightness": 0}}
        self.rules: dict[str, dict[str, Any]] = {
            "hall_motion_light": {"enabled": True, "last_run": None, "result": None},
            "porch_alert": {"enabled": True, "last_run": None, "result": None},
        }
        self.recording = False
        self.snapshots = 0
        self._lock = threading.Lock()
        self._connected = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fake-hub")
        self.client.reconnect_delay_set(1, 1)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.connect(host, port)
        self.client.loop_start()
        if not self._connected.wait(5):
            raise RuntimeError("fake hub could not connect")

    def close(self) -> None:
        """Disconnect."""
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe(self.prefix + "+/set", qos=1)
        client.subscribe(self.prefix + "rules/+/set", qos=1)
        self._connected.set()

    def pub(self, suffix: str, payload: Any, retain: bool = False) -> None:
        """Publish under edgehub/<hub>/ (dicts as JSON) and wait until it left."""
        body = payload if isinstance(payload, bytes | str) else json.dumps(payload)
        self.client.publish(self.prefix + suffix, body, qos=1, retain=retain).wait_for_publish(5)

    def emit(self, kind: str, source: str, data: dict[str, Any], cause: str | None = None) -> str:
        """Publish an Event on the events topic and return its id."""
        ev = Event(kind=kind, source=source, data=data, cause=cause)
        self.pub("events", ev.to_dict())
        return ev.id

    def publish_home(self) -> None:
        """Publish the retained topics a running hub keeps: status, manifest, states."""
        self.pub("status", "online", retain=True)
        manifest = {
            "hub": self.hub_id,
            "devices": {
                "hall_light": {"type": "light", "dimmable": True},
                "hall_motion": {"type": "motion"},
                "porch_cam": {"type": "camera"},
            },
            "rules": list(self.rules),
        }
        self.pub("devices", manifest, retain=True)
        for name, st in self.lights.items():
            self.pub(f"{name}/state", st, retain=True)
        self.pub("hall_motion/state", {"occupancy": False, "battery": 87}, retain=True)
        self.pub("porch_cam/state", {"online": True, "motion": False, "recording": False}, True)
        self.pub("porch_cam/snapshot", make_jpeg(), retain=True)
        for name, st in self.rules.items():
            self.pub(f"rules/{name}/state", st, retain=True)

    def motion_story(self) -> dict[str, str]:
        """Play 'motion in the hall turns the light on' with causes; return the event ids."""
        motion = self.emit("state", "hall_motion", {"occupancy": True})
        run = self.emit("rule.run", "rule:hall_motion_light", {"result": "ran"}, cause=motion)
        self.pub(
            "rules/hall_motion_light/trace",
            {
                "ts": time.time(),
                "rule": "hall_motion_light",
                "event_id": motion,
                "trigger": {"platform": "device", "detail": "hall_motion occupancy -> true"},
                "conditions": [
                    {"path": "conditions[0]", "values": {"sun": "below"}, "verdict": True}
                ],
                "actions": [
                    {"path": "actions[0]", "result": "light hall_light on", "duration_ms": 0.4}
                ],
                "result": "ran",
            },
        )
        self.pub(
            "rules/porch_alert/trace",
            {
                "ts": time.time(),
                "rule": "porch_alert",
                "event_id": motion,
                "conditions": [
                    {"path": "conditions[0]", "values": {"alarm.mode": "off"}, "verdict": False}
                ],
                "result": "conditions_false",
                "reason": "conditions[0] alarm.mode is off, wanted armed",
            },
        )
        light = self._set_light("hall_light", {"state": "ON", "brightness": 255}, cause=motion)
        return {"motion": motion, "run": run, "light": light}

    def _set_light(self, name: str, cmd: dict[str, Any], cause: str | None) -> str:
        st = self.lights[name]
        want = str(cmd.get("state", "ON")).upper()
        if want == "TOGGLE":
            want = "OFF" if st["state"] == "ON" else "ON"
        st["state"] = want
        if "brightness" in cmd:
            st["brightness"] = int(cmd["brightness"])
        elif want == "ON" and not st["brightness"]:
            st["brightness"] = 255
        self.pub(f"{name}/state", st, retain=True)
        return self.emit("state", name, dict(st), cause=cause)

    def _on_message(self, _c: Any, _u: Any, msg: mqtt.MQTTMessage) -> None:
        # Answer on a separate thread: publishing with wait_for_publish inside paho's own
        # callback would deadlock its loop.
        threading.Thread(target=self._answer, args=(msg.topic, msg.payload), daemon=True).start()

    def _answer(self, topic: str, payload: bytes) -> None:
        with self._lock:
            target = topic[len(self.prefix) : -len("/set")]
            try:
                cmd = json.loads(payload)
            except ValueError:
                cmd = {"state": payload.decode()}
            self.commands.append((target, cmd))
            cause = self.emit("mqtt.command", "dash", {"topic": topic, "payload": cmd})
            if target in self.lights:
                self._set_light(target, cmd, cause)
            elif target == "porch_cam" and "record" in cmd:
                self.recording = True
                self.pub(
                    "porch_cam/state", {"online": True, "motion": False, "recording": True}, True
                )
                self.emit("recording.started", "porch_cam", {"duration": cmd["record"]}, cause)
            elif target == "porch_cam" and cmd.get("snapshot"):
                self.snapshots += 1
                self.pub("porch_cam/snapshot", make_jpeg(seed=self.snapshots), retain=True)
            elif target.startswith("rules/"):
                name = target.removeprefix("rules/")
                st = self.rules[name]
                if "enabled" in cmd:
                    st["enabled"] = bool(cmd["enabled"])
                if cmd.get("run"):
                    st.update(last_run=time.time(), result="ran")
                    self.pub(
                        f"rules/{name}/trace",
                        {"ts": time.time(), "trigger": "run now", "result": "ran"},
                    )
                    self.emit("rule.run", f"rule:{name}", {"result": "ran"}, cause)
                self.pub(f"rules/{name}/state", st, retain=True)
            else:
                self.emit(
                    "command.result",
                    "hub",
                    {"topic": topic, "ok": False, "error": f"unknown device {target}"},
                    cause,
                )
                return
            self.emit("command.result", "hub", {"topic": topic, "ok": True}, cause)
