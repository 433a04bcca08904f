"""Plan stage: the pure decider.

Given what the state holds, what this run fetched and parsed and the current
time (passed in), decide what happens to each item: recorded, kept (new,
changed, unchanged), pruned, forgotten; what to record about each feed; and
what to report. The decision is about items, never files: each target plans
its own files from the :class:`~feedsite._records.ItemChange` values
(``_targets.hexo.plan_posts``, the native site's page plan). Does not interact
with any dependency (network, database, files, clock); only processes data.

:func:`decide_feed` decides one feed from that feed's stored rows and outcome
alone, so a run can go feed by feed; :func:`decide` does every configured feed
and what is tree-wide (feeds gone from the config).

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
* a feed no longer in the config is forgotten (its targets delete its files).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from feedsite._records import (
    FeedIntent,
    FeedStatus,
    ItemChange,
    ItemIntent,
    PostTally,
    StoredFeed,
    StoredItem,
)
from feedsite.config import FeedSpec
from feedsite.types import ParsedFeed, ParsedItem, Validators

from ._fulltext import item_clean_key
from ._identity import content_hash, item_id
from ._rules import ItemFields, matcher
from ._schedule import (
    EVERY_RUN,
    Schedule,
    due_feeds,
    next_fetch,
    not_due,
    sooner_after_reload,
    source_order,
)

if TYPE_CHECKING:
    from feedsite._clean._rewrite import TextProbe

__all__ = [
    "FUTURE_TOLERANCE",
    "Decision",
    "FeedOutcome",
    "FeedReport",
    "PlanInput",
    "Schedule",
    "content_hash",
    "decide",
    "decide_feed",
    "due_feeds",
    "fail_feeds",
    "feed_label",
    "item_id",
    "not_due",
    "sooner_after_reload",
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
    validators: Validators | None = None
    #: For ``deferred``: not before this time.
    until: datetime | None = None
    #: Seconds the answer said the feed stays fresh (the longest of RSS ``ttl``,
    #: ``Cache-Control: max-age`` and ``Expires``); None when it said nothing.
    fresh_for: float | None = None


@dataclass(frozen=True, slots=True)
class PlanInput:
    """Everything the decider looks at."""

    feeds: Sequence[FeedSpec]
    #: The cleaning options of this run (an item cleaned with others is cleaned again).
    clean_key: str
    stored_feeds: Mapping[str, StoredFeed]
    stored_items: Mapping[str, Sequence[StoredItem]]
    outcomes: Mapping[str, FeedOutcome]
    now: datetime
    #: Seed of the backoff jitter (random per run; tests pin it).
    jitter_seed: int = 0
    #: ``(feed_key, item_id)`` → the article its body comes from (``_fulltext.article_key``);
    #: absent: the feed's own body.
    article_keys: Mapping[tuple[str, str], str] = field(default_factory=dict)
    #: What rules test of the stored live and filtered items of the feeds whose rules
    #: changed since their items were last judged (``StoredFeed.rules_key``).
    stored_fields: Mapping[tuple[str, str], ItemFields] = field(default_factory=dict)
    #: The intervals (docs/watch.md): in ``feedsite run``, feeds without an ``interval:``
    #: are fetched every run.
    schedule: Schedule = EVERY_RUN


@dataclass(slots=True)
class FeedReport:
    """Per-feed outcome for the summary.

    The decider sets the status and error; ``posts`` is filled in by the run from the
    Hexo target's post plan.
    """

    key: str
    label: str
    status: Literal["ok", "not_modified", "failed", "deferred", "skipped"]
    error: str | None = None
    posts: PostTally = field(default_factory=PostTally)


@dataclass(slots=True)
class Decision:
    """The decider's output: intents for the store, item changes for the targets."""

    feed_intents: list[FeedIntent] = field(default_factory=list)
    item_intents: list[ItemIntent] = field(default_factory=list)
    #: What happened to every item that has or had a post (the targets' input).
    changes: list[ItemChange] = field(default_factory=list)
    #: Items whose data must be (re)built from what the feed just said.
    to_clean: dict[tuple[str, str], ParsedItem] = field(default_factory=dict)
    #: Live items whose stored cleaned body is stale (cleaning options changed).
    to_reclean: list[tuple[str, str]] = field(default_factory=list)
    forget_items: list[tuple[str, str]] = field(default_factory=list)
    #: Feeds gone from the config: their rows go, and each target deletes their files.
    forget_feeds: list[str] = field(default_factory=list)
    reports: list[FeedReport] = field(default_factory=list)
    #: The rule set each feed's items were judged by this run (feed key → key; "" none).
    rules_keys: dict[str, str] = field(default_factory=dict)
    #: Items hidden by a rule this run: (feed key, item id, the rule, had a post).
    filtered: list[tuple[str, str, str, bool]] = field(default_factory=list)
    #: Filtered items whose rule went: they are posted again.
    unfiltered: list[tuple[str, str]] = field(default_factory=list)

    def add(self, part: Decision, *, item_work: bool = True) -> None:
        """Add another part's decision (another feed's, another batch's) to this one.
        Without ``item_work``, the item intents and the items to clean are left out: a run
        keeps only what its later stages need of a batch it has recorded."""
        self.feed_intents += part.feed_intents
        self.changes += part.changes
        self.forget_items += part.forget_items
        self.reports += part.reports
        self.rules_keys.update(part.rules_keys)
        self.filtered += part.filtered
        self.unfiltered += part.unfiltered
        if item_work:
            self.item_intents += part.item_intents
            self.to_clean.update(part.to_clean)
            self.to_reclean += part.to_reclean


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
    for feed in inp.feeds:
        part = decide_feed(
            feed,
            inp.stored_feeds.get(feed.key),
            inp.stored_items.get(feed.key, ()),
            inp.outcomes.get(feed.key),
            clean_key=inp.clean_key,
            now=inp.now,
            jitter_seed=inp.jitter_seed,
            article_keys=inp.article_keys,
            stored_fields=inp.stored_fields,
            schedule=inp.schedule,
        )
        out.add(part)
    configured = {f.key for f in inp.feeds}
    out.forget_feeds = sorted((set(inp.stored_feeds) | set(inp.stored_items)) - configured)
    return out


