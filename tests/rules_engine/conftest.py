"""Fixtures of the rule engine tests."""

from __future__ import annotations

import pytest
from rules_harness import Harness


@pytest.fixture
def harness() -> type[Harness]:
    """The Harness class (construct it with rule YAML)."""
    return Harness
