"""Replay: run a recorded window of the journal through new rules before trusting them."""

from hub.replay.errors import JournalError, ReplayError, RulesLoadError
from hub.replay.journal import Journal, JournalRow, is_rule_effect
from hub.replay.report import Report
from hub.replay.run import load_rule_dir, replay
from hub.replay.sim import RuleSim

__all__ = [
    "Journal",
    "JournalError",
    "JournalRow",
    "ReplayError",
    "Report",
    "RuleSim",
    "RulesLoadError",
    "is_rule_effect",
    "load_rule_dir",
    "replay",
]