def decide_feed(
    feed: FeedSpec,
    stored_feed: StoredFeed | None,
    stored_items: Sequence[StoredItem],
    outcome: FeedOutcome | None,
    *,
    clean_key: str,
    now: datetime,
    jitter_seed: int = 0,
    article_keys: Mapping[tuple[str, str], str] | None = None,
    stored_fields: Mapping[tuple[str, str], ItemFields] | None = None,
    schedule: Schedule = EVERY_RUN,
) -> Decision:
    """Decide one feed from its own stored rows and this run's outcome. Pure.

    ``outcome`` None: the feed was not fetched this run (``skipped``).
    """
    out = Decision()
    key = feed.key
    stored = {i.item_id: i for i in stored_items}
    kind = "skipped" if outcome is None else outcome.kind
    report = FeedReport(key, feed.label, "ok" if kind == "parsed" else kind)
    out.reports.append(report)
    if outcome is not None:
        report.error = outcome.error
        intent = _feed_intent(feed, stored_feed, outcome, now, jitter_seed, schedule)
        if intent is not None:
            out.feed_intents.append(intent)

    pool: dict[str, _Candidate] = {
        s.item_id: _Candidate(
            s.item_id, s.first_seen, s.seq, _sane(s.date, s.first_seen), s.content_hash, None, True
        )
        for s in stored.values()
        if s.status == "live"
    }
    rules = _Rules(feed, stored_feed, stored_fields or {}, now)
    if rules.rejudge:
        out.rules_keys[key] = rules.key
        for s in stored.values():
            if s.status == "live":
                rules.hide_if_blocked(s.item_id, rules.stored_verdict(s.item_id))
            elif s.status == "filtered" and rules.stored_verdict(s.item_id, missing=True) is None:
                # Its rule went: it comes back (from its stored data) like a new item.
                pool[s.item_id] = _Candidate(
                    s.item_id,
                    s.first_seen,
                    s.seq,
                    _sane(s.date, s.first_seen),
                    s.content_hash,
                    None,
                    False,
                )
                out.unfiltered.append((key, s.item_id))
    if outcome is not None and outcome.parsed is not None:
        _merge_document(outcome.parsed, feed, stored, pool, out, now, rules)
    # A live item a rule now hides leaves the pool (it takes no place among the kept).
    for iid, rule in rules.hidden.items():
        cand = pool.pop(iid, None)
        if cand is None:
            continue
        if cand.was_live:
            _filter(key, cand, rule, out)
            continue
        # Let back in by a rule change, hidden again by its new content: it stays filtered.
        if (key, iid) in out.unfiltered:
            out.unfiltered.remove((key, iid))
        out.item_intents.append(
            ItemIntent(key, iid, "filtered", cand.first_seen, cand.seq, cand.date, cand.chash, None)
        )
        if cand.parsed is not None:
            out.to_clean[(key, iid)] = cand.parsed

    if outcome is None or outcome.kind not in ("parsed", "not_modified"):
        kept = set(pool)  # never prune a feed we could not read
    else:
        ranked = sorted(pool.values(), key=lambda c: (-c.time.timestamp(), c.seq))[: feed.keep]
        if feed.max_age is not None:
            ranked = [c for c in ranked if c.time >= now - feed.max_age]
        kept = {c.iid for c in ranked}

    fulltext = feed.fulltext.key()
    rewrite = feed.rules.rewrite_key()
    articles = article_keys or {}
    for cand in pool.values():
        if cand.iid in kept:
            ckey = item_clean_key(clean_key, fulltext, articles.get((key, cand.iid), "-"), rewrite)
            _keep(key, cand, stored.get(cand.iid), ckey, out, ckey[len(clean_key) :])
        elif cand.was_live:
            _prune(key, cand, out)
        else:
            _record(
                out,
                stored.get(cand.iid),
                ItemIntent(
                    key, cand.iid, "seen", cand.first_seen, cand.seq, cand.date, cand.chash, None
                ),
            )
            out.to_clean.pop((key, cand.iid), None)
    return out


