"""Logging setup: one line per event, key=value fields, quiet libraries.

Under systemd (JOURNAL_STREAM names our stderr) each line starts with the sd-daemon priority
`<N>` and carries no timestamp, since journald parses the one and adds the other; so
`journalctl -u edgehub -p warning` shows warnings and worse. Tracebacks are folded onto the
line (newlines escaped) so one event stays one journal entry. Colour only on a terminal.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Mapping
from typing import Any

# ANSI colours of the level name on a terminal.
_COLOURS = {
    logging.DEBUG: "\x1b[2m",
    logging.INFO: "",
    logging.WARNING: "\x1b[33m",
    logging.ERROR: "\x1b[31m",
    logging.CRITICAL: "\x1b[1;31m",
}
_RESET = "\x1b[0m"


def syslog_priority(levelno: int) -> int:
    """Return the sd-daemon priority (7 debug ... 2 critical) of a logging level."""
    if levelno >= logging.CRITICAL:
        return 2
    if levelno >= logging.ERROR:
        return 3
    if levelno >= logging.WARNING:
        return 4
    if levelno > logging.INFO:
        return 5  # between INFO and WARNING: notice
    if levelno >= logging.INFO:
        return 6
    return 7


def under_journald(stream: Any = None, environ: Mapping[str, str] | None = None) -> bool:
    """Return True when stream (default stderr) goes to the systemd journal."""
    env = os.environ if environ is None else environ
    value = env.get("JOURNAL_STREAM")
    if not value:
        return False
    try:
        st = os.fstat((stream or sys.stderr).fileno())
    except (AttributeError, OSError, ValueError):
        return True  # not a real file (tests, wrappers): trust the environment
    # A child whose stderr was redirected inherits the variable: it must name this stream.
    return value == f"{st.st_dev}:{st.st_ino}"


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class TextFormatter(logging.Formatter):
    """`time level logger message`; `<N>level logger message` for journald; colour on a tty."""

    def __init__(self, *, journal: bool = False, colour: bool = False) -> None:
        super().__init__("%(levelname)s %(name)s %(message)s")
        self.journal = journal
        self.colour = colour and not journal

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line (a multi-line traceback only on a terminal)."""
        text = record.getMessage()
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            text = f"{text}\n{record.exc_text}"
        if record.stack_info:
            text = f"{text}\n{self.formatStack(record.stack_info)}"
        level = record.levelname
        if self.colour:
            level = f"{_COLOURS.get(record.levelno, '')}{level}{_RESET}"
        else:
            # One event, one line: a reader (or journald) must not see a traceback as events.
            text = text.replace("\r", "\\r").replace("\n", "\\n")
        line = f"{level} {record.name} {text}"
        if self.journal:
            return f"<{syslog_priority(record.levelno)}>{line}"
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
        return f"{stamp}.{int(record.msecs):03d}Z {line}"


class JsonFormatter(logging.Formatter):
    """One JSON object per line (for log shippers)."""

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as a JSON line."""
        out = {
            "ts": round(record.created, 3),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def make_formatter(fmt: str = "text", stream: Any = None) -> logging.Formatter:
    """Return the formatter for fmt ("text" or "json") writing to stream (default stderr)."""
    stream = stream or sys.stderr
    if fmt == "json":
        return JsonFormatter()
    if under_journald(stream):
        return TextFormatter(journal=True)
    colour = _is_tty(stream) and "NO_COLOR" not in os.environ
    return TextFormatter(colour=colour)


def setup_logging(level: str = "info", fmt: str = "text", stream: object = None) -> None:
    """Configure the root logger once for the edgehub process."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(make_formatter(fmt, handler.stream))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    # Libraries speak only when something is wrong.
    for name in ("paho", "amqtt", "transitions", "asyncio", "PIL", "apprise"):
        logging.getLogger(name).setLevel(max(logging.WARNING, root.level))
