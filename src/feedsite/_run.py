"""The run: the thin I/O shell around the pure decider.

Reads the state and the disk, fetches, parses, asks :func:`feedsite._plan.decide`,
cleans and renders what it decided, then applies it through the store and the
one writer. Decides nothing itself.

Crash safety: every post to be written is marked ``pending`` in the state
before its file changes and ``written`` after the rename and a sync; a run
that dies in between leaves rows that the next run settles by looking at the
file (``_settle``).
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from feedsite import _fetch
from feedsite._clean import clean_html, clean_key
from feedsite._parse import looks_like_feed, parse_feed
from feedsite._plan import Decision, FeedOutcome, PlanInput, decide
from feedsite._records import CachedValidators, DiskState, ItemData, StoredPost
from feedsite._store import State
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import POSTS_DIR, render_post
from feedsite.config import NO_TIMEZONE_WARNING, Config, FeedSpec
from feedsite.errors import LockedError, ParseError
from feedsite.types import ParsedItem, PostSource, RenderSettings

TARGET = "hexo"


@dataclass(slots=True)
class RunResult:
    """What a run did, for the CLI's summary (and ``--json``)."""

    decision: Decision
    dry_run: bool
    seconds: float = 0.0
    deleted: int = 0
    warnings: list[str] = field(default_factory=list)
    #: Items that could not be rendered (each names its feed and item id).
    item_errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        reports = self.decision.reports
        return {
            "feeds_ok": sum(r.status == "ok" for r in reports),
            "feeds_not_modified": sum(r.status == "not_modified" for r in reports),
            "feeds_failed": sum(r.status == "failed" for r in reports),
            "feeds_skipped": sum(r.status == "skipped" for r in reports),
            "posts_new": sum(r.new for r in reports),
            "posts_updated": sum(r.updated for r in reports),
            "posts_unchanged": sum(r.unchanged for r in reports),
            "posts_restored": sum(r.restored for r in reports),
            "posts_pruned": sum(r.pruned for r in reports),
            "posts_edited": sum(len(r.edited) for r in reports),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            **self.counts(),
            "feeds": [
                {
                    "feed": r.label,
                    "status": r.status,
                    "error": r.error,
                    "new": r.new,
                    "updated": r.updated,
                    "unchanged": r.unchanged,
                    "restored": r.restored,
                    "pruned": r.pruned,
                    "edited": r.edited,
                }
                for r in self.decision.reports
            ],
            "removed_feeds": [
                {"feed": label, "posts": n} for label, n in self.decision.removed_feeds
            ],
            "warnings": self.warnings,
            "item_errors": self.item_errors,
        }


def render_settings(config: Config) -> RenderSettings:
    """The render settings of a config (reads the Hexo ``_config.yml`` timezone as a fallback)."""
    return RenderSettings(
        profile=config.site.profile,
        timezone=config.site.timezone or hexo_timezone(config.site.hexo_root),
        image_proxy=config.site.image_proxy,
        placeholder=config.site.placeholder,
        source_key=config.site.source_key,
    )


def config_warnings(config: Config) -> list[str]:
    """The config's warnings, less the timezone one when Hexo's ``_config.yml`` names a zone."""
    if config.site.timezone is None and hexo_timezone(config.site.hexo_root):
        return [w for w in config.warnings if w != NO_TIMEZONE_WARNING]
    return list(config.warnings)


def hexo_timezone(hexo_root: Path) -> str | None:
    """The ``timezone`` of ``<hexo_root>/_config.yml``, if set and valid."""
    try:
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


