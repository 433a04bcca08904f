"""The image stage of a run: download, derive and write the posts' images (issue #12).

The I/O half around :mod:`feedsite._plan._images` (pure): it reads the posts' image URLs
and each URL's row, asks the planner what to download, downloads
(:func:`feedsite._fetch.fetch_images`: the feeds' fetch policy, each host's Referer,
private addresses refused), derives the files to serve
(:func:`feedsite._clean._imagedata.process`: sniffed, bounded, resized, stripped), writes
them through the one ledger (target ``images``, rooted at ``images.dir``) with their rows
in the same transaction, applies the budget and deletes what no kept image uses.
Decides nothing itself.

The targets read the result (:class:`PostImages`): which URLs are local and their files.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import random
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from typing import TYPE_CHECKING, TypeVar

from feedsite._plan._images import (
    after_failure,
    allot,
    newest_first,
    settled,
    to_fetch,
    unused,
)
from feedsite._records import FileWrite, ImageRefs, PostImages, StoredImage
from feedsite._store import State, Tx
from feedsite._targets._ledger import Ledger
from feedsite._targets._writer import Writer
from feedsite._url import url_host
from feedsite.config import Config, FeedSpec
from feedsite.types import ImageFile, LocalImage

if TYPE_CHECKING:
    from feedsite._clean._imagedata import Processed, Refused
    from feedsite._fetch import ImageFetchResult

__all__ = ["TARGET", "ImageReport", "PostImages", "cover_path", "local_images", "run_images"]

#: The image folder's name in the ledger.
TARGET = "images"
#: Image URLs per download batch (what is held in memory at once).
_BATCH = 64
#: The card thumbnail of a cover.
THUMB = (480, 300)
_SUFFIX = {"main": "", "small": "-s", "thumb": "-t"}


@dataclass(slots=True)
class ImageReport:
    """What a run did with images (the summary, ``--json``)."""

    fetched: int = 0
    #: Local images posts use that were already on disk.
    reused: int = 0
    #: ``host: reason`` → how many images failed so this run.
    failed: dict[str, int] = field(default_factory=dict)
    #: Images over ``images.max_total``: hotlinked.
    over_budget: int = 0
    #: Not tried: the run's image time budget ran out (tried next run).
    postponed: int = 0
    bytes_on_disk: int = 0
    budget: int = 0
    seconds: float = 0.0


def cover_path(site: str) -> str:
    """The generated cover of a site's posts without an image (under the image folder)."""
    return f"covers/{hashlib.sha256(site.encode()).hexdigest()[:16]}.svg"


def file_path(digest: str, role: str, ext: str) -> str:
    """Where a derived file of the image with ``digest`` lives (content-addressed)."""
    return f"{digest[:2]}/{digest[:20]}{_SUFFIX[role]}.{ext}"


def wants_local(feed: FeedSpec, config: Config) -> bool:
    """Whether ``feed``'s images are served locally by some target."""
    if feed.images.mode != "local":
        return False
    return "native" in config.site.targets or config.site.profile == "default"


def wants_covers(feed: FeedSpec, config: Config) -> bool:
    """Whether ``feed``'s posts without an image get a generated cover (Hexo ``default``)."""
    return (
        "hexo" in config.site.targets
        and config.site.profile == "default"
        and feed.images.cover == "generated"
    )


