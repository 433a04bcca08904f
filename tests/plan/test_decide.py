"""The decider is pure: it sees only its input, and decides retention from it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsite._plan import FeedOutcome, PlanInput, decide, item_id
from feedsite._records import StoredItem, StoredPost
from feedsite.config import parse_config
from feedsite.types import ParsedFeed, ParsedItem, RenderSettings

NOW = datetime(2026, 11, 1, tzinfo=UTC)
SETTINGS = RenderSettings("default", "UTC", None, "p{n}", "source_url")
CONFIG = parse_config(
    "feeds:\n  c:\n    s:\n      f: {url: 'https://e.org/f', keep: 2}\n",
    file=Path("/tmp/x/feedsite.yaml"),
)
FEED = CONFIG.feeds[0]


def item(n: int) -> ParsedItem:
    return ParsedItem(
        guid=f"g{n}",
        link=None,
        title=f"T{n}",
        date=NOW - timedelta(days=n),
        content_html=None,
        summary_html="<p>x</p>",
        description_raw="<p>x</p>",
    )


def plan_input(**kw: object) -> PlanInput:
    base: dict[str, object] = dict(
        feeds=CONFIG.feeds,
        settings=SETTINGS,
        clean_key="k",
        stored_feeds={},
        stored_items={},
        stored_posts={},
        disk={},
        outcomes={},
        now=NOW,
    )
    base.update(kw)
    return PlanInput(**base)  # type: ignore[arg-type]


def parsed(*ns: int) -> FeedOutcome:
    return FeedOutcome("parsed", ParsedFeed("rss20", "t", None, tuple(item(n) for n in ns)))


def test_same_input_same_decision() -> None:
    inp = plan_input(outcomes={FEED.key: parsed(0, 1, 2, 3)})
    assert decide(inp) == decide(inp)


def test_newest_keep_are_posted_and_the_rest_only_seen() -> None:
    d = decide(plan_input(outcomes={FEED.key: parsed(3, 0, 2, 1)}))
    posted = {j.item_id for j in d.renders}
    assert posted == {item_id(item(0)), item_id(item(1))}
    statuses = {i.item_id: i.status for i in d.item_intents}
    assert statuses[item_id(item(2))] == "seen" and statuses[item_id(item(3))] == "seen"
    assert not d.deletes


def live(n: int) -> StoredItem:
    return StoredItem(FEED.key, item_id(item(n)), "live", NOW, n, item(n).date, "h", "k")


def post_of(n: int) -> StoredPost:
    iid = item_id(item(n))
    return StoredPost(f"c/s/f/{iid}.md", FEED.key, iid, "sha", "rk", 1, 1)


def test_failed_feed_prunes_nothing() -> None:
    stored = {FEED.key: [live(n) for n in range(4)]}
    posts = {p.path: p for p in (post_of(n) for n in range(4))}
    d = decide(
        plan_input(
            stored_items=stored,
            stored_posts=posts,
            disk=dict.fromkeys(posts, "ok"),
            outcomes={FEED.key: FeedOutcome("failed", error="boom")},
        )
    )
    assert not d.deletes
    assert d.reports[0].status == "failed" and d.reports[0].error == "boom"


def test_not_modified_feed_applies_keep() -> None:
    stored = {FEED.key: [live(n) for n in range(4)]}
    posts = {p.path: p for p in (post_of(n) for n in range(4))}
    d = decide(
        plan_input(
            stored_items=stored,
            stored_posts=posts,
            disk=dict.fromkeys(posts, "ok"),
            outcomes={FEED.key: FeedOutcome("not_modified")},
        )
    )
    assert {x.path for x in d.deletes} == {post_of(2).path, post_of(3).path}


def test_unconfigured_feed_is_removed() -> None:
    other = StoredPost(
        "x/y/z/0000000000000000.md", '["x","y","z"]', "0000000000000000", "s", "r", 1, 1
    )
    d = decide(plan_input(stored_posts={other.path: other}, disk={other.path: "ok"}))
    assert [x.path for x in d.deletes] == [other.path]
    assert d.forget_feeds == ['["x","y","z"]']
    assert d.removed_feeds == [("x › y › z", 1)]


def test_a_moved_post_deletes_its_old_file_only_if_untouched() -> None:
    """A post recorded at another path (an older naming rule) moves; a hand edit stays."""
    stored = {FEED.key: [live(0), live(1)]}
    old0 = StoredPost("old/0.md", FEED.key, item_id(item(0)), "sha", "rk", 1, 1)
    old1 = StoredPost("old/1.md", FEED.key, item_id(item(1)), "sha", "rk", 1, 1)
    d = decide(
        plan_input(
            stored_items=stored,
            stored_posts={old0.path: old0, old1.path: old1},
            disk={old0.path: "ok", old1.path: "edited"},
            outcomes={FEED.key: parsed(0, 1)},
        )
    )
    assert [x.path for x in d.deletes] == [old0.path]
    assert old1.path in d.releases
    assert old1.path in d.reports[0].edited
    assert {j.path for j in d.renders} == {post_of(0).path, post_of(1).path}
