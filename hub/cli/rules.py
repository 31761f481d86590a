"""Subcommands: why (why a rule ran or not), test (rule tests), schema (JSON Schema of rules)."""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any

DEFAULT_CONFIG = "hub.yaml"
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _config(path: str | None, required: bool) -> Any:
    from hub.config import ConfigError, load_config

    if path is None and not required and not Path(DEFAULT_CONFIG).exists():
        return None
    try:
        return load_config(path or DEFAULT_CONFIG)
    except ConfigError as exc:
        for line in exc.errors:
            print(line, file=sys.stderr)
        raise SystemExit(1) from None
    except OSError as exc:
        print(f"cannot read config: {exc}", file=sys.stderr)
        raise SystemExit(1) from None


def cmd_test(args: argparse.Namespace) -> int:
    """Run rule tests; print each verdict and the traces of failures; exit 1 on failure."""
    from rules.testing import find_tests, run_test_file

    cfg = _config(args.config, required=False)
    paths = args.paths or ([cfg.rules] if cfg is not None and cfg.rules else ["."])
    files = find_tests(paths)
    if not files:
        print(f"no *.test.yaml files under {', '.join(map(str, paths))}", file=sys.stderr)
        return 1
    kw: dict[str, Any] = {}
    if cfg is not None:
        loc = cfg.hub.location
        kw = {"known_devices": cfg.device_types(), "location": loc}
        kw["timezone"] = loc.timezone if loc is not None else None
    passed = failed = 0
    t0 = time.perf_counter()
    for f in files:
        for outcome in run_test_file(f, **kw):
            print(outcome.report())
            passed, failed = passed + outcome.ok, failed + (not outcome.ok)
    print(f"{passed} passed, {failed} failed in {time.perf_counter() - t0:.2f}s")
    return 1 if failed else 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of rule files."""
    from rules import rules_json_schema

    print(json.dumps(rules_json_schema(), indent=2))
    return 0


def parse_since(text: str) -> float:
    """Return seconds for 30m, 1h, 2d, 90s."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([smhd])", text.strip())
    if not m:
        raise argparse.ArgumentTypeError(f"expected a duration such as 30m, 1h or 2d, got {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def explain_traces(rule: str, traces: list[Any], tz: Any = None) -> list[str]:
    """Return plain-words lines about why a rule ran or did not, one per evaluation."""
    lines = []
    for tr in traces:
        when = datetime.fromtimestamp(tr.ts, tz).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(f"{when}  {tr.explain()}")
        if tr.result == "conditions_false":
            for c in tr.conditions:
                mark = "ok " if c.get("verdict") else "NO "
                lines.append(f"    {mark}{c['path']}: {c.get('detail', '')}")
    ran = sum(t.result in ("ran", "resumed", "stopped") for t in traces)
    lines.append(f"{rule}: {len(traces)} evaluations, {ran} runs")
    return lines


def cmd_why(args: argparse.Namespace) -> int:
    """Print, in plain words, why a rule ran or did not for recent events that could trigger it."""
    from zoneinfo import ZoneInfo

    from hub.rules_host import read_traces

    cfg = _config(args.config, required=True)
    db_path = Path(cfg.hub.data_dir) / "edgehub.db"
    if not db_path.exists():
        print(f"no database at {db_path}: has the hub run here?", file=sys.stderr)
        return 1
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        traces = read_traces(db, args.rule, time.time() - args.since)
    except sqlite3.OperationalError as e:
        print(f"cannot read traces: {e}", file=sys.stderr)
        return 1
    finally:
        db.close()
    loc = cfg.hub.location
    tz = ZoneInfo(loc.timezone) if loc is not None else None
    if not traces:
        print(
            f"{args.rule}: nothing could have triggered it in the last {args.since / 60:g} min "
            "(no event matched any of its triggers; is the rule id right and enabled?)"
        )
        return 0
    for line in explain_traces(args.rule, traces[-args.limit :], tz):
        print(line)
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add this module's subcommands."""
    p = sub.add_parser("why", help="why a rule ran or did not run")
    p.add_argument("rule")
    p.add_argument("--since", type=parse_since, default=3600.0, help="how far back (30m, 1h, 2d)")
    p.add_argument("--limit", type=int, default=50, help="at most this many evaluations")
    p.add_argument("-c", "--config", default=DEFAULT_CONFIG)
    p.set_defaults(func=cmd_why)

    p = sub.add_parser("test", help="run rule tests (*.test.yaml)")
    p.add_argument("paths", nargs="*", help="test files or folders (default: the rules folder)")
    p.add_argument("-c", "--config", default=None)
    p.set_defaults(func=cmd_test)

    p = sub.add_parser("schema", help="print the JSON Schema of rule files")
    p.add_argument("what", nargs="?", default="rules", choices=["rules"])
    p.set_defaults(func=cmd_schema)
