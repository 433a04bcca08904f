"""A run: the thin I/O shell around the pure decider.

``run`` locks the state, settles what a killed run left, and streams (docs/scale.md): the
feeds' fetches run in a thread of their own (``_ingest.FeedStream``); as they finish, feeds
are taken in batches that are decided (:func:`feedsite._plan.decide`), cleaned, signed for
stories and recorded (``_apply``); then the images, once; then the Hexo posts, planned and
written through the one ledger a batch of feeds at a time. ``_build`` builds the targets,
``_adopt`` takes an old site's posts in. It decides nothing itself.
"""

from __future__ import annotations

import array
import ctypes
import functools
import random
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedsite._plan import (
    Decision,
    FeedOutcome,
    FeedReport,
    PlanInput,
    Schedule,
    decide,
    feed_label,
)
from feedsite._plan._stories import Story
from feedsite._records import (
    ChangeKind,
    FeedIntent,
    FeedRow,
    InstanceIntent,
    ItemChange,
    StoredFeed,
)
from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets._ledger import Ledger
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import POSTS_DIR, TARGET, PostPlan
from feedsite._url import redact
from feedsite.config import NO_TIMEZONE_WARNING, Config, FeedSpec
from feedsite.errors import UnknownItemError
from feedsite.types import RenderSettings

from ._fulltext import FulltextReport
from ._images import ImageReport
from ._rules import RuleEffect


@dataclass(frozen=True, slots=True)
class RunCounts:
    """A run's totals, for the summary and ``--json``."""

    feeds_ok: int = 0
    feeds_not_modified: int = 0
    feeds_failed: int = 0
    feeds_deferred: int = 0
    feeds_skipped: int = 0
    posts_new: int = 0
    posts_updated: int = 0
    posts_unchanged: int = 0
    posts_restored: int = 0
    posts_pruned: int = 0
    posts_edited: int = 0
    #: Items without a post: another report of their story leads (``site.dedupe: skip``).
    posts_skipped: int = 0


@dataclass(slots=True)
class RunResult:
    """What a run did, for the CLI's summary (and ``--json``)."""

    decision: Decision
    dry_run: bool
    #: The Hexo posts planned (and, unless a dry run, written).
    posts: PostPlan = field(default_factory=PostPlan)
    seconds: float = 0.0
    deleted: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Items that could not be cleaned or rendered (each names its feed and item id).
    item_errors: list[str] = field(default_factory=list)
    #: SIGINT/SIGTERM that stopped the run early (feeds in flight were skipped).
    stopped_by: str | None = None
    #: What the run did with images (None: the image stage did not run).
    images: ImageReport | None = None
    #: What the run did with article pages (full text).
    fulltext: FulltextReport = field(default_factory=FulltextReport)
    #: With ``preview``: what each rule does to each post.
    rule_effects: list[RuleEffect] = field(default_factory=list)
    #: The stories of more than one live item after the run, by member (issue #15).
    stories: dict[tuple[str, str], Story] = field(default_factory=dict)

    @property
    def reports(self) -> list[FeedReport]:
        """Each configured feed's status, with its posts' tallies."""
        return self.decision.reports

    @property
    def removed_feeds(self) -> list[tuple[str, int]]:
        """Feeds gone from the config: their labels, with how many posts they lose."""
        return [(feed_label(key), n) for key, n in sorted(self.posts.removed.items())]

    def counts(self) -> RunCounts:
        reports = self.decision.reports
        return RunCounts(
            feeds_ok=sum(r.status == "ok" for r in reports),
            feeds_not_modified=sum(r.status == "not_modified" for r in reports),
            feeds_failed=sum(r.status == "failed" for r in reports),
            feeds_deferred=sum(r.status == "deferred" for r in reports),
            feeds_skipped=sum(r.status == "skipped" for r in reports),
            posts_new=sum(r.posts.new for r in reports),
            posts_updated=sum(r.posts.updated for r in reports),
            posts_unchanged=sum(r.posts.unchanged for r in reports),
            posts_restored=sum(r.posts.restored for r in reports),
            posts_pruned=sum(r.posts.pruned for r in reports),
            posts_edited=sum(len(r.posts.edited) for r in reports),
            posts_skipped=sum(r.posts.skipped for r in reports),
        )

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON; every message is redacted (issue #10 row 12): a parse error
        names the fetch URL, which may hold the instance's password or access key."""
        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            **asdict(self.counts()),
            "feeds": [
                {
                    "feed": r.label,
                    "status": r.status,
                    "error": redact(r.error) if r.error else r.error,
                    "new": r.posts.new,
                    "updated": r.posts.updated,
                    "unchanged": r.posts.unchanged,
                    "restored": r.posts.restored,
                    "pruned": r.posts.pruned,
                    "skipped": r.posts.skipped,
                    "edited": r.posts.edited,
                }
                for r in self.decision.reports
            ],
            "removed_feeds": [{"feed": label, "posts": n} for label, n in self.removed_feeds],
            "warnings": [redact(w) for w in self.warnings],
            "item_errors": [redact(e) for e in self.item_errors],
            "stopped_by": self.stopped_by,
            "stories": len({s.id for s in self.stories.values()}),
            "images": None if self.images is None else _image_json(self.images),
            "filtered": [
                {"feed": feed_label(f), "item": i, "rule": rule, "had_post": live}
                for f, i, rule, live in self.decision.filtered
            ],
            "fulltext": {
                "fetched": self.fulltext.fetched,
                "short": self.fulltext.short,
                "failed": {redact(k): n for k, n in sorted(self.fulltext.failed.items())},
            },
        }


