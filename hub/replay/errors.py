"""The one exception root of the replay package."""

from __future__ import annotations


class ReplayError(RuntimeError):
    """A replay cannot be run (bad journal, bad rules, bad time window)."""


class JournalError(ReplayError):
    """The journal is missing, corrupt or not an edgehub journal; the message names the file."""


class RulesLoadError(ReplayError, ValueError):
    """A rules folder has errors; .errors holds one file:line message per problem."""

    def __init__(self, folder: str, errors: list[str]):
        super().__init__(f"rules in {folder} have errors:\n" + "\n".join(errors))
        self.errors = errors
