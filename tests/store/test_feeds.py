"""Feeds, validators and instances: what a run records is what the next one reads."""

from __future__ import annotations

from datetime import timedelta

from feedsite._records import FeedIntent, FeedRow, InstanceIntent, StoredFeed
from feedsite._store import State
from feedsite.types import Validators
from tests.store.records import FEED, OTHER, T0, intent

SRC = "https://rsshub.example/"


def test_feeds_round_trip(state: State) -> None:
    ok = FeedIntent(FEED, "ok", None, SRC, Validators('"e1"', "Sun, 01 Nov 2026"), T0)
    later = T0 + timedelta(hours=1)
    failed = FeedIntent(OTHER, "failed", "HTTP 503", None, None, T0, 2, later)
    with state.transaction() as tx:
        state.record_feeds(tx, [ok, failed])
    assert state.feeds() == {
        FEED: StoredFeed(FEED, SRC, {SRC: ok.validators}, T0, 0, None, "ok"),  # type: ignore[dict-item]
        OTHER: StoredFeed(OTHER, None, {}, None, 2, later, "failed"),
    }
    assert state.feed_rows() == [
        FeedRow(OTHER, None, T0.isoformat(), None, "failed", "HTTP 503", 2, later.isoformat()),
        FeedRow(FEED, SRC, T0.isoformat(), T0.isoformat(), "ok", None, 0, None),
    ]  # by key
    assert state.feeds()[FEED].last_success.tzinfo is not None  # type: ignore[union-attr]


def test_a_failure_keeps_the_last_success_source_and_validators(state: State) -> None:
    later = T0 + timedelta(hours=2)
    with state.transaction() as tx:
        state.record_feeds(tx, [FeedIntent(FEED, "ok", None, SRC, Validators("e", None), T0)])
    with state.transaction() as tx:
        state.record_feeds(tx, [FeedIntent(FEED, "failed", "boom", "other", None, later, 1)])
    feed = state.feeds()[FEED]
    assert (feed.preferred_source, feed.last_success, feed.last_status) == (SRC, T0, "failed")
    assert feed.validators == {SRC: Validators("e", None)}
    assert feed.consecutive_failures == 1


def test_not_modified_is_a_success_and_updates_validators(state: State) -> None:
    later = T0 + timedelta(hours=2)
    with state.transaction() as tx:
        state.record_feeds(tx, [FeedIntent(FEED, "ok", None, SRC, Validators("e1", None), T0)])
        state.record_feeds(
            tx, [FeedIntent(FEED, "not_modified", None, SRC, Validators("e2", "lm"), later)]
        )
    feed = state.feeds()[FEED]
    assert feed.last_success == later
    assert feed.validators == {SRC: Validators("e2", "lm")}


def test_instances_count_consecutive_failures(state: State) -> None:
    a, b = "https://a.example/", "https://b.example/"
    with state.transaction() as tx:
        state.record_feeds(
            tx,
            [],
            [InstanceIntent(a, False, "timeout", T0), InstanceIntent(b, True, None, T0)],
        )
    with state.transaction() as tx:
        state.record_feeds(tx, [], [InstanceIntent(a, False, "timeout", T0)])
    assert state.instance_failures() == {a: 2, b: 0}
    with state.transaction() as tx:
        state.record_feeds(tx, [], [InstanceIntent(a, True, None, T0)])
    assert state.instance_failures() == {a: 0, b: 0}


def test_forget_feeds_drops_items_validators_and_row(state: State) -> None:
    with state.transaction() as tx:
        for key in (FEED, OTHER):
            state.record_feeds(tx, [FeedIntent(key, "ok", None, SRC, Validators("e"), T0)])
        state.record_items(tx, [intent(1), intent(2), intent(3, feed=OTHER)])
    with state.transaction() as tx:
        state.forget_feeds(tx, [FEED])
    assert list(state.feeds()) == [OTHER]
    assert list(state.items()) == [OTHER]
    assert state.item_data([(FEED, "i1")]) == {}
    assert [r.key for r in state.feed_rows()] == [OTHER]
