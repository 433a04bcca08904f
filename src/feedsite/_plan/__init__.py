"""Plan stage: the pure decider.

Given what the state holds, what this run fetched and parsed, what the disk
looks like and the current time (passed in), decide which items to record,
which posts to write, update, restore, prune or delete, and what to report.
Does not interact with any dependency (network, database, files, clock);
only processes data.

Selection rules (docs/retention.md):

* an item's *time* is its date, else the time feedsite first saw it;
  newest first, ties in feed order; a date more than :data:`FUTURE_TOLERANCE`
  after the first sighting (year 9999, an epoch in 2286: issue #10 row 15) is
  replaced by the first sighting, for ordering, retention and the stored and
  rendered date alike;
* each fetch contributes its newest ``items_per_feed`` items;
* of those and the feed's live posts, the newest ``keep`` stay, minus any
  older than ``max_age``; the rest are pruned and tombstoned;
* a feed that failed (or was not fetched) this run is never pruned;
* a feed no longer in the config has all its posts deleted.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Literal

from feedsite._records import (
    CachedValidators,
    DiskState,
    FeedIntent,
    FeedStatus,
    ItemIntent,
    PostDelete,
    StoredFeed,
    StoredItem,
    StoredPost,
)
from feedsite._targets._paths import post_relpath
from feedsite._targets.hexo import render_key
from feedsite.config import FeedSpec
from feedsite.types import ParsedFeed, ParsedItem, RenderSettings

from ._identity import content_hash, item_id
from ._schedule import next_attempt_after, not_due, source_order

__all__ = [
    "FUTURE_TOLERANCE",
    "Decision",
    "FeedOutcome",
    "FeedReport",
    "PlanInput",
    "RenderJob",
    "content_hash",
    "decide",
    "item_id",
    "not_due",
    "source_order",
    "without_feeds",
    "without_items",
]

#: How far after its first sighting an item's date may lie (clock skew, a zone
#: written wrong) before it is read as a lie and the first sighting is used.
FUTURE_TOLERANCE = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class FeedOutcome:
    """What this run got for one feed (fetch + parse results, as a value)."""

    #: ``deferred``: the server asked (Retry-After) for a later run than this one can
    #: wait for; ``skipped``: not fetched this run (backing off, out of time, stopped).
    kind: Literal["parsed", "not_modified", "failed", "deferred", "skipped"]
    parsed: ParsedFeed | None = None
    error: str | None = None
    source: str | None = None
    validators: CachedValidators | None = None
    #: For ``deferred``: not before this time.
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class PlanInput:
    """Everything the decider looks at."""

    feeds: Sequence[FeedSpec]
    settings: RenderSettings
    clean_key: str
    stored_feeds: Mapping[str, StoredFeed]
    stored_items: Mapping[str, Sequence[StoredItem]]
    stored_posts: Mapping[str, StoredPost]
    disk: Mapping[str, DiskState]
    outcomes: Mapping[str, FeedOutcome]
    now: datetime
    #: Seed of the backoff jitter (random per run; tests pin it).
    jitter_seed: int = 0


@dataclass(frozen=True, slots=True)
class RenderJob:
    """A post to render from an item's data and write."""

    path: str
    feed_key: str
    item_id: str
    render_key: str
    reason: Literal["new", "updated", "restored"]
    first_seen: datetime


@dataclass(slots=True)
class FeedReport:
    """Per-feed outcome and tallies for the summary."""

    key: str
    label: str
    status: Literal["ok", "not_modified", "failed", "deferred", "skipped"]
    error: str | None = None
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0
    pruned: int = 0
    edited: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Decision:
    """The decider's output: intents for the store and jobs for the targets."""

    feed_intents: list[FeedIntent] = field(default_factory=list)
    item_intents: list[ItemIntent] = field(default_factory=list)
    #: Items whose data must be (re)built from what the feed just said.
    to_clean: dict[tuple[str, str], ParsedItem] = field(default_factory=dict)
    #: Live items whose stored cleaned body is stale (cleaning options changed).
    to_reclean: list[tuple[str, str]] = field(default_factory=list)
    forget_items: list[tuple[str, str]] = field(default_factory=list)
    forget_feeds: list[str] = field(default_factory=list)
    renders: list[RenderJob] = field(default_factory=list)
    deletes: list[PostDelete] = field(default_factory=list)
    #: Paths feedsite stops owning (edited by hand, then pruned).
    releases: list[str] = field(default_factory=list)
    reports: list[FeedReport] = field(default_factory=list)
    #: Labels of feeds removed from the config, with how many posts they lose.
    removed_feeds: list[tuple[str, int]] = field(default_factory=list)


