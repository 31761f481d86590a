"""Subcommands: run (the daemon in the foreground) and check (validate the config)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hub.config import Config

DEFAULT_CONFIG = "hub.yaml"


def _load(path: str) -> Config | None:
    from hub.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        return None


def _check_rules(config: Config) -> list[str]:
    """Validate the rules folder when the rule engine is installed."""
    if config.rules is None:
        return []
    try:
        from rules import load_rules  # type: ignore[attr-defined]
    except ImportError:
        return []
    result = load_rules(config.rules, known_devices=config.device_types())
    return [str(e) for e in getattr(result, "errors", [])]


def cmd_check(args: argparse.Namespace) -> int:
    """Validate the config (and rules); print every error; exit 0 or 1."""
    config = _load(args.config)
    if config is None:
        return 1
    errors = _check_rules(config)
    for line in errors:
        print(line, file=sys.stderr)
    if errors:
        return 1
    print(f"{args.config}: ok ({len(config.devices)} devices)")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """Run the hub in the foreground until SIGTERM/SIGINT."""
    from hub.logs import setup_logging

    config = _load(args.config)
    if config is None:
        return 1
    if args.data_dir:
        config.hub.data_dir = Path(args.data_dir).absolute()
    setup_logging(args.log_level or config.logging.level, config.logging.format)
    from hub.runtime import run_hub

    asyncio.run(run_hub(config, log_events=args.log_events or config.logging.events))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    run = sub.add_parser("run", help="run the hub in the foreground")
    run.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="hub.yaml path")
    run.add_argument("--log-level", choices=["debug", "info", "warning", "error"])
    run.add_argument("--log-events", action="store_true", help="log every event, one line each")
    run.add_argument("--data-dir", help="override hub.data_dir")
    run.set_defaults(func=cmd_run)
    check = sub.add_parser("check", help="validate the config and rules; exit 1 on errors")
    check.add_argument("-c", "--config", default=DEFAULT_CONFIG, help="hub.yaml path")
    check.set_defaults(func=cmd_check)
