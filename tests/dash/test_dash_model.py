"""The dashboard's model, link settings and half-block drawing, without a terminal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hub.cli import main
from hub.dash import DashConfigError, HomeModel, LinkSettings, halfblock

from .fakehub import make_jpeg

P = "edgehub/home/"


def _event(model: HomeModel, n: int, source: str, kind: str, data: dict, cause: int | None = None):
    body = {
        "id": f"e{n}",
        "ts": 1000.0 + n,
        "source": source,
        "kind": kind,
        "data": data,
        "cause": f"e{cause}" if cause is not None else None,
    }
    return model.apply(P + "events", json.dumps(body).encode())


def test_cause_chain_names_the_rule_between_trigger_and_effect() -> None:
    m = HomeModel(clock=lambda: 2000.0)
    _event(m, 1, "hall_motion", "state", {"occupancy": True})
    _event(m, 2, "rule:hall_motion_light", "rule.run", {"result": "ran"}, cause=1)
    _event(m, 3, "hall_light", "state", {"state": "ON", "brightness": 255}, cause=1)
    assert " ← ".join(m.cause_chain("e3")) == (
        "hall_light ON ← rule hall_motion_light ← hall_motion occupancy"
    )
    # An effect whose cause is the rule.run itself reads the same without duplication.
    _event(m, 4, "notify", "notify.sent", {"owner": "alice"}, cause=2)
    assert m.cause_chain("e4") == [
        "notify notify.sent",
        "rule hall_motion_light",
        "hall_motion occupancy",
    ]
    # The rule may also be named in the event's data.
    _event(m, 5, "porch_light", "state", {"state": "OFF", "rule": "night_off"}, cause=1)
    assert m.cause_chain("e5")[:2] == ["porch_light OFF", "rule night_off"]


def test_cause_outside_history_is_said_not_invented() -> None:
    m = HomeModel()
    _event(m, 7, "hall_light", "state", {"state": "ON"}, cause=99)
    chain = m.cause_chain("e7")
    assert chain[0] == "hall_light ON" and "not in history" in chain[-1]


def test_history_is_bounded_with_its_indexes() -> None:
    m = HomeModel(history=100)
    for n in range(0, 1000, 2):
        _event(m, n, "hall_motion", "state", {"occupancy": True})
        _event(m, n + 1, "rule:r", "rule.run", {"result": "ran"}, cause=n)
    assert len(m.events) == 100 and len(m.by_id) == 100
    assert len(m._rule_runs) <= 50
    assert m.event_seq == 1000
    assert [e.id for e in m.filtered("hall", "")][-1] == "e998"
    assert all(e.kind == "rule.run" for e in m.filtered("", "rule"))


def test_broken_payloads_are_counted_and_the_rest_still_works() -> None:
    m = HomeModel()
    assert m.apply(P + "events", b"\xff\xfe garbage") == set()
    assert m.apply(P + "events", b'{"id": "x", "ts": "soon"') == set()
    assert m.apply(P + "devices", b"[1, 2") == set()
    assert m.apply(P + "notifications", b"null") == set()
    assert m.malformed == 4
    m.apply(P + "devices", json.dumps({"devices": {"plug": {"type": "light"}}}).encode(), True)
    assert m.apply(P + "plug/state", b"", True) == set()  # retained message being cleared
    m.apply(P + "plug/state", b"ON")
    assert m.devices["plug"].state["state"] == "ON"
    m.apply(P + "plug/state", b'{"state":"OFF","new_firmware_key":{"x":1},"power":null}')
    assert m.devices["plug"].state["state"] == "OFF"
    assert m.apply("zigbee2mqtt/plug", b"{}") == set()  # not ours


def test_notifications_merge_by_id_and_count_by_status() -> None:
    m = HomeModel(clock=lambda: 5.0)
    for body in (
        {"id": "a", "status": "held", "owner": "bob"},
        {"id": "b", "status": "failed", "error": "503"},
        {"id": "a", "status": "sent"},
        {"id": "c", "status": "queued"},
    ):
        m.apply(P + "notifications", json.dumps(body).encode())
    assert m.notification_counts() == {"sent": 1, "failed": 1, "pending": 1}
    assert m.notifications["a"]["owner"] == "bob"
    # The hub's own shape: queued per owner, then sent per channel, same notification id.
    for body in (
        {"notification": "n-1", "owner": "alice", "status": "queued", "title": "Porch"},
        {"notification": "n-1", "owner": "alice", "channel": "ntfy", "status": "sent"},
        {"notification": "n-2", "owner": "alice", "status": "clip"},
    ):
        m.apply(P + "notifications", json.dumps(body).encode())
    assert m.notification_counts() == {"sent": 2, "failed": 1, "pending": 2}
    assert m.notifications["n-1:alice"]["title"] == "Porch"


def test_link_settings_from_config_and_address(tmp_path: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "ca.pem").write_text("")
    cfg = tmp_path / "hub.yaml"
    cfg.write_text(
        "hub: {id: cabin}\n"
        "mqtt: {host: pi.local, port: 8883, username: dash, password_file: pw,"
        " tls: {ca_certs: ca.pem}}\n"
    )
    s = LinkSettings.from_config(cfg)
    assert (s.host, s.port, s.hub_id, s.login.username, s.login.password) == (
        "pi.local",
        8883,
        "cabin",
        "dash",
        "s3cret",
    )
    assert s.login.tls and s.login.ca_certs == str(tmp_path / "ca.pem")
    assert LinkSettings.from_config(cfg, hub_id="other").hub_id == "other"
    cfg.write_text("broker: {port: 18830}\n")  # no mqtt section: the hub's embedded broker
    s = LinkSettings.from_config(cfg)
    assert (s.host, s.port, s.hub_id) == ("127.0.0.1", 18830, "home")
    assert LinkSettings.parse_address("10.0.0.2:1884").port == 1884
    with pytest.raises(DashConfigError):
        LinkSettings.parse_address("host:notaport")
    cfg.write_text("mqtt: {hots: pi.local}\n")
    with pytest.raises(ValueError, match="hots"):
        LinkSettings.from_config(cfg)
    with pytest.raises(ValueError):
        LinkSettings.from_config(tmp_path / "missing.yaml")


def test_cli_rejects_a_bad_address(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dash", "--mqtt", "pi:port"]) == 2
    assert "expected HOST:PORT" in capsys.readouterr().err


def test_halfblock_keeps_aspect_and_colours() -> None:
    rgb = halfblock.decode_jpeg(make_jpeg(64, 48))
    text = halfblock.render(rgb, 40, 10)
    lines = text.plain.split("\n")
    assert len(lines) == 10 and {len(line) for line in lines} == {26}  # 64x48 into 40x(10*2)
    assert set(text.plain) == {"▀", "\n"}
    assert halfblock.decode_jpeg(b"not a jpeg") is None
    assert halfblock.fit(64, 48, 0, 10) == (0, 0)
