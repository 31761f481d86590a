"""Subcommands: why, test, schema (placeholder until its issue lands)."""

from __future__ import annotations

import argparse


def _not_yet(args: argparse.Namespace) -> int:
    print(f"edgehub {args.command}: not implemented yet")
    return 2


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    sub.add_parser("why", help="(not implemented yet)").set_defaults(func=_not_yet)
    sub.add_parser("test", help="(not implemented yet)").set_defaults(func=_not_yet)
    sub.add_parser("schema", help="(not implemented yet)").set_defaults(func=_not_yet)
