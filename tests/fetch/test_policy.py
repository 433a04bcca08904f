"""The retry policy as pure functions: what is retried, how long to wait, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from feedsite._fetch._policy import (
    MAX_DELTA_SECONDS,
    Defer,
    Failover,
    Retry,
    decide,
    freshness,
    is_retryable,
    parse_retry_after,
    retry_delay,
)
from feedsite._fetch._try import Problem, ProblemKind
from tests.fetch.support import quick

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("problem", "retryable"),
    [
        *[(Problem("http", status), True) for status in (408, 429, 500, 502, 503, 504, 599)],
        *[(Problem("http", status), False) for status in (300, 304, 400, 401, 403, 404, 410, 451)],
        *[(Problem(kind), True) for kind in ("timeout", "connect", "network", "protocol")],
        (Problem("final", 200), False),
    ],
)
def test_what_is_retried(problem: Problem, retryable: bool) -> None:
    assert is_retryable(problem) is retryable


def test_backoff_doubles_then_caps_with_pinned_jitter() -> None:
    settings = quick(backoff_base=0.5, backoff_cap=8.0)

    full = [retry_delay(n, settings, 1.0) for n in range(1, 8)]
    half = [retry_delay(n, settings, 0.0) for n in range(1, 8)]
    mid = [retry_delay(n, settings, 0.5) for n in range(1, 8)]

    assert full == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert half == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert mid == [0.375, 0.75, 1.5, 3.0, 6.0, 6.0, 6.0]


def test_jitter_outside_the_unit_interval_is_clamped() -> None:
    settings = quick(backoff_base=1.0, backoff_cap=1.0)

    assert retry_delay(1, settings, -3.0) == 0.5
    assert retry_delay(1, settings, 7.0) == 1.0


@given(
    retry=st.integers(min_value=1, max_value=10_000),
    jitter=st.floats(min_value=0.0, max_value=1.0),
    base=st.floats(min_value=0.0, max_value=10.0),
    extra=st.floats(min_value=0.0, max_value=100.0),
)
def test_delay_stays_within_half_and_full_capped_backoff(
    retry: int, jitter: float, base: float, extra: float
) -> None:
    settings = quick(backoff_base=base, backoff_cap=base + extra)
    capped = min(base + extra, base * 2.0 ** min(retry - 1, 62))

    delay = retry_delay(retry, settings, jitter)

    assert capped / 2 - 1e-9 <= delay <= capped + 1e-9
    assert delay <= retry_delay(retry + 1, settings, jitter) + 1e-9


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 3 ", 3.0),
        ("0", 0.0),
        (format_datetime(NOW + timedelta(seconds=90), usegmt=True), 90.0),
        (format_datetime(NOW - timedelta(hours=1), usegmt=True), 0.0),
        ("Sat, 01 Mar 2025 12:00:30 GMT", 30.0),
        ("Saturday, 01-Mar-25 12:00:30 GMT", 30.0),
        (None, None),
        ("", None),
        ("-5", None),
        ("1.5", None),
        ("soon", None),
    ],
)
def test_retry_after_seconds_or_http_date(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, NOW) == seconds


def _decide(problem: Problem, tries: int = 1, remaining: float | None = None, **kw: object):  # type: ignore[no-untyped-def]
    return decide(problem, tries, quick(backoff_base=1.0, backoff_cap=8.0, **kw), 0.5, remaining)


def test_transient_failures_retry_until_tries_run_out() -> None:
    problem = Problem("http", 503)

    assert _decide(problem, tries=1) == Retry(0.75)
    assert _decide(problem, tries=2) == Retry(1.5)
    assert _decide(problem, tries=3) == Failover()
    assert _decide(problem, tries=1, retries=0) == Failover()


@pytest.mark.parametrize("kind", ["timeout", "connect", "network", "protocol"])
def test_network_troubles_are_retried(kind: ProblemKind) -> None:
    assert _decide(Problem(kind)) == Retry(0.75)


@pytest.mark.parametrize("problem", [Problem("http", 404), Problem("final", 200)])
def test_final_problems_fail_over_at_once(problem: Problem) -> None:
    assert _decide(problem) == Failover()


def test_no_retry_that_would_pass_the_deadline() -> None:
    assert _decide(Problem("http", 500), remaining=0.5) == Failover(
        "no time left to retry before the run deadline"
    )
    assert _decide(Problem("http", 500), remaining=0.8) == Retry(0.75)


@pytest.mark.parametrize("status", [429, 503])
def test_short_retry_after_is_slept_exactly(status: int) -> None:
    assert _decide(Problem("http", status, retry_after=5.0)) == Retry(5.0)
    assert _decide(Problem("http", status, retry_after=8.0)) == Retry(8.0)
    assert _decide(Problem("http", status, retry_after=0.0)) == Retry(0.0)


@pytest.mark.parametrize("status", [429, 503])
def test_long_retry_after_defers(status: int) -> None:
    assert _decide(Problem("http", status, retry_after=8.5)) == Defer(
        8.5, "is longer than backoff_cap (8.0 s)"
    )
    assert _decide(Problem("http", status, retry_after=3.0), remaining=2.0) == Defer(
        3.0, "passes the run deadline"
    )


def test_retry_after_with_no_tries_left_fails_over() -> None:
    assert _decide(Problem("http", 503, retry_after=1.0), tries=3) == Failover()
    # ...unless it asks for a pause longer than we wait: that is still a deferral.
    assert isinstance(_decide(Problem("http", 503, retry_after=60.0), tries=3), Defer)


def test_retry_after_is_ignored_on_other_statuses() -> None:
    assert _decide(Problem("http", 502, retry_after=60.0)) == Retry(0.75)
    assert _decide(Problem("http", 404, retry_after=60.0)) == Failover()


# -- freshness (RFC 9111 §4.2.1, as a private cache) --------------------------------

DATE = format_datetime(NOW, usegmt=True)


def _http_date(seconds: float) -> str:
    return format_datetime(NOW + timedelta(seconds=seconds), usegmt=True)


@pytest.mark.parametrize(
    ("cache_control", "seconds"),
    [
        ("max-age=600", 600.0),
        ("public, max-age=600", 600.0),
        ("  Max-Age = 60 ,private", 60.0),
        ('max-age="120"', 120.0),
        ("max-age=0", 0.0),
        ("max-age=60, max-age=5", 60.0),  # the first occurrence counts
        ("s-maxage=600, max-age=30", 30.0),
        ("must-revalidate, max-age=30", 30.0),
        ("max-age=99999999999999999999", float(MAX_DELTA_SECONDS)),
        ("max-age=abc", 0.0),  # invalid: stale
        ("max-age=-5", 0.0),
        ("max-age=1.5", 0.0),
        ("max-age", 0.0),
        ("no-store", 0.0),
        ("no-cache", 0.0),
        ("max-age=600, no-cache", 0.0),  # the most restrictive wins
        ("NO-STORE, max-age=600", 0.0),
        ('no-cache="Set-Cookie, Set-Cookie2", max-age=600', 600.0),  # only those fields
        ('private="x,y", max-age=40', 40.0),
        ("garbage here, max-age=45", 45.0),
    ],
)
def test_freshness_from_cache_control(cache_control: str, seconds: float) -> None:
    assert freshness(cache_control, None, None, NOW) == seconds


@pytest.mark.parametrize("cache_control", [None, "", "public", "s-maxage=600", "private, ,"])
def test_cache_control_without_a_lifetime_says_nothing(cache_control: str | None) -> None:
    assert freshness(cache_control, None, None, NOW) is None


def test_max_age_wins_over_expires() -> None:
    assert freshness("max-age=60", _http_date(3600), DATE, NOW) == 60.0
    assert freshness("public", _http_date(3600), DATE, NOW) == 3600.0


@pytest.mark.parametrize(
    ("expires", "date", "seconds"),
    [
        (_http_date(600), DATE, 600.0),
        (_http_date(600), _http_date(100), 500.0),  # Expires minus Date, not minus now
        (_http_date(600), None, 600.0),  # no Date: minus the time it arrived
        (_http_date(600), "yesterday", 600.0),  # unreadable Date: the same
        (_http_date(-60), DATE, 0.0),  # in the past: stale
        ("Saturday, 01-Mar-25 12:10:00 GMT", DATE, 600.0),  # RFC 850 form
        ("Sat Mar  1 12:10:00 2025", DATE, 600.0),  # asctime form
        ("0", DATE, 0.0),  # invalid: already expired (RFC 9111 §5.3)
        ("-1", None, 0.0),
        ("", DATE, 0.0),
    ],
)
def test_freshness_from_expires(expires: str, date: str | None, seconds: float) -> None:
    assert freshness(None, expires, date, NOW) == seconds


def test_no_caching_headers_say_nothing() -> None:
    assert freshness(None, None, DATE, NOW) is None


@pytest.mark.parametrize(
    ("cache_control", "expires", "age", "seconds"),
    [
        ("max-age=600", None, "500", 100.0),  # a CDN held it 500 s of its 600
        ("max-age=600", None, "900", 0.0),  # held longer than its lifetime: stale now
        ("max-age=600", None, "0", 600.0),
        ("max-age=600", None, " 30 ", 570.0),
        ("max-age=600", None, "30, 40", 570.0),  # repeated: the first
        ("max-age=600", None, "soon", 600.0),  # unreadable: ignored
        ("max-age=600", None, "-5", 600.0),
        (None, _http_date(600), "200", 400.0),  # Expires - Date, then the age
        ("public", None, "200", None),  # no lifetime: the age says nothing either
    ],
)
def test_the_age_a_cache_gave_shortens_freshness(
    cache_control: str | None, expires: str | None, age: str, seconds: float | None
) -> None:
    assert freshness(cache_control, expires, DATE, NOW, age) == seconds
