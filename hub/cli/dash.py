"""Subcommand: dash, the Textual dashboard over the hub's MQTT topics."""

from __future__ import annotations

import argparse
import sys


def _dash(args: argparse.Namespace) -> int:
    from hub.dash import DashConfigError, DashLink, LinkSettings
    from hub.dash.app import DashApp

    try:
        if args.mqtt:
            settings = LinkSettings.parse_address(args.mqtt, args.hub or "home")
        elif args.config:
            settings = LinkSettings.from_config(args.config, args.hub)
        else:
            settings = LinkSettings(hub_id=args.hub or "home")
    except DashConfigError as exc:
        print(f"edgehub dash: {exc}", file=sys.stderr)
        return 2
    from hub.dash.multi import ALL, MultiDashLink

    DashApp((MultiDashLink if settings.hub_id == ALL else DashLink)(settings)).run()
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser("dash", help="the terminal dashboard (talks to the hub over MQTT)")
    where = p.add_mutually_exclusive_group()
    where.add_argument("-c", "--config", help="the hub's YAML config (broker, credentials, TLS)")
    where.add_argument(
        "--mqtt", metavar="HOST:PORT", help="the broker to use (default 127.0.0.1:1883)"
    )
    p.add_argument(
        "--hub", metavar="ID", help="the hub id (default from config, else home); '*' for all hubs"
    )
    p.set_defaults(func=_dash)
