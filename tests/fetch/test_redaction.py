"""Access keys (``?key=...``) never appear in messages; the real URL is kept for use."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from hypothesis import given
from hypothesis import strategies as st

from feedsite._fetch import Fetched, FetchFailure, FetchRequest, Skipped, Source
from feedsite._fetch._redact import proxy_label, redact
from tests.fetch.support import quick
from tests.helpers.feedserver import FeedServer, Response, closed_port_url, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher

SECRET = "s3cr3t-Key_42"


def test_redact_examples() -> None:
    assert redact("https://h/r?key=abc") == "https://h/r?key=***"
    assert (
        redact("https://h/r?limit=5&key=abc&format=rss") == "https://h/r?limit=5&key=***&format=rss"
    )
    assert redact("https://h/r?KEY=abc#frag") == "https://h/r?KEY=***#frag"
    assert redact("a: https://h/r?key=abc; b: https://i/r?key=def") == (
        "a: https://h/r?key=***; b: https://i/r?key=***"
    )
    assert redact("https://h/r?monkey=1&keys=2") == "https://h/r?monkey=1&keys=2"
    assert redact("no url here") == "no url here"


@given(
    secret=st.text(
        alphabet=st.characters(codec="ascii", categories=["L", "N"], include_characters="-_.~%"),
        min_size=1,
    ),
    before=st.sampled_from(["", "limit=5&"]),
    after=st.sampled_from(["", "&format=rss", "#x"]),
)
def test_redact_hides_any_key(secret: str, before: str, after: str) -> None:
    url = f"https://rsshub.example/route?{before}key={secret}{after}"

    assert redact(url) == f"https://rsshub.example/route?{before}key=***{after}"


def test_key_is_redacted_in_failover_and_failure_messages(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    down = feed_server.route(f"/a/route?key={SECRET}", Response(503))
    html = feed_server.route(f"/b/route?limit=1&key={SECRET}", Response.html())
    hang = feed_server.route(f"/c/route?key={SECRET}", Response.hang())
    dead = closed_port_url(f"/d/route?key={SECRET}")

    outcome = fetch.one(down, html, hang, dead, settings=quick(timeout=0.5, retries=1))

    assert isinstance(outcome, FetchFailure)
    assert SECRET not in outcome.message
    assert not any(SECRET in a.url + a.cause + a.note for a in outcome.attempts)
    assert outcome.failures[0] == f"{feed_server.url('/a/route')}?key=***: HTTP 503 (2 tries)"
    assert outcome.message.count("key=***") == 4
    assert all(attempt.url.endswith("key=***") for attempt in outcome.attempts)


def test_key_is_redacted_in_redirect_messages(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route(f"/old?key={SECRET}", Response.redirect(f"/new?key={SECRET}"))
    feed_server.route("/new", Response(404))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert SECRET not in outcome.message
    assert outcome.message.endswith(f"(redirected to {feed_server.url('/new')}?key=***)")


def test_fetched_keeps_the_real_urls(feed_server: FeedServer, fetch: Fetcher) -> None:
    bad = feed_server.route(f"/a?key={SECRET}", Response(500))
    good = feed_server.route(f"/b?key={SECRET}", Response.rss(rss()))

    outcome = fetch.one(bad, good)

    assert isinstance(outcome, Fetched)
    assert outcome.final_url == good
    assert outcome.source.url == good
    assert not any(SECRET in a.url + a.cause + a.note for a in outcome.attempts)
    assert outcome.failures == (f"{feed_server.url('/a')}?key=***: HTTP 500 (3 tries)",)
    assert feed_server.requests_for("/b")[0].query == f"key={SECRET}"


def test_proxy_label_hides_credentials() -> None:
    assert proxy_label("http://user:pa55@proxy.example:3128") == "http://proxy.example:3128"
    assert proxy_label("https://proxy.example") == "https://proxy.example"


def test_key_is_redacted_in_a_redirect_loop(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route(f"/loop?key={SECRET}", Response.redirect(f"/loop?key={SECRET}"))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert SECRET not in outcome.message
    assert "redirect loop" in outcome.message


def test_key_is_redacted_in_skipped_reasons(feed_server: FeedServer, fetch: Fetcher) -> None:
    bad = feed_server.route(f"/a?key={SECRET}", Response(404, delay=0.3))
    later = feed_server.route(f"/b?key={SECRET}", Response.rss(rss()))
    request = FetchRequest("feed", (Source("a", bad), Source("b", later)))

    outcome = fetch.many([request], settings=quick(), deadline=time.monotonic() + 0.1)["feed"]

    assert isinstance(outcome, Skipped)
    assert outcome.reason == (
        f"run deadline passed before trying {feed_server.url('/b')}?key=***; "
        f"earlier: {feed_server.url('/a')}?key=***: HTTP 404"
    )
