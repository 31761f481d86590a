"""The dashboard against a scripted hub over a real broker: views, actions, answers, banner."""

from __future__ import annotations

import threading

import pytest
from textual.widgets import DataTable, Input, TabbedContent

from hub.broker import MosquittoBroker, mosquitto_binary
from hub.dash import DashLink, LinkSettings
from hub.dash.app import DashApp
from hub.dash.views.cameras import SnapshotImage
from hub.dash.views.eventlist import EventList
from hub.dash.views.rules import RuleTraceScreen

from .conftest import async_test, cell, status_text, wait_until
from .fakehub import FakeHub


def _light(app: DashApp) -> str:
    return cell(app, "devices", "hall_light", "state")


def _text(app: DashApp, selector: str) -> str:
    return str(app.screen.query_one(selector).render())


def _select(app: DashApp, table_id: str, key: str) -> None:
    table = app.query_one(f"#{table_id}", DataTable)
    table.focus()
    table.move_cursor(row=table.get_row_index(key))


@async_test
async def test_home_shows_devices_as_the_hub_reports(fake_hub: FakeHub, dash_app: DashApp) -> None:
    async with dash_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: cell(dash_app, "devices", "porch_cam", "state"))
        assert cell(dash_app, "devices", "hall_light", "type") == "light"
        assert _light(dash_app) == "OFF"
        assert cell(dash_app, "devices", "hall_motion", "battery") == "87%"
        assert cell(dash_app, "devices", "hall_motion", "state") == "clear"
        assert cell(dash_app, "devices", "porch_cam", "online") == "online"
        assert not dash_app.query_one("#banner").has_class("-visible")


@async_test
async def test_toggle_and_dim_a_light_show_the_hubs_answer(
    fake_hub: FakeHub, dash_app: DashApp
) -> None:
    async with dash_app.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: _light(dash_app))
        _select(dash_app, "devices", "hall_light")
        await pilot.press("t")
        await wait_until(pilot, lambda: _light(dash_app) == "ON 100%")
        assert fake_hub.commands[-1] == ("hall_light", {"state": "ON"})
        await wait_until(pilot, lambda: "ok — hub reports ON 100%" in status_text(dash_app))
        await pilot.press("minus")
        await wait_until(pilot, lambda: _light(dash_app) == "ON 87%")
        assert fake_hub.commands[-1] == ("hall_light", {"state": "ON", "brightness": 223})
        await pilot.press("t")
        await wait_until(pilot, lambda: _light(dash_app) == "OFF")


@async_test
async def test_event_filter_narrows_and_cause_chain_reads_back(
    fake_hub: FakeHub, dash_app: DashApp
) -> None:
    async with dash_app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: dash_app.connected)
        ids = fake_hub.motion_story()
        await pilot.press("2")
        table = dash_app.query_one("#event-list", EventList)
        await wait_until(pilot, lambda: table.row_count == 3)
        await wait_until(pilot, lambda: "hall_light ON" in _text(dash_app, "#chain"))
        assert _text(dash_app, "#chain") == (
            "Cause: hall_light ON ← rule hall_motion_light ← hall_motion occupancy"
        )
        await pilot.press("slash")
        assert isinstance(dash_app.focused, Input)
        await pilot.press(*"hall", "underscore", *"motion", "enter")
        await wait_until(pilot, lambda: table.row_count == 1)
        assert dash_app.view("events").shown_event_ids() == [ids["motion"]]
        await pilot.press("escape")
        await wait_until(pilot, lambda: table.row_count == 3)
        dash_app.query_one("#filter-kind", Input).value = "rule"
        await wait_until(pilot, lambda: table.row_count == 1)
        assert dash_app.view("events").shown_event_ids() == [ids["run"]]


@async_test
async def test_rule_trace_opens_and_rule_commands_show_the_answer(
    fake_hub: FakeHub, dash_app: DashApp
) -> None:
    async with dash_app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: dash_app.connected)
        fake_hub.motion_story()
        await pilot.press("3")
        await wait_until(
            pilot, lambda: cell(dash_app, "rule-list", "porch_alert", "enabled") == "yes"
        )
        _select(dash_app, "rule-list", "porch_alert")
        await pilot.press("enter")
        assert isinstance(dash_app.screen, RuleTraceScreen)
        body = str(dash_app.screen.query_one("#trace-body").render())
        assert "✗ conditions[0]" in body
        assert "why: conditions[0] alarm.mode is off, wanted armed" in body
        await pilot.press("e")
        await wait_until(pilot, lambda: "DISABLED" in _text(dash_app, "#trace-title"))
        assert fake_hub.commands[-1] == ("rules/porch_alert", {"enabled": False})
        await pilot.press("escape")
        assert cell(dash_app, "rule-list", "porch_alert", "enabled") == "no"
        await pilot.press("r")
        await wait_until(
            pilot, lambda: cell(dash_app, "rule-list", "porch_alert", "result") == "ran"
        )
        await wait_until(pilot, lambda: "rules/porch_alert: ok" in status_text(dash_app))


