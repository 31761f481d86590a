"""The hub does not hear its own retained states back (MQTT 5 no-local), yet a copy of them
from another client, as a bridge echoes after a reconnect, still reaches the echo check."""

from __future__ import annotations

import json
import time

from gpiozero.pins.mock import MockFactory, MockPWMPin

from .sites import SiteHub, Watcher, wait

DEVICES = {"hall_light": {"type": "light", "gpio": {"pin": 5}}}
STATE = "edgehub/home/hall_light/state"


def test_own_states_do_not_come_back_but_a_bridge_copy_is_corrected(broker, tmp_path):
    w = Watcher(broker, "t")
    w.client.subscribe(STATE, qos=1)
    pins = MockFactory(pin_class=MockPWMPin)
    hub = SiteHub("home", broker, tmp_path, DEVICES, "[]", pins)
    inbox = hub.hub.link.inbox
    seen: list[str] = []
    handler = inbox.handler

    def record(items: list) -> None:
        seen.extend(m.topic for m in items)
        handler(items)

    inbox.handler = record
    try:
        for n, cmd in enumerate(["ON", "OFF", "ON"], start=1):
            w.publish("edgehub/home/hall_light/set", cmd)
            wait(lambda n=n: len(w.on(STATE)) >= n + 1, f"state {n} published")
        time.sleep(0.5)  # an echo would be here by now
        assert seen.count("edgehub/home/hall_light/set") == 3
        assert STATE not in seen, "the hub heard its own state publish back"

        # A bridge that reconnects replays an old copy from the other side: it comes from
        # the bridge's client, so no-local lets it through and the hub puts its own back.
        hub.component("remote")._echo_until = time.monotonic() + 30
        before = len(w.on(STATE))
        w.client.publish(STATE, json.dumps({"state": "OFF"}), qos=1, retain=True)
        wait(lambda: STATE in seen, "the bridge's copy reached the hub")
        wait(lambda: len(w.on(STATE)) >= before + 2, "own state published again")
        assert json.loads(w.on(STATE)[-1])["state"] == "ON"
    finally:
        hub.stop()
        w.close()
