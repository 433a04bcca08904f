"""A run: the thin I/O shell around the pure decider.

``run`` locks the state, settles what a killed run left, looks at the disk,
fetches and parses every due feed (``_ingest``), asks
:func:`feedsite._plan.decide`, then cleans, renders and writes what it decided
(``_apply``). It decides nothing itself.
"""

from __future__ import annotations

import random
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from feedsite._clean import clean_key
from feedsite._plan import Decision, PlanInput, decide
from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import POSTS_DIR
from feedsite.config import NO_TIMEZONE_WARNING, Config
from feedsite.types import RenderSettings

from ._apply import TARGET, apply, clean_items, observe, settle
from ._ingest import ingest


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
    #: SIGINT/SIGTERM that stopped the run early (feeds in flight were skipped).
    stopped_by: str | None = None

    def counts(self) -> dict[str, int]:
        reports = self.decision.reports
        return {
            "feeds_ok": sum(r.status == "ok" for r in reports),
            "feeds_not_modified": sum(r.status == "not_modified" for r in reports),
            "feeds_failed": sum(r.status == "failed" for r in reports),
            "feeds_deferred": sum(r.status == "deferred" for r in reports),
            "feeds_skipped": sum(r.status == "skipped" for r in reports),
            "posts_new": sum(r.new for r in reports),
            "posts_updated": sum(r.updated for r in reports),
            "posts_unchanged": sum(r.unchanged for r in reports),
            "posts_restored": sum(r.restored for r in reports),
            "posts_pruned": sum(r.pruned for r in reports),
            "posts_edited": sum(len(r.edited) for r in reports),
        }

    def to_json(self) -> dict[str, Any]:
        """The summary as JSON; every message is redacted (issue #10 row 12): a parse error
        names the fetch URL, which may hold the instance's password or access key."""
        from feedsite._url import redact

        return {
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            **self.counts(),
            "feeds": [
                {
                    "feed": r.label,
                    "status": r.status,
                    "error": redact(r.error) if r.error else r.error,
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
            "warnings": [redact(w) for w in self.warnings],
            "item_errors": [redact(e) for e in self.item_errors],
            "stopped_by": self.stopped_by,
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


def run(
    config: Config,
    *,
    dry_run: bool = False,
    now: datetime | None = None,
    max_time: float | None = None,
    seed: int | None = None,
    on_feed_done: Callable[[str], None] | None = None,
) -> RunResult:
    """Fetch every due feed, decide, and write posts. See the module docstring.

    Args:
        config: the loaded config.
        dry_run: decide and report, write neither files nor state.
        now: the run's time (default: the clock; tests pin it).
        max_time: seconds after which no new feed is started; the rest are skipped.
        seed: seed of the retry and backoff jitter (default: random; tests pin it).
        on_feed_done: called with each feed's key as its fetch finishes.
    """
    started = time.monotonic()
    now = now or datetime.now(UTC)
    deadline = None if max_time is None else started + max_time
    # A dry run creates nothing (no state, lock or folder): it reads a copy of the state.
    lock = nullcontext() if dry_run else locked(config.state_path)
    opened = State.snapshot if dry_run else State.open
    with lock, opened(config.state_path) as state:
        writer = Writer(config.site.hexo_root / POSTS_DIR)
        if not dry_run:
            settle(state, writer)
        posts = state.posts(TARGET)
        disk = observe(posts, writer, state, dry_run)
        stored_feeds = state.feeds()
        got = ingest(
            config,
            stored_feeds,
            state.instance_failures(),
            now=now,
            deadline=deadline,
            seed=seed,
            on_feed_done=on_feed_done,
        )
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
                outcomes=got.outcomes,
                now=now,
                jitter_seed=random.Random(seed).getrandbits(32),
            )
        )
        result = RunResult(
            decision, dry_run, warnings=config_warnings(config), stopped_by=got.stopped_by
        )
        decision, data = clean_items(decision, state, config, ckey, result, deadline)
        result.decision = decision
        if not dry_run:
            with _signals_deferred() as caught:
                apply(decision, data, state, writer, config, settings, result, got.instances)
            result.stopped_by = result.stopped_by or (caught[0] if caught else None)
        result.seconds = time.monotonic() - started
        return result


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
        KeyError: no item with this id is known.
    """
    with locked(config.state_path), State.open(config.state_path, create=False) as state:
        writer = Writer(config.site.hexo_root / POSTS_DIR)
        settle(state, writer)
        matches = state.items_by_id(item_id)
        if not matches:
            raise KeyError(item_id)
        posts = state.posts(TARGET)
        disk = observe(posts, writer, state, dry_run=False)
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


def feed_status(config: Config) -> list[dict[str, Any]]:
    """Every configured feed with what the state knows about it (``feedsite status``).

    URLs and stored errors are redacted (issue #10 row 12): the state of an older run may
    hold an error that names a fetch URL with its password or access key."""
    from feedsite._url import redact

    stored: dict[str, dict[str, Any]] = {}
    if config.state_path.exists():
        with State.open(config.state_path) as state:
            stored = {row["key"]: row for row in state.feed_rows()}
    rows = []
    for feed in config.feeds:
        row = stored.get(feed.key, {})
        rows.append(
            {
                "feed": feed.label,
                "source": redact(feed.route or feed.url or ""),
                "last_success": row.get("last_success"),
                "last_attempt": row.get("last_attempt"),
                "last_status": row.get("last_status"),
                "last_error": redact(row.get("last_error") or "") or None,
                "consecutive_failures": row.get("consecutive_failures") or 0,
                "next_attempt": row.get("next_attempt"),
                "instance": redact(row.get("preferred_source") or "") or None,
            }
        )
    return rows
