"""How ``fetch_all`` behaves: the ``FetchSettings`` value and its validation.

Scope: one frozen dataclass, the default User-Agent and the proxy URL check.
Contains no I/O and no fetching logic.
"""

from __future__ import annotations

import importlib.metadata
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

_HOME = "https://github.com/feedsite/feedsite"


def default_user_agent() -> str:
    """Return ``feedsite/<version> (+<home page>)``; version ``0`` when not installed."""
    try:
        version = importlib.metadata.version("feedsite")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"feedsite/{version} (+{_HOME})"


def check_proxy(proxy: str | None, where: str) -> None:
    """Reject a proxy URL that is not ``http(s)://host[:port]``.

    ``None`` and ``""`` are accepted (no proxy / a direct connection).

    Args:
        proxy: the proxy URL to check.
        where: the setting's name, for the error message.

    Raises:
        ValueError: the URL has another scheme or no host.
    """
    if not proxy:
        return
    try:
        parts = urlsplit(proxy)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError as exc:
        raise ValueError(f"{where} is not a valid proxy URL: {exc}") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{where} must be an http:// or https:// proxy URL with a host")


@dataclass(frozen=True, slots=True)
class FetchSettings:
    """How ``fetch_all`` behaves.

    Timeouts: ``connect_timeout`` bounds opening a connection, ``read_timeout``
    bounds each wait for data (headers or the next body bytes), and ``timeout``
    bounds one whole request (redirects and body included), so a server that
    trickles bytes is cut at ``timeout``. Each is capped by ``timeout``.

    Retries: a transient failure (timeout, connection error or reset, truncated
    body, HTTP 408, 429 or 5xx) of one source is retried up to ``retries`` times
    after ``retry_delay`` (capped exponential backoff with jitter) before the
    next source is tried. A ``Retry-After`` on 429/503 is slept instead when it
    is at most ``backoff_cap`` and ends before ``deadline``; a longer one defers
    that source (see ``Deferred``).

    Attributes:
        concurrency: requests in flight at once, over all hosts.
        per_host: requests in flight at once to one ``host:port``.
        timeout: seconds for one whole request (total deadline), and the cap of
            the other timeouts.
        connect_timeout: seconds to open a connection.
        read_timeout: seconds to wait for the response or for more body bytes.
        user_agent: the ``User-Agent`` header.
        max_body: fail a response once its decompressed body exceeds this many bytes.
        max_redirects: redirects followed per request; a URL seen twice fails at once.
        retries: extra tries of one source after a transient failure.
        backoff_base: seconds before the first retry (before jitter).
        backoff_cap: the longest backoff, and the longest ``Retry-After`` slept.
        jitter: returns a number in ``[0, 1)``; a retry waits ``d/2 + d/2 * jitter()``
            for the capped backoff ``d``. Pin it in tests (``lambda: 0.5``,
            ``random.Random(7).random``).
        deadline: a ``time.monotonic()`` value: no request starts after it (feeds
            not started come back ``Skipped``), and no retry wait passes it.
            None means no run budget.
        proxy: ``http(s)://host:port`` proxy for every feed (``FetchRequest.proxy``
            overrides it); None or ``""`` connects directly.

    Raises:
        ValueError: a setting is out of range.
    """

    concurrency: int = 8
    timeout: float = 30.0
    user_agent: str = field(default_factory=default_user_agent)
    max_body: int = 20 * 1024 * 1024
    per_host: int = 2
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    max_redirects: int = 10
    retries: int = 2
    backoff_base: float = 0.5
    backoff_cap: float = 8.0
    jitter: Callable[[], float] = field(default=random.random, compare=False)
    deadline: float | None = None
    proxy: str | None = None

    def __post_init__(self) -> None:
        at_least_one = {
            "concurrency": self.concurrency,
            "per_host": self.per_host,
            "max_body": self.max_body,
        }
        for name, value in at_least_one.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        for name, number in (
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
            ("read_timeout", self.read_timeout),
        ):
            if not number > 0:
                raise ValueError(f"{name} must be positive, not {number}")
        for name, count in (("retries", self.retries), ("max_redirects", self.max_redirects)):
            if count < 0:
                raise ValueError(f"{name} must not be negative, not {count}")
        if not 0 <= self.backoff_base <= self.backoff_cap:
            raise ValueError(
                f"need 0 <= backoff_base <= backoff_cap, not {self.backoff_base} "
                f"and {self.backoff_cap}"
            )
        check_proxy(self.proxy, "proxy")
