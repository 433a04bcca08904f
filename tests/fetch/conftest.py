"""Fixtures of the fetch stage's tests.

``feed_server`` is a fresh ``tests.helpers.feedserver.FeedServer`` per test, stopped
(threads joined, connections closed) when the test ends. Copy this fixture into
another suite's conftest to use it there.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest

from feedsite._fetch import (
    FetchOutcome,
    FetchRequest,
    Source,
    fetch_all_sync,
)
from feedsite.config import FetchConfig
from feedsite.types import Validators
from tests.fetch.support import pinned_jitter, quick
from tests.helpers.feedserver import FeedServer


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A running loopback feed server; see ``tests/helpers/feedserver.py``."""
    with FeedServer() as server:
        yield server


def is_rss(body: bytes) -> bool:
    """The tests' stand-in for the parse stage's ``is_feed``."""
    return body.lstrip().startswith(b"<rss")


class Fetcher:
    """Calls ``fetch_all_sync`` with the tests' defaults (``quick()``, ``pinned_jitter``)."""

    is_feed = staticmethod(is_rss)

    def __init__(self) -> None:
        self.settings = quick()

    def many(
        self,
        requests: Sequence[FetchRequest],
        settings: FetchConfig | None = None,
        on_done: Callable[[str, FetchOutcome], None] | None = None,
        *,
        deadline: float | None = None,
    ) -> dict[str, FetchOutcome]:
        """Fetch several feeds."""
        return fetch_all_sync(
            requests,
            settings or self.settings,
            is_rss,
            on_done,
            deadline=deadline,
            jitter=pinned_jitter,
        )

    def one(
        self,
        *urls: str,
        validators: Mapping[str, Validators] | None = None,
        settings: FetchConfig | None = None,
    ) -> FetchOutcome:
        """Fetch one feed whose sources are ``urls`` (each URL is its own label)."""
        request = FetchRequest(
            key="feed",
            sources=tuple(Source(label=url, url=url) for url in urls),
            validators=validators or {},
        )
        return self.many([request], settings)["feed"]


@pytest.fixture
def fetch() -> Fetcher:
    """``fetch.one(url, ...)`` / ``fetch.many(requests)``; ``fetch.settings`` are ``quick()``."""
    return Fetcher()
