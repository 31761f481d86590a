"""The lights component: runs the configured GPIO and MQTT lights inside the hub.

It executes rules.effects.LightCommand, obeys `edgehub/<hub>/<light>/set` (Zigbee2MQTT-style
JSON or plain ON/OFF/TOGGLE), emits a `state` event for every change with the cause of the
command (the runtime journals it and publishes it retained on `edgehub/<hub>/<light>/state`),
and restores each light after a restart by its `restore` policy (last, on, off).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from typing import Any

from devices.errors import DeviceError, LightError
from devices.lights import GpioLight, Light, LightState, from_255
from devices.mqtt_light import MqttLight
from hub.component import HubContext
from hub.remote.commands import CommandWindow
from rules.effects import Effect, LightCommand
from rules.events import Event

log = logging.getLogger(__name__)

CAUSE_WINDOW_S = 30.0  # a device report this soon after our command is its answer


def parse_set_payload(payload: bytes) -> dict[str, Any]:
    """Turn a set-topic payload into {"state": on/off/toggle, "brightness": %, "transition": s}."""
    text = payload.decode("utf-8", errors="strict").strip()
    if text.upper() in ("ON", "OFF", "TOGGLE"):
        return {"state": text.lower()}
    try:
        data = json.loads(text)
    except ValueError:
        raise LightError(f"expected JSON or ON/OFF/TOGGLE, got {text[:40]!r}") from None
    if not isinstance(data, dict):
        raise LightError('expected a JSON object such as {"state":"ON"}')
    out: dict[str, Any] = {}
    state = data.get("state")
    if state is not None:
        if str(state).upper() not in ("ON", "OFF", "TOGGLE"):
            raise LightError(f"state must be ON, OFF or TOGGLE, not {state!r}")
        out["state"] = str(state).lower()
    if data.get("brightness") is not None:
        try:
            b = float(data["brightness"])
        except (TypeError, ValueError):
            raise LightError(f"brightness must be 0-255, not {data['brightness']!r}") from None
        if not 0 <= b <= 255:
            raise LightError(f"brightness must be 0-255, not {b:g}")
        out["brightness"] = from_255(b)
        out.setdefault("state", "on" if b > 0 else "off")
    if data.get("transition") is not None:
        try:
            out["transition"] = max(0.0, float(data["transition"]))
        except (TypeError, ValueError):
            raise LightError(f"transition must be seconds, not {data['transition']!r}") from None
    if "state" not in out:
        raise LightError("nothing to do: give state and/or brightness")
    return out


class LightsComponent:
    """Runs lights: built from config at start, driven by effects and set topics."""

    name = "lights"

    def __init__(self, configs: Mapping[str, Any], *, pin_factory: Any = None) -> None:
        self.configs = dict(configs)
        self.pin_factory = pin_factory
        self.lights: dict[str, Light] = {}
        self._cause: dict[str, tuple[str | None, float]] = {}
        self.ctx: HubContext | None = None
        # Commands from other hubs carry an id: a QoS 1 redelivery is applied once.
        self.commands = CommandWindow()

    async def start(self, ctx: HubContext) -> None:
        """Create the lights, restore their state, subscribe their topics."""
        self.ctx = ctx
        for name, cfg in self.configs.items():
            try:
                light = self._build(name, cfg)
            except Exception as e:
                log.error("light %s cannot start: %s", name, e)
                continue
            self.lights[name] = light
            light.on_change = lambda state, n=name: self._changed(n, state)
            ctx.subscribe(f"edgehub/{ctx.hub_id}/{name}/set", self._on_set)
            if isinstance(light, MqttLight):
                for topic in light.topics():
                    ctx.subscribe(topic, lambda t, p, r, lt=light: lt.on_message(t, p))
            self._restore(name, cfg, light)
        ctx.on_effect(LightCommand, self.execute)
        log.info("lights started: %s", ", ".join(self.lights) or "none")

    async def stop(self) -> None:
        """Release the pins (outputs keep their level until the process exits)."""
        for light in self.lights.values():
            try:
                light.close()
            except Exception:
                log.debug("light close failed", exc_info=True)
        self.lights.clear()

    def _build(self, name: str, cfg: Any) -> Light:
        gpio = getattr(cfg, "gpio", None)
        if gpio is not None:
            if self.pin_factory is None:
                raise LightError("no GPIO pin factory configured")
            return GpioLight(
                name,
                gpio.pin,
                pin_factory=self.pin_factory,
                dimmable=gpio.dimmable,
                relay=gpio.relay,
                active_high=gpio.active_high,
                initial=gpio.initial,
            )
        assert self.ctx is not None
        ctx = self.ctx
        return MqttLight(
            name,
            cfg.topic,
            cfg.format,
            lambda topic, payload: ctx.publish(topic, payload, retain=False, qos=1),
            dimmable=getattr(cfg, "dimmable", None),
        )

    def _restore(self, name: str, cfg: Any, light: Light) -> None:
        gpio = getattr(cfg, "gpio", None)
        policy = getattr(cfg, "restore", "last")
        if gpio is not None and "restore" in getattr(gpio, "model_fields_set", ()):
            policy = gpio.restore
        assert self.ctx is not None
        if gpio is None and policy == "last":
            return  # an MQTT light remembers its own state and reports it
        last = self.ctx.device_state(name) or {}
        on_change, light.on_change = light.on_change, None
        try:
            if policy == "on" or (policy == "last" and str(last.get("state", "")).upper() == "ON"):
                b = last.get("brightness")
                level = from_255(b) if isinstance(b, int | float) and b > 0 else None
                light.on(brightness=level)
            elif policy == "off" or str(last.get("state", "")).upper() == "OFF":
                light.off()
        finally:
            light.on_change = on_change
        if gpio is not None:
            # A baseline: the retained state matches the pin again; no rule fires on a restart.
            state = light.state.to_payload()
            self.ctx.emit(Event("state.baseline", name, state, ts=self.ctx.now()))

    async def execute(self, effect: Effect) -> list[Event]:
        """Carry out a LightCommand; the state event follows from the light's on_change."""
        assert isinstance(effect, LightCommand)
        light = self.lights.get(effect.device)
        if light is None:
            raise LightError(f"no light named {effect.device!r}")
        self._cause[effect.device] = (effect.cause, time.monotonic())
        light.command(effect.state, effect.brightness, effect.transition)
        return []

    def _on_set(self, topic: str, payload: bytes, retained: bool) -> None:
        assert self.ctx is not None
        ctx = self.ctx
        name = topic.split("/")[-2]
        if retained:
            return  # a stale retained command must not switch a light at startup
        drop = self.commands.check(payload, ctx.now())
        if drop is not None:
            log.info("light %s dropped command: %s", name, drop)
            return
        cmd = Event(
            kind="command",
            source=name,
            data={"topic": topic, "payload": payload[:200].decode("utf-8", errors="replace")},
            ts=ctx.now(),
        )
        ctx.emit(cmd)
        result: dict[str, Any] = {"topic": topic, "ok": True}
        try:
            light = self.lights.get(name)
            if light is None:
                raise LightError(f"no light named {name!r} is running")
            args = parse_set_payload(payload)
            self._cause[name] = (cmd.id, time.monotonic())
            light.command(args["state"], args.get("brightness"), args.get("transition"))
        except (DeviceError, UnicodeDecodeError) as e:
            result = {"topic": topic, "ok": False, "error": str(e)}
            log.warning("light %s rejected command: %s", name, e)
        ctx.emit(Event(kind="command.result", source=name, data=result, cause=cmd.id, ts=ctx.now()))

    def _changed(self, name: str, state: LightState) -> None:
        # Runs on whichever thread changed the light (a fade thread, the loop): emit is safe.
        assert self.ctx is not None
        cause, when = self._cause.get(name, (None, 0.0))
        if time.monotonic() - when > CAUSE_WINDOW_S:
            cause = None  # changed by a wall switch or another controller, not by us
        self.ctx.emit(
            Event(
                kind="state", source=name, data=state.to_payload(), cause=cause, ts=self.ctx.now()
            )
        )
