"""Records passed between the plan stage, the store and the targets: what was read
from the store (``Stored*``, ``OwnedFile``), what was decided (``*Intent``, ``ItemChange``)
and what is to be written (``FileWrite``, ``FileDelete``). Plain frozen values; no behaviour.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Literal

from feedsite.types import ImageFile, LocalImage, ParsedItem, Validators

ItemStatus = Literal["seen", "live", "pruned", "removed", "filtered"]
"""``seen``: known (keeps its first-seen time) but not posted; ``live``: has a post;
``pruned``/``removed``: tombstones (retention / ``feedsite remove``)."""

DiskState = Literal["ok", "missing", "edited"]
FeedStatus = Literal["ok", "not_modified", "failed", "deferred"]


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A feed's row, read from the store."""

    key: str
    preferred_source: str | None
    validators: dict[str, Validators]
    last_success: datetime | None
    consecutive_failures: int
    #: Not to be fetched before this (backoff after failures, or a Retry-After).
    next_attempt: datetime | None = None
    #: The last run's status of this feed (ok, not_modified, failed, deferred).
    last_status: str | None = None
    #: The key of the rule set its items were last judged by (None: never judged).
    rules_key: str | None = None


@dataclass(frozen=True, slots=True)
class ItemRow:
    """An item's metadata row (bodies stay in the database)."""

    feed_key: str
    item_id: str
    status: ItemStatus
    first_seen: datetime
    #: Position in the feed when last seen.
    seq: int
    date: datetime | None
    content_hash: str


@dataclass(frozen=True, slots=True)
class StoredItem(ItemRow):
    """An item's metadata, read from the store."""

    #: The cleaning options its stored body was made with.
    clean_key: str


@dataclass(frozen=True, slots=True)
class ItemData:
    """The normalized item as stored: what the feed said, plus its cleaned body."""

    item: ParsedItem
    body_clean: str
    clean_key: str
    #: The post's images (:func:`feedsite._clean.image_urls`): the cover first, then the
    #: body's, each a safe absolute URL. None: not known (stored by an older version).
    image_urls: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ItemIntent(ItemRow):
    """An item row to insert or update. ``data`` None keeps the stored data."""

    data: ItemData | None


@dataclass(frozen=True, slots=True)
class FeedIntent:
    """What to record about one feed after this run."""

    key: str
    status: FeedStatus
    error: str | None
    source: str | None
    validators: Validators | None
    at: datetime
    consecutive_failures: int = 0
    next_attempt: datetime | None = None


@dataclass(frozen=True, slots=True)
class InstanceIntent:
    """How one RSSHub instance answered this run (for preferring healthy ones)."""

    label: str
    ok: bool
    error: str | None
    at: datetime


ChangeKind = Literal["new", "changed", "unchanged", "pruned"]
"""What happened to a live item this run (see :class:`ItemChange`)."""


@dataclass(frozen=True, slots=True)
class ItemChange:
    """What the decider decided about one item that has (or had) a post: the targets'
    input. Says nothing of files; each target plans its own from it.

    ``new``: enters the kept set; ``changed``: kept, and what it is built from changed
    (``what``); ``unchanged``: kept as it was; ``pruned``: leaves the kept set.
    """

    feed_key: str
    item_id: str
    kind: ChangeKind
    first_seen: datetime
    content_hash: str
    #: Was the item live before this run (a ``new`` item was not; a kept one whose
    #: output is missing is restored).
    was_live: bool
    #: For ``changed``: ``"content"`` (the feed changed it), ``"clean"`` (the cleaning
    #: options changed), or both.
    what: tuple[str, ...] = ()
    #: What the item's body comes from besides the feed, when anything (full text: the
    #: setting and the article, ``_plan._fulltext.item_clean_key``); "" for none. Part of
    #: each target's key for the item's output.
    body_key: str = ""


FileState = Literal["pending", "written", "deleting"]


@dataclass(frozen=True, slots=True)
class OwnedFile:
    """A file feedsite wrote and owns, read from the ledger (state ``written``)."""

    target: str
    #: Relative to the target's output root, ``/``-separated.
    path: str
    #: The bytes last written (None: not known, e.g. a file recorded by an old version).
    sha256: str | None
    #: The key of the inputs the file was made from (render key, page input key).
    key: str
    size: int
    mtime_ns: int
    #: The item the file is the post of (None: a page of many, an asset).
    feed_key: str | None = None
    item_id: str | None = None


