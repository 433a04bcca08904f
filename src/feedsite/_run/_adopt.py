"""``feedsite adopt``: the I/O shell that takes an old-script site over.

Lists and reads the old posts, fetches and parses their feeds (the run's own
fetch and parse stages), asks :func:`feedsite._targets.hexo._adopt.plan_adoption`, and
carries the plan out the way a run writes posts (docs/retention.md): items and
posts are recorded ``pending`` → each post's bytes are written atomically at
the item's path by the one :class:`~feedsite._targets._writer.Writer` → sync →
``written`` → only then is the old file deleted. It decides nothing itself.

When the old posts lie in the Hexo posts folder they are moved; from another
folder (``--posts DIR``) they are copied and that folder is left as it is.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from feedsite._clean import clean_key
from feedsite._plan._identity import content_hash
from feedsite._records import (
    DiskState,
    FileWrite,
    ItemData,
    ItemIntent,
    OwnedFile,
    PostImages,
    StoredItem,
)
from feedsite._store import State
from feedsite._store._lock import locked
from feedsite._targets._ledger import Ledger
from feedsite._targets._paths import post_relpath
from feedsite._targets._writer import Writer
from feedsite._targets.hexo import POSTS_DIR, TARGET, render_key, render_post
from feedsite._targets.hexo._adopt import (
    ADOPTED_RENDER_KEY,
    LEFTOVER_KINDS,
    AdoptInput,
    Adoption,
    AdoptPlan,
    Leftover,
    OldPost,
    classify,
    item_from_post,
    parse_old_post,
    parse_own_post,
    plan_adoption,
    post_times,
)
from feedsite._targets.hexo._cover import placeholder
from feedsite.config import Config, FeedSpec
from feedsite.errors import AdoptError, OldPostError
from feedsite.types import ParsedFeed, RenderSettings

from . import render_settings
from ._apply import item_data, post_source
from ._ingest import ingest, on_signals


@dataclass(frozen=True, slots=True)
class AdoptResult:
    """What ``feedsite adopt`` did (or, with ``dry_run``, would do)."""

    dry_run: bool
    #: The folder the old posts were read from.
    source: Path
    #: True: old posts were moved into feedsite's paths; False: copied (``--posts`` elsewhere).
    move: bool
    plan: AdoptPlan
    #: Old posts adopted (empty on a dry run: see ``plan.adoptions``).
    adopted: tuple[Adoption, ...]
    #: Old posts left where they are, and why (the plan's, plus any that changed meanwhile).
    leftovers: tuple[Leftover, ...]
    #: Old copies deleted because feedsite already owned the same bytes (an unfinished move).
    duplicates_removed: tuple[str, ...]
    seconds: float = 0.0
    #: feedsite's own posts taken back whose bytes differ from what feedsite would write
    #: (edited by hand): recorded as edited, so runs leave them alone and report them.
    edited: tuple[str, ...] = ()

    def counts(self) -> dict[str, int]:
        planned = self.plan.adoptions if self.dry_run else self.adopted
        kinds = [lo.kind for lo in self.leftovers]
        return {
            "adopted": len(planned),
            "matched": sum(a.kind == "matched" for a in planned),
            "kept": sum(a.kind == "kept" for a in planned),
            "duplicates_removed": len(self.duplicates_removed),
            "already_adopted": len(self.plan.duplicates) - len(self.duplicates_removed),
            "left_alone": len(self.leftovers),
            **{kind: kinds.count(kind) for kind in LEFTOVER_KINDS},
        }

    @property
    def feeds_failed(self) -> list[tuple[str, str]]:
        """(feed label, error) of every feed that could not be read: its posts wait."""
        seen: dict[str, str] = {}
        for lo in self.leftovers:
            if lo.kind == "feed_failed" and lo.feed is not None:
                seen.setdefault(lo.feed, lo.message)
        return sorted(seen.items())

    def to_json(self) -> dict[str, Any]:
        planned = self.plan.adoptions if self.dry_run else self.adopted
        return {
            "dry_run": self.dry_run,
            "source": str(self.source),
            "mode": "move" if self.move else "copy",
            "seconds": round(self.seconds, 3),
            **self.counts(),
            "feeds": [
                {"feed": label, "matched": m, "kept": k}
                for label, (m, k) in sorted(self.plan.counts.items())
            ],
            "feeds_failed": [{"feed": f, "error": e} for f, e in self.feeds_failed],
            "adopted_posts": [
                {
                    "from": a.old_path,
                    "to": a.new_path,
                    "item": a.item_id,
                    "kind": a.kind,
                    "title": a.item.title,
                }
                for a in planned
            ],
            "removed_copies": list(self.duplicates_removed),
            "edited": list(self.edited),
            "leftovers": [
                {"path": lo.path, "kind": lo.kind, "feed": lo.feed, "message": lo.message}
                for lo in self.leftovers
            ],
        }


def adopt(
    config: Config,
    *,
    posts_dir: Path | None = None,
    dry_run: bool = False,
    now: datetime | None = None,
    seed: int | None = None,
) -> AdoptResult:
    """Take the old script's posts into the state (see the module docstring).

    Args:
        config: the loaded config.
        posts_dir: where the old posts are (default ``<hexo_root>/source/_posts``).
        dry_run: plan and report; write neither files nor state.
        now: the time (default: the clock; tests pin it).
        seed: seed of the fetch retry jitter (tests pin it).

    Raises:
        AdoptError: the posts folder does not exist.
        LockedError: a run holds the lock.
        StateError: the state cannot be opened or written.
    """
    started = time.monotonic()
    now = now or datetime.now(UTC)
    hexo_posts = config.site.hexo_root / POSTS_DIR
    source = posts_dir if posts_dir is not None else hexo_posts
    if not source.is_dir():
        raise AdoptError(f"no folder of old posts at {source}")
    move = source.resolve() == hexo_posts.resolve()
    no_state = dry_run and not config.state_path.exists()
    lock = contextlib.nullcontext() if no_state else locked(config.state_path)
    with lock, _state(config, dry_run) as state:
        writer = Writer(hexo_posts)
        ledger = Ledger(state, writer, TARGET) if state is not None else None
        if ledger is not None and not dry_run:
            ledger.settle()
        stored_posts: dict[str, OwnedFile] = ledger.owned() if ledger else {}
        stored_items: dict[str, list[StoredItem]] = state.items() if state else {}
        disk: dict[str, DiskState] = (
            ledger.observe(refresh=not dry_run) if ledger is not None else {}
        )
        found = _markdown_files(source)
        existing = found if move else _markdown_files(hexo_posts)
        by_feed, outside = classify(
            sorted(found), config.feeds, frozenset(stored_posts) if move else frozenset()
        )
        old_posts = {key: [_read(source, p) for p in paths] for key, paths in by_feed.items()}
        parsed = _fetch(config, old_posts, state, now, seed)
        plan = plan_adoption(
            AdoptInput(
                feeds=config.feeds,
                old_posts=old_posts,
                parsed=parsed,
                stored_items=stored_items,
                stored_posts=stored_posts,
                disk=disk,
                existing=frozenset(existing),
                zone=render_settings(config).timezone or "UTC",
                now=now,
            )
        )
        records: dict[str, _Record] = {}
        if move:
            plan, records = _own_posts(plan, config, source, parsed, stored_items, now)
        leftovers = [*outside, *plan.leftovers]
        adopted: tuple[Adoption, ...] = ()
        removed: tuple[str, ...] = ()
        if not dry_run and state is not None:
            with on_signals(lambda _name: None):  # a polite stop lets the moves finish
                assert ledger is not None  # a state exists when not a dry run
                adopted, changed, removed = _apply(
                    plan, state, ledger, source, move, config, records
                )
            leftovers += changed
    return AdoptResult(
        dry_run,
        source,
        move,
        plan,
        adopted,
        tuple(sorted(leftovers, key=lambda lo: lo.path)),
        removed,
        time.monotonic() - started,
        tuple(sorted(r.path for r in records.values() if r.edited)),
    )


@dataclass(frozen=True, slots=True)
class _Record:
    """How an adopted post of feedsite's own is recorded (instead of as an old post)."""

    path: str
    #: SHA-256 of what feedsite renders for the item: the file's when unedited.
    sha256: str
    render_key: str
    data: ItemData
    #: The file differs from the rendering: recorded as edited (never written over).
    edited: bool
    size: int


