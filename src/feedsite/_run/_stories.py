"""Stories in a run (issue #15, docs/stories.md): the signatures of the items the run
cleaned, their links found through the index in the state, and the tree's stories after the
run, for the targets. Decides nothing: :mod:`feedsite._plan._stories` makes signatures,
links and stories; this reads and hands over.

An item has a signature while it is live: the signatures of items pruned, filtered, removed
or forgotten go (so no story ever points to a post that is gone, and the next member leads);
a live item without one (kept before stories existed) gets one from its stored data.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from feedsite._clean._rewrite import plain_text
from feedsite._plan import Decision
from feedsite._plan._stories import (
    WINDOW,
    Key,
    Signature,
    Story,
    StoryItem,
    feed_ranks,
    find_links,
    signature,
    stories_of,
)
from feedsite._records import ItemData, StoredItem
from feedsite._store import State, Tx
from feedsite.config import Config

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: Items whose data is read at a time to make missing signatures.
_BATCH = 2000


@dataclass(slots=True)
class StoryUpdate:
    """What a run records of stories, and the stories after it."""

    #: Signatures to record (new and changed live items), as rows.
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    #: Links found this run: (a, b, why).
    links: list[tuple[Key, Key, str]] = field(default_factory=list)
    #: Items no longer live, and items signed again: their rows go.
    drop: list[Key] = field(default_factory=list)
    #: Feeds gone from the config.
    drop_feeds: list[str] = field(default_factory=list)
    #: The run's time: index entries older than twice the window before it go.
    now: datetime | None = None

    def record(self, state: State, tx: Tx) -> None:
        """Record the update in the run's transaction."""
        state.record_stories(tx, self.rows, self.links, self.drop, self.drop_feeds)
        if self.now is not None:
            state.drop_story_keys_before(tx, micros(self.now - 2 * WINDOW))


def micros(t: datetime) -> int:
    """µs since the epoch (how the state keeps a story item's time)."""
    return (t - _EPOCH) // timedelta(microseconds=1)


def item_time(date: datetime | None, first_seen: datetime) -> datetime:
    """An item's time for stories: its date, else when it was first seen."""
    return date or first_seen


def story_item(key: Key, data: ItemData, time: datetime, rank: int) -> StoryItem:
    """What the clustering needs of one item: link, guid, title, the body's plain text."""
    d = data.item
    return StoryItem(key, d.link, d.guid, d.title or "", plain_text(data.body_clean), time, rank)


def update_stories(
    state: State,
    config: Config,
    decision: Decision,
    data: Mapping[Key, ItemData],
    stored_items: Mapping[str, Sequence[StoredItem]],
    now: datetime,
    feeds: Collection[str] | None = None,
) -> StoryUpdate:
    """The signatures and links of this run's live items.

    Args:
        state: the open state (read only here; :meth:`StoryUpdate.record` writes).
        config: the config (the feeds' ranks).
        decision: the run's decision (its item changes say which items are live after it).
        data: the items the run cleaned.
        stored_items: the items as the run found them in the state.
        now: the run's time.
        feeds: the feeds ``decision`` is about (a batch of a run); None: every feed.
    """
    ranks = feed_ranks(config.feeds)
    live = {(c.feed_key, c.item_id) for c in decision.changes if c.kind != "pruned"}
    gone_feeds = set(decision.forget_feeds)
    indexed = state.story_item_keys(None if feeds is None else {*feeds, *gone_feeds})
    drop = sorted(k for k in indexed if k not in live and k[0] not in gone_feeds)
    times: dict[Key, datetime] = {}
    for intent in decision.item_intents:
        times[intent.feed_key, intent.item_id] = item_time(intent.date, intent.first_seen)
    fresh = [k for k in sorted(data) if k in live]
    missing = sorted(live - indexed - set(fresh))
    if missing:
        by_key = {
            (i.feed_key, i.item_id): i
            for feed_key in {f for f, _ in missing}
            for i in stored_items.get(feed_key, ())
        }
        for k in missing:
            s = by_key.get(k)
            if s is not None and k not in times:
                times[k] = item_time(s.date, s.first_seen)
    new: list[Signature] = []
    for k in fresh:
        if k in times:
            new.append(signature(story_item(k, data[k], times[k], ranks.get(k[0], len(ranks)))))
    for start in range(0, len(missing), _BATCH):
        chunk = missing[start : start + _BATCH]
        for k, d in sorted(state.item_data(chunk).items()):
            if k in times:
                new.append(signature(story_item(k, d, times[k], ranks.get(k[0], len(ranks)))))
    replaced = {s.key for s in new}
    # An item signed again loses its old keys and links first.
    out = StoryUpdate(
        drop=sorted({*drop, *(replaced & indexed)}), drop_feeds=sorted(gone_feeds), now=now
    )
    out.rows = [s.to_row() for s in new]
    unusable = set(drop) | replaced
    out.links, _existing = link_new(state, new, unusable, gone_feeds)
    return out


