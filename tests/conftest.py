"""Shared fixtures: the read-only corpora, a project folder, a loopback feed server."""

from __future__ import annotations

import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.helpers.feedserver import FeedServer

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"


@pytest.fixture(scope="session")
def shared() -> Path:
    """``../shared`` beside the repository (CI lays it there)."""
    if not (SHARED / "corpora").is_dir():
        pytest.fail(f"../shared is missing ({SHARED}): the corpora are needed by this test")
    return SHARED


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running loopback feed server; see ``tests/helpers/feedserver.py``."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def project(tmp_path: Path) -> Callable[[str], Path]:
    """Write ``feedsite.yaml`` (dedented) into a temp folder; returns its path."""

    def write(text: str) -> Path:
        path = tmp_path / "feedsite.yaml"
        path.write_text(textwrap.dedent(text), encoding="utf-8")
        return path

    return write
