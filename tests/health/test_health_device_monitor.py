"""Device health: silence, availability, battery, chattering and stuck sensors (virtual clock)."""

from __future__ import annotations

from hub.health.devices import DeviceMonitor, DevicePolicy

T0 = 1_780_000_000.0


def kinds(events):
    return [(e.kind, e.source) for e in events]


def test_silent_sensor_goes_offline_after_expected_time_and_online_again():
    mon = DeviceMonitor()
    mon.add_device("garden_temp", T0, DevicePolicy(expect_every=300, offline_after=3))
    t = T0
    for _ in range(10):
        t += 300
        assert mon.observe("garden_temp", {"temperature": 12.5}, t) == []
    last = t
    # Silent: nothing before three intervals have passed ...
    assert mon.tick(last + 899) == []
    offline = mon.tick(last + 900)
    assert kinds(offline) == [("device.offline", "garden_temp")]
    assert offline[0].data["silent_for"] == 900
    assert offline[0].data["reason"] == "silent"
    # ... reported once, not on every tick.
    assert mon.tick(last + 2000) == []
    assert mon.offline_devices() == ["garden_temp"]
    back = mon.observe("garden_temp", {"temperature": 12.1}, last + 3600)
    assert kinds(back) == [("device.online", "garden_temp")]
    assert back[0].data["offline_for"] == 2700
    assert mon.is_online("garden_temp") is True


def test_interval_is_learned_from_history():
    mon = DeviceMonitor(DevicePolicy(min_offline=60))
    t = T0
    for _ in range(8):
        t += 60
        mon.observe("hall_motion", {"illuminance": 10}, t)
    assert mon.expected_interval("hall_motion") == 60
    assert mon.tick(t + 179) == []
    assert kinds(mon.tick(t + 180)) == [("device.offline", "hall_motion")]


def test_unlearned_device_is_not_called_offline():
    mon = DeviceMonitor()
    mon.observe("front_door", {"contact": True}, T0)
    assert mon.tick(T0 + 86400) == []


def test_configured_device_that_never_reports_goes_offline_after_grace():
    mon = DeviceMonitor()
    mon.add_device("porch_motion", T0, DevicePolicy(expect_every=600))
    assert kinds(mon.tick(T0 + 1800)) == [("device.offline", "porch_motion")]


def test_availability_topic_wins_over_silence():
    mon = DeviceMonitor()
    mon.add_device("hall_motion", T0, DevicePolicy(expect_every=3600))
    off = mon.availability("hall_motion", False, T0 + 10)
    assert kinds(off) == [("device.offline", "hall_motion")]
    assert off[0].data["reason"] == "availability"
    assert mon.availability("hall_motion", False, T0 + 20) == []
    assert kinds(mon.availability("hall_motion", True, T0 + 30)) == [
        ("device.online", "hall_motion")
    ]


def test_battery_low_reported_once_and_rearmed_by_a_new_battery():
    mon = DeviceMonitor(DevicePolicy(battery_low=20))
    assert mon.observe("front_door", {"contact": True, "battery": 35}, T0) == []
    low = mon.observe("front_door", {"battery": 19}, T0 + 1)
    assert kinds(low) == [("device.battery_low", "front_door")]
    assert low[0].data == {"device": "front_door", "battery": 19, "threshold": 20}
    assert mon.observe("front_door", {"battery": 15}, T0 + 2) == []
    assert mon.observe("front_door", {"battery": 100}, T0 + 3) == []
    assert kinds(mon.observe("front_door", {"battery": 18}, T0 + 4)) == [
        ("device.battery_low", "front_door")
    ]


def test_chattering_contact_gives_one_event():
    mon = DeviceMonitor()
    events = []
    t = T0
    # A loose reed switch: open/closed every 2 seconds for five minutes.
    for i in range(150):
        t += 2
        events += mon.observe("front_door", {"contact": i % 2 == 0}, t)
    chatter = [e for e in events if e.kind == "device.chattering"]
    assert len(chatter) == 1
    assert chatter[0].data["attribute"] == "contact"
    assert chatter[0].data["changes"] >= 6
    # A normal door later in the day (after calm) is not chattering ...
    t += 3600
    events = mon.observe("front_door", {"contact": False}, t)
    events += mon.observe("front_door", {"contact": True}, t + 30)
    assert [e for e in events if e.kind == "device.chattering"] == []
    # ... but a new bout of flapping is reported again, once.
    events = []
    for i in range(40):
        events += mon.observe("front_door", {"contact": i % 2 == 0}, t + 100 + i)
    assert len([e for e in events if e.kind == "device.chattering"]) == 1


def test_normal_door_use_is_not_chattering():
    mon = DeviceMonitor()
    events = []
    for i in range(20):  # open and close every 5 minutes
        events += mon.observe("front_door", {"contact": i % 2 == 0}, T0 + i * 300)
    assert [e for e in events if e.kind == "device.chattering"] == []


def test_stuck_sensor_reported_when_peers_move():
    policy = DevicePolicy(stuck_after=3600, stuck_min_reports=6)
    mon = DeviceMonitor(policy)
    events = []
    for i in range(30):  # two hours and a half at 5-minute reports
        t = T0 + i * 300
        events += mon.observe("kitchen_temp", {"temperature": 21.0 + 0.1 * (i % 5)}, t)
        events += mon.observe("bedroom_temp", {"temperature": 19.4}, t)
    stuck = [e for e in events if e.kind == "device.stuck"]
    assert kinds(stuck) == [("device.stuck", "bedroom_temp")]
    assert stuck[0].data["peers"] == ["kitchen_temp"]
    assert stuck[0].data["value"] == 19.4


def test_steady_sensor_without_moving_peers_is_not_stuck():
    mon = DeviceMonitor(DevicePolicy(stuck_after=3600))
    events = []
    for i in range(30):
        events += mon.observe("cellar_temp", {"temperature": 12.0}, T0 + i * 300)
        events += mon.observe("attic_temp", {"temperature": 15.0}, T0 + i * 300)
    assert [e for e in events if e.kind == "device.stuck"] == []


def test_interval_seeded_from_history():
    mon = DeviceMonitor(DevicePolicy(min_offline=60))
    mon.add_device("garden_temp", T0)
    mon.seed("garden_temp", [T0 - 3000 + i * 300 for i in range(10)])
    assert mon.expected_interval("garden_temp") == 300
    assert mon.tick(T0 + 899) == []
    assert kinds(mon.tick(T0 + 900)) == [("device.offline", "garden_temp")]


def test_battery_low_flag_without_percentage():
    mon = DeviceMonitor()
    assert mon.observe("smoke", {"battery_low": False}, T0) == []
    low = mon.observe("smoke", {"battery_low": True}, T0 + 1)
    assert kinds(low) == [("device.battery_low", "smoke")]
    assert mon.observe("smoke", {"battery_low": True}, T0 + 2) == []
