"""Fixtures of the store's tests: a real state file in ``tmp_path``."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from feedsite._store import State


@pytest.fixture
def state_path(tmp_path: Path) -> Path:
    return tmp_path / ".feedsite" / "state.sqlite"


@pytest.fixture
def state(state_path: Path) -> Iterator[State]:
    with State.open(state_path) as opened:
        yield opened
