"""Proxies: the global one, per-feed overrides, one client per proxy, proxy failures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from feedsite._fetch import Fetched, FetchFailure, FetchRequest, Source, fetch_all_sync
from tests.fetch.conftest import is_rss
from tests.fetch.support import pinned_jitter, quick
from tests.helpers.feedserver import FeedServer, ForwardProxy, Response, closed_port_url, rss


@pytest.fixture
def proxy() -> Iterator[ForwardProxy]:
    """A loopback forward proxy."""
    with ForwardProxy() as running:
        yield running


def _request(key: str, url: str, proxy: str | None = None) -> FetchRequest:
    return FetchRequest(key, (Source(url, url),), proxy=proxy)


def test_global_proxy_carries_the_request(feed_server: FeedServer, proxy: ForwardProxy) -> None:
    url = feed_server.route("/feed?limit=5", Response.rss(rss("via proxy"), etag='"p1"'))

    outcomes = fetch_all_sync(
        [_request("feed", url)], quick(proxy=proxy.url), is_rss, jitter=pinned_jitter
    )

    outcome = outcomes["feed"]
    assert isinstance(outcome, Fetched)
    assert outcome.body == rss("via proxy").encode()
    assert outcome.validators.etag == '"p1"'
    assert proxy.targets == [url]
    (seen,) = feed_server.requests
    assert (seen.path, seen.query) == ("/feed", "limit=5")
    assert (seen.header("User-Agent") or "").startswith("feedsite/")


def test_feed_proxy_overrides_the_global_one(feed_server: FeedServer, proxy: ForwardProxy) -> None:
    direct = feed_server.route("/direct", Response.rss(rss()))
    proxied = feed_server.route("/proxied", Response.rss(rss()))
    inherits = feed_server.route("/inherits", Response.rss(rss()))
    dead_proxy = closed_port_url("").rstrip("/")

    outcomes = fetch_all_sync(
        [
            _request("direct", direct, proxy=""),  # "" = no proxy, despite the global one
            _request("proxied", proxied, proxy=proxy.url),
            _request("inherits", inherits),
        ],
        quick(proxy=dead_proxy, retries=0),
        is_rss,
        jitter=pinned_jitter,
    )

    assert isinstance(outcomes["direct"], Fetched)
    assert isinstance(outcomes["proxied"], Fetched)
    assert proxy.targets == [proxied]
    failed = outcomes["inherits"]
    assert isinstance(failed, FetchFailure)
    assert failed.message.startswith(f"{inherits}: cannot connect: ")
    assert failed.message.endswith(f" (via proxy {dead_proxy})")


def test_each_distinct_proxy_gets_its_requests(feed_server: FeedServer) -> None:
    urls = [feed_server.route(f"/f{n}", Response.rss(rss())) for n in range(4)]
    with ForwardProxy() as first, ForwardProxy() as second:
        requests = [
            _request(f"f{n}", url, proxy=(first, second)[n % 2].url) for n, url in enumerate(urls)
        ]

        outcomes = fetch_all_sync(requests, quick(), is_rss, jitter=pinned_jitter)

        assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
        assert sorted(first.targets) == [urls[0], urls[2]]
        assert sorted(second.targets) == [urls[1], urls[3]]


def test_proxy_credentials_never_appear_in_messages(feed_server: FeedServer) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))
    port = closed_port_url("").rsplit(":", 1)[1].rstrip("/")
    secret_proxy = f"http://user:pa55word@127.0.0.1:{port}"

    settings = quick(proxy=secret_proxy, retries=0)
    outcome = fetch_all_sync([_request("feed", url)], settings, is_rss, jitter=pinned_jitter)[
        "feed"
    ]

    assert isinstance(outcome, FetchFailure)
    assert "pa55word" not in outcome.message
    assert outcome.message.endswith(f" (via proxy http://127.0.0.1:{port})")


def test_proxy_errors_are_retried_then_fail_over(
    feed_server: FeedServer, proxy: ForwardProxy
) -> None:
    # The proxy answers 502 when it cannot reach the upstream: an ordinary 5xx.
    unreachable = closed_port_url("/feed")
    good = feed_server.route("/good", Response.rss(rss()))
    request = FetchRequest("feed", (Source("a", unreachable), Source("b", good)), proxy=proxy.url)

    outcome = fetch_all_sync([request], quick(), is_rss, jitter=pinned_jitter)["feed"]

    assert isinstance(outcome, Fetched)
    assert outcome.failures == (f"{unreachable}: HTTP 502 (3 tries)",)
    assert proxy.targets == [unreachable] * 3 + [good]
