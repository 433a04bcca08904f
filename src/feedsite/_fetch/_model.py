"""Values the fetch stage takes and returns.

Scope: plain frozen dataclasses and their validation. Contains no I/O and no
fetching logic.
"""

from __future__ import annotations

import importlib.metadata
from collections.abc import Mapping
from dataclasses import dataclass, field

_HOME = "https://github.com/feedsite/feedsite"


def default_user_agent() -> str:
    """Return ``feedsite/<version> (+<home page>)``; version ``0`` when not installed."""
    try:
        version = importlib.metadata.version("feedsite")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"feedsite/{version} (+{_HOME})"


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP caching validators of one source, as its last 200 response gave them.

    Attributes:
        etag: the ``ETag`` header, sent back as ``If-None-Match``.
        last_modified: the ``Last-Modified`` header, sent back as ``If-Modified-Since``.
    """

    etag: str | None = None
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class Source:
    """One place a feed can be fetched from.

    Attributes:
        label: stable key for validators and for remembering who answered: the
            RSSHub instance base URL for routes, the URL itself for url feeds.
        url: the full URL to GET (``http``, ``https`` or ``file``). It may carry
            ``?key=ACCESS_KEY``; messages always show it as ``key=***``.
    """

    label: str
    url: str


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One feed to fetch.

    Attributes:
        key: the feed's identity (opaque; the key of ``fetch_all``'s result).
        sources: tried in order; the caller puts the preferred instance first.
        validators: by ``Source.label``; sent as ``If-None-Match`` / ``If-Modified-Since``.
    """

    key: str
    sources: tuple[Source, ...]
    validators: Mapping[str, Validators] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Fetched:
    """A 200 (or a local file) whose body passed the ``is_feed`` check.

    Attributes:
        source: the source that answered.
        body: the body, decompressed.
        content_type: the ``Content-Type`` header (guessed from the suffix for files).
        final_url: the URL after redirects, unredacted (it is the base URL of the feed).
        validators: this response's ``ETag`` / ``Last-Modified`` (empty for files).
        attempts: messages of the sources that failed before this one.
    """

    source: Source
    body: bytes
    content_type: str | None
    final_url: str
    validators: Validators
    attempts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class NotModified:
    """A 304 from ``source``: the feed did not change since the validators were stored.

    Attributes:
        source: the source that answered.
        attempts: messages of the sources that failed before this one.
    """

    source: Source
    attempts: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """Every source failed.

    Attributes:
        message: one line naming each URL (redacted) and its cause, ``"; "``-joined.
        attempts: the same messages, one per source, in the order tried.
    """

    message: str
    attempts: tuple[str, ...]


FetchOutcome = Fetched | NotModified | FetchFailure


@dataclass(frozen=True, slots=True)
class SourceFailed:
    """One source failed (internal: the failover loop turns these into attempts).

    Attributes:
        message: ``"<redacted url>: <cause>"``.
    """

    message: str


#: What one attempt on one source gives (``attempts`` still empty).
AttemptResult = Fetched | NotModified | SourceFailed


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How ``fetch_all`` behaves.

    Attributes:
        concurrency: feeds in flight at once.
        timeout: seconds per request, for connect, read, write and pool waits,
            and also as a total deadline for one request (body included).
        user_agent: the ``User-Agent`` header.
        max_body: fail a response once its decompressed body exceeds this many bytes.

    Raises:
        ValueError: a setting is out of range.
    """

    concurrency: int = 8
    timeout: float = 30.0
    user_agent: str = field(default_factory=default_user_agent)
    max_body: int = 20 * 1024 * 1024

    def __post_init__(self) -> None:
        if self.concurrency < 1:
            raise ValueError(f"concurrency must be at least 1, not {self.concurrency}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be positive, not {self.timeout}")
        if self.max_body < 1:
            raise ValueError(f"max_body must be at least 1, not {self.max_body}")