@async_test
async def test_camera_snapshot_is_drawn_and_actions_reach_the_hub(
    fake_hub: FakeHub, dash_app: DashApp
) -> None:
    async with dash_app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: dash_app.connected)
        fake_hub.emit("camera.detection", "porch_cam", {"label": "person", "score": 0.91})
        fake_hub.emit(
            "recording.finished",
            "porch_cam",
            {"file": "/data/clips/porch_cam-1.mp4", "start": 1.0, "end": 31.0},
        )
        await pilot.press("4")
        img = dash_app.query_one(SnapshotImage)
        await wait_until(pilot, lambda: img.jpeg is not None)
        await pilot.pause(0.1)
        rendered = img.render()
        assert "▀" in rendered.plain and len(rendered.spans) > 10
        await wait_until(pilot, lambda: "person 0.91" in _text(dash_app, "#detections"))
        assert dash_app.query_one("#recordings", DataTable).row_count == 1
        first = img.jpeg
        dash_app.query_one("#camera-list", DataTable).focus()
        await pilot.press("s")
        await wait_until(pilot, lambda: img.jpeg != first)
        await pilot.press("r")
        await wait_until(
            pilot, lambda: "● rec" in cell(dash_app, "camera-list", "porch_cam", "state")
        )
        assert fake_hub.commands[-2:] == [
            ("porch_cam", {"snapshot": True}),
            ("porch_cam", {"record": 30}),
        ]


@async_test
async def test_broker_loss_shows_a_banner_and_the_dashboard_recovers(
    broker: MosquittoBroker, fake_hub: FakeHub, dash_app: DashApp
) -> None:
    async with dash_app.run_test(size=(80, 24)) as pilot:
        banner = dash_app.query_one("#banner")
        await wait_until(pilot, lambda: _light(dash_app) == "OFF")
        broker.stop()
        await wait_until(pilot, lambda: banner.has_class("-visible"))
        assert "Broker connection lost" in str(banner.render())
        _select(dash_app, "devices", "hall_light")
        await pilot.press("t")
        assert "not connected" in status_text(dash_app)
        broker.start()
        await wait_until(pilot, lambda: not banner.has_class("-visible"), timeout=15)
        # The hub's retained state is back and commands flow again.
        await pilot.press("t")
        await wait_until(pilot, lambda: _light(dash_app) == "ON 100%", timeout=10)
        assert dash_app.query_one(TabbedContent).active == "home"


@async_test
async def test_hub_going_offline_shows_a_banner_and_the_link_thread_ends(
    broker: MosquittoBroker, fake_hub: FakeHub, dash_app: DashApp
) -> None:
    before = threading.active_count()
    async with dash_app.run_test(size=(80, 24)) as pilot:
        banner = dash_app.query_one("#banner")
        await wait_until(pilot, lambda: dash_app.connected and dash_app.model.hub_status)
        assert not banner.has_class("-visible")
        fake_hub.pub("status", "offline", retain=True)  # the hub's last will
        await wait_until(pilot, lambda: banner.has_class("-visible"))
        assert "Hub home is offline" in str(banner.render())
        fake_hub.pub("status", "online", retain=True)
        await wait_until(pilot, lambda: not banner.has_class("-visible"))
    assert threading.active_count() <= before


@async_test
async def test_dashboard_started_before_the_broker_connects_when_it_appears(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    if mosquitto_binary() is None:
        pytest.skip("mosquitto is not installed")
    late = MosquittoBroker(tmp_path_factory.mktemp("late"))
    link = DashLink(LinkSettings(host=late.host, port=late.port), reconnect_max=1)
    app = DashApp(link)
    async with app.run_test(size=(80, 24)) as pilot:
        banner = app.query_one("#banner")
        await pilot.pause(0.3)
        assert banner.has_class("-visible") and "Connecting to broker" in str(banner.render())
        late.start()
        try:
            await wait_until(pilot, lambda: not banner.has_class("-visible"), timeout=15)
            assert app.connected
        finally:
            late.stop()