@contextmanager
def locked(state_path: Path) -> Iterator[None]:
    """Hold the run lock beside the state file (released on exit or process death)."""
    state_path.parent.mkdir(parents=True, exist_ok=True)
    lock_path = state_path.with_name(state_path.name + ".lock")
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "another process"
            raise LockedError(
                f"another feedsite run (pid {holder}) is using {state_path}; try again later"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        yield
    finally:
        os.close(fd)


def run(
    config: Config,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    on_feed_done: Callable[[str], None] | None = None,
) -> RunResult:
    """Fetch every feed, decide, and write posts. See the module docstring."""
    started = time.monotonic()
    now = now or datetime.now(UTC)
    with locked(config.state_path), State.open(config.state_path) as state:
        writer = Writer(config.site.hexo_root / POSTS_DIR)
        if not dry_run:
            _settle(state, writer)
        posts = state.posts(TARGET)
        disk = _observe(posts, writer, state, dry_run)
        stored_feeds = state.feeds()
        outcomes = _fetch_and_parse(config, stored_feeds, on_feed_done)
        settings = render_settings(config)
        ckey = clean_key(config.clean.iframe_hosts)
        decision = decide(
            PlanInput(
                feeds=config.feeds,
                settings=settings,
                clean_key=ckey,
                stored_feeds=stored_feeds,
                stored_items=state.items(),
                stored_posts=posts,
                disk=disk,
                outcomes=outcomes,
                now=now,
            )
        )
        result = RunResult(decision, dry_run, warnings=config_warnings(config))
        data = _clean(decision, state, config, ckey)
        if not dry_run:
            _apply(decision, data, state, writer, config, settings, result)
        result.seconds = time.monotonic() - started
        return result


def _settle(state: State, writer: Writer) -> None:
    """Finish what a killed run left half done, by looking at each file."""
    unfinished = state.unfinished_posts(TARGET)
    for folder in {path.rpartition("/")[0] for path, *_ in unfinished}:
        writer.remove_temp_files(folder)
    for path, row_state, old_sha, new_sha, _rkey in unfinished:
        target = writer.resolve(path)
        actual = _sha_of(target)
        if row_state == "deleting":
            if actual is not None and actual == old_sha:
                writer.delete(path)
            writer.sync()
            state.settle_post(TARGET, path, outcome="gone")
        elif actual is not None and actual == new_sha:
            st = target.stat()
            state.settle_post(TARGET, path, outcome="new", size=st.st_size, mtime_ns=st.st_mtime_ns)
        elif actual is not None and actual == old_sha:
            st = target.stat()
            state.settle_post(TARGET, path, outcome="old", size=st.st_size, mtime_ns=st.st_mtime_ns)
        elif actual is None and old_sha is not None:
            state.settle_post(TARGET, path, outcome="old")  # missing: the planner restores it
        else:
            # Never written (or not ours): forget the row; a live item is rendered again.
            state.settle_post(TARGET, path, outcome="gone")


def _sha_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except FileNotFoundError:
        return None


def _observe(
    posts: dict[str, StoredPost], writer: Writer, state: State, dry_run: bool
) -> dict[str, DiskState]:
    """Is each recorded post still on disk with the bytes we wrote?"""
    disk: dict[str, DiskState] = {}
    for path, post in posts.items():
        st = writer.stat(path)
        if st is None:
            disk[path] = "missing"
            continue
        if st.st_size == post.size and st.st_mtime_ns == post.mtime_ns:
            disk[path] = "ok"
        elif _sha_of(writer.resolve(path)) == post.sha256:
            disk[path] = "ok"
            if not dry_run:
                state.refresh_stat(TARGET, path, st.st_size, st.st_mtime_ns)
        else:
            disk[path] = "edited"
    return disk


def feed_sources(
    feed: FeedSpec, config: Config, preferred: str | None
) -> tuple[_fetch.Source, ...]:
    """Where a feed can be fetched from, the instance that answered last first."""
    if feed.url is not None:
        return (_fetch.Source(feed.url, feed.url),)
    assert feed.route is not None
    sources = []
    for base in config.rsshub.instances:
        url = base + feed.route
        if config.rsshub.access_key:
            url += ("&" if "?" in url else "?") + "key=" + config.rsshub.access_key
        sources.append(_fetch.Source(base, url))
    sources.sort(key=lambda s: s.label != preferred)
    return tuple(sources)


def _fetch_and_parse(
    config: Config,
    stored_feeds: dict[str, Any],
    on_feed_done: Callable[[str], None] | None,
) -> dict[str, FeedOutcome]:
    requests = []
    for feed in config.feeds:
        stored = stored_feeds.get(feed.key)
        validators = {
            label: _fetch.Validators(v.etag, v.last_modified)
            for label, v in (stored.validators.items() if stored else ())
        }
        sources = feed_sources(feed, config, stored.preferred_source if stored else None)
        requests.append(_fetch.FetchRequest(feed.key, sources, validators))
    settings = _fetch.FetchSettings(
        concurrency=config.fetch.concurrency, timeout=config.fetch.timeout
    )
    if config.fetch.user_agent:
        settings = replace(settings, user_agent=config.fetch.user_agent)

    def done(key: str, _outcome: _fetch.FetchOutcome) -> None:
        if on_feed_done is not None:
            on_feed_done(key)

    fetched = _fetch.fetch_all_sync(requests, settings, looks_like_feed, done)
    by_key = {f.key: f for f in config.feeds}
    outcomes: dict[str, FeedOutcome] = {}
    for key, result in fetched.items():
        feed = by_key[key]
        if isinstance(result, _fetch.FetchFailure):
            outcomes[key] = FeedOutcome("failed", error=result.message)
        elif isinstance(result, _fetch.NotModified):
            outcomes[key] = FeedOutcome("not_modified", source=result.source.label)
        else:
            zone = ZoneInfo(feed.timezone or config.site.timezone or "UTC")
            try:
                parsed = parse_feed(
                    result.body,
                    url=result.final_url,
                    content_type=result.content_type,
                    default_tz=zone,
                )
            except ParseError as e:
                outcomes[key] = FeedOutcome("failed", error=str(e))
                continue
            outcomes[key] = FeedOutcome(
                "parsed",
                parsed=parsed,
                source=result.source.label,
                validators=CachedValidators(
                    result.validators.etag, result.validators.last_modified
                ),
            )
    return outcomes


def _clean(
    decision: Decision, state: State, config: Config, ckey: str
) -> dict[tuple[str, str], ItemData]:
    """Build the stored data of every item the decision needs (the clean stage)."""
    hosts = config.clean.iframe_hosts
    data = {key: item_data(parsed, hosts, ckey) for key, parsed in decision.to_clean.items()}
    for key, stale in state.item_data(decision.to_reclean).items():
        raw = ParsedItem(
            guid=stale.guid,
            link=stale.link,
            title=stale.title,
            date=stale.date,
            content_html=stale.content_html,
            summary_html=stale.summary_html,
            description_raw=stale.description_raw,
            images=stale.images,
            author=stale.author,
            base_url=stale.base_url,
        )
        data[key] = item_data(raw, hosts, ckey)
    return data


def item_data(item: ParsedItem, iframe_hosts: tuple[str, ...], ckey: str) -> ItemData:
    """An item's stored form: what the feed said plus its cleaned body."""
    body = item.content_html or item.summary_html
    return ItemData(
        guid=item.guid,
        link=item.link,
        title=item.title,
        date=item.date,
        author=item.author,
        images=item.images,
        base_url=item.base_url,
        content_html=item.content_html,
        summary_html=item.summary_html,
        description_raw=item.description_raw,
        body_clean=clean_html(body, base_url=item.base_url or item.link, iframe_hosts=iframe_hosts)
        if body
        else "",
        clean_key=ckey,
    )


def _apply(
    decision: Decision,
    data: dict[tuple[str, str], ItemData],
    state: State,
    writer: Writer,
    config: Config,
    settings: RenderSettings,
    result: RunResult,
) -> None:
    items = [
        replace(i, data=data[(i.feed_key, i.item_id)]) if (i.feed_key, i.item_id) in data else i
        for i in decision.item_intents
    ]
    missing = [
        (j.feed_key, j.item_id) for j in decision.renders if (j.feed_key, j.item_id) not in data
    ]
    all_data = {**state.item_data(missing), **data}
    names = {f.key: (f.category, f.site, f.name) for f in config.feeds}
    rendered: list[tuple[str, bytes, str, str]] = []
    for job in decision.renders:
        d = all_data[(job.feed_key, job.item_id)]
        category, site, feed = names[job.feed_key]
        source = PostSource(
            item_id=job.item_id,
            category=category,
            site=site,
            feed=feed,
            title=d.title,
            link=d.link,
            date=d.date,
            first_seen=job.first_seen,
            body_clean=d.body_clean,
            # JSON Feed items have no description element: the legacy body is their HTML.
            description_raw=d.description_raw
            if d.description_raw is not None
            else (d.content_html or d.summary_html),
            images=d.images,
        )
        try:
            blob = render_post(source, settings)
        except Exception as e:  # one unrenderable item must not cost the others
            labels = {f.key: f.label for f in config.feeds}
            result.item_errors.append(
                f"{labels[job.feed_key]}: item {job.item_id}: cannot render: {e!r}"
            )
            continue
        rendered.append((job.path, blob, hashlib.sha256(blob).hexdigest(), job.render_key))
    jobs = {j.path: j for j in decision.renders}
    state.begin_apply(
        TARGET,
        feeds=decision.feed_intents,
        items=items,
        forget_items=decision.forget_items,
        forget_feeds=decision.forget_feeds,
        writes=[(p, jobs[p].feed_key, jobs[p].item_id, sha, rkey) for p, _, sha, rkey in rendered],
        deletes=[d.path for d in decision.deletes],
    )
    written = []
    for path, blob, _sha, _rkey in rendered:
        done = writer.write(path, blob)
        written.append((path, done.size, done.mtime_ns))
    deleted = []
    for gone in decision.deletes:
        if writer.delete(gone.path):
            result.deleted += 1
        deleted.append(gone.path)
    writer.sync()
    state.finish_apply(TARGET, written=written, deleted=deleted, released=decision.releases)


@dataclass(frozen=True, slots=True)
class RemoveResult:
    """What ``feedsite remove`` did."""

    deleted: tuple[str, ...]
    left_alone: tuple[str, ...]
    feeds: tuple[str, ...]


def remove_item(config: Config, item_id: str) -> RemoveResult:
    """Take an item's posts down and tombstone it so it never comes back.

    Raises:
        KeyError: no item with this id is known.
    """
    with locked(config.state_path), State.open(config.state_path, create=False) as state:
        writer = Writer(config.site.hexo_root / POSTS_DIR)
        _settle(state, writer)
        matches = state.items_by_id(item_id)
        if not matches:
            raise KeyError(item_id)
        posts = state.posts(TARGET)
        disk = _observe(posts, writer, state, dry_run=False)
        deleted, left = [], []
        for feed_key, _status in matches:
            for post in posts.values():
                if post.feed_key != feed_key or post.item_id != item_id:
                    continue
                if disk[post.path] == "edited":
                    left.append(post.path)
                elif writer.delete(post.path):
                    deleted.append(post.path)
                writer.sync()
                state.release_post(TARGET, post.path)
            state.set_item_status(feed_key, item_id, "removed")
        return RemoveResult(tuple(deleted), tuple(left), tuple(k for k, _ in matches))