def current_stories(state: State, config: Config) -> dict[Key, Story]:
    """The stories of more than one live item as the state holds them, by member."""
    graph = state.story_graph()
    times = {k: _EPOCH + timedelta(microseconds=t) for k, t in graph.times.items()}
    return stories_of(graph.links, times, feed_ranks(config.feeds))


def link_new(
    state: State,
    new: Sequence[Signature],
    unusable: Collection[Key] = (),
    gone_feeds: Collection[str] = (),
) -> tuple[list[tuple[Key, Key, str]], dict[Key, Signature]]:
    """The links of new signatures to the indexed items (and among themselves), read
    through the state's index: only the items under their keys are read and compared.
    Returns the links and the indexed signatures that were read."""
    candidates = {
        k: [m for m in keys if m not in unusable and m[0] not in gone_feeds]
        for k, keys in state.story_candidates(k for s in new for k in s.keys).items()
    }
    existing = {
        (row[0], row[1]): Signature.from_row(row)
        for row in state.story_signatures({m for keys in candidates.values() for m in keys})
    }
    found = find_links(existing, lambda k: candidates.get(k, ()), new)
    return [(x.a, x.b, x.why) for x in found], existing


@dataclass(frozen=True, slots=True)
class StoryMemberReport:
    """One member of a story, as ``feedsite stories`` lists it."""

    feed: str
    item_id: str
    title: str
    link: str | None
    time: str
    lead: bool
    #: A Hexo post exists for it (``site.dedupe: skip`` writes the lead's only).
    has_post: bool


@dataclass(frozen=True, slots=True)
class StoryReport:
    """One story of more than one live item (``feedsite stories``)."""

    id: str
    sites: int
    members: tuple[StoryMemberReport, ...]
    #: Why members were joined: (feed › item, feed › item, url|title|body).
    links: tuple[tuple[str, str, str], ...]


def list_stories(config: Config, *, since: timedelta | None, now: datetime) -> list[StoryReport]:
    """The current stories of more than one live item, newest first; with ``since``, those
    with a member in that time before ``now``. Reads the state only."""
    from feedsite._plan import feed_label
    from feedsite._targets.hexo import TARGET as HEXO

    if not config.state_path.exists():
        return []
    with State.snapshot(config.state_path) as state:
        graph = state.story_graph()
        times = {k: _EPOCH + timedelta(microseconds=t) for k, t in graph.times.items()}
        stories = stories_of(graph.links, times, feed_ranks(config.feeds))
        data = state.item_data(stories)
        posted = {(f.feed_key, f.item_id) for f in state.files(HEXO).values()}
    sites = {f.key: f.site for f in config.feeds}
    out = []
    for story in {s.id: s for s in stories.values()}.values():
        newest = max(times[k] for k in story.members)
        if since is not None and newest < now - since:
            continue
        members = tuple(
            StoryMemberReport(
                feed_label(k[0]),
                k[1],
                data[k].item.title if k in data else "",
                data[k].item.link if k in data else None,
                times[k].isoformat(),
                k == story.lead,
                k in posted,
            )
            for k in story.members
        )
        links = tuple(
            (f"{feed_label(x.a[0])} › {x.a[1]}", f"{feed_label(x.b[0])} › {x.b[1]}", x.why)
            for x in story.links
        )
        n_sites = len({sites.get(k[0], k[0]) for k in story.members})
        out.append((newest, StoryReport(story.id, n_sites, members, links)))
    out.sort(key=lambda pair: (pair[0], pair[1].id), reverse=True)
    return [report for _t, report in out]
