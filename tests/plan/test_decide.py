"""The decider is pure and decides about items, never files: retention as a table.

Each row gives what the state holds for one feed (``live``/``seen``/tombstoned items,
by age in days), what this run got, and the feed's limits; the expectation is every
item's status afterwards and what the targets are told (``ItemChange`` kinds).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._plan import (
    Decision,
    FeedOutcome,
    PlanInput,
    content_hash,
    decide,
    decide_feed,
    item_id,
)
from feedsite._records import ItemStatus, StoredItem
from feedsite.config import FeedSpec, parse_config
from feedsite.types import ParsedFeed, ParsedItem

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def feed_with(options: str) -> FeedSpec:
    config = parse_config(
        f"feeds:\n  c:\n    s:\n      f: {{url: 'https://e.org/f'{options}}}\n",
        file=Path("/tmp/x/feedsite.yaml"),
    )
    return config.feeds[0]


def item(n: int, body: str = "<p>x</p>") -> ParsedItem:
    """Item ``n``, dated ``n`` days ago."""
    return ParsedItem(
        guid=f"g{n}",
        link=None,
        title=f"T{n}",
        date=NOW - timedelta(days=n),
        content_html=None,
        summary_html=body,
        description_raw=body,
    )


def iid(n: int) -> str:
    return item_id(item(n))


def stored(key: str, n: int, status: ItemStatus, chash: str | None = None) -> StoredItem:
    it = item(n)
    return StoredItem(
        key, iid(n), status, NOW - timedelta(days=n), n, it.date, chash or content_hash(it), "k"
    )


@dataclass(frozen=True)
class Row:
    name: str
    options: str
    #: Stored items: (n, status).
    state: tuple[tuple[int, ItemStatus], ...]
    #: The outcome: "parsed" with the document's items, or another kind.
    outcome: str | None
    document: tuple[int, ...] = ()
    #: Expected: n → status after the run (absent: no intent; "forget": forgotten).
    statuses: dict[int, str] = field(default_factory=dict)
    #: Expected: n → change kind for the targets.
    changes: dict[int, str] = field(default_factory=dict)


ROWS = [
    Row(
        "newest keep are kept, the rest only seen",
        ", keep: 2",
        (),
        "parsed",
        (3, 0, 2, 1),
        {0: "live", 1: "live", 2: "seen", 3: "seen"},
        {0: "new", 1: "new"},
    ),
    Row(
        "items_per_feed bounds what one fetch contributes",
        ", keep: 5, items_per_feed: 2",
        (),
        "parsed",
        (0, 1, 2, 3),
        {0: "live", 1: "live", 2: "seen", 3: "seen"},
        {0: "new", 1: "new"},
    ),
    Row(
        "a failed feed prunes nothing",
        ", keep: 2",
        ((0, "live"), (1, "live"), (2, "live"), (3, "live")),
        "failed",
        (),
        {},
        {0: "unchanged", 1: "unchanged", 2: "unchanged", 3: "unchanged"},
    ),
    Row(
        "a feed not fetched (skipped) prunes nothing",
        ", keep: 1",
        ((0, "live"), (1, "live")),
        None,
        (),
        {},
        {0: "unchanged", 1: "unchanged"},
    ),
    Row(
        "not modified still applies keep",
        ", keep: 2",
        ((0, "live"), (1, "live"), (2, "live"), (3, "live")),
        "not_modified",
        (),
        {2: "pruned", 3: "pruned"},
        {0: "unchanged", 1: "unchanged", 2: "pruned", 3: "pruned"},
    ),
    Row(
        "max_age prunes what is too old, even within keep",
        ", keep: 10, max_age: 2d",
        ((0, "live"), (1, "live"), (5, "live")),
        "not_modified",
        (),
        {5: "pruned"},
        {0: "unchanged", 1: "unchanged", 5: "pruned"},
    ),
    Row(
        "a newer item pushes the oldest live one out",
        ", keep: 2",
        ((1, "live"), (2, "live")),
        "parsed",
        (0, 1, 2),
        {0: "live", 2: "pruned"},
        {0: "new", 1: "unchanged", 2: "pruned"},
    ),
    Row(
        "a pruned tombstone does not come back while listed",
        ", keep: 5",
        ((1, "pruned"),),
        "parsed",
        (0, 1),
        {0: "live"},
        {0: "new"},
    ),
    Row(
        "a removed tombstone never comes back, and is never forgotten",
        ", keep: 5",
        ((1, "removed"),),
        "parsed",
        (0,),
        {0: "live"},
        {0: "new"},
    ),
    Row(
        "what the feed no longer lists is forgotten: seen rows and prune tombstones",
        ", keep: 5",
        ((1, "seen"), (2, "pruned"), (3, "live")),
        "parsed",
        (0,),
        {0: "live", 1: "forget", 2: "forget"},
        {0: "new", 3: "unchanged"},
    ),
    Row(
        "a seen item that enters the window is posted",
        ", keep: 2",
        ((0, "seen"),),
        "parsed",
        (0,),
        {0: "live"},
        {0: "new"},
    ),
]


def _run(row: Row) -> tuple[FeedSpec, PlanInput, Decision]:
    feed = feed_with(row.options)
    items = [stored(feed.key, n, status) for n, status in row.state]
    outcome = None
    if row.outcome == "parsed":
        doc = ParsedFeed("rss20", "t", None, tuple(item(n) for n in row.document))
        outcome = FeedOutcome("parsed", doc)
    elif row.outcome is not None:
        outcome = FeedOutcome(row.outcome, error="boom" if row.outcome == "failed" else None)  # type: ignore[arg-type]
    inp = PlanInput(
        feeds=(feed,),
        clean_key="k",
        stored_feeds={},
        stored_items={feed.key: items},
        outcomes={} if outcome is None else {feed.key: outcome},
        now=NOW,
    )
    return feed, inp, decide(inp)


@pytest.mark.parametrize("row", ROWS, ids=[r.name for r in ROWS])
def test_retention(row: Row) -> None:
    feed, _inp, d = _run(row)
    by_id = {iid(n): n for n in range(10)}
    statuses: dict[int, str] = {by_id[i.item_id]: i.status for i in d.item_intents}
    statuses.update({by_id[i]: "forget" for _k, i in d.forget_items})
    # Rows whose stored status stays as it is need no intent: compare only what changes.
    expected = dict(row.statuses)
    for n, status in row.state:
        if n in statuses and n not in expected and statuses[n] == status:
            del statuses[n]
    assert statuses == expected
    assert {by_id[c.item_id]: c.kind for c in d.changes} == row.changes
    assert all(c.feed_key == feed.key for c in d.changes)
    assert not d.forget_feeds


def test_same_input_same_decision() -> None:
    _feed, inp, d = _run(ROWS[0])
    assert decide(inp) == d


def test_a_changed_item_says_what_changed() -> None:
    feed = feed_with(", keep: 2")
    old = stored(feed.key, 0, "live", chash="old")
    doc = FeedOutcome("parsed", ParsedFeed("rss20", "t", None, (item(0, "<p>new</p>"),)))
    d = decide_feed(feed, None, [old], doc, clean_key="k", now=NOW)
    [change] = d.changes
    assert (change.kind, change.what, change.was_live) == ("changed", ("content",), True)
    assert list(d.to_clean) == [(feed.key, iid(0))]


def test_new_cleaning_options_reclean_a_live_item() -> None:
    feed = feed_with("")
    d = decide_feed(feed, None, [stored(feed.key, 0, "live")], None, clean_key="k2", now=NOW)
    [change] = d.changes
    assert (change.kind, change.what) == ("changed", ("clean",))
    assert d.to_reclean == [(feed.key, iid(0))]


def test_feeds_gone_from_the_config_are_forgotten_whole() -> None:
    feed = feed_with("")
    gone = '["x","y","z"]'
    inp = PlanInput(
        feeds=(feed,),
        clean_key="k",
        stored_feeds={},
        stored_items={gone: [stored(gone, 0, "live")]},
        outcomes={},
        now=NOW,
    )
    d = decide(inp)
    assert d.forget_feeds == [gone]
    assert not d.changes  # the targets delete a gone feed's files from their ledger


def test_decide_is_decide_feed_for_each_feed() -> None:
    """A run can go feed by feed: the whole decision is the feeds' decisions together."""
    _feed, inp, whole = _run(ROWS[6])
    [feed] = inp.feeds
    part = decide_feed(
        feed, None, inp.stored_items[feed.key], inp.outcomes[feed.key], clean_key="k", now=NOW
    )
    assert (part.item_intents, part.changes, part.forget_items) == (
        whole.item_intents,
        whole.changes,
        whole.forget_items,
    )


def test_the_seen_only_date_bug() -> None:
    """A seen-only item whose date changed is recorded once; stored as such, it is not
    recorded again (issue #11: the row's date was never stored, so every run re-emitted it)."""
    feed = feed_with(", keep: 1")
    moved = ParsedItem("g5", None, "T5", NOW - timedelta(days=6), None, "<p>x</p>", "<p>x</p>")
    doc = FeedOutcome("parsed", ParsedFeed("rss20", "t", None, (item(0), moved)))
    first = decide_feed(feed, None, [stored(feed.key, 5, "seen")], doc, clean_key="k", now=NOW)
    [intent] = [i for i in first.item_intents if i.item_id == iid(5)]
    assert (intent.status, intent.date) == ("seen", moved.date)
    # What the store now holds (tests/store/test_items.py checks the store keeps the date).
    i = intent
    as_stored = StoredItem(
        i.feed_key, i.item_id, i.status, i.first_seen, i.seq, i.date, i.content_hash, "k"
    )
    again = decide_feed(feed, None, [as_stored], doc, clean_key="k", now=NOW)
    assert [i for i in again.item_intents if i.item_id == iid(5)] == []