def _feed_intent(
    feed: FeedSpec,
    stored: StoredFeed | None,
    outcome: FeedOutcome,
    now: datetime,
    jitter_seed: int,
    schedule: Schedule,
) -> FeedIntent | None:
    """What to record about the feed (its next fetch from ``_schedule.next_fetch``); None
    when this run learnt nothing about it."""
    failures = stored.consecutive_failures if stored else 0
    common = (outcome.error, outcome.source, outcome.validators, now)
    if outcome.kind == "skipped":
        return None
    if outcome.kind == "deferred":  # the server's time, within the schedule's bounds
        until = outcome.until
        if until is not None:
            until = min(max(until, now + schedule.floor), now + schedule.ceiling)
        return FeedIntent(feed.key, "deferred", *common, failures, until)
    failures = failures + 1 if outcome.kind == "failed" else 0
    later = next_fetch(
        feed.interval,
        schedule,
        failures=failures,
        server_says=outcome.fresh_for,
        key=feed.key,
        now=now,
        seed=jitter_seed,
    )
    if outcome.kind == "failed":
        return FeedIntent(feed.key, "failed", *common, failures, later)
    status: FeedStatus = "ok" if outcome.kind == "parsed" else "not_modified"
    return FeedIntent(feed.key, status, *common, 0, later)


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
    rules: _Rules,
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
        if iid in pool:  # live, or filtered and let back in
            cand = pool[iid]
            cand.seq, cand.date = index, item.date
            if cand.chash != chash or (not cand.was_live and cand.parsed is None):
                cand.chash, cand.parsed = chash, item
                rules.hide_if_blocked(iid, rules.verdict(item, first_seen))
            continue
        if s is not None and s.status == "filtered" and s.content_hash == chash:
            if s.seq != index or s.date != item.date:
                out.item_intents.append(
                    ItemIntent(key, iid, "filtered", first_seen, index, item.date, chash, None)
                )
            continue  # still hidden (unchanged, and its rules too, or it would be in the pool)
        if iid in in_window:
            rule = rules.verdict(item, first_seen)
            if rule is not None:
                # Hidden at first sight (or after a change): kept with its data, so that it
                # can come back when the rule goes.
                out.item_intents.append(
                    ItemIntent(key, iid, "filtered", first_seen, index, item.date, chash, None)
                )
                out.to_clean[(key, iid)] = item
                out.filtered.append((key, iid, rule, False))
                continue
            pool[iid] = _Candidate(iid, first_seen, index, item.date, chash, item, False)
        else:
            _record(out, s, ItemIntent(key, iid, "seen", first_seen, index, item.date, chash, None))
    # Forget what the feed no longer lists: seen-only rows and prune and filter tombstones.
    # `removed` tombstones stay: a post the owner took down never comes back.
    for iid, s in stored.items():
        if iid not in doc and s.status in ("seen", "pruned", "filtered"):
            out.forget_items.append((key, iid))


