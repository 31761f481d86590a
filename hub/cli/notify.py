"""Subcommands: `notify test OWNER` (send to every channel, print each answer), `notify outbox`."""

from __future__ import annotations

import argparse
import os
import socket
import time
from pathlib import Path

DEFAULT_CONFIG = os.environ.get("EDGEHUB_CONFIG", "hub.yaml")


def _load(path: str):  # -> hub.config.models.Config; imported lazily to keep `edgehub -h` fast
    from hub.config.loader import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        print(exc)
        return None


def _test(args: argparse.Namespace) -> int:
    import logging

    import apprise

    from hub.config.owners import NotifyConfig, OwnerConfigError, resolve_channels
    from hub.notify.channels import AppriseChannel

    cfg = _load(args.config)
    if cfg is None:
        return 2
    if args.owner not in cfg.owners:
        known = ", ".join(sorted(cfg.owners)) or "none"
        print(f"no owner {args.owner!r} in {args.config} (owners: {known})")
        return 2
    try:
        specs = resolve_channels({args.owner: cfg.owners[args.owner]}, cfg.secrets)[args.owner]
    except OwnerConfigError as exc:
        print(f"config error: {exc}")
        return 2
    if not specs:
        print(f"{args.owner} has no channels (owners.{args.owner}.notify is empty)")
        return 1
    timeout = (cfg.notify or NotifyConfig()).timeout
    title = f"edgehub test ({cfg.hub.id})"
    body = args.message or (
        f"Test message from hub {cfg.hub.id} on {socket.gethostname()} "
        f"at {time.strftime('%Y-%m-%d %H:%M:%S')}. If you read this, {args.owner}'s channel works."
    )
    failures = 0
    for spec in specs:
        ch = AppriseChannel(spec, timeout)
        t0 = time.monotonic()
        # apprise says what the service answered in its log; show its last words.
        with apprise.LogCapture(level=logging.INFO, fmt="%(message)s") as said:
            ok, answer = ch.send(title, body, "normal", args.attach, f"test-{time.time_ns()}")
        ms = (time.monotonic() - t0) * 1000
        lines = [ln for ln in said.getvalue().splitlines() if ln.strip()]
        if ok and lines:
            answer = lines[-1]
        print(f"{'OK  ' if ok else 'FAIL'} {spec.masked}  ({ms:.0f} ms)  {answer}")
        failures += not ok
    return 1 if failures else 0


def _outbox(args: argparse.Namespace) -> int:
    from hub.notify.outbox import Outbox

    cfg = _load(args.config)
    if cfg is None:
        return 2
    db = Path(cfg.hub.data_dir) / "edgehub.db"
    if not db.exists():
        print(f"no outbox yet ({db} does not exist)")
        return 0
    ob = Outbox(db)
    try:
        counts = ob.counts()
        print("  ".join(f"{k}={v}" for k, v in sorted(counts.items())) or "empty")
        rows = [r for r in ob.rows() if r.status in ("pending", "clip", "failed")]
        for r in rows[-args.limit :]:
            when = time.strftime("%m-%d %H:%M:%S", time.localtime(r.created))
            err = f"  last error: {r.last_error}" if r.last_error else ""
            print(f"{when} {r.status:8} {r.owner:10} {r.channel_name}  {r.title!r}{err}")
    finally:
        ob.close()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser("notify", help="owners' notifications: test channels, inspect the outbox")
    nsub = p.add_subparsers(dest="notify_command", metavar="ACTION", required=True)
    t = nsub.add_parser("test", help="send a test message to every channel of OWNER")
    t.add_argument("owner", metavar="OWNER")
    t.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="hub.yaml (default: %(default)s)")
    t.add_argument("-m", "--message", help="the text to send instead of the default")
    t.add_argument("--attach", metavar="FILE", help="a file to attach (for example a JPEG)")
    t.set_defaults(func=_test)
    o = nsub.add_parser("outbox", help="show the outbox: counts, then pending and failed rows")
    o.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="hub.yaml (default: %(default)s)")
    o.add_argument("-n", "--limit", type=int, default=20, help="rows to show (default: 20)")
    o.set_defaults(func=_outbox)
