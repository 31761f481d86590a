"""Subcommand: sim, the whole home without hardware (the real hub, simulated backends).

edgehub sim [SCENARIO...] [-c hub.yaml] [--speed N] [--check] [--start 21:00]

The hub is the same Hub as `edgehub run` (runtime, rule engine, recorder, notifier); only its
backends differ: gpiozero's MockFactory with PWM pins, `sim:<scene>` camera sources rendered
live, a scaled clock, and owners whose phones are a loopback HTTP server. The fake world
publishes real sensor payloads on the broker. Without a scenario the home lives until Ctrl-C.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.config import Config
    from simulator.runner import Report

EXIT_FAILED = 1
EXIT_ERROR = 2


class Simulation:
    """One hub with simulated backends, its world and its observer; use as a context manager."""

    def __init__(
        self,
        config: Config,
        *,
        speed: float = 1.0,
        start: str | None = None,
        broker: str | None = None,
        data_dir: Path | None = None,
        out: Any = print,
        seed: int = 1,
    ) -> None:
        from simulator.clock import ScaledClock, start_time

        self.config = config.model_copy(deep=True)
        loc = self.config.hub.location
        self.tz = loc.timezone if loc is not None else "UTC"
        self.clock = ScaledClock(start_time(start, self.tz), speed, held=True)
        self.speed, self.broker_spec, self.out, self.seed = speed, broker, out, seed
        self._tmp = None if data_dir else tempfile.mkdtemp(prefix="edgehub-sim-")
        self.data_dir = Path(data_dir or self._tmp or ".").absolute()
        self.cameras: dict[str, Any] = {}
        self.hub: Any = None
        self._thread: threading.Thread | None = None
        self._errors: list[BaseException] = []

    # -- backends ---------------------------------------------------------------------------
    def _prepare(self) -> Any:
        from gpiozero.pins.mock import MockFactory, MockPWMPin

        from hub.config.models import MqttConfig
        from hub.wiring import Backends
        from simulator.phones import Phones

        cfg = self.config
        cfg.hub.data_dir = self.data_dir
        self.phones = Phones(clock=self.clock).start()
        for name, owner in cfg.owners.items():
            owner.notify = [self.phones.url(name)]
        if self.broker_spec:
            host, _, port = self.broker_spec.rpartition(":")
            cfg.mqtt = MqttConfig(host=host or "127.0.0.1", port=int(port))
        self.pins = MockFactory(pin_class=MockPWMPin)
        extra: dict[str, Any] = {}
        analyze = _classifier_factory()
        if analyze is not None:
            extra["camera_analyze"] = analyze
        return Backends(
            pin_factory=self.pins, clock=self.clock, camera_source=self._camera, extra=extra
        )

    def _camera(self, spec: str) -> Any:
        from simulator.scenes.source import source_for

        for name, dev in self.config.devices.items():
            if dev.type == "camera" and str(dev.source) == spec:
                d = dev.detect
                # fps x speed frames per real second keep clips true to the hub's clock; capped
                # at 25 fps, because every frame is rendered, diffed and maybe classified.
                speed = min(self.speed, max(1.0, 25.0 / d.fps))
                src = source_for(spec, d.width, d.height, d.fps, speed=speed)
                if src is not None:
                    self.cameras[name] = src
                return src
        return source_for(spec, speed=self.speed)

    def probe(self, device: str) -> str | None:
        """Return what a GPIO light's pin is doing: "GPIO17 0.60"."""
        dev = self.config.devices.get(device)
        gpio = getattr(dev, "gpio", None)
        if gpio is None:
            return None
        try:
            return f"GPIO{gpio.pin} {float(self.pins.pin(gpio.pin).state):.2f}"
        except Exception:
            return None

    # -- lifecycle --------------------------------------------------------------------------
    def __enter__(self) -> Simulation:
        try:
            return self._start()
        except BaseException:  # Ctrl-C or a failure mid-start: no broker or hub left behind
            self.close()
            raise

    def _start(self) -> Simulation:
        from hub.runtime import Hub
        from simulator.link import DeviceLink
        from simulator.runner import Runner
        from simulator.world import World

        backends = self._prepare()
        self.hub = Hub(self.config, backends=backends, log_events=False)
        self._thread = threading.Thread(target=self._run_hub, name="sim-hub", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 60
        while not self.hub.started.wait(0.1):
            if self._errors or not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError(f"the hub did not start: {self._errors or 'timeout'}")
        if self.speed != 1:
            asyncio.run_coroutine_threadsafe(self._pace_rules(), self.hub.loop)
        if self.config.mqtt is not None:
            host, port = self.config.mqtt.host, self.config.mqtt.port
        else:
            host, port = self.hub.broker.host, self.hub.broker.port
        loc = self.config.hub.location
        where = (loc.latitude, loc.longitude) if loc is not None else (52.37, 4.89)
        self.link = DeviceLink(host, port).connect()
        devices = {n: d.model_dump(mode="json") for n, d in self.config.devices.items()}
        self.world = World.from_devices(
            devices,
            self.link.publish,
            self.clock,
            seed=self.seed,
            location=where,
            subscribe=self.link.subscribe,
            tz=self.tz,
        )
        self.runner = Runner(
            host,
            port,
            self.config.hub.id,
            world=self.world,
            clock=self.clock,
            cameras=self.cameras,
            phones=self.phones,
            out=self.out,
            tz=self.tz,
            probe=self.probe,
        )
        self.runner.connect()
        return self

    def _run_hub(self) -> None:
        try:
            asyncio.run(self.hub.run(install_signals=False))
        except BaseException as e:  # reported by __enter__ / close
            self._errors.append(e)

    async def _pace_rules(self) -> None:
        # The rule host sleeps with the loop's (real) timers; on a clock running `speed`
        # times faster, wake it whenever the engine's next deadline has passed.
        while True:
            await asyncio.sleep(0.05)
            for comp in list(self.hub.components):
                if getattr(comp, "name", None) != "rules":
                    continue
                engine = getattr(comp, "engine", None)
                due = engine.next_deadline() if engine is not None else None
                if due is not None and due <= self.hub.now():
                    comp.tick()

    def close(self) -> None:
        """Stop the observer, the devices, the hub and the phones; remove the temp data."""
        for part in ("runner", "link"):
            obj = getattr(self, part, None)
            if obj is not None:
                with contextlib.suppress(Exception):
                    obj.close()
        if self.hub is not None:
            self.hub.request_stop()
        if self._thread is not None:
            self._thread.join(60)
        if getattr(self, "phones", None) is not None:
            self.phones.stop()
        if self._tmp:
            shutil.rmtree(self._tmp, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self.close()


def _classifier_factory() -> Any:
    """Return the shipped classifier pipeline factory (None without models/motion.onnx)."""
    try:
        from models.classifier import SHIPPED
        from models.pipeline import build_pipeline
    except ImportError:
        return None
    if not Path(SHIPPED).is_file():
        return None

    def analyze(name: str, cam: Any) -> Any:
        return build_pipeline(cam.classifier) if cam.classifier is not None else None

    return analyze


def run_scenarios(args: argparse.Namespace, config: Config) -> list[Report]:
    """Run each scenario in a fresh simulation; return the reports."""
    from simulator.scenario import load_scenario, scenario_files

    reports = []
    files = [f for s in args.scenario for f in scenario_files(s)]
    for path in files:
        scenario = load_scenario(path)
        speed = args.speed or scenario.speed
        print(f"== {scenario.name} ({path}, speed {speed:g})", flush=True)
        with Simulation(
            config,
            speed=speed,
            start=args.start or scenario.start,
            broker=args.broker,
            data_dir=Path(args.data_dir) / path.stem if args.data_dir else None,
            seed=args.seed,
            out=lambda line: print(line, flush=True),
        ) as sim:
            report = sim.runner.run(scenario)
        reports.append(report)
        ok = "ok" if report.ok else f"{len(report.failures)} failed"
        print(f"== {scenario.name}: {len(report.passed)} held, {ok}", flush=True)
    return reports


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def cmd_sim(args: argparse.Namespace) -> int:
    """Run scenarios (or the home, live) on the real hub with simulated backends."""
    import logging

    from hub.cli.daemon import _load
    from hub.logs import setup_logging

    config = _load(args.config)
    if config is None:
        return EXIT_ERROR
    # SIGTERM (systemd, `timeout`, a closed terminal) stops the simulation as Ctrl-C does, so
    # the hub and its embedded broker are shut down instead of the broker being left behind.
    signal.signal(signal.SIGTERM, _interrupt)
    setup_logging(args.log_level, config.logging.format)
    logging.getLogger("hub.events").setLevel(logging.WARNING)
    if not args.scenario:
        try:
            return _live(args, config)
        except RuntimeError as e:  # the hub or its embedded broker did not start
            print(f"edgehub sim: {e}", file=sys.stderr)
            return EXIT_ERROR
    try:
        reports = run_scenarios(args, config)
    except (ValueError, RuntimeError) as e:  # ScenarioError and WorldError are ValueErrors
        print(f"edgehub sim: {e}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    failures = [(r.scenario, f) for r in reports for f in r.failures]
    if failures:
        print(f"\n{len(failures)} expectation(s) did not hold:", file=sys.stderr)
        for name, f in failures:
            print(f"[{name}] {f}", file=sys.stderr)
    return EXIT_FAILED if (failures and args.check) else 0


def _live(args: argparse.Namespace, config: Config) -> int:
    import random

    from simulator.world import Ambient

    stop = threading.Event()
    with Simulation(
        config,
        speed=args.speed or 1.0,
        start=args.start,
        broker=args.broker,
        data_dir=Path(args.data_dir) if args.data_dir else None,
        seed=args.seed,
        out=lambda line: print(line, flush=True),
    ) as sim:
        where = f"{sim.runner.host}:{sim.runner.port}"
        print(f"edgehub sim: the example home is running (broker {where}); Ctrl-C stops it")
        if args.duration:
            timer = threading.Timer(args.duration, stop.set)
            timer.daemon = True
            timer.start()
        try:
            sim.runner.live(Ambient(sim.world, random.Random(args.seed)), stop, camera_every=60)
        except KeyboardInterrupt:
            stop.set()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser("sim", help="run the hub with simulated sensors, lights, cameras and phones")
    p.add_argument("scenario", nargs="*", help="scenario files or folders (none: live home)")
    p.add_argument("-c", "--config", default="hub.yaml", help="hub.yaml path")
    p.add_argument("--speed", type=float, help="clock speed (default: the scenario's, else 1)")
    p.add_argument("--check", action="store_true", help="exit 1 unless every expectation held")
    p.add_argument("--start", help="simulated time of day to start at, e.g. 21:00")
    p.add_argument("--broker", help="HOST:PORT of a running broker instead of the embedded one")
    p.add_argument("--data-dir", help="keep the hub's data here (default: a temp folder)")
    p.add_argument("--duration", type=float, help="live mode: stop after this many seconds")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--log-level", default="warning", choices=["debug", "info", "warning", "error"])
    p.set_defaults(func=cmd_sim)
