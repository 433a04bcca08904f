"""Fault injection on a real loopback server: every case fails or succeeds precisely.

Each case runs one faulty feed (on its own server) together with healthy feeds
(on another server, so another host) in one ``fetch_all`` call, and checks:
the call ends within the case's time budget, the healthy feeds are all
``Fetched``, the faulty feed's message names its URL and the precise cause,
and memory stays bounded (the tracemalloc peak of the call, below
``MEMORY_BOUND``).

Set ``FEEDSITE_FAULT_TABLE=<path>`` to append one JSON line per case (case,
outcome, message, seconds, peak MiB) to that file.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest

from feedsite._fetch import (
    Deferred,
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    Skipped,
    Source,
    fetch_all_sync,
)
from feedsite._fetch._policy import retry_delay
from feedsite.config import FetchConfig
from tests.fetch.conftest import is_rss
from tests.fetch.support import Measure, measured, pinned_jitter, quick
from tests.helpers.feedserver import (
    GB,
    MB,
    FeedServer,
    Response,
    SilentServer,
    filler,
    rss,
)

#: Most a case may allocate above its start (tracemalloc peak).
MEMORY_BOUND = 60 * MB
HEALTHY = 3
#: Retries with 37.5 ms and 75 ms backoff; a Retry-After of up to 2 s is slept.
FAULTS = quick(
    timeout=1.0,
    connect_timeout=0.5,
    read_timeout=0.5,
    retries=2,
    backoff_base=0.05,
    backoff_cap=2.0,
)
DEFAULT_MAX_BODY = FetchConfig().max_body


@pytest.fixture
def bad() -> Iterator[FeedServer]:
    """The server of the faulty feed."""
    with FeedServer() as server:
        yield server


@pytest.fixture
def healthy() -> Iterator[FeedServer]:
    """Another server (another host:port) with ``HEALTHY`` good feeds."""
    with FeedServer() as server:
        for n in range(HEALTHY):
            server.route(f"/ok/{n}", Response.rss(rss(f"ok {n}")))
        yield server


def _message(outcome: FetchOutcome) -> str:
    match outcome:
        case FetchFailure(message=message) | Deferred(message=message):
            return message
        case Skipped(reason=reason):
            return reason
        case _:
            return type(outcome).__name__


def _record(case: str, outcome: FetchOutcome, measure: Measure) -> None:
    path = os.environ.get("FEEDSITE_FAULT_TABLE")
    if not path:
        return
    row = {
        "case": case,
        "outcome": type(outcome).__name__,
        "message": _message(outcome),
        "seconds": round(measure.seconds, 3),
        "peak_mib": round(measure.peak_mb, 2),
    }
    with open(path, "a", encoding="utf-8") as table:
        table.write(json.dumps(row, ensure_ascii=False) + "\n")


def run_case(
    case: str,
    bad_urls: Sequence[str],
    healthy: FeedServer,
    settings: FetchConfig = FAULTS,
    *,
    deadline: float | None = None,
    jitter: Callable[[], float] = pinned_jitter,
) -> tuple[FetchOutcome, Measure]:
    """Fetch the faulty feed with the healthy ones; check the healthy ones and memory."""
    requests = [FetchRequest("bad", tuple(Source(url, url) for url in bad_urls))]
    requests += [
        FetchRequest(f"ok{n}", (Source(healthy.base_url, healthy.url(f"/ok/{n}")),))
        for n in range(HEALTHY)
    ]
    with measured() as measure:
        outcomes = fetch_all_sync(requests, settings, is_rss, deadline=deadline, jitter=jitter)
    for n in range(HEALTHY):
        good = outcomes[f"ok{n}"]
        assert isinstance(good, Fetched), (n, good)
        assert good.body == rss(f"ok {n}").encode()
    assert measure.peak < MEMORY_BOUND, f"{case}: peak {measure.peak_mb:.1f} MiB"
    _record(case, outcomes["bad"], measure)
    return outcomes["bad"], measure


# -- statuses ------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503, 429])
def test_server_errors_are_retried_then_fail(
    bad: FeedServer, healthy: FeedServer, status: int
) -> None:
    url = bad.route("/feed", Response(status, "down"))

    outcome, measure = run_case(f"{status} without Retry-After", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: HTTP {status} (3 tries)"
    assert bad.hits("/feed") == 3
    assert measure.seconds < 1.0


@pytest.mark.parametrize("status", [503, 429])
def test_short_retry_after_is_slept_and_the_retry_succeeds(
    bad: FeedServer, healthy: FeedServer, status: int
) -> None:
    url = bad.route(
        "/feed", [Response(status, headers={"Retry-After": "1"}), Response.rss(rss("late"))]
    )

    outcome, measure = run_case(f"{status} with Retry-After: 1", [url], healthy)

    assert isinstance(outcome, Fetched)
    assert outcome.body == rss("late").encode()
    first, second = outcome.attempts
    assert (first.status, first.verdict, first.wait) == (status, "retry", 1.0)
    assert second.verdict == "fetched"
    sent = bad.requests_for("/feed")
    assert 1.0 <= sent[1].time - sent[0].time < 1.3
    assert measure.seconds < 1.6


def test_retry_after_date_in_the_past_retries_at_once(bad: FeedServer, healthy: FeedServer) -> None:
    past = format_datetime(datetime.now(UTC) - timedelta(minutes=5), usegmt=True)
    url = bad.route("/feed", [Response(503, headers={"Retry-After": past}), Response.rss(rss())])

    outcome, measure = run_case("503 with a past Retry-After date", [url], healthy)

    assert isinstance(outcome, Fetched)
    assert outcome.attempts[0].wait == 0.0
    assert measure.seconds < 0.5


def _in_an_hour() -> str:
    return format_datetime(datetime.now(UTC) + timedelta(hours=1), usegmt=True)


@pytest.mark.parametrize(
    ("status", "header"),
    [(503, "3600"), (429, "3600"), (503, "date"), (429, "date")],
)
def test_long_retry_after_defers_the_feed(
    bad: FeedServer, healthy: FeedServer, status: int, header: str
) -> None:
    value = _in_an_hour() if header == "date" else header
    url = bad.route("/feed", Response(status, headers={"Retry-After": value}))
    before = datetime.now(UTC)

    outcome, measure = run_case(f"{status} with Retry-After {header} (1 h)", [url], healthy)

    assert isinstance(outcome, Deferred)
    assert before + timedelta(seconds=3598) <= outcome.until <= before + timedelta(seconds=3602)
    assert re.fullmatch(
        rf"{re.escape(url)}: HTTP {status}; Retry-After 3\d\d\d(\.\d)? s is longer than "
        rf"backoff_cap \(2\.0 s\): deferred until "
        + re.escape(f"{outcome.until:%Y-%m-%dT%H:%M:%SZ}"),
        outcome.message,
    ), outcome.message
    (attempt,) = outcome.attempts
    assert (attempt.verdict, attempt.status) == ("defer", status)
    assert bad.hits("/feed") == 1
    assert measure.seconds < 0.5


def test_retry_after_past_the_run_deadline_defers(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", Response(503, headers={"Retry-After": "2"}))
    deadline = time.monotonic() + 1.0

    outcome, measure = run_case(
        "503, Retry-After 2 s with 1 s of budget", [url], healthy, deadline=deadline
    )

    assert isinstance(outcome, Deferred)
    assert outcome.message.startswith(
        f"{url}: HTTP 503; Retry-After 2 s passes the run deadline: deferred until "
    )
    assert measure.seconds < 0.5


def test_a_deferring_instance_fails_over_to_the_next(bad: FeedServer, healthy: FeedServer) -> None:
    limited = bad.route("/one/feed", Response(429, headers={"Retry-After": "600"}))
    other = bad.route("/two/feed", Response.rss(rss("two")))

    outcome, _ = run_case("429 long Retry-After, then another instance", [limited, other], healthy)

    assert isinstance(outcome, Fetched)
    assert outcome.source.url == other
    assert [a.verdict for a in outcome.attempts] == ["defer", "fetched"]


# -- broken connections and slow servers ------------------------------------------


def test_connection_reset_mid_body(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", Response.rss(rss(items=300), reset_after=2000))

    outcome, measure = run_case("connection reset mid-body", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert re.fullmatch(
        rf"{re.escape(url)}: connection error: Connection reset by peer after \d+ body bytes"
        r" \(3 tries\)",
        outcome.message,
    ), outcome.message
    assert bad.hits("/feed") == 3
    assert measure.seconds < 1.0


def test_server_that_accepts_and_never_answers(healthy: FeedServer) -> None:
    with SilentServer() as silent:
        url = silent.url("/feed")
        outcome, measure = run_case("accepts, never answers", [url], healthy)
        connections = silent.connections

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == (
        f"{url}: timed out after 0.5 s without data waiting for the response (3 tries)"
    )
    assert connections == 3
    # 3 read timeouts of 0.5 s and backoffs of 37.5 + 75 ms
    assert 1.6 <= measure.seconds < 2.2


def test_trickling_server_is_cut_at_the_total_timeout(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", Response.trickle(rss(), interval=1.0))
    settings = quick(timeout=2.5, read_timeout=2.0, retries=0)  # each byte beats the read timeout

    outcome, measure = run_case("trickles 1 byte/s", [url], healthy, settings)

    assert isinstance(outcome, FetchFailure)
    assert re.fullmatch(
        rf"{re.escape(url)}: timed out after 2\.5 s reading the body, [23] bytes received",
        outcome.message,
    ), outcome.message
    assert 2.5 <= measure.seconds < 3.0


def test_truncated_body(bad: FeedServer, healthy: FeedServer) -> None:
    body = rss(items=5).encode()
    url = bad.route("/feed", Response.rss(body, content_length=len(body) + 1000))

    outcome, measure = run_case("Content-Length larger than sent", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == (
        f"{url}: protocol error: peer closed connection without sending complete message "
        f"body (received {len(body)} bytes, expected {len(body) + 1000}) (3 tries)"
    )
    assert measure.seconds < 1.0


# -- big bodies and bombs ------------------------------------------------------------


def test_200_mb_body_stops_at_max_body(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/big", Response.streamed(filler(200 * MB)))

    outcome, measure = run_case("200 MB body, chunked", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: body larger than {DEFAULT_MAX_BODY} bytes"
    assert bad.hits("/big") == 1
    assert measure.seconds < 5.0


def test_200_mb_content_length_is_refused_before_reading(
    bad: FeedServer, healthy: FeedServer
) -> None:
    url = bad.route("/big", Response.streamed(filler(200 * MB), content_length=200 * MB))

    outcome, measure = run_case("200 MB body, Content-Length", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == (
        f"{url}: body larger than {DEFAULT_MAX_BODY} bytes (Content-Length: {200 * MB})"
    )
    assert measure.peak < 5 * MB
    assert measure.seconds < 1.0


@pytest.mark.parametrize("encoding", ["gzip", "deflate"])
def test_compression_bomb_stops_at_max_body(
    bad: FeedServer, healthy: FeedServer, encoding: str
) -> None:
    url = bad.route("/bomb", Response.bomb(10 * GB, encoding))  # type: ignore[arg-type]

    outcome, measure = run_case(f"10 GB {encoding} bomb", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: body larger than {DEFAULT_MAX_BODY} bytes"
    assert measure.seconds < 3.0


# -- redirects and content ------------------------------------------------------------


def test_redirect_loop_fails_fast(bad: FeedServer, healthy: FeedServer) -> None:
    a = bad.route("/a", Response.redirect("/b"))
    b = bad.route("/b", Response.redirect("/a"))

    outcome, measure = run_case("redirect loop", [a], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{a}: redirect loop: {a} -> {b} -> {a}"
    assert (bad.hits("/a"), bad.hits("/b")) == (1, 1)
    assert measure.seconds < 0.5


def test_feed_served_as_html_is_still_fetched(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", Response(200, rss(), content_type="text/html; charset=utf-8"))

    outcome, _ = run_case("valid feed as text/html", [url], healthy)

    assert isinstance(outcome, Fetched)
    assert outcome.content_type == "text/html; charset=utf-8"


def test_html_error_page_with_200(bad: FeedServer, healthy: FeedServer) -> None:
    page = "<html><head><title>502 Bad Gateway</title></head><body><h1>nginx</h1></body></html>"
    url = bad.route("/feed", Response.html(page))

    outcome, _ = run_case("HTML error page, status 200", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f'{url}: 200 but not a feed (text/html, title "502 Bad Gateway")'
    assert bad.hits("/feed") == 1


@pytest.mark.parametrize("body", ["", "  \n"])
def test_empty_200(bad: FeedServer, healthy: FeedServer, body: str) -> None:
    url = bad.route("/feed", Response.rss(body))

    outcome, _ = run_case(f"empty 200 ({body!r})", [url], healthy)

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: 200 with an empty body (application/rss+xml)"
    assert bad.hits("/feed") == 1


# -- the retry schedule, the per-host limit, the run deadline ----------------------


def _gaps(server: FeedServer, path: str) -> list[float]:
    times = [request.time for request in server.requests_for(path)]
    return [later - earlier for earlier, later in itertools.pairwise(times)]


def test_retry_waits_grow_are_capped_and_follow_the_pinned_jitter(
    bad: FeedServer, healthy: FeedServer
) -> None:
    url = bad.route("/feed", [Response(503)] * 5 + [Response.rss(rss())])
    settings = quick(retries=5, backoff_base=0.1, backoff_cap=0.3)

    outcome, _ = run_case(
        "retry schedule, pinned jitter", [url], healthy, settings, jitter=lambda: 0.5
    )

    assert isinstance(outcome, Fetched)
    waits = [attempt.wait for attempt in outcome.attempts[:-1]]
    assert waits == pytest.approx([0.075, 0.15, 0.225, 0.225, 0.225])
    for gap, wait in zip(_gaps(bad, "/feed"), waits, strict=True):
        assert wait <= gap < wait + 0.06, (gap, wait)


def test_retry_waits_follow_a_seeded_random_jitter(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", [Response(502)] * 4 + [Response.rss(rss())])
    settings = quick(retries=4, backoff_base=0.1, backoff_cap=0.2)
    replay = random.Random(7)
    expected = [retry_delay(n, settings, replay.random()) for n in range(1, 5)]

    outcome, _ = run_case(
        "retry schedule, seeded jitter", [url], healthy, settings, jitter=random.Random(7).random
    )

    assert isinstance(outcome, Fetched)
    waits = [attempt.wait for attempt in outcome.attempts[:-1]]
    assert waits == expected
    assert len(set(waits)) == 4  # jittered: no two alike
    for n, wait in enumerate(waits, start=1):
        capped = min(0.2, 0.1 * 2 ** (n - 1))
        assert capped / 2 <= wait <= capped
    for gap, wait in zip(_gaps(bad, "/feed"), waits, strict=True):
        assert wait <= gap < wait + 0.06, (gap, wait)


@pytest.mark.parametrize("per_host", [1, 2, 3])
def test_per_host_limit_is_respected_on_each_host(per_host: int) -> None:
    with FeedServer() as one, FeedServer() as two:
        requests = []
        for name, server in (("one", one), ("two", two)):
            server.route("/feed", Response.rss(rss(), delay=0.15))
            requests += [
                FetchRequest(f"{name}{n}", (Source(server.base_url, server.url(f"/feed?n={n}")),))
                for n in range(6)
            ]
        settings = quick(concurrency=8, per_host=per_host)

        started = time.monotonic()
        outcomes = fetch_all_sync(requests, settings, is_rss, jitter=pinned_jitter)
        elapsed = time.monotonic() - started

        assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
        assert (one.max_concurrent, two.max_concurrent) == (per_host, per_host)
        rounds = -(-6 // per_host)
        assert elapsed < rounds * 0.15 + 0.5


def test_feeds_not_started_by_the_deadline_are_skipped(bad: FeedServer) -> None:
    bad.route("/feed", Response.rss(rss(), delay=0.4))
    requests = [
        FetchRequest(f"f{n}", (Source(bad.base_url, bad.url(f"/feed?n={n}")),)) for n in range(6)
    ]
    started = time.monotonic()
    settings = quick(concurrency=1, per_host=1)

    with measured() as measure:
        outcomes = fetch_all_sync(
            requests, settings, is_rss, deadline=started + 1.0, jitter=pinned_jitter
        )
    done_at = time.monotonic()

    kinds = [type(outcomes[f"f{n}"]).__name__ for n in range(6)]
    assert kinds == ["Fetched"] * 3 + ["Skipped"] * 3  # started at 0, 0.4 and 0.8 s
    for n in range(3, 6):
        assert outcomes[f"f{n}"] == Skipped("run deadline passed before the fetch started")
    assert bad.hits("/feed") == 3
    # Returns when the request in flight at the deadline ends (0.8 + 0.4 s), not later.
    assert done_at - (started + 1.0) < 0.45
    _record("deadline at 1 s, 6 feeds of 0.4 s, one at a time", outcomes["f5"], measure)


def test_deadline_already_passed_fetches_nothing(bad: FeedServer) -> None:
    bad.route("/feed", Response.rss(rss()))
    requests = [FetchRequest(f"f{n}", (Source("s", bad.url("/feed")),)) for n in range(20)]

    started = time.monotonic()
    outcomes = fetch_all_sync(requests, quick(), is_rss, deadline=started - 1, jitter=pinned_jitter)

    assert all(isinstance(outcome, Skipped) for outcome in outcomes.values())
    assert bad.hits("/feed") == 0
    assert time.monotonic() - started < 0.2


def test_no_retry_that_would_end_after_the_deadline(bad: FeedServer, healthy: FeedServer) -> None:
    url = bad.route("/feed", Response(503))
    settings = quick(backoff_base=0.5, backoff_cap=1.0)
    deadline = time.monotonic() + 0.3

    outcome, measure = run_case(
        "503 with 0.3 s of budget left", [url], healthy, settings, deadline=deadline
    )

    assert isinstance(outcome, FetchFailure)
    assert outcome.message == f"{url}: HTTP 503; no time left to retry before the run deadline"
    assert bad.hits("/feed") == 1
    assert measure.seconds < 0.3
