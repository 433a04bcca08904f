"""Network trouble: timeouts, refused connections, oversized bodies, odd URLs."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest

from feedsite._fetch import Fetched, FetchFailure
from tests.fetch.support import quick
from tests.helpers.feedserver import FeedServer, Response, closed_port_url, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher

FAST = quick(timeout=0.5, retries=0)


def test_hanging_server_times_out_promptly(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/hang", Response.hang())

    started = time.monotonic()
    outcome = fetch.one(url, settings=FAST)
    elapsed = time.monotonic() - started

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: timed out after 0.5 s waiting for the response"
    (attempt,) = outcome.attempts
    assert (attempt.status, attempt.verdict) == (None, "failover")
    assert 0.5 <= attempt.elapsed < 1.0
    assert elapsed < 2.0


def test_read_timeout_is_named_when_shorter(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/hang", Response.hang())

    outcome = fetch.one(url, settings=quick(timeout=2.0, read_timeout=0.3, retries=0))

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == (
        f"{url}: timed out after 0.3 s without data waiting for the response"
    )


def test_timeouts_are_retried(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/slow", [Response.hang(), Response.rss(rss())])

    outcome = fetch.one(url, settings=quick(timeout=0.3))

    assert isinstance(outcome, Fetched)
    assert [a.verdict for a in outcome.attempts] == ["retry", "fetched"]


def test_timeout_fails_over(feed_server: FeedServer, fetch: Fetcher) -> None:
    slow = feed_server.route("/hang", Response.hang())
    good = feed_server.route("/good", Response.rss(rss()))

    outcome = fetch.one(slow, good, settings=FAST)

    assert isinstance(outcome, Fetched)
    assert outcome.failures == (f"{slow}: timed out after 0.5 s waiting for the response",)


def test_slow_drip_body_hits_the_total_deadline(feed_server: FeedServer, fetch: Fetcher) -> None:
    # Each piece arrives well within the read timeout; the whole body does not.
    url = feed_server.route("/drip", Response.rss(rss(items=20), chunk_delay=0.2, chunks=20))

    started = time.monotonic()
    outcome = fetch.one(url, settings=FAST)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message.startswith(f"{url}: timed out after 0.5 s reading the body, ")
    assert outcome.message.endswith(" bytes received")
    assert time.monotonic() - started < 2.0


def test_connection_refused_is_a_failure(fetch: Fetcher) -> None:
    url = closed_port_url("/feed")

    outcome = fetch.one(url, settings=FAST)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message.startswith(f"{url}: cannot connect: ")
    assert "refused" in outcome.message.lower()


def test_connection_refused_fails_over(feed_server: FeedServer, fetch: Fetcher) -> None:
    dead = closed_port_url("/feed")
    good = feed_server.route("/feed", Response.rss(rss()))

    outcome = fetch.one(dead, good, settings=FAST)

    assert isinstance(outcome, Fetched)
    assert outcome.failures[0].startswith(f"{dead}: cannot connect: ")


@pytest.mark.parametrize(
    ("encoding", "detail"), [(None, " (Content-Length: 200011)"), ("gzip", ""), ("deflate", "")]
)
def test_body_over_max_body_is_a_failure(
    feed_server: FeedServer, fetch: Fetcher, encoding: str | None, detail: str
) -> None:
    body = "<rss>" + "x" * 200_000 + "</rss>"
    url = feed_server.route("/big", Response.rss(body, encoding=encoding))

    outcome = fetch.one(url, settings=quick(max_body=100_000))

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: body larger than 100000 bytes{detail}"
    assert feed_server.hits("/big") == 1


def test_body_exactly_max_body_is_fine(feed_server: FeedServer, fetch: Fetcher) -> None:
    body = rss().encode()
    url = feed_server.route("/feed", Response.rss(body))

    outcome = fetch.one(url, settings=quick(max_body=len(body)))

    assert isinstance(outcome, Fetched)


@pytest.mark.parametrize(
    ("url", "cause"),
    [
        ("ftp://127.0.0.1/feed", "unsupported URL"),
        ("http://", "unsupported URL"),
        ("not a url", "unsupported URL"),
    ],
)
def test_unusable_url_is_a_failure_not_an_exception(fetch: Fetcher, url: str, cause: str) -> None:
    outcome = fetch.one(url, settings=FAST)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message.startswith(f"{url}: {cause}")


def test_dropped_connection_is_a_protocol_error(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/crash", Response.drop_connection())

    outcome = fetch.one(url, settings=FAST)

    assert isinstance(outcome, FetchFailure)
    assert (
        outcome.message == f"{url}: protocol error: Server disconnected without sending a response."
    )
