"""Subcommands: install-service, uninstall-service."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from hub.service_install import Report, ServiceInstaller


def _finish(report: Report, root: Path) -> int:
    for step in report.steps:
        print(step)
    if not report.changed:
        print("nothing changed")
    if root.resolve() != Path("/"):
        print(f"(installed under {root}; commands marked 'skipped' need the target's systemd)")
    return 0


def _check_root(root: Path) -> str | None:
    # Only a real install needs root; a --root tree is just files.
    if root.resolve() == Path("/") and os.geteuid() != 0:
        return "must run as root to install a system service (try sudo, or --root DIR)"
    return None


def _run(command: str, args: argparse.Namespace, act: Callable[[ServiceInstaller], Report]) -> int:
    # Both subcommands: the same root check, the same errors, the same report.
    from hub.service_install import ServiceInstaller, ServiceInstallError

    root = Path(args.root)
    if problem := _check_root(root):
        print(f"edgehub {command}: {problem}", file=sys.stderr)
        return 1
    try:
        report = act(ServiceInstaller(root, args.user))
    except (ServiceInstallError, OSError) as exc:
        print(f"edgehub {command}: {exc}", file=sys.stderr)
        return 1
    return _finish(report, root)


def _install(args: argparse.Namespace) -> int:
    return _run("install-service", args, lambda inst: inst.install(args.config))


def _uninstall(args: argparse.Namespace) -> int:
    return _run("uninstall-service", args, lambda inst: inst.uninstall(purge=args.purge))


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser(
        "install-service",
        help="install, enable and start the hardened systemd service",
        description="Create the service user, /etc/edgehub/hub.yaml (kept if present), "
        "/var/lib/edgehub and the unit, then enable and start it. Safe to run again.",
    )
    p.add_argument("--root", default="/", help="install under this directory instead of /")
    p.add_argument("--user", default="edgehub", help="service user (default: edgehub)")
    p.add_argument(
        "--config",
        type=Path,
        help="hub.yaml to install as /etc/edgehub/hub.yaml (default: the example home)",
    )
    p.set_defaults(func=_install)

    u = sub.add_parser(
        "uninstall-service",
        help="stop and remove the systemd service (keeps config and data)",
        description="Stop, disable and remove the unit. Config, data and the user stay "
        "unless --purge.",
    )
    u.add_argument("--root", default="/", help="uninstall under this directory instead of /")
    u.add_argument("--user", default="edgehub", help="service user (default: edgehub)")
    u.add_argument("--purge", action="store_true", help="also remove config, data and the user")
    u.set_defaults(func=_uninstall)
