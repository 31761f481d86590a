"""The `edgehub` command: one console script, one module per group of subcommands."""

from __future__ import annotations

import argparse
import importlib
import os
import sys

# Each module defines register(subparsers) and binds its handler with set_defaults(func=...).
# A handler takes the parsed args and returns the process exit code.
_COMMAND_MODULES = (
    "hub.cli.daemon",  # run, check
    "hub.cli.journal",  # events
    "hub.cli.rules",  # why, test, schema
    "hub.cli.notify",  # notify test
    "hub.cli.sim",  # sim
    "hub.cli.dash",  # dash
    "hub.cli.service",  # install-service, uninstall-service
    "hub.cli.replay",  # replay
)


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="edgehub", description="A smart-home hub for a Raspberry Pi."
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in _COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the edgehub command line and return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # `edgehub events | head`: the reader left; point stdout at devnull so the
        # interpreter's final flush does not raise again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