def _own_posts(
    plan: AdoptPlan,
    config: Config,
    source: Path,
    parsed: dict[str, ParsedFeed | str],
    stored_items: dict[str, list[StoredItem]],
    now: datetime,
) -> tuple[AdoptPlan, dict[str, _Record]]:
    """Take back posts feedsite wrote before its state was lost (issue #10 row 10).

    A post already at its item's path (``<id>.md`` in the feed's folder) is
    feedsite's: the item (from the feed, else rebuilt from the post) is
    rendered again in the configured profile. An item the feed lists is taken
    back either way: with its bytes when they are what feedsite renders, else
    recorded as edited (left alone and reported by every run). A post of an
    item the feed no longer lists is taken back only when the rendering gives
    its exact bytes, so that retention can prune it; a post feedsite let go
    (edited by hand, then pruned) never matches and stays ``id_named``.
    """
    settings = render_settings(config)
    ckey = clean_key(config.clean.iframe_hosts)
    feeds = {f.key: f for f in config.feeds}
    by_label = {f.label: f for f in config.feeds}
    records: dict[str, _Record] = {}
    for a in plan.adoptions:
        if a.old_path == a.new_path:
            rec = _record(a, feeds[a.feed_key], settings, ckey, config)
            records[a.old_path] = replace(rec, edited=rec.sha256 != a.sha256)
    adoptions = list(plan.adoptions)
    counts = dict(plan.counts)
    leftovers: list[Leftover] = []
    extra: dict[str, int] = {}
    zone = settings.timezone or "UTC"
    for lo in plan.leftovers:
        feed = by_label.get(lo.feed or "")
        got = parsed.get(feed.key) if feed is not None else None
        own = None
        if lo.kind == "id_named" and feed is not None and isinstance(got, ParsedFeed):
            seq = len(got.items) + extra.setdefault(feed.key, 0)
            own = _own_orphan(lo.path, feed, source, settings, zone, seq, now, stored_items)
        if own is None or feed is None:
            leftovers.append(lo)
            continue
        rec = _record(own, feed, settings, ckey, config)
        if rec.sha256 != own.sha256:
            leftovers.append(lo)  # not what feedsite writes: edited, or not its own
            continue
        extra[own.feed_key] += 1
        adoptions.append(own)
        records[own.old_path] = replace(rec, edited=False)
        matched, kept = counts.get(feed.label, (0, 0))
        counts[feed.label] = (matched, kept + 1)
    plan = replace(plan, adoptions=tuple(adoptions), leftovers=tuple(leftovers), counts=counts)
    return plan, records


