"""Local images: which to download, which stay local under the budget, which go. Pure.

Knows nothing of files or targets: it reads the posts' image URLs
(:class:`~feedsite._records.ImageRefs`), each URL's stored row
(:class:`~feedsite._records.StoredImage`) and the time, and answers with URLs and rows.
The image stage (``_run/_images.py``) downloads, derives and writes what it says.

Rules (docs/images.md):

* **Order.** Posts newest first (their date, else when first seen; ties by feed and item
  id, so the order never depends on fetch order); within a post, its cover first.
* **Download** a URL never tried, one whose last failure's backoff is over
  (:func:`backoff`), and a local one whose files went missing; posts are walked newest
  first and no more is downloaded once the known bytes of the newer posts fill
  ``max_total``. A refused URL (not an image, too large, a bomb, SVG) is never tried again
  while posts use it.
* **Budget** (:func:`allot`): posts newest first keep their images local while all of a
  post's files (each counted once, however many URLs or posts share it) fit in
  ``max_total``; from the first post that does not fit on, every older post's images fall
  back to hotlinks (``over_budget``).
* **Forget** the rows of URLs no live post uses; their files go with them unless a kept
  URL shares them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from feedsite._records import ImageRefs, StoredImage

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_CAP",
    "Allotment",
    "after_failure",
    "allot",
    "backoff",
    "newest_first",
    "settled",
    "to_fetch",
    "unused",
]

#: The first retry of an image that failed waits this long; each further failure doubles it.
BACKOFF_BASE = timedelta(minutes=30)
BACKOFF_CAP = timedelta(days=2)


def newest_first(refs: Iterable[ImageRefs]) -> list[ImageRefs]:
    """The posts in the budget's order: newest first, ties by feed key and item id."""
    posts = sorted(refs, key=lambda r: (r.feed_key, r.item_id))
    posts.sort(key=lambda r: r.rank, reverse=True)
    return posts


def backoff(failures: int) -> timedelta:
    """How long after its ``failures``-th consecutive failure an image is tried again."""
    return min(BACKOFF_CAP, BACKOFF_BASE * (1 << min(max(failures - 1, 0), 20)))


def after_failure(
    row: StoredImage | None,
    url: str,
    host: str,
    error: str,
    now: datetime,
    *,
    permanent: bool,
    retry_after: datetime | None = None,
) -> StoredImage:
    """The row of an image whose download (or decoding) failed this run."""
    failures = (row.failures if row is not None else 0) + 1
    if permanent:
        return StoredImage(url, "refused", host=host, error=error, failures=failures)
    when = now + backoff(failures)
    if retry_after is not None and retry_after > when:
        when = retry_after
    return StoredImage(url, "failed", host=host, error=error, failures=failures, next_attempt=when)


def _due(row: StoredImage | None, missing: frozenset[str], now: datetime) -> bool:
    if row is None:
        return True
    if row.state == "failed":
        return row.next_attempt is None or row.next_attempt <= now
    if row.state == "ok":
        return any(f.path in missing for f in row.files)
    return False


def to_fetch(
    posts: Sequence[ImageRefs],
    stored: Mapping[str, StoredImage],
    missing: frozenset[str],
    now: datetime,
    max_total: int,
) -> list[tuple[str, ImageRefs]]:
    """The URLs to download this run, in order, each with the (newest) post that uses it.

    Args:
        posts: :func:`newest_first` order.
        stored: every URL's row.
        missing: image files the ledger found missing or edited.
        now: the run's time.
        max_total: the budget: no URL of a post older than those whose known bytes fill
            it is downloaded.
    """
    out: list[tuple[str, ImageRefs]] = []
    seen: set[str] = set()
    counted: set[str] = set()
    known = 0
    for post in posts:
        if known > max_total:
            break
        for url in post.urls:
            if url in seen:
                continue
            seen.add(url)
            row = stored.get(url)
            if row is not None and row.state == "over_budget":
                if known + row.size <= max_total:  # room again: download it again
                    out.append((url, post))
                    known += row.size
            elif _due(row, missing, now):
                out.append((url, post))
            elif row is not None and row.state == "ok":
                for f in row.files:
                    if f.path not in counted:
                        counted.add(f.path)
                        known += f.size
    return out


@dataclass(frozen=True, slots=True)
class Allotment:
    """What the budget decided: URLs served locally, URLs hotlinked for want of room, and
    the bytes the local files take."""

    local: frozenset[str]
    over: frozenset[str]
    total: int


def allot(
    posts: Sequence[ImageRefs], stored: Mapping[str, StoredImage], max_total: int
) -> Allotment:
    """Apply ``max_total`` to the downloaded images (``ok`` rows), posts newest first: see
    the module docstring."""
    local: set[str] = set()
    over: set[str] = set()
    counted: set[str] = set()
    total = 0
    full = False
    for post in posts:
        rows = [stored[u] for u in post.urls if u in stored and stored[u].state == "ok"]
        if not full:
            new = {f.path: f.size for r in rows for f in r.files if f.path not in counted}
            if total + sum(new.values()) <= max_total:
                total += sum(new.values())
                counted.update(new)
                local.update(r.url for r in rows)
                continue
            full = True
        over.update(r.url for r in rows if r.url not in local)
    return Allotment(frozenset(local), frozenset(over), total)


def unused(stored: Mapping[str, StoredImage], posts: Iterable[ImageRefs]) -> list[str]:
    """The URLs whose rows go: no live post uses them."""
    used = {u for p in posts for u in p.urls}
    return sorted(u for u in stored if u not in used)


def settled(stored: Mapping[str, StoredImage], allotment: Allotment) -> dict[str, StoredImage]:
    """The ``ok`` rows the budget leaves out, as ``over_budget`` (their files go; their
    size is kept, to know when there is room for them again)."""
    return {
        url: replace(row, state="over_budget", files=())
        for url, row in stored.items()
        if row.state == "ok" and url in allotment.over
    }
