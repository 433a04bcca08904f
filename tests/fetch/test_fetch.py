"""Plain fetches: a 200, conditional GET round trips, compression, headers, redirects, max_age."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from feedsite._fetch import (
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    NotModified,
    Source,
)
from feedsite.types import Validators
from tests.fetch.support import quick
from tests.helpers.feedserver import FeedServer, Response, rss

if TYPE_CHECKING:
    from tests.fetch.conftest import Fetcher

LAST_MODIFIED = "Tue, 15 Nov 1994 12:45:26 GMT"


def test_200_gives_body_content_type_and_validators(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    url = feed_server.route("/feed", Response.rss(rss("A"), etag='"v1"'))

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.body == rss("A").encode()
    assert outcome.content_type == "application/rss+xml; charset=utf-8"
    assert outcome.final_url == url
    assert outcome.source == Source(label=url, url=url)
    assert outcome.validators == Validators(etag='"v1"', last_modified=None)
    assert outcome.failures == ()
    (attempt,) = outcome.attempts
    assert (attempt.label, attempt.url, attempt.number) == (url, url, 1)
    assert (attempt.status, attempt.cause, attempt.verdict, attempt.ok) == (
        200,
        "HTTP 200",
        "fetched",
        True,
    )
    assert 0 < attempt.elapsed < 5


def test_etag_round_trip_gives_not_modified(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss(), etag='"v1"'))

    first = fetch.one(url)
    assert isinstance(first, Fetched)
    second = fetch.one(url, validators={url: first.validators})

    assert isinstance(second, NotModified)
    assert second.source == Source(label=url, url=url)
    assert [(a.status, a.cause, a.verdict) for a in second.attempts] == [
        (304, "HTTP 304", "not_modified")
    ]
    sent = feed_server.requests_for("/feed")
    assert sent[0].header("If-None-Match") is None
    assert sent[1].header("If-None-Match") == '"v1"'


def test_last_modified_round_trip_gives_not_modified(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    url = feed_server.route("/feed", Response.rss(rss(), last_modified=LAST_MODIFIED))

    first = fetch.one(url)
    assert isinstance(first, Fetched)
    assert first.validators == Validators(etag=None, last_modified=LAST_MODIFIED)
    second = fetch.one(url, validators={url: first.validators})

    assert isinstance(second, NotModified)
    assert feed_server.requests_for("/feed")[1].header("If-Modified-Since") == LAST_MODIFIED


def test_changed_etag_gives_the_new_body(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss("new"), etag='"v2"'))

    outcome = fetch.one(url, validators={url: Validators(etag='"v1"')})

    assert isinstance(outcome, Fetched)
    assert outcome.validators.etag == '"v2"'
    assert outcome.body == rss("new").encode()


def test_validators_are_looked_up_by_source_label(feed_server: FeedServer, fetch: Fetcher) -> None:
    feed_server.route("/feed", Response.rss(rss(), etag='"v1"'))
    request = FetchRequest(
        key="feed",
        sources=(Source(label=feed_server.base_url, url=feed_server.url("/feed")),),
        validators={
            feed_server.base_url: Validators(etag='"v1"', last_modified=LAST_MODIFIED),
            "https://other.example": Validators(etag='"other"'),
        },
    )

    outcome = fetch.many([request])["feed"]

    assert isinstance(outcome, NotModified)
    (sent,) = feed_server.requests
    assert sent.header("If-None-Match") == '"v1"'
    assert sent.header("If-Modified-Since") == LAST_MODIFIED


def test_unsendable_validators_are_dropped(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))

    outcome = fetch.one(url, validators={url: Validators(etag='"é"', last_modified="a\nb")})

    assert isinstance(outcome, Fetched)
    (sent,) = feed_server.requests
    assert sent.header("If-None-Match") is None
    assert sent.header("If-Modified-Since") is None


def test_304_to_an_unconditional_get_is_a_failure(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response(304, content_type=None))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: HTTP 304 to a request that was not conditional"


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compressed_body_is_decoded(feed_server: FeedServer, fetch: Fetcher, encoding: str) -> None:
    body = rss(items=50)
    url = feed_server.route("/feed", Response.rss(body, encoding=encoding))

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.body == body.encode()


def test_request_headers(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))

    fetch.one(url)

    (sent,) = feed_server.requests
    assert sent.method == "GET"
    assert sent.header("Accept-Encoding") == "gzip, deflate"
    assert (sent.header("User-Agent") or "").startswith("feedsite/")
    accept = sent.header("Accept") or ""
    assert accept.startswith("application/rss+xml, application/atom+xml, application/feed+json")
    assert "*/*;q=0.8" in accept


def test_redirects_are_followed_and_final_url_kept(feed_server: FeedServer, fetch: Fetcher) -> None:
    feed_server.route("/old", Response.redirect("/moved", status=301))
    feed_server.route("/moved", Response.redirect(feed_server.url("/feed?x=1")))
    final = feed_server.route("/feed", Response.rss(rss()))
    url = feed_server.url("/old")

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.final_url == final + "?x=1"
    assert outcome.source.url == url


def test_redirect_to_itself_fails_fast(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/loop", Response.redirect("/loop"))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: redirect loop: {url} -> {url}"
    assert feed_server.hits("/loop") == 1


def test_redirect_cycle_fails_at_the_first_repeat(feed_server: FeedServer, fetch: Fetcher) -> None:
    start = feed_server.route("/start", Response.redirect("/a"))
    a = feed_server.route("/a", Response.redirect("/b"))
    b = feed_server.route("/b", Response.redirect("/a"))

    outcome = fetch.one(start)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{start}: redirect loop: {a} -> {b} -> {a}"
    assert [feed_server.hits(p) for p in ("/start", "/a", "/b")] == [1, 1, 1]


@pytest.mark.parametrize(("limit", "hops", "fetched"), [(10, 10, True), (10, 11, False)])
def test_redirect_limit(
    feed_server: FeedServer, fetch: Fetcher, limit: int, hops: int, fetched: bool
) -> None:
    for n in range(hops):
        feed_server.route(f"/hop{n}", Response.redirect(f"/hop{n + 1}"))
    feed_server.route(f"/hop{hops}", Response.rss(rss()))

    outcome = fetch.one(feed_server.url("/hop0"), settings=quick(max_redirects=limit))

    assert isinstance(outcome, Fetched) is fetched
    if not fetched:
        assert isinstance(outcome, FetchFailure)
        assert outcome.message == (
            f"{feed_server.url('/hop0')}: too many redirects (more than 10)"
            f" (redirected to {feed_server.url('/hop11')})"
        )
        assert feed_server.hits("/hop11") == 0


def test_outcomes_come_in_request_order_and_on_done_sees_each(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    feed_server.route("/slow", Response.rss(rss(), delay=0.3))
    feed_server.route("/fast", Response.rss(rss()))
    requests = [
        FetchRequest(key=name, sources=(Source(name, feed_server.url(f"/{name}")),))
        for name in ("slow", "fast")
    ]
    done: list[tuple[str, FetchOutcome]] = []

    outcomes = fetch.many(requests, on_done=lambda key, outcome: done.append((key, outcome)))

    assert list(outcomes) == ["slow", "fast"]
    assert [key for key, _ in done] == ["fast", "slow"]
    assert dict(done) == outcomes


def test_no_requests_gives_empty_result(fetch: Fetcher) -> None:
    assert fetch.many([]) == {}


def test_duplicate_keys_are_rejected(fetch: Fetcher) -> None:
    request = FetchRequest(key="same", sources=())
    with pytest.raises(ValueError, match="duplicate feed key"):
        fetch.many([request, request])


def test_no_sources_is_a_failure(fetch: Fetcher) -> None:
    outcome = fetch.many([FetchRequest(key="lonely", sources=())])["lonely"]

    assert outcome == FetchFailure(message="lonely: no sources to fetch from", attempts=())


# -- freshness: how long the answer says it stays fresh (max_age) --------------------


def test_max_age_of_a_200(feed_server: FeedServer, fetch: Fetcher) -> None:
    cached = feed_server.route(
        "/cached", Response.rss(rss(), headers={"Cache-Control": "public, max-age=300"})
    )
    plain = feed_server.route("/plain", Response.rss(rss()))
    uncached = feed_server.route(
        "/nostore", Response.rss(rss(), headers={"Cache-Control": "no-store"})
    )

    outcomes = [fetch.one(url) for url in (cached, plain, uncached)]

    assert all(isinstance(outcome, Fetched) for outcome in outcomes)
    assert [outcome.max_age for outcome in outcomes] == [300.0, None, 0.0]  # type: ignore[union-attr]


def test_max_age_from_expires_minus_the_servers_date(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    expires = format_datetime(datetime.now(UTC) + timedelta(seconds=120), usegmt=True)
    url = feed_server.route("/feed", Response.rss(rss(), headers={"Expires": expires}))

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.max_age == pytest.approx(120, abs=2)


def test_max_age_less_the_age_a_cache_gave(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route(
        "/feed", Response.rss(rss(), headers={"Cache-Control": "max-age=600", "Age": "590"})
    )

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    assert outcome.max_age == 10.0


def test_max_age_of_a_304(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route(
        "/feed", Response(304, content_type=None, headers={"Cache-Control": "max-age=60"})
    )

    outcome = fetch.one(url, validators={url: Validators(etag='"v1"')})

    assert isinstance(outcome, NotModified)
    assert outcome.max_age == 60.0


def test_a_files_max_age_is_unknown(tmp_path: Path, fetch: Fetcher) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(rss(), encoding="utf-8")

    outcome = fetch.one(path.as_uri())

    assert isinstance(outcome, Fetched)
    assert outcome.max_age is None


# -- what aiohttp must not do on its own ---------------------------------------------


def test_no_cookies_are_kept_between_requests(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route(
        "/feed", Response.rss(rss(), headers={"Set-Cookie": "session=abc; Path=/"})
    )

    fetch.many([FetchRequest(f"f{n}", (Source(url, url),)) for n in range(3)])

    assert [request.header("Cookie") for request in feed_server.requests] == [None] * 3


def test_source_headers_go_on_every_hop_and_override_the_defaults(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    start = feed_server.route("/start", Response.redirect("/feed"))
    feed_server.route("/feed", Response.rss(rss()))
    headers = (("Referer", "https://example.org/"), ("Accept", "application/rss+xml"))
    request = FetchRequest("feed", (Source(start, start, headers),))

    outcome = fetch.many([request])["feed"]

    assert isinstance(outcome, Fetched)
    for sent in feed_server.requests:
        assert sent.header("Referer") == "https://example.org/"
        assert sent.header("Accept") == "application/rss+xml"


def test_a_header_that_cannot_be_sent_is_a_failure(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))
    request = FetchRequest("feed", (Source(url, url, (("Referer", "a\r\nX-Evil: 1"),)),))

    outcome = fetch.many([request])["feed"]

    assert isinstance(outcome, FetchFailure)
    assert outcome.message.startswith(f"{url}: cannot send the request: ")
    assert feed_server.requests == []


def test_non_ascii_header_value_does_not_crash(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/feed", Response.rss(rss()))
    request = FetchRequest("feed", (Source(url, url, (("Referer", "https://例子.cn/页"),)),))

    outcome = fetch.many([request])["feed"]

    assert isinstance(outcome, Fetched)  # sent as UTF-8, as browsers do
    assert feed_server.requests[0].header("Referer") is not None


def test_a_redirect_to_a_host_that_does_not_decode_fails_only_its_feed(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    # "xn--a" is no valid IDNA label: reading the host raises UnicodeError inside yarl.
    bad = feed_server.route("/old", Response.redirect("http://xn--a/feed"))
    good = feed_server.route("/good", Response.rss(rss()))

    outcome = fetch.one(bad, good)

    assert isinstance(outcome, Fetched)
    assert outcome.source.url == good
    assert "unsupported URL: bad host" in outcome.attempts[0].cause


def test_a_redirect_on_the_same_server_keeps_the_credentials(
    feed_server: FeedServer, fetch: Fetcher
) -> None:
    feed_server.route("/old", Response.redirect("/feed"))
    feed_server.route("/feed", Response.rss(rss()))
    url = feed_server.url("/old").replace("http://", "http://reader:s3cret@")

    outcome = fetch.one(url)

    assert isinstance(outcome, Fetched)
    sent = [(r.path, r.header("Authorization")) for r in feed_server.requests]
    auth = "Basic " + base64.b64encode(b"reader:s3cret").decode()
    assert sent == [("/old", auth), ("/feed", auth)]


def test_redirect_to_another_scheme_is_a_failure(feed_server: FeedServer, fetch: Fetcher) -> None:
    url = feed_server.route("/old", Response.redirect("ftp://127.0.0.1/feed"))

    outcome = fetch.one(url)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == (
        f"{url}: unsupported URL: scheme 'ftp' (redirected to ftp://127.0.0.1/feed)"
    )