def _own_orphan(
    path: str,
    feed: FeedSpec,
    source: Path,
    settings: RenderSettings,
    zone: str,
    seq: int,
    now: datetime,
    stored_items: dict[str, list[StoredItem]],
) -> Adoption | None:
    """A feedsite-named post of an item the feed no longer lists, rebuilt from the post."""
    iid = path.rpartition("/")[2].removesuffix(".md")
    if post_relpath(feed.category, feed.site, feed.name, iid) != path:
        return None
    if any(s.item_id == iid for s in stored_items.get(feed.key, ())):
        return None  # the state knows the item (a tombstone, say): not taken back
    try:
        data = (source / path).read_bytes()
        text = data.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    sha = hashlib.sha256(data).hexdigest()
    if settings.profile == "legacy":
        try:
            old = parse_old_post(path, text, sha)
        except OldPostError:
            return None
        item = item_from_post(old, zone)
        first_seen = post_times(old.date_text, zone)[1]
    else:
        cover = placeholder(settings.placeholder, iid)
        got = parse_own_post(text, settings.source_key, zone, cover)
        if got is None:
            return None
        item, first_seen = got
    if first_seen is None:
        return None
    first_seen = min(first_seen, now)
    return Adoption(
        feed.key, path, path, iid, "kept", item, first_seen, seq, content_hash(item), sha
    )


def _record(
    a: Adoption, feed: FeedSpec, settings: RenderSettings, ckey: str, config: Config
) -> _Record:
    """Render an adoption's item as a run would, and the key a run would compute."""
    from ._images import cover_path, wants_covers

    data = item_data(a.item, config.clean.iframe_hosts, ckey)
    names = (feed.category, feed.site, feed.name)
    # A post without an image has the site's generated cover, as a run renders it.
    images = None
    if not data.image_urls and wants_covers(feed, config):
        images = PostImages(config.images.dir, {}, {feed.site: cover_path(feed.site)})
    ikey = (f"cover:{cover_path(feed.site)}",) if images is not None else ()
    blob = render_post(post_source(a.item_id, names, data, a.first_seen, images), settings)
    rkey = render_key(a.content_hash, a.first_seen.isoformat(), settings, (*names, ckey, *ikey))
    return _Record(a.new_path, hashlib.sha256(blob).hexdigest(), rkey, data, False, len(blob))


@contextlib.contextmanager
def _state(config: Config, dry_run: bool) -> Iterator[State | None]:
    """The state; on a dry run only if it exists (a dry run creates nothing)."""
    if dry_run and not config.state_path.exists():
        yield None
        return
    with State.open(config.state_path) as state:
        yield state