@dataclass(slots=True)
class _Candidate:
    iid: str
    first_seen: datetime
    seq: int
    date: datetime | None
    chash: str
    parsed: ParsedItem | None
    was_live: bool

    @property
    def time(self) -> datetime:
        return self.date or self.first_seen


def decide(inp: PlanInput) -> Decision:
    """Decide this run's changes. Pure: same input, same decision."""
    out = Decision()
    configured = {f.key for f in inp.feeds}
    posts_by_item: dict[tuple[str, str], StoredPost] = {
        (p.feed_key, p.item_id): p for p in inp.stored_posts.values()
    }
    for feed in inp.feeds:
        _decide_feed(inp, feed, posts_by_item, out)
    _remove_unconfigured(inp, configured, out)
    return out


def _decide_feed(
    inp: PlanInput,
    feed: FeedSpec,
    posts_by_item: Mapping[tuple[str, str], StoredPost],
    out: Decision,
) -> None:
    key, now = feed.key, inp.now
    outcome = inp.outcomes.get(feed.key)
    stored = {i.item_id: i for i in inp.stored_items.get(key, ())}
    kind = "skipped" if outcome is None else outcome.kind
    report = FeedReport(key, feed.label, "ok" if kind == "parsed" else kind)
    out.reports.append(report)
    if outcome is not None:
        report.error = outcome.error
        intent = _feed_intent(inp, feed, outcome)
        if intent is not None:
            out.feed_intents.append(intent)

    pool: dict[str, _Candidate] = {
        s.item_id: _Candidate(
            s.item_id, s.first_seen, s.seq, _sane(s.date, s.first_seen), s.content_hash, None, True
        )
        for s in stored.values()
        if s.status == "live"
    }
    if outcome is not None and outcome.parsed is not None:
        _merge_document(outcome.parsed, feed, stored, pool, out, now)

    if outcome is None or outcome.kind not in ("parsed", "not_modified"):
        kept = set(pool)  # never prune a feed we could not read
    else:
        ranked = sorted(pool.values(), key=lambda c: (-c.time.timestamp(), c.seq))[: feed.keep]
        if feed.max_age is not None:
            ranked = [c for c in ranked if c.time >= now - feed.max_age]
        kept = {c.iid for c in ranked}

    for cand in pool.values():
        if cand.iid in kept:
            _keep(inp, feed, cand, stored.get(cand.iid), posts_by_item, report, out)
        elif cand.was_live:
            _prune(inp, feed, cand, posts_by_item, report, out)
        else:
            _record(
                out,
                stored.get(cand.iid),
                ItemIntent(
                    key, cand.iid, "seen", cand.first_seen, cand.seq, cand.date, cand.chash, None
                ),
            )
            out.to_clean.pop((key, cand.iid), None)


def _feed_intent(inp: PlanInput, feed: FeedSpec, outcome: FeedOutcome) -> FeedIntent | None:
    """What to record about the feed; None when this run learnt nothing about it."""
    stored = inp.stored_feeds.get(feed.key)
    failures = stored.consecutive_failures if stored else 0
    common = (outcome.error, outcome.source, outcome.validators, inp.now)
    if outcome.kind == "skipped":
        return None
    if outcome.kind == "deferred":
        return FeedIntent(feed.key, "deferred", *common, failures, outcome.until)
    if outcome.kind == "failed":
        failures += 1
        later = next_attempt_after(failures, feed.key, inp.now, inp.jitter_seed)
        return FeedIntent(feed.key, "failed", *common, failures, later)
    status: FeedStatus = "ok" if outcome.kind == "parsed" else "not_modified"
    return FeedIntent(feed.key, status, *common, 0, None)


def _record(out: Decision, stored: StoredItem | None, intent: ItemIntent) -> None:
    """Queue ``intent`` unless the stored row already says exactly that."""
    if (
        stored is None
        or stored.status != intent.status
        or stored.seq != intent.seq
        or stored.date != intent.date
        or stored.content_hash != intent.content_hash
        or stored.first_seen != intent.first_seen
    ):
        out.item_intents.append(intent)


def _sane(date: datetime | None, first_seen: datetime) -> datetime | None:
    """``date``, unless it lies more than :data:`FUTURE_TOLERANCE` after ``first_seen``:
    then ``first_seen`` (measured from the first sighting, not from each run's now,
    so the answer never changes for an item)."""
    if date is not None and date > first_seen + FUTURE_TOLERANCE:
        return first_seen
    return date