@dataclass(slots=True)
class LiveImages:
    """What the post stage needs of the live posts' images, read from the state a group of
    feeds at a time (docs/scale.md, "Streaming"): held for a whole run, every live post's
    references would grow with the tree. Read after the run's decisions are recorded, so
    the state's live items are the posts there will be."""

    state: State
    #: Images read anew from the bodies of rows of an older version (recorded unless a dry
    #: run: then they are known from here only).
    found: dict[tuple[str, str], tuple[str, ...]]

    @classmethod
    def read(cls, state: State, *, dry_run: bool) -> LiveImages:
        """Read the images of the live rows of an older version from their bodies, once."""
        from feedsite._clean import image_urls  # the clean stack loads with a run only

        unknown = state.unknown_image_refs()
        found: dict[tuple[str, str], tuple[str, ...]] = {}
        if unknown:
            stored = state.item_data([(r.feed_key, r.item_id) for r in unknown])
            found = {k: tuple(image_urls(d.body_clean, d.item.images)) for k, d in stored.items()}
            if not dry_run:
                with state.transaction() as tx:
                    state.record_image_urls(tx, found)
        return cls(state, found)

    def refs(self, feeds: Iterable[str]) -> dict[tuple[str, str], ImageRefs]:
        """The images of every live post of ``feeds``."""
        out = {}
        for r in self.state.image_refs_of_feeds(feeds):
            key = (r.feed_key, r.item_id)
            urls = self.found.get(key)
            out[key] = r if urls is None else dataclasses.replace(r, urls=urls)
        return out

    def imageless(self, feeds: Iterable[str]) -> set[tuple[str, str]]:
        """The live posts of ``feeds`` without images."""
        return {k for k in self.state.imageless_items(feeds) if not self.found.get(k)}

    def coverless_feeds(self, feeds: Sequence[str]) -> set[str]:
        """Which of ``feeds`` have a live post without images (a cover is generated)."""
        out: set[str] = set()
        for start in range(0, len(feeds), 500):
            out.update(k[0] for k in self.imageless(feeds[start : start + 500]))
        return out

    def for_posts(
        self, feeds: Sequence[str], images: PostImages
    ) -> dict[tuple[str, str], ImageRefs]:
        """What the post plan of ``feeds`` needs: every live post's images when some image
        is local (a post's key names its local ones), else only the posts without images
        (their key is their site's cover)."""
        if images.local:
            return self.refs(feeds)
        return {
            k: ImageRefs(k[0], k[1], datetime.min.replace(tzinfo=UTC), None, ())
            for k in self.imageless(feeds)
        }


def run_images(
    config: Config,
    state: State,
    posts: Mapping[tuple[str, str], ImageRefs],
    *,
    now: datetime,
    dry_run: bool,
    seed: int | None = None,
    coverless: Collection[str] | None = None,
) -> tuple[PostImages, ImageReport]:
    """Download, derive and write what the posts need; apply the budget; delete the rest.

    ``posts`` needs to hold the posts of the feeds whose images are local only, when
    ``coverless`` names the feeds with a post without images (default: found in
    ``posts``)."""
    started = time.monotonic()
    images = config.images
    report = ImageReport(budget=images.max_total)
    feeds = {f.key: f for f in config.feeds}
    wanted = [
        p for p in posts.values() if p.feed_key in feeds and wants_local(feeds[p.feed_key], config)
    ]
    order = newest_first(wanted)
    ledger = Ledger(state, Writer(images.dir), TARGET)
    if not dry_run:
        ledger.settle()
    disk = ledger.observe(refresh=not dry_run)
    stored = state.images()
    # Missing: a recorded file not on disk, and a file of an ``ok`` image with no ledger row
    # (a run killed after staging a batch and before writing it: settle() dropped the rows).
    missing = frozenset(p for p, s in disk.items() if s != "ok") | frozenset(
        f.path for r in stored.values() if r.state == "ok" for f in r.files if f.path not in disk
    )
    plan = to_fetch(order, stored, missing, now, images.max_total)
    rows: dict[str, StoredImage] = dict(stored)
    deadline = started + images.time_budget
    if not dry_run and plan:
        _download(config, state, ledger, plan, rows, report, now, deadline, seed)
    # The budget over what is local now, then the rows no post uses.
    allotment = allot(order, rows, images.max_total)
    over = settled(rows, allotment)
    rows.update(over)
    report.over_budget = len(allotment.over)
    gone = unused(rows, wanted)
    covers = _covers(config, posts, coverless)
    keep_paths = {f.path for u in allotment.local for f in rows[u].files} | set(covers.values())
    owned = ledger.owned()
    deletes = sorted(p for p in owned if p not in keep_paths)
    # Files written by this run are not in ``disk``: they are on disk, as written.
    disk = {p: disk.get(p, "ok") for p in owned}
    if not dry_run:
        cover_writes = _cover_writes(covers, owned, disk)
        with ledger.session() as session:

            def record(tx: Tx) -> None:
                state.record_images(tx, over.values())
                state.forget_images(tx, gone)

            session.stage(cover_writes, [p for p in deletes if disk.get(p) == "ok"], also=record)
            for w in cover_writes:
                session.write(w)
            for path in deletes:
                if disk.get(path) == "ok":
                    session.delete(path)
            session.release([p for p in deletes if disk.get(p) != "ok"])
    on_disk = set(ledger.owned()) if not dry_run else {p for p, s in disk.items() if s == "ok"}
    local = {
        u: LocalImage(u, rows[u].files)
        for u in allotment.local
        if all(f.path in on_disk for f in rows[u].files)
    }
    report.reused = sum(1 for u in local if stored.get(u) is not None and stored[u].state == "ok")
    report.bytes_on_disk = sum(f.size for f in ledger.owned().values()) if not dry_run else 0
    report.seconds = time.monotonic() - started
    return (
        PostImages(images.dir, local, {s: p for s, p in covers.items() if p in on_disk}),
        report,
    )


