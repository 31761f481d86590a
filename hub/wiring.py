"""Builds the hub's components from the config, with the backends injected.

One block per component, in start order (stopped in reverse). To add yours: import it
inside build_components, append it in its own block, keep the list readable.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hub.component import Component
from hub.config import Config


def make_pin_factory(name: str) -> Any:
    """Return a new gpiozero pin factory by config name (mock has PWM pins)."""
    if name == "mock":
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        return MockFactory(pin_class=MockPWMPin)
    if name == "lgpio":
        from gpiozero.pins.lgpio import LGPIOFactory

        return LGPIOFactory()
    if name == "rpigpio":
        from gpiozero.pins.rpigpio import RPiGPIOFactory

        return RPiGPIOFactory()
    if name == "native":
        from gpiozero.pins.native import NativeFactory

        return NativeFactory()
    raise ValueError(f"unknown pin factory {name!r}")


@dataclass
class Backends:
    """What the hub talks to hardware through; tests and the simulator pass their own."""

    # A gpiozero pin factory; None = built from hub.pin_factory on first use.
    pin_factory: Any | None = None
    # The hub's clock (epoch seconds).
    clock: Callable[[], float] = time.time
    # source string ("rtsp://...", "0", "sim:<scene>") -> a FrameSource; None = OpenCV.
    camera_source: Callable[[str], Any] | None = None
    # Anything else a component needs injected, by name.
    extra: dict[str, Any] = field(default_factory=dict)

    def gpio(self, config: Config) -> Any:
        """Return the pin factory, creating it from the config once."""
        if self.pin_factory is None:
            self.pin_factory = make_pin_factory(config.hub.pin_factory)
        return self.pin_factory


def build_components(config: Config, *, backends: Backends) -> list[Component]:
    """Return the hub's components in start order."""
    components: list[Component] = []

    # Lights, cameras, the rule host, notifications and health add one block each, e.g.:
    #   from hub.lights import LightsComponent
    #   if any(d.type == "light" for d in config.devices.values()):
    #       components.append(LightsComponent(config, pin_factory=backends.gpio(config)))

    # Health first, so it hears every event from the start (a camera offline at boot): device
    # monitor, anomalies, hub metrics, and the supervisor (hub/health/supervisor.py).
    supervisor = None
    if config.health.enabled:
        from hub.health.component import HealthComponent, make_supervisor

        supervisor = make_supervisor(config)
        probe = backends.extra.get("host_probe")
        components.append(HealthComponent(config, supervisor=supervisor, probe=probe))

    # Lights: GPIO (gpiozero, injected pin factory) and MQTT lights.
    lights = {n: d for n, d in config.devices.items() if d.type == "light"}
    if lights:
        from hub.lights import LightsComponent

        gpio = backends.gpio(config) if any(d.gpio for d in lights.values()) else None
        components.append(LightsComponent(lights, pin_factory=gpio))

    # Cameras: capture, motion, pre-roll recording, snapshots (sources and classifier injected).
    cameras = {n: d for n, d in config.devices.items() if d.type == "camera"}
    if cameras:
        from hub.cameras import CamerasComponent

        components.append(
            CamerasComponent(
                cameras,
                source_factory=backends.camera_source,
                analyze_factory=backends.extra.get("camera_analyze"),
                disk_usage=backends.extra.get("disk_usage"),
            )
        )

    # Home Assistant MQTT discovery for every device.
    if config.devices:
        from hub.discovery import DiscoveryComponent

        components.append(DiscoveryComponent(config.devices))

    # Notifications to owners (outbox, quiet hours, digests); before the rule host, so
    # Notify has its executor when rules start. Always there: a rule notifying an owner
    # missing from `owners:` is then reported as notify.unknown_owner.
    from hub.notify.component import NotifierComponent

    components.append(NotifierComponent(config.owners, config.notify, config.secrets))

    # Other hubs' devices as `<hub>/<device>` (hub/remote): manifests, states, remote light
    # commands, heartbeat. Rules naming them are revalidated when a manifest arrives.
    remote = None
    if config.remote.enabled:
        from hub.remote import RemoteComponent

        r = config.remote
        remote = RemoteComponent(heartbeat=r.heartbeat, stale_after=r.stale_after)
        components.append(remote)

    # The rule host (last, so every effect executor exists when rules start).
    if config.rules is not None:
        from hub.rules_host import RulesHost

        host = RulesHost.from_config(
            config, remote_devices=remote.catalogue if remote is not None else None
        )
        if remote is not None:
            remote.names = lambda: host.remote_names
            remote.on_catalogue = host.reload
        components.append(host)

    # Every component runs under the supervisor, which restarts a failed one with backoff.
    return supervisor.supervise(components) if supervisor is not None else components
