"""When a feed is fetched next (``_plan._schedule``, docs/watch.md): a table of intervals,
server hints, failures and bounds, and the decider writing it into the feed's intent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._plan import FeedOutcome, Schedule, decide_feed, due_feeds
from feedsite._plan._schedule import INTERVAL_JITTER, next_attempt_after, next_fetch
from feedsite.config import Config, parse_config
from feedsite.errors import ConfigError

NOW = datetime(2026, 11, 1, tzinfo=UTC)
M = timedelta(minutes=1)
WATCH = Schedule(default=15 * M, floor=M, ceiling=timedelta(hours=6))


def wait(
    interval: timedelta | None,
    schedule: Schedule = WATCH,
    failures: int = 0,
    server_says: float | None = None,
    key: str = "k",
    seed: int = 1,
) -> timedelta | None:
    when = next_fetch(
        interval,
        schedule,
        failures=failures,
        server_says=server_says,
        key=key,
        now=NOW,
        seed=seed,
    )
    return None if when is None else when - NOW


@pytest.mark.parametrize(
    ("interval", "failures", "server_says", "low", "high"),
    [
        # (own interval, failures, seconds the server said, shortest, longest)
        (None, 0, None, 15 * M, 15 * M * (1 + INTERVAL_JITTER)),  # watch.interval
        (5 * M, 0, None, 5 * M, 5 * M * 1.1),  # its own interval
        (5 * M, 0, 600.0, 10 * M, 11 * M),  # max-age 600 stretches it, never shortens
        (5 * M, 0, 60.0, 5 * M, 5 * M * 1.1),  # a shorter hint does not hurry it
        (10 * timedelta(seconds=1), 0, None, M, M),  # the floor
        (5 * M, 0, 86400.0, 6 * 60 * M, 6 * 60 * M),  # the ceiling beats the server
        (5 * M, 1, None, 5 * M * 0.9, 5 * M * 1.1),  # first failure: the interval
        (5 * M, 3, None, 20 * M * 0.9, 20 * M * 1.1),  # then doubled per failure
        (5 * M, 60, None, 6 * 60 * M, 6 * 60 * M),  # capped, no overflow
    ],
)
def test_next_fetch(
    interval: timedelta | None,
    failures: int,
    server_says: float | None,
    low: timedelta,
    high: timedelta,
) -> None:
    got = wait(interval, failures=failures, server_says=server_says)
    assert got is not None and low <= got <= high


def test_a_plain_run_keeps_the_old_rule_for_feeds_without_an_interval() -> None:
    run = Schedule()
    assert wait(None, run) is None  # fetched every run
    assert wait(None, run, failures=1) is None
    assert wait(None, run, failures=3) == next_attempt_after(3, "k", NOW, 1) - NOW  # type: ignore[operator]
    assert wait(2 * M, run) is not None  # an interval of its own holds in a plain run


def test_jitter_spreads_feeds_and_is_stable() -> None:
    waits = {wait(10 * M, key=f"feed{n}") for n in range(50)}
    assert len(waits) > 40  # spread out...
    assert wait(10 * M, key="feed1") == wait(10 * M, key="feed1")  # ...the same for a key


def test_due_feeds() -> None:
    later, sooner = NOW + 5 * M, NOW + 2 * M
    due, soonest = due_feeds(
        ["a", "b", "c", "d", "e"], {"a": None, "b": later, "c": NOW, "e": sooner}, NOW
    )
    assert due == ["a", "c", "d"]  # past, now and unknown feeds are due, in config order
    assert soonest == sooner
    assert due_feeds(["a"], {}, NOW) == (["a"], None)


def feed(options: str = "", watch: str = "") -> Config:
    text = f"{watch}feeds:\n  c:\n    s:\n      f: {{url: 'https://e.org/f'{options}}}\n"
    return parse_config(text, file=Path("/tmp/x/feedsite.yaml"))


def test_the_decider_writes_the_next_fetch() -> None:
    config = parse_config(
        "watch: {interval: 10m}\nfeeds:\n  c:\n    interval: 2h\n    s:\n"
        "      f: {url: 'https://e.org/f', interval: 30m}\n      g: https://e.org/g\n",
        file=Path("/tmp/x/feedsite.yaml"),
    )
    f, g = config.feeds
    assert (f.interval, g.interval) == (30 * M, timedelta(hours=2))
    ok = FeedOutcome("not_modified", source="https://e.org/f", fresh_for=3600.0)
    intent = decide_feed(f, None, (), ok, clean_key="k", now=NOW, schedule=WATCH).feed_intents[0]
    assert intent.next_attempt is not None
    assert 60 * M <= intent.next_attempt - NOW <= 66 * M  # max-age 3600 beat the 30 minutes
    failed = FeedOutcome("failed", error="HTTP 503")
    intent = decide_feed(g, None, (), failed, clean_key="k", now=NOW, schedule=WATCH).feed_intents[
        0
    ]
    assert intent.consecutive_failures == 1
    assert intent.next_attempt is not None and intent.next_attempt - NOW <= 6 * 60 * M


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("watch: {interval: 30}\n", "line 1, at watch.interval"),
        ("watch: {interval: soon}\n", "line 1, at watch.interval"),
        ("watch: {min_interval: 2h, max_interval: 1h}\n", "at watch.min_interval"),
        ("watch: {every: 1m}\n", "watch"),
    ],
)
def test_bad_watch_settings_name_their_place(text: str, where: str) -> None:
    with pytest.raises(ConfigError) as caught:
        feed(watch=text)
    assert where in str(caught.value)


def test_a_feed_interval_needs_a_unit() -> None:
    with pytest.raises(ConfigError) as caught:
        feed(", interval: 30")
    assert "feeds.c.s.f.interval" in str(caught.value) and '"30s"' in str(caught.value)


def test_after_a_reload_no_feed_waits_longer_than_its_new_interval() -> None:
    from feedsite._plan import sooner_after_reload

    schedule = Schedule(timedelta(minutes=15), timedelta(minutes=1), timedelta(hours=24))
    stored = {
        "planned an hour out": NOW + timedelta(hours=1),
        "own interval 2h": NOW + timedelta(hours=1),
        "soon anyway": NOW + timedelta(minutes=5),
        "never fetched": None,
        "below the floor": NOW + timedelta(hours=1),
    }
    intervals = {
        "planned an hour out": None,  # the new default: 15 minutes
        "own interval 2h": timedelta(hours=2),
        "soon anyway": None,
        "never fetched": None,
        "below the floor": timedelta(seconds=5),  # held to min_interval
        "not in the state": None,
    }

    sooner = sooner_after_reload(stored, intervals, schedule, NOW)

    assert sooner == {
        "planned an hour out": NOW + timedelta(minutes=15),
        "below the floor": NOW + timedelta(minutes=1),
    }
    plain_run = Schedule(None, timedelta(minutes=1), timedelta(hours=24))  # no default
    assert sooner_after_reload(stored, {"planned an hour out": None}, plain_run, NOW) == {}


def test_a_plain_run_holds_back_a_feed_without_interval_only_for_failures_and_retry_after() -> None:
    from feedsite._plan import not_due
    from feedsite._records import StoredFeed

    later = NOW + timedelta(minutes=10)
    answered = StoredFeed("k", None, {}, NOW, 0, later, "ok")  # a watch recorded its interval
    failing = StoredFeed("k", None, {}, NOW, 2, later, "failed")
    deferred = StoredFeed("k", None, {}, NOW, 0, later, "deferred")

    assert not_due(answered, NOW, by_interval=False) is None
    assert "for its interval" in (not_due(answered, NOW) or "")
    assert "after 2 failure(s)" in (not_due(failing, NOW, by_interval=False) or "")
    assert "Retry-After" in (not_due(deferred, NOW, by_interval=False) or "")