@dataclass(frozen=True, slots=True)
class UnfinishedFile:
    """A ledger row a killed run left (state ``pending`` or ``deleting``)."""

    target: str
    path: str
    state: FileState
    #: The bytes recorded as written before (None: a new file).
    sha256: str | None
    #: The bytes being written (``pending``).
    pending_sha256: str | None


@dataclass(frozen=True, slots=True)
class FileWrite:
    """A file to write through the ledger (and own)."""

    path: str
    data: bytes
    sha256: str
    #: The key of the inputs the bytes were made from.
    key: str
    feed_key: str | None = None
    item_id: str | None = None
    #: Only create: never replace an existing file (it is not known to be ours).
    create_only: bool = False


@dataclass(frozen=True, slots=True)
class FileDelete:
    """A file to delete, only if it still holds the bytes the ledger recorded."""

    path: str
    reason: Literal["pruned", "feed_removed", "removed", "gone"] = "gone"


@dataclass(frozen=True, slots=True)
class FeedRow:
    """A feed's health as the state records it (``feedsite status``)."""

    key: str
    preferred_source: str | None
    last_attempt: str | None
    last_success: str | None
    last_status: str | None
    last_error: str | None
    consecutive_failures: int
    next_attempt: str | None


@dataclass(slots=True)
class PostTally:
    """What a run did to one feed's posts (the summary shows it; the Hexo plan counts it)."""

    new: int = 0
    updated: int = 0
    unchanged: int = 0
    restored: int = 0
    pruned: int = 0
    #: Items not posted: another report of their story leads (``site.dedupe: skip``).
    skipped: int = 0
    #: Posts edited by hand: left alone.
    edited: list[str] = field(default_factory=list)


ImageState = Literal["ok", "failed", "refused", "over_budget"]
"""``ok``: its files are on disk (local); ``failed``: not downloaded yet (retried with
backoff); ``refused``: can never be served (not an image, too large, a bomb, SVG);
``over_budget``: downloaded once but left out by ``images.max_total`` (hotlinked)."""


@dataclass(frozen=True, slots=True)
class StoredImage:
    """An image URL's row, read from the store (table ``images``)."""

    url: str
    state: ImageState
    #: sha256 of the downloaded bytes (``ok``, ``over_budget``).
    digest: str | None = None
    files: tuple[ImageFile, ...] = ()
    #: Bytes of its files together (``ok``), or of what they would be (``over_budget``).
    size: int = 0
    host: str = ""
    referer: str | None = None
    error: str | None = None
    failures: int = 0
    next_attempt: datetime | None = None


@dataclass(frozen=True, slots=True)
class ImageRefs:
    """One post's images (what the image stage plans from)."""

    feed_key: str
    item_id: str
    #: The post's time for the budget's order: its date, else when it was first seen.
    rank: datetime
    link: str | None
    urls: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class PostImages:
    """The images the site serves itself, for the targets."""

    #: The image folder (``images.dir``).
    root: Path
    #: Local images by original URL (their files are on disk).
    local: Mapping[str, LocalImage] = field(default_factory=dict)
    #: Generated covers on disk: site name → path under ``root``.
    covers: Mapping[str, str] = field(default_factory=dict)

    def key(self, urls: Iterable[str]) -> str:
        """What a post's bytes depend on of its images (part of its render key)."""
        parts = [
            f"{u}>{','.join(f.path for f in self.local[u].files)}" for u in urls if u in self.local
        ]
        return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16] if parts else ""


ArticleState = Literal["ok", "failed", "refused"]


@dataclass(frozen=True, slots=True)
class StoredArticle:
    """An article page's row, as the state holds it."""

    url: str
    state: ArticleState
    #: The content hash of the item the page was fetched for.
    item_hash: str
    #: The ``fulltext`` setting it was extracted with (``FullText.key()``).
    setting: str
    #: sha256 of the extracted HTML ("" unless ``ok``).
    digest: str = ""
    #: Whether the extracted text is long enough to replace the feed's body.
    used: bool = False
    error: str | None = None
    failures: int = 0
    next_attempt: datetime | None = None


@dataclass(frozen=True, slots=True)
class StoredCatalogPart:
    """One part of the RSSHub route catalog as an instance served it (table ``catalog``)."""

    #: ``namespace`` (``/api/namespace``) or ``radar`` (``/api/radar/rules``).
    name: str
    #: The instance base URL it came from.
    source: str
    body: bytes
    etag: str | None
    last_modified: str | None
    #: When it was fetched, or last confirmed unchanged (aware UTC).
    fetched_at: datetime
