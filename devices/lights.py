"""One Light interface for GPIO and MQTT lights: on/off/toggle, brightness %, transitions."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from devices.errors import LightError

log = logging.getLogger(__name__)

FADE_STEP_S = 0.02  # 50 steps/s: smooth to the eye, cheap on a Pi


@dataclass(frozen=True, slots=True)
class LightState:
    """What a light reports: on/off and brightness in percent (the level it has when on)."""

    on: bool
    brightness: float = 100.0

    def to_payload(self) -> dict[str, Any]:
        """Return the Zigbee2MQTT-style state: {"state": "ON", "brightness": 0-255}."""
        return {"state": "ON" if self.on else "OFF", "brightness": pct_to_255(self.brightness)}


def pct_to_255(pct: float) -> int:
    """Convert brightness percent (0-100) to the 0-255 scale of Zigbee2MQTT."""
    return round(max(0.0, min(100.0, pct)) * 255 / 100)


def from_255(value: float) -> float:
    """Convert a 0-255 brightness to percent."""
    return max(0.0, min(100.0, float(value) * 100 / 255))


ChangeCallback = Callable[[LightState], None]


class Light:
    """Base of all lights; subclasses implement _apply(on, brightness, transition)."""

    dimmable: bool = False

    def __init__(self, name: str) -> None:
        self.name = name
        self.on_change: ChangeCallback | None = None
        self._state = LightState(False, 100.0)
        self._lock = threading.RLock()

    @property
    def state(self) -> LightState:
        """Return the last known state (read back from the device where it reports one)."""
        return self._state

    @property
    def is_on(self) -> bool:
        """Return True when the light is on."""
        return self._state.on

    def on(self, brightness: float | None = None, transition: float | None = None) -> None:
        """Turn the light on, optionally at a brightness percent, fading over transition s."""
        if brightness is not None and not 0 <= brightness <= 100:
            raise LightError(f"{self.name}: brightness {brightness!r} is outside 0-100 %")
        if brightness == 0:
            self.off(transition)
            return
        level = self._state.brightness if brightness is None else float(brightness)
        if not self.dimmable:
            level = 100.0
        self._apply(True, level or 100.0, transition, brightness is not None)

    def off(self, transition: float | None = None) -> None:
        """Turn the light off, fading over transition seconds where the light can."""
        self._apply(False, self._state.brightness, transition)

    def toggle(self, transition: float | None = None) -> None:
        """Switch the light to the opposite state."""
        if self.is_on:
            self.off(transition)
        else:
            self.on(transition=transition)

    def command(
        self, state: str, brightness: float | None = None, transition: float | None = None
    ) -> None:
        """Carry out "on" / "off" / "toggle" (any case) with optional brightness and transition."""
        s = state.lower()
        if s == "on":
            self.on(brightness, transition)
        elif s == "off":
            self.off(transition)
        elif s == "toggle":
            if self.is_on:
                self.off(transition)
            else:
                self.on(brightness, transition)
        else:
            raise LightError(f"{self.name}: unknown light state {state!r} (on, off, toggle)")

    def close(self) -> None:
        """Release the device."""

    def _apply(
        self, on: bool, brightness: float, transition: float | None, level_given: bool = False
    ) -> None:
        raise NotImplementedError

    def _set_state(self, new: LightState) -> None:
        with self._lock:
            changed = new != self._state
            self._state = new
        if changed:
            log.debug("light %s state %s", self.name, new)
            if self.on_change is not None:
                try:
                    self.on_change(new)
                except Exception:
                    log.exception("light %s on_change callback failed", self.name)


class GpioLight(Light):
    """A light on a GPIO pin through gpiozero: LED (on/off), PWMLED (dimmable) or a relay."""

    def __init__(
        self,
        name: str,
        pin: int | str,
        *,
        pin_factory: Any,
        dimmable: bool = False,
        relay: bool = False,
        active_high: bool = True,
        initial: bool = False,
        initial_brightness: float = 100.0,
    ) -> None:
        super().__init__(name)
        from gpiozero import LED, PWMLED, OutputDevice

        if dimmable and relay:
            raise LightError(f"{name}: a relay cannot be dimmable")
        self.dimmable = dimmable
        self._fade_stop = threading.Event()
        self._fade_thread: threading.Thread | None = None
        level = max(0.0, min(100.0, initial_brightness)) if dimmable else 100.0
        if dimmable:
            self._dev = PWMLED(
                pin,
                active_high=active_high,
                initial_value=(level / 100) if initial else 0,
                pin_factory=pin_factory,
            )
        elif relay:
            self._dev = OutputDevice(
                pin, active_high=active_high, initial_value=initial, pin_factory=pin_factory
            )
        else:
            self._dev = LED(
                pin, active_high=active_high, initial_value=initial, pin_factory=pin_factory
            )
        self._state = LightState(bool(initial), level)

    def _apply(
        self, on: bool, brightness: float, transition: float | None, level_given: bool = False
    ) -> None:
        self._cancel_fade()
        if not self.dimmable or not transition or transition <= 0:
            if self.dimmable:
                self._dev.value = brightness / 100 if on else 0.0
            elif on:
                self._dev.on()
            else:
                self._dev.off()
            self._set_state(LightState(on, brightness))
            return
        start = float(self._dev.value)
        target = brightness / 100 if on else 0.0
        self._fade_stop.clear()
        self._fade_thread = threading.Thread(
            target=self._fade,
            args=(start, target, float(transition), LightState(on, brightness)),
            name=f"fade-{self.name}",
            daemon=True,
        )
        self._fade_thread.start()

    def _fade(self, start: float, target: float, duration: float, final: LightState) -> None:
        # A real fade: the PWM duty cycle walks linearly from start to target.
        t0 = time.monotonic()
        while not self._fade_stop.is_set():
            frac = min(1.0, (time.monotonic() - t0) / duration)
            self._dev.value = start + (target - start) * frac
            if frac >= 1.0:
                self._set_state(final)
                return
            self._fade_stop.wait(FADE_STEP_S)

    def _cancel_fade(self) -> None:
        t = self._fade_thread
        if t is not None and t is not threading.current_thread():
            self._fade_stop.set()
            t.join()
        self._fade_thread = None

    def wait_fade(self, timeout: float | None = None) -> None:
        """Block until a running transition finishes (tests and shutdown)."""
        t = self._fade_thread
        if t is not None:
            t.join(timeout)

    def close(self) -> None:
        """Stop any fade and release the pin."""
        self._cancel_fade()
        self._dev.close()
