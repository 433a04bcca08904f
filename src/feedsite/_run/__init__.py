"""A run: the thin I/O shell around the pure decider.

``run`` locks the state, settles what a killed run left, looks at the disk,
fetches and parses every due feed (``_ingest``), asks
:func:`feedsite._plan.decide`, then cleans, plans the Hexo posts and writes
them through the one ledger (``_apply``). ``_build`` builds the targets,
``_adopt`` takes an old site's posts in. It decides nothing itself.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from feedsite._plan import Decision, FeedReport, PlanInput, decide, feed_label
from feedsite._plan._stories import Story
from feedsite._records import FeedRow
from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets._ledger import Ledger
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import POSTS_DIR, TARGET, PostPlan
from feedsite._url import redact
from feedsite.config import NO_TIMEZONE_WARNING, Config
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
) -> RunResult:
    """Fetch every due feed, decide, and write posts. See the module docstring.

    Args:
        config: the loaded config.
        dry_run: decide and report, write neither files nor state.
        now: the run's time (default: the clock; tests pin it).
        max_time: seconds after which no new feed is started; the rest are skipped.
        seed: seed of the retry and backoff jitter (default: random; tests pin it).
        on_feed_done: called with each feed's key as its fetch finishes.
        fetch: False decides from the state alone, every feed skipped (``feedsite rules``:
            rules applied to the posts there are, without fetching).
        preview: list what the rules do (``RunResult.rule_effects``).
    """
    # The fetch, parse and clean stacks (httpx, lxml, nh3) load here, not with the package:
    # `feedsite build` and `status` import `_run` too and should not pay for them.
    from feedsite._clean import clean_key

    from ._apply import apply, clean_items, plan_hexo
    from ._fulltext import run_fulltext
    from ._images import live_after, run_images
    from ._ingest import Ingested, ingest
    from ._rules import effects, stored_fields
    from ._stories import update_stories

    started = time.monotonic()
    now = now or datetime.now(UTC)
    deadline = None if max_time is None else started + max_time
    # A dry run creates nothing (no state, lock or folder): it reads a copy of the state.
    lock = nullcontext() if dry_run else locked(config.state_path)
    opened = State.snapshot if dry_run else State.open
    with lock, opened(config.state_path) as state:
        ledger = Ledger(state, Writer(config.site.hexo_root / POSTS_DIR), TARGET)
        if not dry_run:
            ledger.settle()
        disk = ledger.observe(refresh=not dry_run)
        stored_feeds = state.feeds()
        got = (
            ingest(
                config,
                stored_feeds,
                state.instance_failures(),
                now=now,
                deadline=deadline,
                seed=seed,
                on_feed_done=on_feed_done,
            )
            if fetch
            else Ingested()
        )
        ckey = clean_key(config.clean.iframe_hosts)
        stored_items = state.items()
        plan_input = PlanInput(
            feeds=config.feeds,
            clean_key=ckey,
            stored_feeds=stored_feeds,
            stored_items=stored_items,
            outcomes=got.outcomes,
            now=now,
            jitter_seed=random.Random(seed).getrandbits(32),
            stored_fields=stored_fields(config, state, stored_feeds, stored_items),
        )
        decision = decide(plan_input)
        # Full text: the article pages the kept items want, then the decision again with the
        # article each item's body comes from (an item whose article arrived is cleaned again).
        articles, fulltext = run_fulltext(
            config, state, decision, now=now, dry_run=dry_run, seed=seed, deadline=deadline
        )
        if any(f.fulltext.fetches_pages for f in config.feeds):
            decision = decide(replace(plan_input, article_keys=articles.keys))
        result = RunResult(
            decision, dry_run, warnings=config_warnings(config), stopped_by=got.stopped_by
        )
        result.fulltext = fulltext
        decision, data = clean_items(decision, state, config, ckey, result, deadline, articles)
        stories = update_stories(state, config, decision, data, stored_items, now)
        result.stories = stories.stories
        if preview:
            result.rule_effects = effects(config, state, decision, data)
        refs = live_after(state, decision, data, dry_run=dry_run)
        images, result.images = run_images(config, state, refs, now=now, dry_run=dry_run, seed=seed)
        settings = render_settings(config)
        decision, posts = plan_hexo(
            decision, ledger, disk, config, settings, ckey, result, images, refs, stories.stories
        )
        result.decision, result.posts = decision, posts
        if not dry_run:
            with _signals_deferred() as caught:
                apply(
                    decision,
                    posts,
                    data,
                    state,
                    ledger,
                    config,
                    settings,
                    result,
                    got.instances,
                    images,
                    stories,
                )
            result.stopped_by = result.stopped_by or (caught[0] if caught else None)
        _add_tallies(decision.reports, posts)
        result.seconds = time.monotonic() - started
        return result


def _add_tallies(reports: list[FeedReport], posts: PostPlan) -> None:
    """Put the Hexo posts' tallies into the feeds' reports."""
    for report in reports:
        tally = posts.tallies.get(report.key)
        if tally is not None:
            report.posts = tally


@contextmanager
def _signals_deferred() -> Iterator[list[str]]:
    """Hold SIGINT/SIGTERM while files and state are written; yields what arrived.

    The writes are crash-safe anyway (a SIGKILL is settled by the next run),
    but a polite stop should not cost the run's work: it finishes writing,
    then the CLI reports the signal.
    """
    caught: list[str] = []
    if threading.current_thread() is not threading.main_thread():
        yield caught
        return
    previous = {
        sig: signal.signal(sig, lambda number, _frame: caught.append(signal.Signals(number).name))
        for sig in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        yield caught
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


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