def _markdown_files(root: Path) -> set[str]:
    """Every ``.md`` file under ``root``, relative with ``/``; hidden files and folders skipped."""
    out: set[str] = set()
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        rel = os.path.relpath(folder, root)
        prefix = "" if rel == "." else rel.replace(os.sep, "/") + "/"
        out.update(prefix + f for f in files if f.endswith(".md") and not f.startswith("."))
    return out


def _read(root: Path, path: str) -> OldPost | OldPostError:
    """One old post, or why it cannot be read (a value: the others carry on)."""
    try:
        data = (root / path).read_bytes()
    except OSError as e:
        return OldPostError(path, f"cannot read: {e.strerror or e}")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        return OldPostError(path, f"not UTF-8 text (byte {e.start})")
    try:
        return parse_old_post(path, text, hashlib.sha256(data).hexdigest())
    except OldPostError as e:
        return e


def _fetch(
    config: Config,
    old_posts: dict[str, list[OldPost | OldPostError]],
    state: State | None,
    now: datetime,
    seed: int | None,
) -> dict[str, ParsedFeed | str]:
    """Fetch and parse, in full (no validators, no backoff), every feed with old posts to match."""
    wanted = tuple(
        f for f in config.feeds if any(isinstance(p, OldPost) for p in old_posts.get(f.key, ()))
    )
    if not wanted:
        return {}
    got = ingest(
        replace(config, feeds=wanted),
        {},
        state.instance_failures() if state is not None else {},
        now=now,
        deadline=None,
        seed=seed,
        on_feed_done=None,
    )
    out: dict[str, ParsedFeed | str] = {}
    for feed in wanted:
        outcome = got.outcomes.get(feed.key)
        if outcome is not None and outcome.parsed is not None:
            out[feed.key] = outcome.parsed
        else:
            out[feed.key] = (outcome.error if outcome else None) or "not fetched"
    return out


def _apply(
    plan: AdoptPlan,
    state: State,
    ledger: Ledger,
    source: Path,
    move: bool,
    config: Config,
    records: dict[str, _Record],
) -> tuple[tuple[Adoption, ...], list[Leftover], tuple[str, ...]]:
    """Record (pending, with the items), write, sync, mark written — through the one
    ledger — then delete the old files (when moving)."""
    writer = ledger.writer
    blobs: dict[str, bytes] = {}
    ready: list[Adoption] = []
    changed: list[Leftover] = []
    for a in plan.adoptions:
        try:
            data = (source / a.old_path).read_bytes()
        except OSError as e:
            changed.append(Leftover(a.old_path, "unreadable", f"cannot read: {e.strerror or e}"))
            continue
        if hashlib.sha256(data).hexdigest() != a.sha256:
            changed.append(Leftover(a.old_path, "unreadable", "changed while adopt ran"))
            continue
        blobs[a.old_path] = data
        ready.append(a)
    ckey = clean_key(config.clean.iframe_hosts)
    hosts = config.clean.iframe_hosts
    items = [
        ItemIntent(
            a.feed_key,
            a.item_id,
            "live",
            a.first_seen,
            a.seq,
            a.item.date,
            a.content_hash,
            records[a.old_path].data if a.old_path in records else item_data(a.item, hosts, ckey),
        )
        for a in ready
    ]
    writes = [
        FileWrite(a.new_path, blobs[a.old_path], rec.sha256, rec.render_key, a.feed_key, a.item_id)
        if (rec := records.get(a.old_path)) is not None
        else FileWrite(
            a.new_path, blobs[a.old_path], a.sha256, ADOPTED_RENDER_KEY, a.feed_key, a.item_id
        )
        for a in ready
    ]
    with ledger.session() as session:
        session.stage(writes, also=lambda tx: state.record_items(tx, items))
        for a, w in zip(ready, writes, strict=True):
            rec = records.get(a.old_path)
            if rec is not None and rec.edited:
                # Recorded with what feedsite would have written: the file differs, so every
                # run sees a hand edit and leaves it alone (no stat matches: mtime 0).
                session.keep(w.path, rec.size, 0)
            else:
                session.write(w)
    removed: list[str] = []
    if move:
        # The owned copies are durable and recorded: only now do the old files go.
        for a in ready:
            if a.old_path != a.new_path:
                writer.delete(a.old_path)
        for old, _owned in plan.duplicates:
            if writer.delete(old):
                removed.append(old)
        writer.sync()
    return tuple(ready), changed, tuple(removed)