def _image_json(report: ImageReport) -> dict[str, Any]:
    return {
        "fetched": report.fetched,
        "reused": report.reused,
        "failed": sum(report.failed.values()),
        "failed_by": {redact(k): n for k, n in sorted(report.failed.items())},
        "over_budget": report.over_budget,
        "postponed": report.postponed,
        "bytes_on_disk": report.bytes_on_disk,
        "budget": report.budget,
        "seconds": round(report.seconds, 3),
    }


def render_settings(config: Config) -> RenderSettings:
    """The render settings of a config (reads the Hexo ``_config.yml`` timezone as a fallback)."""
    return RenderSettings(
        profile=config.site.profile,
        timezone=config.site.timezone or hexo_timezone(config.site.hexo_root),
        image_proxy=config.images.policy.proxy if config.images.policy.mode == "proxy" else None,
        placeholder=config.site.placeholder,
        source_key=config.site.source_key,
        image_prefix=hexo_image_prefix(config),
    )


def hexo_image_prefix(config: Config) -> str | None:
    """The URL of the image folder in the Hexo site (Hexo's ``root`` + its path under
    ``source/``), or None when Hexo does not publish it (not under ``source/``) or the
    ``legacy`` profile, whose posts always hotlink."""
    if config.site.profile != "default":
        return None
    source = config.site.hexo_root / "source"
    try:
        rel = config.images.dir.relative_to(source)
    except ValueError:
        return None
    if not rel.parts or rel.parts[0].startswith(("_", ".")):
        return None  # Hexo does not copy such folders
    return hexo_setting(config.site.hexo_root, "root", "/").rstrip("/") + "/" + rel.as_posix() + "/"


