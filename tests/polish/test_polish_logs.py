"""Item 2: journald gets `<N>`-prefixed one-line events; a terminal gets colour, a file none."""

from __future__ import annotations

import io
import logging
import re

import pytest

from hub.logs import setup_logging, under_journald

STAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z ")


@pytest.fixture
def root_logging():
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


def emit_some(log: logging.Logger) -> None:
    log.debug("debug line")
    log.info("light porch on")
    log.log(25, "a notice")
    log.warning("camera porch offline")
    try:
        raise RuntimeError("decoder fault")
    except RuntimeError:
        log.exception("frame processing failed")
    log.critical("fatal: rules cannot recover")


def test_under_systemd_lines_carry_the_priority_and_no_timestamp(monkeypatch, root_logging) -> None:
    monkeypatch.setenv("JOURNAL_STREAM", "8:12345")
    buf = io.StringIO()
    setup_logging("debug", "text", buf)
    emit_some(logging.getLogger("hub.test"))
    lines = buf.getvalue().splitlines()
    assert len(lines) == 6  # the traceback stays on its event's line
    assert [line[:3] for line in lines] == ["<7>", "<6>", "<5>", "<4>", "<3>", "<2>"]
    assert lines[1] == "<6>INFO hub.test light porch on"
    assert lines[3] == "<4>WARNING hub.test camera porch offline"
    assert lines[4].startswith("<3>ERROR hub.test frame processing failed\\nTraceback")
    assert "RuntimeError: decoder fault" in lines[4]
    assert not any(STAMP.match(line[3:]) for line in lines)
    assert "\x1b[" not in buf.getvalue()


def test_without_systemd_lines_have_a_timestamp_and_no_colour(monkeypatch, root_logging) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    buf = io.StringIO()
    setup_logging("debug", "text", buf)
    emit_some(logging.getLogger("hub.test"))
    lines = buf.getvalue().splitlines()
    assert len(lines) == 6
    assert all(STAMP.match(line) for line in lines)
    assert lines[3].endswith("WARNING hub.test camera porch offline")
    assert not any(line.startswith("<") for line in lines)
    assert "\x1b[" not in buf.getvalue()


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_coloured_levels_and_a_readable_traceback(
    monkeypatch, root_logging
) -> None:
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    tty = Terminal()
    setup_logging("info", "text", tty)
    emit_some(logging.getLogger("hub.test"))
    out = tty.getvalue()
    assert "\x1b[33mWARNING\x1b[0m hub.test camera porch offline" in out
    assert "failed\nTraceback" in out


def test_journal_stream_must_name_our_stream(monkeypatch, tmp_path) -> None:
    import os

    with open(tmp_path / "log.txt", "w") as f:
        st = os.fstat(f.fileno())
        assert under_journald(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"})
        # Inherited by a child whose stderr now goes to a file: not the journal.
        assert not under_journald(f, {"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino + 1}"})
        assert not under_journald(f, {})
