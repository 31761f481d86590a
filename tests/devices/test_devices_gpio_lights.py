"""GPIO lights on gpiozero's mock pins: the tests read the pin values a lamp would see."""

from __future__ import annotations

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from devices.errors import DeviceError, LightError
from devices.lights import GpioLight, LightState


@pytest.fixture
def factory() -> MockFactory:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.close()


def test_led_on_off_sets_pin(factory: MockFactory) -> None:
    light = GpioLight("hall", 17, pin_factory=factory)
    assert factory.pin(17).state == 0
    light.on()
    assert factory.pin(17).state == 1
    assert light.state == LightState(True, 100.0)
    light.off()
    assert factory.pin(17).state == 0
    light.toggle()
    assert factory.pin(17).state == 1


def test_pwm_60_percent(factory: MockFactory) -> None:
    light = GpioLight("desk", 18, pin_factory=factory, dimmable=True)
    light.on(brightness=60)
    assert factory.pin(18).state == pytest.approx(0.6)
    assert light.state.to_payload() == {"state": "ON", "brightness": 153}
    light.off()
    assert factory.pin(18).state == 0
    light.on()  # remembers the last level, as a dimmer does
    assert factory.pin(18).state == pytest.approx(0.6)


def test_active_low_relay(factory: MockFactory) -> None:
    light = GpioLight("porch", 22, pin_factory=factory, relay=True, active_high=False)
    assert factory.pin(22).state == 1  # off means the pin is high on an active-low board
    light.on()
    assert factory.pin(22).state == 0
    assert light.is_on
    light.off()
    assert factory.pin(22).state == 1


def test_initial_state_on(factory: MockFactory) -> None:
    light = GpioLight(
        "a", 23, pin_factory=factory, dimmable=True, initial=True, initial_brightness=40
    )
    assert factory.pin(23).state == pytest.approx(0.4)
    assert light.state == LightState(True, 40.0)


def test_fade_passes_through_intermediate_values(factory: MockFactory) -> None:
    light = GpioLight("fade", 24, pin_factory=factory, dimmable=True)
    seen: list[LightState] = []
    light.on_change = seen.append
    light.on(brightness=80, transition=0.3)
    light.wait_fade(2)
    pin = factory.pin(24)
    values = [s.state for s in pin.states]
    assert pin.state == pytest.approx(0.8)
    between = [v for v in values if 0.05 < v < 0.75]
    assert len(between) >= 3, values
    assert values == sorted(values)  # a fade up never goes back down
    assert seen == [LightState(True, 80.0)]  # one change, reported when the fade lands


def test_new_command_cancels_running_fade(factory: MockFactory) -> None:
    light = GpioLight("fade", 25, pin_factory=factory, dimmable=True)
    light.on(brightness=100, transition=5)
    light.off()
    assert factory.pin(25).state == 0
    assert not light.is_on


def test_on_change_fires_once_per_change(factory: MockFactory) -> None:
    light = GpioLight("x", 26, pin_factory=factory)
    seen: list[LightState] = []
    light.on_change = seen.append
    light.on()
    light.on()
    light.off()
    assert [s.on for s in seen] == [True, False]


def test_errors_are_device_and_value_errors(factory: MockFactory) -> None:
    light = GpioLight("x", 27, pin_factory=factory, dimmable=True)
    with pytest.raises(LightError) as e:
        light.on(brightness=150)
    assert isinstance(e.value, ValueError) and isinstance(e.value, DeviceError)
    with pytest.raises(ValueError):
        light.command("blink")
    with pytest.raises(LightError):
        GpioLight("y", 5, pin_factory=factory, dimmable=True, relay=True)