def hexo_setting(hexo_root: Path, key: str, default: str) -> str:
    """A string setting of ``<hexo_root>/_config.yml`` (``default`` when unset or unreadable)."""
    try:
        import yaml

        data = yaml.safe_load((hexo_root / "_config.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return default
    value = data.get(key) if isinstance(data, dict) else None
    return value.strip() if isinstance(value, str) and value.strip() else default


def config_warnings(config: Config) -> list[str]:
    """The config's warnings, less the timezone one when Hexo's ``_config.yml`` names a zone."""
    if config.site.timezone is None and hexo_timezone(config.site.hexo_root):
        return [w for w in config.warnings if w != NO_TIMEZONE_WARNING]
    return list(config.warnings)


def hexo_timezone(hexo_root: Path) -> str | None:
    """The ``timezone`` of ``<hexo_root>/_config.yml``, if set and valid."""
    try:
        import yaml

        data = yaml.safe_load((hexo_root / "_config.yml").read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return None
    tz = data.get("timezone") if isinstance(data, dict) else None
    if not isinstance(tz, str) or not tz.strip():
        return None
    try:
        ZoneInfo(tz.strip())
    except (ValueError, KeyError, OSError):
        return None
    return tz.strip()


#: Items (parsed, or kept from the state) a run decides, cleans and records at a time;
#: about 15 KB each while a batch is worked on (docs/scale.md).
BATCH_ITEMS = 2000


def run(
    config: Config,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    max_time: float | None = None,
    seed: int | None = None,
    on_feed_done: Callable[[str], None] | None = None,
    fetch: bool = True,
    preview: bool = False,
    batch_items: int = BATCH_ITEMS,
    only: Collection[str] | None = None,
    watching: bool = False,
) -> RunResult:
    """Fetch every due feed, decide, and write posts. See the module docstring.

    A run streams (issue #16, docs/scale.md): feeds are decided, cleaned and recorded in
    batches of about ``batch_items`` items as their fetches finish; then the images; then
    the posts, a batch of feeds at a time. What it holds does not grow with the tree.

    Args:
        config: the loaded config.
        dry_run: decide and report, write neither files nor state (the decisions are
            recorded in a private temporary copy of the state only).
        now: the run's time (default: the clock; tests pin it).
        max_time: seconds after which no new feed is started; the rest are skipped.
        seed: seed of the retry and backoff jitter (default: random; tests pin it).
        on_feed_done: called with each feed's key as its fetch finishes (from the fetch
            thread).
        fetch: False decides from the state alone, every feed skipped (``feedsite rules``:
            rules applied to the posts there are, without fetching).
        preview: list what the rules do (``RunResult.rule_effects``).
        batch_items: the size of a batch (tests make it small).
        only: the keys of the feeds to run (``feedsite watch``'s due feeds); the others are
            neither fetched nor reported, and feeds gone from the config are not forgotten
            (a whole run does that). None: every feed.
        watching: feeds without an ``interval:`` get ``watch.interval`` (docs/watch.md);
            in a plain run they are fetched every run.
    """
    from ._ingest import FeedStream, on_signals

    started = time.monotonic()
    now = now or datetime.now(UTC)
    deadline = None if max_time is None else started + max_time
    # A dry run creates nothing (no state, lock or folder): it works on a copy of the state.
    holder = "feedsite watch" if watching else "feedsite run"
    lock = nullcontext() if dry_run else locked(config.state_path, holder=holder)
    opened = State.snapshot if dry_run else State.open
    with lock, opened(config.state_path) as state:
        ledger = Ledger(state, Writer(config.site.hexo_root / POSTS_DIR), TARGET)
        if not dry_run:
            ledger.settle()
        stored_feeds = state.feeds()
        result = RunResult(Decision(), dry_run, warnings=config_warnings(config))
        watch = config.watch
        schedule = Schedule(
            watch.interval if watching else None, watch.min_interval, watch.max_interval
        )
        batch = _Batches(config, state, stored_feeds, result, now, deadline, seed, preview)
        batch.schedule = schedule
        ran = config
        if only is not None:
            wanted = set(only)
            ran = replace(config, feeds=tuple(f for f in config.feeds if f.key in wanted))
            batch.run_feeds = ran.feeds
        stream = FeedStream(
            ran,
            stored_feeds,
            state.instance_failures(),
            now=now,
            deadline=deadline,
            seed=seed,
            on_feed_done=on_feed_done,
            fetch=fetch,
            watching=watching,
        )
        with on_signals(stream.stop) as caught:
            waiting: dict[str, FeedOutcome | None] = {}
            size = 0
            for key, outcome in stream:
                waiting[key] = outcome
                parsed = outcome.parsed if outcome is not None else None
                size += 1 + (len(parsed.items) if parsed is not None else 0)
                if size >= batch_items:
                    batch.decide(waiting)
                    waiting, size = {}, 0
                    _give_back_memory()
            batch.decide(waiting)
            batch.forget_removed(stream.instances, partial=only is not None)
            # Then the images and the posts, whatever signal comes: the writes finish.
            settings = render_settings(config)
            batch.write(ledger, settings, batch_items, dry_run=dry_run)
        result.stopped_by = stream.stopped_by or (caught[0] if caught else None)
        order = {f.key: n for n, f in enumerate(ran.feeds)}
        result.decision.reports.sort(key=lambda r: order.get(r.key, len(order)))
        _add_tallies(result.decision.reports, result.posts)
        result.seconds = time.monotonic() - started
        return result


class _Batches:
    """The stages of a run after fetching, a batch at a time (see :func:`run`)."""

    def __init__(
        self,
        config: Config,
        state: State,
        stored_feeds: Mapping[str, StoredFeed],
        result: RunResult,
        now: datetime,
        deadline: float | None,
        seed: int | None,
        preview: bool,
    ) -> None:
        # The fetch, parse and clean stacks (httpx, lxml, nh3) load here, not with the
        # package: `feedsite build` and `status` import `_run` too and should not pay for them.
        from feedsite._clean import clean_key

        self.config = config
        self.state = state
        self.stored_feeds = stored_feeds
        self.result = result
        self.now = now
        self.deadline = deadline
        self.seed = seed
        self.preview = preview
        self.ckey = clean_key(config.clean.iframe_hosts)
        self.jitter_seed = random.Random(seed).getrandbits(32)
        self.feeds = {f.key: f for f in config.feeds}
        self.writer = Writer(config.site.hexo_root / POSTS_DIR)
        self.tidy = not result.dry_run  # article pages of forgotten items, once per run
        #: Each feed's item changes, packed, from its batch to its posts.
        self.changes: dict[str, _Packed | list[ItemChange]] = {}
        self.schedule = Schedule(None, config.watch.min_interval, config.watch.max_interval)
        #: The feeds this run fetches and writes (``run(only=...)``: fewer than the config's;
        #: the images and stories still see the whole tree).
        self.run_feeds: Sequence[FeedSpec] = config.feeds

    def changes_of(self, key: str) -> list[ItemChange]:
        """A feed's item changes, as its batch decided them."""
        packed = self.changes.get(key)
        if packed is None:
            return []
        return packed if isinstance(packed, list) else packed.unpack(key)

    def _count(self, key: str) -> int:
        packed = self.changes.get(key)
        return 0 if packed is None else len(packed)

    def decide(self, outcomes: Mapping[str, FeedOutcome | None]) -> None:
        """Decide, fetch full text for, clean, sign and record a batch of feeds."""
        from ._apply import clean_items, record_decision, unwritable
        from ._fulltext import run_fulltext
        from ._rules import effects, stored_fields
        from ._stories import update_stories

        feeds = [f for f in self.config.feeds if f.key in outcomes]
        if not feeds:
            return
        keys = [f.key for f in feeds]
        # The per-feed settings of the batch's feeds only (their keys are hashed, their
        # folders checked): a stage that looked at every feed would cost the tree per batch.
        config = replace(self.config, feeds=tuple(feeds))
        stored = {k: self.stored_feeds[k] for k in keys if k in self.stored_feeds}
        stored_items = self.state.items_of_feeds(keys)
        plan_input = PlanInput(
            feeds=feeds,
            clean_key=self.ckey,
            stored_feeds=stored,
            stored_items=stored_items,
            outcomes={k: o for k, o in outcomes.items() if o is not None},
            now=self.now,
            jitter_seed=self.jitter_seed,
            stored_fields=stored_fields(config, self.state, stored, stored_items),
            schedule=self.schedule,
        )
        decision = decide(plan_input)
        # Full text: the article pages the kept items want, then the decision again with the
        # article each item's body comes from (an item whose article arrived is cleaned again).
        articles, fulltext = run_fulltext(
            self.config,
            self.state,
            decision,
            now=self.now,
            dry_run=not self.tidy,
            seed=self.seed,
            deadline=self.deadline,
        )
        self.tidy = False
        self.result.fulltext.add(fulltext)
        if any(f.fulltext.fetches_pages for f in feeds):
            decision = decide(replace(plan_input, article_keys=articles.keys))
        decision, data = clean_items(
            decision, self.state, config, self.ckey, self.result, self.deadline, articles
        )
        decision = unwritable(decision, config, self.writer)
        stories = update_stories(
            self.state, self.config, decision, data, stored_items, self.now, feeds=keys
        )
        if self.preview:
            self.result.rule_effects += effects(self.config, self.state, decision, data)
        record_decision(self.state, decision, data, stories)
        by_feed: dict[str, list[ItemChange]] = {}
        for change in decision.changes:
            by_feed.setdefault(change.feed_key, []).append(change)
        for key, changes in by_feed.items():
            self.changes[key] = _pack(changes)
        # What the run holds of the batch for its later stages: its item changes packed
        # (above), the rest of its decision without them.
        self.result.decision.add(replace(decision, changes=[]), item_work=False)

    def forget_removed(self, instances: Sequence[InstanceIntent], *, partial: bool) -> None:
        """The feeds gone from the config lose their rows and story rows (not in a
        ``partial`` run: it does not look at every feed); the RSSHub instances' health is
        recorded."""
        from ._apply import record_decision
        from ._stories import update_stories

        if partial:
            with self.state.transaction() as tx:
                self.state.record_feeds(tx, (), instances)
            return
        configured = set(self.feeds)
        gone = sorted((set(self.stored_feeds) | self.state.item_feed_keys()) - configured)
        decision = Decision(forget_feeds=gone)
        stories = None
        if gone:
            stories = update_stories(self.state, self.config, decision, {}, {}, self.now, feeds=())
        record_decision(self.state, decision, {}, stories)
        with self.state.transaction() as tx:
            self.state.record_feeds(tx, (), instances)
        self.result.decision.forget_feeds = gone

    def write(self, ledger: Ledger, settings: RenderSettings, size: int, *, dry_run: bool) -> None:
        """The images, then the Hexo posts a batch of feeds at a time."""
        from ._apply import plan_hexo, write_posts
        from ._images import LiveImages, run_images, wants_covers, wants_local
        from ._stories import current_stories

        result, state, config = self.result, self.state, self.config
        decision = result.decision
        # The images of the live posts, when some feed keeps images or covers of its own (a
        # tree that hotlinks needs none: its image stage only lets go of what an earlier run
        # kept). Read from the state a group at a time: only the local feeds' are held (the
        # budget is over all of them).
        local = [f.key for f in config.feeds if wants_local(f, config)]
        covered = [f.key for f in config.feeds if wants_covers(f, config)]
        live = LiveImages.read(state, dry_run=dry_run) if local or covered else None
        images, result.images = run_images(
            config,
            state,
            live.refs(local) if live is not None and local else {},
            now=self.now,
            dry_run=dry_run,
            seed=self.seed,
            coverless=live.coverless_feeds(covered) if live is not None else (),
        )
        stories = current_stories(state, config)
        result.stories = stories
        hashes = {
            (c.feed_key, c.item_id): c.content_hash
            for key in sorted({k[0] for k in stories})
            for c in self.changes_of(key)
            if c.kind != "pruned" and (c.feed_key, c.item_id) in stories
        }
        configured = set(self.feeds)
        leftover = (state.file_feed_keys(TARGET) | set(decision.forget_feeds)) - configured
        if self.run_feeds is not config.feeds:
            leftover = set()  # a partial run (feedsite watch) leaves the other feeds alone
        groups = _groups([(f.key, self._count(f.key)) for f in self.run_feeds], size)
        groups.append(sorted(leftover))  # removed feeds: their posts go
        intents = {f.key: f for f in decision.feed_intents}
        reports = {r.key: n for n, r in enumerate(decision.reports)}
        names = {f.key: (f.category, f.site, f.name) for f in config.feeds}
        for keys in groups:
            if not keys:
                continue
            # The ledger's writer is the one the batches checked the folders with: a folder
            # is resolved once per run.
            scoped = Ledger(state, self.writer, ledger.target, keys)
            disk = scoped.observe(refresh=not dry_run)
            changes = [c for k in keys for c in self.changes_of(k)]
            named = {(c.feed_key, c.item_id) for c in changes}
            alive = state.live_item_keys(keys)
            dead = (
                {
                    (f.feed_key, f.item_id)
                    for f in scoped.owned().values()
                    if f.feed_key is not None and f.item_id is not None
                }
                - alive
                - named
            )
            # The group's feeds only: a stage that looked at every feed per group would cost
            # the whole tree once per group.
            gconfig = replace(config, feeds=tuple(self.feeds[k] for k in keys if k in self.feeds))
            refs = live.for_posts(keys, images) if live is not None else {}
            members = ((c.feed_key, c.item_id) for c in changes)
            grefs = {k: refs[k] for k in members if k in refs}
            part = Decision(
                changes=changes,
                forget_feeds=[k for k in keys if k not in configured],
                reports=[decision.reports[reports[k]] for k in keys if k in reports],
                feed_intents=[intents[k] for k in keys if k in intents],
            )
            after, posts = plan_hexo(
                part,
                scoped,
                disk,
                gconfig,
                settings,
                self.ckey,
                result,
                images,
                grefs,
                stories,
                hashes,
                dead,
            )
            failed = _failed(part, after)
            if failed:
                for r in after.reports:
                    if r.key in reports:
                        decision.reports[reports[r.key]] = r
            if not dry_run:
                write_posts(posts, state, scoped, gconfig, settings, result, images, failed, names)
            result.posts.tallies.update(posts.tallies)
            result.posts.removed.update(posts.removed)
            _give_back_memory()


#: ``ItemChange.kind`` → its code in :class:`_Packed`.
_KINDS: tuple[ChangeKind, ...] = ("new", "changed", "unchanged", "pruned")
_KIND_CODES = {k: n for n, k in enumerate(_KINDS)}
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class _Packed:
    """One feed's item changes, packed: about 60 bytes an item where the ``ItemChange``
    values take some 330, and a run holds them from its feed's batch to its posts
    (200,000 at 10,000 feeds: docs/scale.md, "Streaming"). Unpacks to equal values in
    the same order. Made by :func:`_pack`."""

    #: Item ids, then content hashes, each ``\n``-separated.
    ids: str
    hashes: str
    #: First seen, µs since the epoch (UTC).
    first_seen: array.array[int]
    #: Kind (:data:`_KINDS`) × 2 + was live.
    codes: bytes
    #: ``what`` and ``body_key`` of each item; None when all are empty.
    whats: tuple[tuple[str, ...], ...] | None
    body_keys: tuple[str, ...] | None

    def __len__(self) -> int:
        return len(self.codes)

    def unpack(self, feed_key: str) -> list[ItemChange]:
        ids, hashes = self.ids.split("\n"), self.hashes.split("\n")
        out = []
        for n, code in enumerate(self.codes):
            out.append(
                ItemChange(
                    feed_key,
                    ids[n],
                    _KINDS[code >> 1],
                    _EPOCH + timedelta(microseconds=self.first_seen[n]),
                    hashes[n],
                    bool(code & 1),
                    self.whats[n] if self.whats is not None else (),
                    self.body_keys[n] if self.body_keys is not None else "",
                )
            )
        return out


def _pack(changes: list[ItemChange]) -> _Packed | list[ItemChange]:
    """``changes`` (one feed's) packed; as they are if one would not unpack to itself."""
    for c in changes:
        if (
            "\n" in c.item_id
            or "\n" in c.content_hash
            or c.first_seen.tzinfo is not UTC
            or c.kind not in _KIND_CODES
        ):
            return changes
    whats = tuple(c.what for c in changes)
    body_keys = tuple(c.body_key for c in changes)
    return _Packed(
        "\n".join(c.item_id for c in changes),
        "\n".join(c.content_hash for c in changes),
        array.array("q", ((c.first_seen - _EPOCH) // _MICROSECOND for c in changes)),
        bytes(_KIND_CODES[c.kind] * 2 + c.was_live for c in changes),
        whats if any(whats) else None,
        body_keys if any(body_keys) else None,
    )


_MICROSECOND = timedelta(microseconds=1)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc
        return None


def _give_back_memory() -> None:
    """Hand the heap a finished batch freed back to the system. glibc keeps freed blocks
    for reuse, and with the run's long-lived values interleaved between a batch's bodies,
    the heap only grows: a run's peak would grow with its number of batches."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


def _failed(before: Decision, after: Decision) -> list[FeedIntent]:
    """The feed intents of the feeds the Hexo plan failed (their folder is unwritable)."""
    was = {f.key: f.status for f in before.feed_intents}
    return [f for f in after.feed_intents if f.status == "failed" and was.get(f.key) != "failed"]


def _groups(sizes: Sequence[tuple[str, int]], size: int) -> list[list[str]]:
    """Feeds in order, grouped so that each group has about ``size`` items."""
    out: list[list[str]] = [[]]
    total = 0
    for key, n in sizes:
        if total and total + n > size:
            out.append([])
            total = 0
        out[-1].append(key)
        total += n
    return out


def _add_tallies(reports: list[FeedReport], posts: PostPlan) -> None:
    """Put the Hexo posts' tallies into the feeds' reports."""
    for report in reports:
        tally = posts.tallies.get(report.key)
        if tally is not None:
            report.posts = tally


@dataclass(frozen=True, slots=True)
class RemoveResult:
    """What ``feedsite remove`` did."""

    deleted: tuple[str, ...]
    left_alone: tuple[str, ...]
    feeds: tuple[str, ...]


def remove_item(config: Config, item_id: str) -> RemoveResult:
    """Take an item's posts down and tombstone it so it never comes back.

    Raises:
        UnknownItemError: no item with this id is known.
    """
    with locked(config.state_path), State.open(config.state_path, create=False) as state:
        ledger = Ledger(state, Writer(config.site.hexo_root / POSTS_DIR), TARGET)
        ledger.settle()
        matches = state.items_by_id(item_id)
        if not matches:
            raise UnknownItemError(item_id, config.state_path)
        feeds = {m.feed_key for m in matches}
        disk = ledger.observe()
        theirs = sorted(p for key in feeds for p in state.files_of(TARGET, key, item_id))
        deleted, left = [], []
        with ledger.session() as session:
            ours = [p for p in theirs if disk[p] == "ok"]
            session.stage([], ours)
            for path in ours:
                if session.delete(path) == "deleted":
                    deleted.append(path)
            left = [p for p in theirs if disk[p] == "edited"]
            session.release([p for p in theirs if p not in ours])
        for m in matches:
            state.set_item_status(m.feed_key, item_id, "removed")
        return RemoveResult(tuple(deleted), tuple(left), tuple(m.feed_key for m in matches))


def feed_status(config: Config) -> list[dict[str, Any]]:
    """Every configured feed with what the state knows about it (``feedsite status``).

    URLs and stored errors are redacted (issue #10 row 12): the state of an older run may
    hold an error that names a fetch URL with its password or access key."""
    stored: dict[str, FeedRow] = {}
    if config.state_path.exists():
        with State.open(config.state_path) as state:
            stored = {row.key: row for row in state.feed_rows()}
    rows = []
    for feed in config.feeds:
        row = stored.get(feed.key)
        rows.append(
            {
                "feed": feed.label,
                "source": redact(feed.route or feed.url or ""),
                "last_success": row.last_success if row else None,
                "last_attempt": row.last_attempt if row else None,
                "last_status": row.last_status if row else None,
                "last_error": redact(row.last_error or "") or None if row else None,
                "consecutive_failures": row.consecutive_failures if row else 0,
                "next_attempt": row.next_attempt if row else None,
                "instance": redact(row.preferred_source or "") or None if row else None,
            }
        )
    return rows


def image_status(config: Config) -> dict[str, Any]:
    """What the state says of the images (``feedsite status``): how many are local and the
    bytes their files take against ``images.max_total``, and the ones that are not, grouped
    by host, state and reason (redacted)."""
    from ._images import TARGET as IMAGES

    out: dict[str, Any] = {
        "dir": str(config.images.dir),
        "budget": config.images.max_total,
        "local": 0,
        "failed": 0,
        "refused": 0,
        "over_budget": 0,
        "bytes_on_disk": 0,
        "problems": [],
    }
    if not config.state_path.exists():
        return out
    with State.open(config.state_path) as state:
        rows = state.images()
        out["bytes_on_disk"] = sum(f.size for f in state.files(IMAGES).values())
    groups: dict[tuple[str, str, str], list[Any]] = {}
    for row in rows.values():
        key = "local" if row.state == "ok" else row.state
        out[key] += 1
        if row.state in ("failed", "refused"):
            group = groups.setdefault((row.host, row.state, redact(row.error or "")), [0, None])
            group[0] += 1
            if row.next_attempt is not None and (group[1] is None or row.next_attempt < group[1]):
                group[1] = row.next_attempt
    out["problems"] = [
        {
            "host": host,
            "state": state_,
            "count": n,
            "error": error,
            "next_attempt": when.isoformat() if when else None,
        }
        for (host, state_, error), (n, when) in sorted(groups.items(), key=lambda kv: -kv[1][0])
    ]
    return out
