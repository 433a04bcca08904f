"""Many feeds at once: isolation of failures, the concurrency bound, bugs propagate."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from feedsite._fetch import (
    Fetched,
    FetchFailure,
    FetchRequest,
    Source,
    fetch_all,
)
from feedsite.config import FetchConfig
from tests.fetch.support import quick
from tests.helpers.feedserver import FeedServer, Response, closed_port_url, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher


def _request(key: str, *urls: str) -> FetchRequest:
    return FetchRequest(key=key, sources=tuple(Source(url, url) for url in urls))


def test_broken_feeds_do_not_affect_good_ones(feed_server: FeedServer, fetch: Fetcher) -> None:
    for n in range(5):
        feed_server.route(f"/good/{n}", Response.rss(rss(f"good {n}")))
    feed_server.route("/error", Response(500))
    feed_server.route("/html", Response.html())
    feed_server.route("/hang", Response.hang())
    requests = [_request(f"good{n}", feed_server.url(f"/good/{n}")) for n in range(5)]
    requests += [
        _request("error", feed_server.url("/error")),
        _request("html", feed_server.url("/html")),
        _request("hang", feed_server.url("/hang")),
        _request("refused", closed_port_url()),
        _request("missing", "file:///nonexistent/feed.xml"),
    ]

    outcomes = fetch.many(requests, settings=quick(timeout=0.5, retries=1))

    for n in range(5):
        good = outcomes[f"good{n}"]
        assert isinstance(good, Fetched)
        assert good.body == rss(f"good {n}").encode()
    for key in ("error", "html", "hang", "refused", "missing"):
        assert isinstance(outcomes[key], FetchFailure), key


@pytest.mark.parametrize("concurrency", [1, 3])
def test_concurrency_bound_is_respected(
    feed_server: FeedServer, fetch: Fetcher, concurrency: int
) -> None:
    feed_server.route("/feed", Response.rss(rss(), delay=0.1))
    requests = [_request(f"f{n}", feed_server.url(f"/feed?n={n}")) for n in range(7)]

    outcomes = fetch.many(requests, settings=quick(concurrency=concurrency, per_host=8))

    assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
    assert feed_server.hits("/feed") == 7
    assert feed_server.max_concurrent == concurrency


def test_bound_counts_requests_over_sources_and_retries(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    feed_server.route("/bad", Response(503, delay=0.1))
    feed_server.route("/good", Response.rss(rss(), delay=0.1))
    requests = [
        _request(f"f{n}", feed_server.url(f"/bad?n={n}"), feed_server.url(f"/good?n={n}"))
        for n in range(4)
    ]

    outcomes = fetch.many(requests, settings=quick(concurrency=2, per_host=8))

    assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
    assert feed_server.max_concurrent == 2


def test_is_feed_bug_propagates(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))

    def broken(body: bytes) -> bool:
        raise RuntimeError("bug in is_feed")

    with pytest.raises(RuntimeError, match="bug in is_feed"):
        asyncio.run(fetch_all([_request("feed", url)], FetchConfig(), broken))


def test_fetch_all_runs_inside_an_existing_loop(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))

    async def main() -> dict[str, object]:
        return dict(await fetch_all([_request("feed", url)], FetchConfig(), fetch.is_feed))

    assert isinstance(asyncio.run(main())["feed"], Fetched)