def _covers(
    config: Config,
    posts: Mapping[tuple[str, str], ImageRefs],
    coverless: Collection[str] | None = None,
) -> dict[str, str]:
    """The generated covers the Hexo posts need: site name → path."""
    feeds = {f.key: f for f in config.feeds}
    if coverless is None:
        coverless = {p.feed_key for p in posts.values() if not p.urls}
    out: dict[str, str] = {}
    for key in coverless:
        feed = feeds.get(key)
        if feed is not None and wants_covers(feed, config):
            out.setdefault(feed.site, cover_path(feed.site))
    return out


def _cover_writes(
    covers: Mapping[str, str], owned: Mapping[str, object], disk: Mapping[str, str]
) -> list[FileWrite]:
    from feedsite._clean._imagedata import generated_cover

    writes = []
    for site, path in sorted(covers.items()):
        if path in owned and disk.get(path) == "ok":
            continue
        data = generated_cover(site)
        writes.append(FileWrite(path, data, hashlib.sha256(data).hexdigest(), "cover"))
    return writes


def _download(
    config: Config,
    state: State,
    ledger: Ledger,
    plan: Sequence[tuple[str, ImageRefs]],
    rows: dict[str, StoredImage],
    report: ImageReport,
    now: datetime,
    deadline: float,
    seed: int | None,
) -> None:
    """Download ``plan`` in batches; each batch's files and rows are written together."""
    from feedsite._clean._imagedata import Refused, process, sniff
    from feedsite._fetch import (
        ImageGot,
        ImageRequest,
        fetch_images_sync,
        referers_for,
    )

    images = config.images
    feeds = {f.key: f for f in config.feeds}
    settings = dataclasses.replace(config.fetch, max_body=images.max_size)
    covers = {p.urls[0] for _u, p in plan if p.urls}
    private = private_feeds(state, config)
    placeholders = set(state.image_placeholders())
    rng = random.Random(seed)

    def check(data: bytes) -> str | None:
        kind = sniff(data)
        if kind is None:
            return "not an image"
        if kind == "html":
            return "not an image (HTML page)"
        if kind == "svg":
            return "SVG refused (not served as is)"
        return None

    def fetch(batch: Sequence[tuple[str, ImageRefs]]) -> ImageFetchResult:
        requests = []
        for url, post in batch:
            feed = feeds[post.feed_key]
            requests.append(
                ImageRequest(
                    url=url,
                    referers=referers_for(url, post.link, feed.images.referer),
                    allow_private=post.feed_key in private,
                    proxy=feed.proxy,
                )
            )
        return fetch_images_sync(
            requests,
            settings,
            check=check,
            known_placeholders=frozenset(placeholders),
            deadline=deadline,
            jitter=rng.random,
        )

    def derive(url: str, data: bytes) -> Processed | Refused:
        return process(
            data,
            max_pixels=images.max_pixels,
            max_width=images.width,
            thumb=THUMB if url in covers else None,
        )

    batches = [plan[i : i + _BATCH] for i in range(0, len(plan), _BATCH)]
    done_batches = 0

    def until_deadline() -> Iterator[Sequence[tuple[str, ImageRefs]]]:
        for batch in batches:
            if time.monotonic() >= deadline:
                return
            yield batch

    for batch, result, derived in pipeline(until_deadline(), fetch, derive):
        done_batches += 1
        writes: list[FileWrite] = []
        changed: list[StoredImage] = []
        for url, _post in batch:
            outcome = result.outcomes[url]
            host = url_host(url) or ""
            old = rows.get(url)
            if isinstance(outcome, ImageGot):
                done = derived[url].result()
                if isinstance(done, Refused):
                    reason = done.reason
                    row = after_failure(old, url, host, reason, now, permanent=done.permanent)
                    _count(report, host, reason)
                else:
                    row, files = _stored(url, host, outcome.referer, done)
                    writes.extend(files)
                    report.fetched += 1
            elif outcome.skipped:
                report.postponed += 1
                continue
            else:
                row = after_failure(
                    old,
                    url,
                    host,
                    outcome.reason,
                    now,
                    permanent=outcome.permanent,
                    retry_after=outcome.retry_after,
                )
                _count(report, host, outcome.reason)
            rows[url] = row
            changed.append(row)
        owned = ledger.owned()
        writes = [w for w in {w.path: w for w in writes}.values() if _needs(w, owned)]
        found = result.placeholders
        with ledger.session() as session:
            session.stage(writes, also=partial(_record, state, changed, found))
            for w in writes:
                session.write(w)
        placeholders.update(d for ds in found.values() for d in ds)
    report.postponed += sum(len(b) for b in batches[done_batches:])