def _keep(
    key: str,
    cand: _Candidate,
    stored: StoredItem | None,
    clean_key: str,
    out: Decision,
    body_key: str = "",
) -> None:
    intent = ItemIntent(
        key, cand.iid, "live", cand.first_seen, cand.seq, cand.date, cand.chash, None
    )
    what: tuple[str, ...] = ()
    if cand.parsed is not None:
        out.to_clean[(key, cand.iid)] = cand.parsed
        out.item_intents.append(intent)
        what = ("content",)
    elif stored is not None and stored.clean_key != clean_key:
        out.to_reclean.append((key, cand.iid))
        out.item_intents.append(intent)
        what = ("clean",)
    else:
        _record(out, stored, intent)
    if not cand.was_live:
        kind: Literal["new", "changed", "unchanged"] = "new"
    else:
        kind = "changed" if what else "unchanged"
    out.changes.append(
        ItemChange(key, cand.iid, kind, cand.first_seen, cand.chash, cand.was_live, what, body_key)
    )


def _filter(key: str, cand: _Candidate, rule: str, out: Decision) -> None:
    """A live item a rule now hides: its post goes, the item stays (with its data) as a
    ``filtered`` tombstone, so it comes back when the rule goes."""
    out.item_intents.append(
        ItemIntent(
            key, cand.iid, "filtered", cand.first_seen, cand.seq, cand.date, cand.chash, None
        )
    )
    if cand.parsed is not None:
        out.to_clean[(key, cand.iid)] = cand.parsed  # its newest data, for its return
    out.filtered.append((key, cand.iid, rule, True))
    out.changes.append(
        ItemChange(key, cand.iid, "pruned", cand.first_seen, cand.chash, True, ("rules",))
    )


class _Rules:
    """The rules of one feed during its decision: whether its stored items are judged
    again (its rule set changed since they were judged), and what each item gets."""

    def __init__(
        self,
        feed: FeedSpec,
        stored_feed: StoredFeed | None,
        fields: Mapping[tuple[str, str], ItemFields],
        now: datetime,
    ) -> None:
        self.feed_key = feed.key
        self.rules = feed.rules
        self.matcher = None if feed.rules.empty else matcher(feed.rules)
        self.probe: TextProbe | None = None
        if self.matcher is not None and feed.rules.needs_content:
            from feedsite._clean._rewrite import text_probe

            self.probe = text_probe(feed.rules.content_patterns)
        self.key = "" if self.matcher is None else feed.rules.key()
        before = (stored_feed.rules_key if stored_feed is not None else None) or ""
        self.rejudge = before != self.key
        self.fields = fields
        self.now = now
        #: Live (or returning) items a rule hides: item id → the rule.
        self.hidden: dict[str, str] = {}

    def verdict(self, item: ParsedItem, first_seen: datetime) -> str | None:
        """The rule that hides ``item`` (as the feed says it), or None."""
        if self.matcher is None:
            return None
        content = ""
        if self.probe is not None:
            from feedsite._clean._rewrite import plain_text

            # When no content pattern can match the body's text, "" judges alike (every
            # pattern the probe looks at needs letters), without making the text.
            raw = item.content_html or item.summary_html or ""
            if self.probe.may_match(raw):
                content = plain_text(raw)
        got = self.matcher.judge(
            ItemFields(
                title=item.title,
                content=content,
                author=item.author or "",
                link=item.link or "",
                categories=item.categories,
                time=item.date or first_seen,
            ),
            self.now,
        )
        return None if got is None else got.rule

    def stored_verdict(self, item_id: str, *, missing: bool = False) -> str | None:
        """The rule that hides a stored item, or None; an item whose fields were not given
        counts as hidden when ``missing`` (a filtered one stays filtered)."""
        if self.matcher is None:
            return None
        fields = self.fields.get((self.feed_key, item_id))
        if fields is None:
            return "(not judged: its data is not stored)" if missing else None
        got = self.matcher.judge(fields, self.now)
        return None if got is None else got.rule

    def hide_if_blocked(self, item_id: str, rule: str | None) -> None:
        if rule is not None:
            self.hidden[item_id] = rule
        else:
            self.hidden.pop(item_id, None)


