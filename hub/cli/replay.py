"""Subcommand: replay (run a recorded window of the journal through new rules).

edgehub replay -c hub.yaml --rules NEW_DIR [--since 7d | --from T --to T] [--speed max]
               [--json] [--export FILE]

Exit 0 when the new rules would have done exactly what the current rules did, 1 when they
differ, 2 on an error (missing or corrupt journal, rules with errors, bad times).
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from hub.cli.rules import parse_since

EXIT_SAME, EXIT_DIFFERENT, EXIT_ERROR = 0, 1, 2


def parse_time(text: str, tz: str) -> float:
    """Return epoch seconds for an ISO date/time (local to tz when naive) or an epoch number."""
    from rules.timeutil import zone

    try:
        return float(text)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO time such as 2026-11-26T18:00, got {text!r}") from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=zone(tz))
    return dt.timestamp()


class ProgressBar:
    """A one-line progress bar on a terminal; silent when the stream is not a terminal."""

    def __init__(self, stream: TextIO, width: int = 30) -> None:
        self.stream, self.width = stream, width
        self.enabled = stream.isatty()
        self._t0 = time.perf_counter()
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        """Redraw at most 10 times a second, and always at the end."""
        if not self.enabled:
            return
        now = time.perf_counter()
        if done < total and now - self._last < 0.1:
            return
        self._last = now
        frac = min(1.0, done / total) if total else 1.0
        bar = "#" * int(frac * self.width)
        rate = done / max(now - self._t0, 1e-9)
        line = f"\rreplay [{bar:<{self.width}}] {frac:4.0%} {done:,}/{total:,} events {rate:,.0f}/s"
        self.stream.write(line + ("\n" if done >= total else ""))
        self.stream.flush()


def cmd_replay(args: argparse.Namespace) -> int:
    """Replay the journal through --rules and print what would have been different."""
    from hub.cli.daemon import _load
    from hub.replay import ReplayError, RulesLoadError, replay
    from hub.store import DB_NAME

    config = _load(args.config)
    if config is None:
        return EXIT_ERROR
    loc = config.hub.location
    tz = loc.timezone if loc is not None else "UTC"
    try:
        start, end = _window(args, tz)
    except ValueError as exc:
        print(f"edgehub replay: {exc}", file=sys.stderr)
        return EXIT_ERROR
    lights = [n for n, d in config.devices.items() if d.type == "light"]
    kw: dict[str, Any] = {
        "current_rules": config.rules,
        "start": start,
        "end": end,
        "known_devices": config.device_types(),
        "lights": lights,
        "location": loc,
        "timezone": tz,
        "progress": ProgressBar(sys.stderr),
        "export": args.export,
    }
    try:
        report = replay(Path(config.hub.data_dir) / DB_NAME, args.rules, **kw)
    except RulesLoadError as exc:
        print(f"edgehub replay: {str(exc).splitlines()[0]}", file=sys.stderr)
        for line in exc.errors:
            print(f"  {line}", file=sys.stderr)
        return EXIT_ERROR
    except ReplayError as exc:
        print(f"edgehub replay: {exc}", file=sys.stderr)
        return EXIT_ERROR
    print(report.to_json() if args.json else report.render())
    return EXIT_SAME if report.identical else EXIT_DIFFERENT


def _window(args: argparse.Namespace, tz: str) -> tuple[float | None, float | None]:
    if args.since is not None and (args.from_ or args.to):
        raise ValueError("give --since or --from/--to, not both")
    if args.since is not None:
        return time.time() - args.since, None
    start = parse_time(args.from_, tz) if args.from_ else None
    end = parse_time(args.to, tz) if args.to else None
    if start is None and end is None:
        return time.time() - 7 * 86400, None
    return start, end


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser(
        "replay", help="run the recorded journal through new rules and show what would change"
    )
    p.add_argument("-c", "--config", default="hub.yaml", help="hub.yaml path")
    p.add_argument("--rules", required=True, help="the folder of the new rules to try")
    p.add_argument("--since", type=parse_since, help="replay the last 30m, 12h, 7d (default 7d)")
    p.add_argument("--from", dest="from_", help="start: an ISO time (local) or epoch seconds")
    p.add_argument("--to", help="end: an ISO time (local) or epoch seconds")
    p.add_argument(
        "--speed",
        default="max",
        choices=["max"],
        help="virtual time runs as fast as the machine allows (the only speed)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--export", metavar="FILE", help="also write the window as a rule-test file")
    p.set_defaults(func=cmd_replay)