def _merge_document(
    parsed: ParsedFeed,
    feed: FeedSpec,
    stored: Mapping[str, StoredItem],
    pool: dict[str, _Candidate],
    out: Decision,
    now: datetime,
) -> None:
    """Add the document's newest items to the pool; remember the others' first-seen times."""
    key = feed.key
    doc: dict[str, tuple[int, ParsedItem, str]] = {}
    for index, item in enumerate(parsed.items):
        iid = item_id(item)  # of the item as the feed says it: stable across runs
        if iid not in doc:
            doc[iid] = (index, item, content_hash(item))
    for iid, (index, item, chash) in doc.items():
        s = stored.get(iid)
        date = _sane(item.date, s.first_seen if s else now)
        if date is not item.date:  # a future date: the item as if dated at first sight
            doc[iid] = (index, replace(item, date=date), chash)

    def time_of(iid: str) -> datetime:
        _, item, _ = doc[iid]
        s = stored.get(iid)
        return item.date or (s.first_seen if s else now)

    window = sorted(doc, key=lambda iid: (-time_of(iid).timestamp(), doc[iid][0]))[
        : feed.items_per_feed
    ]
    in_window = set(window)

    for iid, (index, item, chash) in doc.items():
        s = stored.get(iid)
        if s is not None and s.status in ("pruned", "removed"):
            continue  # tombstoned: it does not come back
        first_seen = s.first_seen if s else now
        if s is not None and s.status == "live":
            cand = pool[iid]
            cand.seq, cand.date = index, item.date
            if s.content_hash != chash:
                cand.chash, cand.parsed = chash, item
            continue
        if iid in in_window:
            pool[iid] = _Candidate(iid, first_seen, index, item.date, chash, item, False)
        else:
            _record(out, s, ItemIntent(key, iid, "seen", first_seen, index, item.date, chash, None))
    # Forget what the feed no longer lists: seen-only rows and prune tombstones.
    # `removed` tombstones stay: a post the owner took down never comes back.
    for iid, s in stored.items():
        if iid not in doc and s.status in ("seen", "pruned"):
            out.forget_items.append((key, iid))


def _keep(
    inp: PlanInput,
    feed: FeedSpec,
    cand: _Candidate,
    stored: StoredItem | None,
    posts_by_item: Mapping[tuple[str, str], StoredPost],
    report: FeedReport,
    out: Decision,
) -> None:
    key = feed.key
    intent = ItemIntent(
        key, cand.iid, "live", cand.first_seen, cand.seq, cand.date, cand.chash, None
    )
    if cand.parsed is not None:
        out.to_clean[(key, cand.iid)] = cand.parsed
        out.item_intents.append(intent)
    elif stored is not None and stored.clean_key != inp.clean_key:
        out.to_reclean.append((key, cand.iid))
        out.item_intents.append(intent)
    else:
        _record(out, stored, intent)
    path = post_relpath(feed.category, feed.site, feed.name, cand.iid)
    rkey = render_key(
        cand.chash,
        cand.first_seen.isoformat(),
        inp.settings,
        (feed.category, feed.site, feed.name, inp.clean_key),
    )
    post = inp.stored_posts.get(path)
    old = posts_by_item.get((key, cand.iid))
    if old is not None and old.path != path:  # the item's post moved: the old file goes
        old_disk = inp.disk.get(old.path, "missing")
        if old_disk == "ok":
            out.deletes.append(PostDelete(old.path, "pruned"))
        else:  # edited by hand (kept, reported) or already gone: only forgotten
            if old_disk == "edited":
                report.edited.append(old.path)
            out.releases.append(old.path)
    disk = inp.disk.get(path, "missing") if post is not None else "missing"
    if post is not None and disk == "edited":
        report.edited.append(path)
        return
    if post is None:
        reason: Literal["new", "updated", "restored"] = "restored" if cand.was_live else "new"
    elif disk == "missing":
        reason = "restored"
    elif post.render_key != rkey:
        reason = "updated"
    else:
        report.unchanged += 1
        return
    setattr(report, reason, getattr(report, reason) + 1)
    out.renders.append(RenderJob(path, key, cand.iid, rkey, reason, cand.first_seen))