def _prune(key: str, cand: _Candidate, out: Decision) -> None:
    out.item_intents.append(
        ItemIntent(key, cand.iid, "pruned", cand.first_seen, cand.seq, cand.date, cand.chash, None)
    )
    out.to_clean.pop((key, cand.iid), None)
    out.changes.append(
        ItemChange(key, cand.iid, "pruned", cand.first_seen, cand.chash, cand.was_live)
    )


def feed_label(key: str) -> str:
    """A feed key (JSON ``[category, site, feed]``) as the summary shows it."""
    try:
        return " › ".join(json.loads(key))
    except (ValueError, TypeError):
        return key


def without_items(decision: Decision, keys: Collection[tuple[str, str]]) -> Decision:
    """The decision less the items whose data could not be built (``(feed_key, item_id)``).

    Pure. Each such item is left as the state holds it: no item intent, no change
    for the targets. Its feed's validators are not saved (``validators=None``
    keeps the stored ones), so the next run fetches the whole document again and
    meets the item again instead of a 304.
    """
    if not keys:
        return decision
    gone = set(keys)
    feeds = {k for k, _ in gone}
    return replace(
        decision,
        feed_intents=[
            replace(f, validators=None) if f.key in feeds else f for f in decision.feed_intents
        ],
        item_intents=[i for i in decision.item_intents if (i.feed_key, i.item_id) not in gone],
        changes=[c for c in decision.changes if (c.feed_key, c.item_id) not in gone],
        to_clean={k: v for k, v in decision.to_clean.items() if k not in gone},
        to_reclean=[k for k in decision.to_reclean if k not in gone],
    )


def without_feeds(decision: Decision, keys: Collection[str], why: str) -> Decision:
    """The decision less every change to the feeds ``keys``: as if they were not fetched.

    Pure. For feeds whose items could not all be cleaned in time (``--max-time``):
    their feed intents (so their validators are not saved and the next run
    fetches them whole), item intents, item changes (so no target writes or
    deletes a file of theirs) and forgettings go; their reports say ``skipped``
    with ``why``. Nothing of theirs is lost: the next run decides them again.
    """
    if not keys:
        return decision
    skipped = set(keys)
    reports = [
        FeedReport(r.key, r.label, "skipped", why) if r.key in skipped else r
        for r in decision.reports
    ]
    return _less(
        decision,
        skipped,
        feed_intents=[f for f in decision.feed_intents if f.key not in skipped],
        reports=reports,
    )


def fail_feeds(decision: Decision, errors: Mapping[str, str]) -> Decision:
    """The decision with the feeds ``errors`` (key → message) failed: none of their
    items or files change, and they are recorded and reported as failed (their
    validators not saved, so the next run fetches them whole). Pure.

    For a feed a target cannot write (its folder is a symlink out, a file, read-only).
    """
    if not errors:
        return decision
    reports = [
        FeedReport(r.key, r.label, "failed", errors[r.key]) if r.key in errors else r
        for r in decision.reports
    ]
    intents = [
        replace(
            f,
            status="failed",
            error=errors[f.key],
            validators=None,
            consecutive_failures=max(f.consecutive_failures, 1),
        )
        if f.key in errors
        else f
        for f in decision.feed_intents
    ]
    return _less(decision, set(errors), feed_intents=intents, reports=reports)


def _less(
    decision: Decision,
    feeds: set[str],
    *,
    feed_intents: list[FeedIntent],
    reports: list[FeedReport],
) -> Decision:
    """``decision`` without the item-level work of ``feeds``."""
    return replace(
        decision,
        feed_intents=feed_intents,
        item_intents=[i for i in decision.item_intents if i.feed_key not in feeds],
        changes=[c for c in decision.changes if c.feed_key not in feeds],
        to_clean={k: v for k, v in decision.to_clean.items() if k[0] not in feeds},
        to_reclean=[k for k in decision.to_reclean if k[0] not in feeds],
        forget_items=[k for k in decision.forget_items if k[0] not in feeds],
        reports=reports,
    )
