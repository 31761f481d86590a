"""A fixed, simulated home for snapshot tests: same messages, same clock, same pictures."""

from __future__ import annotations

from datetime import UTC

from hub.dash.app import DashApp

from .fakehub import make_jpeg

T0 = 1795773600.0  # 2026-11-28 10:00:00 UTC; every timestamp below is relative to it
P = "edgehub/home/"


def _ev(n: int, ts: float, source: str, kind: str, data: dict, cause: int | None = None) -> dict:
    return {
        "id": f"ev-{n:04d}",
        "ts": T0 + ts,
        "source": source,
        "kind": kind,
        "data": data,
        "cause": f"ev-{cause:04d}" if cause is not None else None,
    }


def simulated_home(app: DashApp | None = None) -> DashApp:
    """Return a DashApp (no broker) filled with a small home at a fixed time."""
    app = app or DashApp(None, clock=lambda: T0 + 60, tz=UTC)
    feed = app.ingest
    feed(P + "status", "online", True)
    feed(
        P + "devices",
        {
            "hub": "home",
            "devices": {
                "hall_light": {"type": "light", "dimmable": True},
                "porch_light": {"type": "light", "dimmable": False},
                "hall_motion": {"type": "motion"},
                "front_door": {"type": "contact"},
                "living_temp": {"type": "sensor"},
                "porch_cam": {"type": "camera"},
            },
            "rules": ["hall_motion_light", "porch_alert", "night_lock"],
        },
        True,
    )
    states = {
        "hall_light": {"state": "ON", "brightness": 128, "last_seen": T0 + 42},
        "porch_light": {"state": "OFF", "last_seen": T0 - 3600},
        "hall_motion": {"occupancy": True, "battery": 87, "last_seen": T0 + 41},
        "front_door": {"contact": True, "battery": 12, "last_seen": T0 - 7200},
        "living_temp": {"temperature": 21.5, "humidity": 44.7, "battery": 95, "last_seen": T0},
        "porch_cam": {"online": True, "motion": True, "recording": True, "last_seen": T0 + 55},
    }
    for name, st in states.items():
        feed(P + f"{name}/state", st, True)
    feed(P + "porch_cam/snapshot", make_jpeg(96, 64, seed=1), True)
    events = [
        _ev(1, 10, "hub", "hub.started", {"version": "0.1.0"}),
        _ev(2, 20, "front_door", "device.offline", {"device": "front_door", "silent_s": 7200}),
        _ev(3, 41, "hall_motion", "state", {"occupancy": True}),
        _ev(4, 41.001, "rule:hall_motion_light", "rule.run", {"result": "ran"}, cause=3),
        _ev(5, 41.002, "hall_light", "state", {"state": "ON", "brightness": 128}, cause=3),
        _ev(6, 50, "porch_cam", "camera.motion", {"phase": "start", "regions": [[1, 2, 3, 4]]}),
        _ev(7, 51, "porch_cam", "camera.detection", {"label": "person", "score": 0.91}, cause=6),
        _ev(8, 51.2, "rule:porch_alert", "rule.run", {"result": "ran"}, cause=7),
        _ev(9, 51.3, "porch_cam", "recording.started", {"duration": 30}, cause=7),
        _ev(10, 52, "notify", "notify.sent", {"owner": "alice", "title": "Person at the porch"}, 8),
        _ev(
            11,
            -300,
            "porch_cam",
            "recording.finished",
            {
                "file": "/var/lib/edgehub/clips/porch_cam-0755.mp4",
                "start": T0 - 330,
                "end": T0 - 300,
            },
        ),
    ]
    for ev in sorted(events, key=lambda e: e["ts"]):
        feed(P + "events", ev)
    feed(
        P + "rules/hall_motion_light/state",
        {"enabled": True, "last_run": T0 + 41, "result": "ran", "p50_ms": 0.21, "p99_ms": 0.93},
    )
    feed(
        P + "rules/porch_alert/state",
        {"enabled": True, "last_run": T0 + 51, "result": "ran", "p50_ms": 0.35, "p99_ms": 1.4},
    )
    feed(
        P + "rules/night_lock/state",
        {
            "enabled": False,
            "last_run": T0 - 50000,
            "result": "conditions_false",
            "p50_ms": 0.1,
            "p99_ms": 0.2,
        },
    )
    feed(
        P + "rules/hall_motion_light/trace",
        {
            "ts": T0 + 30,
            "trigger": {"platform": "device", "detail": "hall_motion occupancy -> true"},
            "result": "conditions_false",
            "conditions": [
                {
                    "path": "conditions[0]",
                    "detail": "sun below horizon",
                    "values": {"sun": "above"},
                    "verdict": False,
                }
            ],
            "reason": "conditions[0]: the sun is above the horizon",
        },
    )
    feed(
        P + "rules/hall_motion_light/trace",
        {
            "ts": T0 + 41,
            "trigger": {"platform": "device", "detail": "hall_motion occupancy -> true"},
            "result": "ran",
            "conditions": [
                {
                    "path": "conditions[0]",
                    "detail": "sun below horizon",
                    "values": {"sun": "below"},
                    "verdict": True,
                }
            ],
            "actions": [{"path": "actions[0]", "result": "hall_light on 50%", "duration_ms": 0.4}],
            "latency_ms": 0.52,
        },
    )
    notes = [
        {
            "id": "n1",
            "ts": T0 + 52,
            "status": "sent",
            "owner": "alice",
            "title": "Person at the porch",
            "message": "porch_cam saw a person (0.91)",
        },
        {
            "id": "n2",
            "ts": T0 + 53,
            "status": "held",
            "owner": "bob",
            "title": "Person at the porch",
            "message": "quiet hours until 07:00",
        },
        {
            "id": "n3",
            "ts": T0 + 20,
            "status": "failed",
            "owner": "alice",
            "title": "front_door offline",
            "error": "HTTP 503 from ntfy",
            "attempts": 6,
        },
    ]
    for n in notes:
        feed(P + "notifications", n)
    health = {
        "uptime": 93784.0,
        "cpu_temp": 51.2,
        "throttled": {"under_voltage": False},
        "load": [0.42, 0.38, 0.3],
        "memory": {"total_mb": 3906.0, "available_mb": 2980.1, "used_pct": 23.7},
        "disk": {
            "data": {"path": "/var/lib/edgehub", "free_gb": 23.4, "free_pct": 80.1},
            "recordings": {"path": "/var/lib/edgehub/media", "free_gb": 23.4},
        },
        "db_mb": 41.2,
        "event_rate": 3.2,
        "broker": True,
        "components": {
            "lights": "running",
            "cameras": "restarting",
            "notifier": "running",
            "rules": "running",
            "health": "running",
        },
        "devices_offline": ["front_door"],
    }
    feed(P + "health", health, True)
    return app
