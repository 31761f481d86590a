"""Routing, baselines and redelivery recognition, without a broker."""

from __future__ import annotations

from typing import Any

from hub.config import validate_config
from hub.ingest import REDELIVERY_WINDOW, Ingest
from hub.mqtt import Message
from rules.events import Event

T = "zigbee2mqtt/hall_motion"


def make(state: dict[str, dict[str, Any]] | None = None) -> tuple[Ingest, list[Event]]:
    events: list[Event] = []
    known = state or {}
    ing = Ingest(lambda e, dedup=None: events.append(e), lambda d: known.get(d, {}), lambda: 0.0)
    cfg = validate_config({"devices": {"hall_motion": {"type": "motion", "topic": T}}})
    ing.add_devices(cfg.devices)
    return ing, events


def msg(payload: bytes, *, retain: bool = False, dup: bool = False, gen: int = 1, t: float = 0.0):
    return Message(T, payload, retain, dup, t, 1, 1, gen)


def test_the_same_reading_twice_on_one_connection_is_two_events() -> None:
    ing, events = make()
    ing.on_messages([msg(b'{"occupancy":true}'), msg(b'{"occupancy":true}')])
    assert [e.kind for e in events] == ["state", "state"]


def test_a_dup_flagged_redelivery_is_dropped() -> None:
    ing, events = make()
    ing.on_messages([msg(b'{"occupancy":true}'), msg(b'{"occupancy":true}', dup=True)])
    assert len(events) == 1 and ing.stats["duplicate_messages"] == 1


def test_a_resend_after_a_broker_crash_is_dropped_only_just_after_reconnect() -> None:
    ing, events = make()
    ing.on_messages([msg(b'{"occupancy":true,"n":1}', gen=1, t=100)])
    ing.on_messages([msg(b'{"occupancy":false}', gen=2, t=200)])
    ing.on_messages([msg(b'{"occupancy":true,"n":1}', gen=2, t=201)])  # the sensor's resend
    ing.on_messages([msg(b'{"occupancy":false}', gen=2, t=200 + REDELIVERY_WINDOW + 1)])
    assert [e.data.get("occupancy") for e in events] == [True, False, False]


def test_retained_and_repeated_state_are_baselines() -> None:
    ing, events = make({"hall_motion": {"occupancy": True, "battery": 90}})
    ing.on_messages([msg(b'{"occupancy":true}')])  # first after a restart, same as journaled
    ing.on_messages([msg(b'{"occupancy":false}', retain=True)])
    ing.on_messages([msg(b'{"occupancy":true}')])
    assert [e.kind for e in events] == ["state.baseline", "state.baseline", "state"]


def test_a_raising_handler_does_not_stop_the_others() -> None:
    ing, events = make()
    got: list[str] = []

    def boom(topic: str, payload: bytes, retained: bool) -> None:
        raise RuntimeError("handler bug")

    ing.add_handler("zigbee2mqtt/#", boom)
    ing.add_handler("zigbee2mqtt/+/x", lambda t, p, r: got.append(t))
    ing.on_messages([msg(b'{"occupancy":true}'), Message("zigbee2mqtt/a/x", b"1", False, False, 0)])
    assert got == ["zigbee2mqtt/a/x"] and len(events) == 1