def _prune(
    inp: PlanInput,
    feed: FeedSpec,
    cand: _Candidate,
    posts_by_item: Mapping[tuple[str, str], StoredPost],
    report: FeedReport,
    out: Decision,
) -> None:
    out.item_intents.append(
        ItemIntent(
            feed.key, cand.iid, "pruned", cand.first_seen, cand.seq, cand.date, cand.chash, None
        )
    )
    out.to_clean.pop((feed.key, cand.iid), None)
    report.pruned += 1
    post = posts_by_item.get((feed.key, cand.iid))
    if post is None:
        return
    disk = inp.disk.get(post.path, "missing")
    if disk == "edited":
        report.edited.append(post.path)
        out.releases.append(post.path)
    elif disk == "missing":
        out.releases.append(post.path)
    else:
        out.deletes.append(PostDelete(post.path, "pruned"))


def _remove_unconfigured(inp: PlanInput, configured: set[str], out: Decision) -> None:
    gone = (set(inp.stored_feeds) | set(inp.stored_items)) - configured
    by_feed: dict[str, list[StoredPost]] = {}
    for post in inp.stored_posts.values():
        if post.feed_key not in configured:
            by_feed.setdefault(post.feed_key, []).append(post)
            gone.add(post.feed_key)
    for key in sorted(gone):
        posts = by_feed.get(key, [])
        for post in posts:
            if inp.disk.get(post.path, "missing") == "ok":
                out.deletes.append(PostDelete(post.path, "feed_removed"))
            else:
                out.releases.append(post.path)
        out.forget_feeds.append(key)
        out.removed_feeds.append((_label(key), len(posts)))


def _label(key: str) -> str:
    import json

    try:
        return " › ".join(json.loads(key))
    except (ValueError, TypeError):
        return key


def without_items(decision: Decision, keys: Collection[tuple[str, str]]) -> Decision:
    """The decision less the items whose data could not be built (``(feed_key, item_id)``).

    Pure. Each such item is left as the state holds it: no item intent, no post
    written (its report tally goes down). Its feed's validators are not saved
    (``validators=None`` keeps the stored ones), so the next run fetches the
    whole document again and meets the item again instead of a 304.
    """
    if not keys:
        return decision
    gone = set(keys)
    feeds = {k for k, _ in gone}
    reports = [replace(r, edited=list(r.edited)) for r in decision.reports]
    by_key = {r.key: r for r in reports}
    renders = []
    for job in decision.renders:
        if (job.feed_key, job.item_id) in gone:
            report = by_key.get(job.feed_key)
            if report is not None:
                setattr(report, job.reason, max(0, getattr(report, job.reason) - 1))
        else:
            renders.append(job)
    return replace(
        decision,
        feed_intents=[
            replace(f, validators=None) if f.key in feeds else f for f in decision.feed_intents
        ],
        item_intents=[i for i in decision.item_intents if (i.feed_key, i.item_id) not in gone],
        to_clean={k: v for k, v in decision.to_clean.items() if k not in gone},
        to_reclean=[k for k in decision.to_reclean if k not in gone],
        renders=renders,
        reports=reports,
    )


def without_feeds(
    decision: Decision, feeds: Sequence[FeedSpec], keys: Collection[str], why: str
) -> Decision:
    """The decision less every change to the feeds ``keys``: as if they were not fetched.

    Pure. For feeds whose items could not all be cleaned in time (``--max-time``):
    their feed intents (so their validators are not saved and the next run
    fetches them whole), item intents, renders, prunes (deletes and releases in
    their post folders) and forgettings go; their reports say ``skipped`` with
    ``why``. Nothing of theirs is lost: the next run decides them again.
    """
    if not keys:
        return decision
    skipped = set(keys)
    folders = {
        post_relpath(f.category, f.site, f.name, "0" * 16).rpartition("/")[0]
        for f in feeds
        if f.key in skipped
    }

    def theirs(path: str) -> bool:
        return path.rpartition("/")[0] in folders

    reports = []
    for r in decision.reports:
        if r.key in skipped:
            r = FeedReport(r.key, r.label, "skipped", why)
        reports.append(r)
    return replace(
        decision,
        feed_intents=[f for f in decision.feed_intents if f.key not in skipped],
        item_intents=[i for i in decision.item_intents if i.feed_key not in skipped],
        to_clean={k: v for k, v in decision.to_clean.items() if k[0] not in skipped},
        to_reclean=[k for k in decision.to_reclean if k[0] not in skipped],
        forget_items=[k for k in decision.forget_items if k[0] not in skipped],
        renders=[j for j in decision.renders if j.feed_key not in skipped],
        deletes=[d for d in decision.deletes if not theirs(d.path)],
        releases=[p for p in decision.releases if not theirs(p)],
        reports=reports,
    )
