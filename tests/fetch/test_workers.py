"""``fetch_all``'s long-lived workers: bounded tasks, busy hosts put aside, retry waits covered."""

from __future__ import annotations

import asyncio
import time

import pytest

from feedsite._fetch import (
    Fetched,
    FetchOutcome,
    FetchRequest,
    NotModified,
    Skipped,
    Source,
    fetch_all,
)
from feedsite.config import FetchConfig
from tests.fetch.conftest import is_rss
from tests.fetch.support import pinned_jitter, quick
from tests.helpers.feedserver import FeedServer, Response, rss


def _request(key: str, url: str) -> FetchRequest:
    return FetchRequest(key, (Source(url, url),))


def _run(
    requests: list[FetchRequest],
    settings: FetchConfig,
    on_done: object = None,
    **kwargs: object,
) -> dict[str, FetchOutcome]:
    return asyncio.run(
        fetch_all(requests, settings, is_rss, on_done, jitter=pinned_jitter, **kwargs)  # type: ignore[arg-type]
    )


def test_tasks_are_bounded_by_concurrency(feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response.rss(rss(), delay=0.01))
    requests = [_request(f"f{n}", feed_server.url(f"/feed?n={n}")) for n in range(60)]
    seen: list[int] = []

    def on_done(key: str, outcome: FetchOutcome) -> None:
        seen.append(len(asyncio.all_tasks()))

    outcomes = _run(requests, quick(concurrency=4, per_host=4), on_done)

    assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
    assert len(seen) == 60
    assert max(seen) <= 1 + 4  # asyncio.run's task and the workers, not one task per feed
    assert feed_server.max_concurrent == 4


def test_a_busy_host_does_not_hold_up_other_hosts() -> None:
    # per_host=1: the feeds of the slow host wait for each other, not the fast host's.
    with FeedServer() as slow, FeedServer() as fast:
        slow.route("/feed", Response.rss(rss(), delay=0.3))
        fast.route("/feed", Response.rss(rss()))
        requests = [_request(f"slow{n}", slow.url(f"/feed?n={n}")) for n in range(4)]
        requests += [_request(f"fast{n}", fast.url(f"/feed?n={n}")) for n in range(6)]
        done: list[str] = []
        started = time.monotonic()

        outcomes = _run(requests, quick(concurrency=4, per_host=1), lambda key, _: done.append(key))
        elapsed = time.monotonic() - started

    assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
    assert list(outcomes) == [request.key for request in requests]
    assert set(done[:6]) == {f"fast{n}" for n in range(6)}  # all before the first slow one
    assert done[6:] == [f"slow{n}" for n in range(4)]  # the slow host's in request order
    assert (slow.max_concurrent, fast.max_concurrent) == (1, 1)
    assert elapsed < 4 * 0.3 + 0.5


def test_a_feed_waiting_to_retry_does_not_stall_the_others() -> None:
    # One worker: while the first feed waits out its Retry-After, another worker fetches.
    with FeedServer() as limited, FeedServer() as other:
        url = limited.route(
            "/feed", [Response(503, headers={"Retry-After": "1"}), Response.rss(rss())]
        )
        other.route("/feed", Response.rss(rss()))
        requests = [_request("limited", url)]
        requests += [_request(f"other{n}", other.url(f"/feed?n={n}")) for n in range(3)]
        done: list[tuple[str, float]] = []
        started = time.monotonic()

        outcomes = _run(
            requests,
            quick(concurrency=1, per_host=1, backoff_cap=2.0),
            lambda key, _: done.append((key, time.monotonic() - started)),
        )

    assert all(isinstance(outcome, Fetched) for outcome in outcomes.values())
    assert [key for key, _ in done] == ["other0", "other1", "other2", "limited"]
    assert all(at < 0.9 for key, at in done if key != "limited")
    assert 1.0 <= done[-1][1] < 1.6
    assert (limited.max_concurrent, other.max_concurrent) == (1, 1)


def test_feeds_put_aside_are_skipped_after_the_deadline(feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response.rss(rss(), delay=0.4))
    requests = [_request(f"f{n}", feed_server.url(f"/feed?n={n}")) for n in range(5)]
    started = time.monotonic()

    outcomes = _run(requests, quick(concurrency=4, per_host=1), deadline=started + 0.2)

    assert isinstance(outcomes["f0"], Fetched)
    for n in range(1, 5):
        assert outcomes[f"f{n}"] == Skipped("run deadline passed before the fetch started")
    assert feed_server.hits("/feed") == 1
    assert time.monotonic() - started < 0.8


def test_keep_false_hands_every_outcome_to_on_done_only(feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response.rss(rss(), etag='"e"'))
    requests = [_request(f"f{n}", feed_server.url(f"/feed?n={n}")) for n in range(10)]
    done: dict[str, FetchOutcome] = {}

    outcomes = _run(requests, quick(), lambda key, outcome: done.update({key: outcome}), keep=False)

    assert outcomes == {}
    assert sorted(done) == sorted(request.key for request in requests)
    assert all(isinstance(outcome, Fetched) for outcome in done.values())


def test_on_done_bug_propagates_and_stops_the_run(feed_server: FeedServer) -> None:
    feed_server.route("/feed", Response.rss(rss(), delay=0.05))
    requests = [_request(f"f{n}", feed_server.url(f"/feed?n={n}")) for n in range(40)]

    def broken(key: str, outcome: FetchOutcome) -> None:
        raise RuntimeError("bug in on_done")

    # One worker, so one failure (two workers that fail in the same turn of the loop
    # raise both, in an ExceptionGroup, as fetch_all's docstring says).
    with pytest.raises(RuntimeError, match="bug in on_done"):
        _run(requests, quick(concurrency=1, per_host=1), broken)
    assert feed_server.hits("/feed") < 40


def test_file_feeds_and_feeds_without_sources_go_through_the_workers(
    feed_server: FeedServer, tmp_path: object
) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "feed.xml"
    path.write_text(rss("local"), encoding="utf-8")
    url = feed_server.route("/feed", Response.rss(rss(), etag='"v"'))
    requests = [
        FetchRequest("file", (Source("f", path.as_uri()),)),
        FetchRequest("none", ()),
        FetchRequest("http", (Source(url, url),)),
    ]

    outcomes = _run(requests, quick(concurrency=1, per_host=1))

    assert isinstance(outcomes["file"], Fetched)
    assert isinstance(outcomes["http"], Fetched)
    assert not isinstance(outcomes["none"], Fetched | NotModified)
    assert list(outcomes) == ["file", "none", "http"]