Batch = TypeVar("Batch")


def pipeline(
    batches: Iterable[Batch],
    fetch: Callable[[Batch], ImageFetchResult],
    derive: Callable[[str, bytes], Processed | Refused],
    workers: int | None = None,
) -> Iterator[tuple[Batch, ImageFetchResult, dict[str, Future[Processed | Refused]]]]:
    """Download batch after batch while the images of the previous one are derived.

    Each batch's downloaded images go to a pool of ``workers`` threads (default: one per
    core, at most 4: Pillow releases the GIL while it decodes, resizes and encodes) and
    the batch is yielded once the next one has been downloaded, so deriving overlaps the
    network. A consumer that stops early cancels what was not started.
    """
    from feedsite._fetch import ImageGot

    pool = ThreadPoolExecutor(max_workers=workers or max(1, min(4, os.cpu_count() or 1)))
    pending = None
    try:
        for batch in batches:
            result = fetch(batch)
            derived = {
                url: pool.submit(derive, url, got.data)
                for url, got in result.outcomes.items()
                if isinstance(got, ImageGot)
            }
            if pending is not None:
                yield pending
            pending = (batch, result, derived)
        if pending is not None:
            yield pending
    finally:
        pool.shutdown(cancel_futures=True)


def _record(
    state: State, rows: Sequence[StoredImage], found: Mapping[str, frozenset[str]], tx: Tx
) -> None:
    state.record_images(tx, rows)
    state.record_placeholders(tx, found)


def _count(report: ImageReport, host: str, reason: str) -> None:
    key = f"{host}: {_short(reason)}"
    report.failed[key] = report.failed.get(key, 0) + 1


def _needs(w: FileWrite, owned: Mapping[str, object]) -> bool:
    o = owned.get(w.path)
    return o is None or getattr(o, "sha256", None) != w.sha256


def _short(reason: str) -> str:
    """A failure's kind, for counting by host: its first clause, without numbers' detail."""
    return reason.split(";")[0].split(" (")[0][:60]


def _stored(
    url: str, host: str, referer: str | None, done: Processed
) -> tuple[StoredImage, list[FileWrite]]:
    """An image's row and the writes of its files."""
    files: list[ImageFile] = []
    writes: list[FileWrite] = []
    for d in done.files:
        path = file_path(done.digest, d.role, d.ext)
        files.append(ImageFile(d.role, path, d.width, d.height, len(d.data)))
        writes.append(FileWrite(path, d.data, hashlib.sha256(d.data).hexdigest(), done.digest))
    row = StoredImage(
        url,
        "ok",
        digest=done.digest,
        files=tuple(files),
        size=sum(f.size for f in files),
        host=host,
        referer=referer,
    )
    return row, writes


def private_feeds(state: State, config: Config) -> set[str]:
    """Feeds fetched from a private or loopback address: their images may be too."""
    from feedsite._fetch import is_private_source

    known: dict[str, bool] = {}  # by host name: one resolver call per host, not per feed

    def private(url: str) -> bool:
        host = url_host(url) or url
        if host not in known:
            known[host] = is_private_source(url)
        return known[host]

    out = set()
    preferred = {k: f.preferred_source for k, f in state.feeds().items()}
    for feed in config.feeds:
        url = feed.url or preferred.get(feed.key) or ""
        if (url and private(url)) or (
            feed.route is not None and any(private(i) for i in config.rsshub.instances)
        ):
            out.add(feed.key)
    return out


def local_images(state: State, config: Config) -> PostImages:
    """The local images as the state records them (for ``feedsite build``; the native site
    shows no generated covers)."""
    ledger = Ledger(state, Writer(config.images.dir), TARGET)
    owned = ledger.owned()
    local = {
        url: LocalImage(url, row.files)
        for url, row in state.images().items()
        if row.state == "ok" and row.files and all(f.path in owned for f in row.files)
    }
    return PostImages(config.images.dir, local)
