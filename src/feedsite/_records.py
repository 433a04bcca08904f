"""Records passed between the plan stage and the store/targets: what was read
from the store (``Stored*``) and what is to be written (``*Intent``, ``PostWrite``,
``PostDelete``). Plain frozen values; no behaviour.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from feedsite.types import ParsedItem

ItemStatus = Literal["seen", "live", "pruned", "removed"]
"""``seen``: known (keeps its first-seen time) but not posted; ``live``: has a post;
``pruned``/``removed``: tombstones (retention / ``feedsite remove``)."""

DiskState = Literal["ok", "missing", "edited"]
FeedStatus = Literal["ok", "not_modified", "failed", "deferred"]


@dataclass(frozen=True, slots=True)
class CachedValidators:
    """HTTP validators of one source of one feed."""

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class StoredFeed:
    """A feed's row, read from the store."""

    key: str
    preferred_source: str | None
    validators: dict[str, CachedValidators]
    last_success: datetime | None
    consecutive_failures: int
    #: Not to be fetched before this (backoff after failures, or a Retry-After).
    next_attempt: datetime | None = None
    #: The last run's status of this feed (ok, not_modified, failed, deferred).
    last_status: str | None = None


@dataclass(frozen=True, slots=True)
class StoredItem:
    """An item's metadata, read from the store (bodies stay in the database)."""

    feed_key: str
    item_id: str
    status: ItemStatus
    first_seen: datetime
    seq: int
    date: datetime | None
    content_hash: str
    clean_key: str


@dataclass(frozen=True, slots=True)
class StoredPost:
    """A file feedsite wrote, read from the store."""

    path: str
    feed_key: str
    item_id: str
    sha256: str
    render_key: str
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ItemData:
    """The normalized item as stored: what the feed said, plus its cleaned body."""

    item: ParsedItem
    body_clean: str
    clean_key: str


@dataclass(frozen=True, slots=True)
class ItemIntent:
    """An item row to insert or update. ``data`` None keeps the stored data."""

    feed_key: str
    item_id: str
    status: ItemStatus
    first_seen: datetime
    seq: int
    date: datetime | None
    content_hash: str
    data: ItemData | None


@dataclass(frozen=True, slots=True)
class FeedIntent:
    """What to record about one feed after this run."""

    key: str
    status: FeedStatus
    error: str | None
    source: str | None
    validators: CachedValidators | None
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


@dataclass(frozen=True, slots=True)
class PostWrite:
    """A post file to write (and record as ours)."""

    path: str
    feed_key: str
    item_id: str
    data: bytes
    sha256: str
    render_key: str
    reason: Literal["new", "updated", "restored"]


@dataclass(frozen=True, slots=True)
class PostDelete:
    """A post file to delete (only if it still holds the bytes we wrote)."""

    path: str
    reason: Literal["pruned", "feed_removed", "removed"]
