"""The one exception root of the rules package."""

from __future__ import annotations


class RulesError(Exception):
    """Root of every error raised by the rules package."""


class RuleSyntaxError(RulesError, ValueError):
    """A rule file or rule is not valid; the message carries file:line: keypath: problem."""


class RuleRuntimeError(RulesError, RuntimeError):
    """A rule failed while it ran (bad template, unknown rule id...)."""
