"""Failover: sources are tried in order until one answers with a feed or a 304."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from feedsite._fetch import Fetched, FetchFailure, FetchRequest, NotModified, Source
from feedsite.types import Validators
from tests.fetch.support import quick
from tests.helpers.feedserver import FeedServer, Response, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher


@pytest.mark.parametrize(
    ("status", "tries"),
    [
        *[(status, 3) for status in (500, 502, 503, 504, 429, 408)],
        *[(status, 1) for status in (404, 403, 400, 401, 410)],
    ],
)
def test_http_error_fails_over_to_the_next_source(
    feed_server: FeedServer, fetch: Fetcher, status: int, tries: int
) -> None:
    bad = feed_server.route("/bad/feed", Response(status, "nope"))
    good = feed_server.route("/good/feed", Response.rss(rss()))

    outcome = fetch.one(bad, good)

    assert isinstance(outcome, Fetched)
    assert outcome.source.url == good
    retried = f" ({tries} tries)" if tries > 1 else ""
    assert outcome.failures == (f"{bad}: HTTP {status}{retried}",)
    assert feed_server.hits("/bad/feed") == tries
    assert [a.verdict for a in outcome.attempts] == ["retry"] * (tries - 1) + [
        "failover",
        "fetched",
    ]
    assert [a.status for a in outcome.attempts] == [status] * tries + [200]


def test_html_page_fails_over(feed_server: FeedServer, fetch: Fetcher) -> None:
    portal = feed_server.route("/portal", Response.html())
    good = feed_server.route("/good", Response.rss(rss()))

    outcome = fetch.one(portal, good)

    assert isinstance(outcome, Fetched)
    assert outcome.failures == (f"{portal}: 200 but not a feed (text/html)",)
    assert feed_server.hits("/portal") == 1


def test_not_a_feed_without_content_type(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/page", Response(200, "hello", content_type=None))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: 200 but not a feed (no Content-Type)"


def test_html_page_title_is_named(feed_server: FeedServer, fetch: Fetcher) -> None:
    page = "<html><head><title>\n  Just a   moment...</title></head><body>x</body></html>"
    url = feed_server.route("/cf", Response.html(page))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f'{url}: 200 but not a feed (text/html, title "Just a moment...")'


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
    assert outcome.failures == (
        f"{a}: HTTP 503 (3 tries)",
        f"{b}: HTTP 404",
        f"{c}: 200 but not a feed (text/html)",
    )
    assert outcome.message == "; ".join(outcome.failures)
    assert [(x.url, x.number) for x in outcome.attempts] == [
        (a, 1),
        (a, 2),
        (a, 3),
        (b, 1),
        (c, 1),
    ]


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

    outcome = fetch.many([request], settings=quick(retries=0))["feed"]

    assert isinstance(outcome, NotModified)
    assert outcome.source == b
    assert outcome.failures == (f"{a.url}: HTTP 502",)
    assert [(x.label, x.status, x.verdict) for x in outcome.attempts] == [
        (a.label, 502, "failover"),
        (b.label, 304, "not_modified"),
    ]
    assert feed_server.requests_for("/a/feed")[0].header("If-None-Match") == '"a1"'
    assert feed_server.requests_for("/b/feed")[0].header("If-None-Match") == '"b1"'


def test_flaky_source_is_asked_again_on_the_next_run(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    url = feed_server.route("/flaky", [Response(503), Response.rss(rss())])

    assert isinstance(fetch.one(url, settings=quick(retries=0)), FetchFailure)
    assert isinstance(fetch.one(url, settings=quick(retries=0)), Fetched)


def test_flaky_source_is_retried_within_the_run(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/flaky", [Response(503), Response(502), Response.rss(rss())])
    other = feed_server.route("/other", Response.rss(rss("other")))

    outcome = fetch.one(url, other)

    assert isinstance(outcome, Fetched)
    assert outcome.source.url == url
    assert outcome.failures == ()
    assert [(x.status, x.verdict) for x in outcome.attempts] == [
        (503, "retry"),
        (502, "retry"),
        (200, "fetched"),
    ]
    assert feed_server.hits("/other") == 0
