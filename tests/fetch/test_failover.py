"""Failover: sources are tried in order until one answers with a feed or a 304."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from feedsite._fetch import Fetched, FetchFailure, FetchRequest, NotModified, Source, Validators
from tests.helpers.feedserver import FeedServer, Response, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher


@pytest.mark.parametrize("status", [500, 502, 503, 404, 429, 403, 400, 401, 410])
def test_http_error_fails_over_to_the_next_source(
    feed_server: FeedServer, fetch: Fetcher, status: int
) -> None:
    bad = feed_server.route("/bad/feed", Response(status, "nope"))
    good = feed_server.route("/good/feed", Response.rss(rss()))

    outcome = fetch.one(bad, good)

    assert isinstance(outcome, Fetched)
    assert outcome.source.url == good
    assert outcome.attempts == (f"{bad}: HTTP {status}",)
    assert feed_server.hits("/bad/feed") == 1


def test_html_page_fails_over(feed_server: FeedServer, fetch: Fetcher) -> None:
    portal = feed_server.route("/portal", Response.html())
    good = feed_server.route("/good", Response.rss(rss()))

    outcome = fetch.one(portal, good)

    assert isinstance(outcome, Fetched)
    assert outcome.attempts == (f"{portal}: 200 but not a feed (text/html)",)


def test_not_a_feed_without_content_type(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/blank", Response(200, "", content_type=None))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: 200 but not a feed (no Content-Type)"


def test_failure_after_a_redirect_names_the_target(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/old", Response.redirect("/gone"))
    feed_server.route("/gone", Response(410))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: HTTP 410 (redirected to {feed_server.url('/gone')})"


def test_first_good_source_wins_and_later_ones_are_not_asked(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    first = feed_server.route("/one", Response.rss(rss("one")))
    second = feed_server.route("/two", Response.rss(rss("two")))

    outcome = fetch.one(first, second)

    assert isinstance(outcome, Fetched)
    assert outcome.body == rss("one").encode()
    assert feed_server.hits("/two") == 0


def test_all_sources_failing_lists_every_attempt(feed_server: FeedServer, fetch: Fetcher) -> None:
    a = feed_server.route("/a", Response(503))
    b = feed_server.route("/b", Response(404))
    c = feed_server.route("/c", Response.html())

    outcome = fetch.one(a, b, c)

    assert isinstance(outcome, FetchFailure)
    assert outcome.attempts == (
        f"{a}: HTTP 503",
        f"{b}: HTTP 404",
        f"{c}: 200 but not a feed (text/html)",
    )
    assert outcome.message == "; ".join(outcome.attempts)


def test_not_modified_from_a_later_source_keeps_the_trail(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    a = Source(label=feed_server.base_url + "/a", url=feed_server.url("/a/feed"))
    b = Source(label=feed_server.base_url + "/b", url=feed_server.url("/b/feed"))
    feed_server.route("/a/feed", Response(502))
    feed_server.route("/b/feed", Response.rss(rss(), etag='"b1"'))
    request = FetchRequest(
        key="feed",
        sources=(a, b),
        validators={a.label: Validators(etag='"a1"'), b.label: Validators(etag='"b1"')},
    )

    outcome = fetch.many([request])["feed"]

    assert outcome == NotModified(source=b, attempts=(f"{a.url}: HTTP 502",))
    assert feed_server.requests_for("/a/feed")[0].header("If-None-Match") == '"a1"'
    assert feed_server.requests_for("/b/feed")[0].header("If-None-Match") == '"b1"'


def test_flaky_source_is_asked_again_on_the_next_run(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    url = feed_server.route("/flaky", [Response(503), Response.rss(rss())])

    assert isinstance(fetch.one(url), FetchFailure)
    assert isinstance(fetch.one(url), Fetched)
