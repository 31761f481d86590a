"""Subcommand: events (read the journal: --since 10m, --device NAME, --kind, --follow)."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from datetime import datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from hub.store import DB_NAME, read_events
from rules.events import Event

_SINCE = re.compile(r"^(\d+(?:\.\d+)?)\s*(s|m|h|d)$")
_UNIT = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_since(text: str, now: float) -> float:
    """Return the epoch time for '10m', '2h', '1d', '30s' ago, or an ISO date/time."""
    m = _SINCE.match(text.strip())
    if m:
        return now - float(m.group(1)) * _UNIT[m.group(2)]
    from datetime import datetime

    try:
        dt = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--since: expected 10m, 2h, 1d or an ISO time, got {text!r}"
        ) from None
    return dt.timestamp()


def format_event(e: Event, tz: tzinfo | None = None) -> str:
    """Return one line: time (in the hub's time zone), kind, source, data, cause."""
    t = datetime.fromtimestamp(e.ts, tz).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]
    cause = f" cause={e.cause}" if e.cause else ""
    return f"{t} {e.kind:<16} {e.source:<16} {json.dumps(e.data, default=str)}{cause}"


def cmd_events(args: argparse.Namespace) -> int:
    """Print journaled events, oldest first; with --follow, keep printing new ones."""
    from hub.cli.daemon import _load

    tz: tzinfo | None = None
    if args.data_dir and not Path(args.config).exists():
        data_dir = Path(args.data_dir)
    else:
        config = _load(args.config)
        if config is None:
            return 1
        data_dir = Path(args.data_dir) if args.data_dir else config.hub.data_dir
        if config.hub.location is not None:
            tz = ZoneInfo(config.hub.location.timezone)
    db = data_dir / DB_NAME
    if not db.exists() and not args.follow:
        print(f"no journal at {db}", file=sys.stderr)
        return 1
    since = parse_since(args.since, time.time()) if args.since else None
    last = None
    limit = None if (args.since or args.follow) and args.limit is None else (args.limit or 50)
    while True:
        try:
            for e in read_events(
                db, since=since, device=args.device, kind=args.kind, after_id=last, limit=limit
            ):
                print(json.dumps(e.to_dict()) if args.json else format_event(e, tz), flush=True)
                last = e.id
        except sqlite3.OperationalError as exc:
            if not args.follow:
                print(f"cannot read {db}: {exc}", file=sys.stderr)
                return 1
        if not args.follow:
            return 0
        limit = None
        time.sleep(0.5)


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser("events", help="read the event journal (--since, --device, --follow)")
    p.add_argument("-c", "--config", default="hub.yaml", help="hub.yaml path")
    p.add_argument("--data-dir", help="read this data directory instead of the config's")
    p.add_argument("--since", help="only events newer than 10m, 2h, 1d or an ISO time")
    p.add_argument("--device", help="only events whose source is this device")
    p.add_argument("--kind", help="only this kind (and its sub-kinds: 'camera' matches camera.*)")
    p.add_argument("--limit", type=int, help="the last N events (default 50 without --since)")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing new events")
    p.set_defaults(func=cmd_events)
