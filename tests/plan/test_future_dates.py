"""Far-future dates (issue #10 row 15) and taking feeds or items out of a decision. Pure."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._plan import (
    FUTURE_TOLERANCE,
    FeedOutcome,
    PlanInput,
    decide,
    item_id,
    without_feeds,
    without_items,
)
from feedsite._records import StoredItem
from feedsite._run import run
from feedsite.config import load_config, parse_config
from feedsite.types import ParsedFeed, ParsedItem, Validators
from tests.helpers.feeds import Entry, rss
from tests.helpers.feedserver import FeedServer, Response

NOW = datetime(2026, 11, 1, tzinfo=UTC)
CONFIG = parse_config(
    "feeds:\n  c:\n    s:\n      f: {url: 'https://e.org/f', keep: 2, max_age: 30d}\n"
    "      g: {url: 'https://e.org/g'}\n",
    file=Path("/tmp/x/feedsite.yaml"),
)
FEED, OTHER = CONFIG.feeds
Y9999 = datetime(9999, 12, 31, tzinfo=UTC)
EPOCH_2286 = datetime.fromtimestamp(9_999_999_999, UTC)  # 2286-11-20


def item(guid: str, date: datetime | None) -> ParsedItem:
    return ParsedItem(guid, None, guid.upper(), date, None, "<p>x</p>", "<p>x</p>")


def plan(
    *outcomes: tuple[str, FeedOutcome], stored: dict[str, list[StoredItem]] | None = None
) -> PlanInput:
    return PlanInput(
        feeds=CONFIG.feeds,
        clean_key="k",
        stored_feeds={},
        stored_items=stored or {},
        outcomes=dict(outcomes),
        now=NOW,
    )


def parsed(*items: ParsedItem) -> FeedOutcome:
    return FeedOutcome(
        "parsed", ParsedFeed("rss20", "t", None, items), validators=Validators('"e"', None)
    )


@pytest.mark.parametrize(
    ("date", "expected"),
    [
        (Y9999, NOW),  # issue #10 row 15: year 9999
        (EPOCH_2286, NOW),  # issue #10 row 15: an epoch in 2286
        (NOW + FUTURE_TOLERANCE + timedelta(seconds=1), NOW),
        (NOW + FUTURE_TOLERANCE, NOW + FUTURE_TOLERANCE),  # within the tolerance: kept
        (NOW - timedelta(days=3), NOW - timedelta(days=3)),
        (None, None),
    ],
)
def test_a_new_item_dated_in_the_future_is_dated_at_its_first_sighting(
    date: datetime | None, expected: datetime | None
) -> None:
    """issue #10 row 15: the stored date and the date the post is rendered with."""
    d = decide(plan((FEED.key, parsed(item("a", date)))))
    [intent] = d.item_intents
    assert intent.date == expected
    [cleaned] = d.to_clean.values()
    assert cleaned.date == expected


def test_a_future_item_does_not_sit_on_top_and_keep_drops_it_first() -> None:
    """issue #10 row 15: ordering and retention by keep use the first-sighting date."""
    first_seen = NOW - timedelta(days=10)
    stored = [
        StoredItem(FEED.key, item_id(item("z", Y9999)), "live", first_seen, 0, Y9999, "h", "k")
    ]
    newer = (item("b", NOW - timedelta(days=1)), item("c", NOW - timedelta(days=2)))
    d = decide(plan((FEED.key, parsed(item("z", Y9999), *newer)), stored={FEED.key: stored}))
    status = {i.item_id: i.status for i in d.item_intents}
    assert status[item_id(item("z", Y9999))] == "pruned"  # the oldest by its first sighting
    assert {status[item_id(i)] for i in newer} == {"live"}


def test_a_future_item_does_not_survive_max_age() -> None:
    """issue #10 row 15: dated 9999, seen 40 days ago: older than max_age 30 days."""
    zid = item_id(item("z", Y9999))
    stored = [StoredItem(FEED.key, zid, "live", NOW - timedelta(days=40), 0, Y9999, "h", "k")]
    d = decide(plan((FEED.key, parsed(item("z", Y9999))), stored={FEED.key: stored}))
    [intent] = d.item_intents
    assert (intent.status, intent.date) == ("pruned", NOW - timedelta(days=40))


def test_the_clamp_never_changes_for_an_item() -> None:
    """Measured from the first sighting, not each run's now: the answer is stable."""
    seen = NOW - timedelta(days=5)
    date = NOW - timedelta(days=2)  # 3 days after the first sighting: a lie then, past now
    sid = item_id(item("a", date))
    stored = [StoredItem(FEED.key, sid, "live", seen, 0, seen, "h", "k")]
    d = decide(plan((FEED.key, parsed(item("a", date))), stored={FEED.key: stored}))
    assert all(i.date == seen for i in d.item_intents)


def test_without_items_keeps_the_rest_and_drops_the_feeds_validators() -> None:
    d = decide(plan((FEED.key, parsed(item("a", NOW), item("b", NOW))), (OTHER.key, parsed())))
    gone = (FEED.key, item_id(item("a", NOW)))
    out = without_items(d, [gone])
    assert gone not in out.to_clean and len(out.to_clean) == 1
    assert [i.item_id for i in out.item_intents] == [item_id(item("b", NOW))]
    assert [c.item_id for c in out.changes] == [item_id(item("b", NOW))]
    validators = {f.key: f.validators for f in out.feed_intents}
    assert validators == {FEED.key: None, OTHER.key: Validators('"e"', None)}
    assert len(d.changes) == 2  # the input is not changed
    assert without_items(d, []) is d


def test_without_feeds_takes_a_feed_out_whole() -> None:
    d = decide(plan((FEED.key, parsed(item("a", NOW))), (OTHER.key, parsed(item("b", NOW)))))
    out = without_feeds(d, [OTHER.key], "out of time")
    assert {f.key for f in out.feed_intents} == {FEED.key}
    assert {i.feed_key for i in out.item_intents} == {FEED.key}
    assert {k[0] for k in out.to_clean} == {FEED.key}
    assert {c.feed_key for c in out.changes} == {FEED.key}
    report = out.reports[1]
    assert (report.status, report.error) == ("skipped", "out of time")
    assert d.reports[1].status == "ok"


def test_run_a_9999_item_is_pruned_by_max_age(
    feed_server: FeedServer, project: Callable[[str], Path]
) -> None:
    """issue #10 row 15 end to end: the item dated 9999 stays on no listing forever."""
    doc = rss(
        [
            Entry("future", "Future", Y9999),
            Entry("recent", "Recent", NOW - timedelta(days=1)),
        ]
    )
    feed_server.route("/f", Response.rss(doc))
    config = load_config(
        project(
            "site: {hexo_root: ./blog, timezone: UTC}\n"
            f"feeds:\n  c:\n    s:\n      f: {{url: '{feed_server.url('/f')}', max_age: 30d}}\n"
        )
    )
    first = run(config, now=NOW - timedelta(days=2))
    assert first.counts().posts_new == 2
    posts = config.site.hexo_root / "source" / "_posts"
    [future] = [p for p in posts.rglob("*.md") if "Future" in p.read_text(encoding="utf-8")]
    assert "9999" not in future.read_text(encoding="utf-8")
    later = run(config, now=NOW + timedelta(days=40))
    assert later.counts().posts_pruned == 2  # both are older than 30 days now
    assert not future.exists()
