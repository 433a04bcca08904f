"""Values the fetch stage takes and returns.

Scope: plain frozen dataclasses (requests, per-try records, outcomes) and their
validation. Contains no I/O and no fetching logic. The settings are
``feedsite.config.FetchConfig``; the validators ``feedsite.types.Validators``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Literal

from feedsite.config import check_proxy
from feedsite.types import Validators

if TYPE_CHECKING:
    from ._try import ProblemKind

#: Checks a URL before it is requested (the first one and every redirect target):
#: returns why it is refused (e.g. ``"private address 10.0.0.5 refused"``), or None.
UrlCheck = Callable[[str], Awaitable[str | None]]

#: Judges a 200 body: True accepts it; False rejects it as "not a feed"; a string
#: rejects it with that string as the cause (e.g. ``"not an image (HTML page)"``).
BodyCheck = Callable[[bytes], bool | str]


@dataclass(frozen=True, slots=True)
class Source:
    """One place a feed can be fetched from.

    Attributes:
        label: stable key for validators and for remembering who answered: the
            RSSHub instance base URL for routes, the URL itself for url feeds.
        url: the full URL to GET (``http``, ``https`` or ``file``). It may carry
            ``?key=ACCESS_KEY``; messages always show it as ``key=***``.
        headers: extra request headers sent on every hop (redirects included) of
            this source over HTTP(S), e.g. ``(("Referer", "https://weibo.com/"),)``;
            they override the client's defaults of the same name.
    """

    label: str
    url: str
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, slots=True)
class FetchRequest:
    """One feed to fetch.

    Attributes:
        key: the feed's identity (opaque; the key of ``fetch_all``'s result).
        sources: tried in order; the caller puts the preferred instance first.
        validators: by ``Source.label``; sent as ``If-None-Match`` / ``If-Modified-Since``.
        proxy: ``http(s)://host:port`` proxy for this feed, overriding
            ``FetchConfig.proxy``; ``""`` connects directly; None uses the setting.
        check_url: awaited before every HTTP(S) request of this feed (the first URL
            and each redirect target); a reason it returns fails the try at once
            (a final problem, as a bad URL), without connecting. None: no check.
        one_server: the sources are one server asked in different ways (e.g. an
            image with different ``Referer`` headers), so a transient failure
            (timeout, connection error, 5xx, 429, a deferral) ends the request once
            its retries are used up instead of failing over to the next source;
            other failures (4xx, a rejected body) still fail over.

    Raises:
        ValueError: ``proxy`` is not an http(s) proxy URL.
    """

    key: str
    sources: tuple[Source, ...]
    validators: Mapping[str, Validators] = field(default_factory=dict)
    proxy: str | None = None
    check_url: UrlCheck | None = None
    one_server: bool = False

    def __post_init__(self) -> None:
        check_proxy(self.proxy, f"proxy of feed {self.key!r}")


#: What the retry policy made of one try (see ``Attempt.verdict``).
Verdict = Literal["fetched", "not_modified", "retry", "failover", "defer"]


@dataclass(frozen=True, slots=True)
class Attempt:
    """One request to one source (one try), as it went.

    Records of a whole ``fetch_all`` call tell which sources answered, how fast,
    and which failed, so a caller can prefer healthy instances next time.

    Attributes:
        label: the source's ``Source.label``.
        url: the source's URL, redacted (``key=***``); the local path for a
            ``file:`` source. Messages name the source by it.
        number: 1 for the first try of this source, 2 for its first retry...
        status: the HTTP status of the final response (after redirects); None
            when none arrived (network error, timeout) and for ``file:`` sources.
        cause: what happened: ``"HTTP 200"``, ``"HTTP 304"``, ``"read"`` (a file)
            or the failure's cause, e.g. ``"HTTP 503"``,
            ``"timed out after 10.0 s connecting (connect timeout)"``.
        elapsed: seconds the try took (redirects and body included, slot
            waits and retry waits excluded).
        verdict: ``fetched`` / ``not_modified`` (the source answered);
            ``retry`` (tried again after ``wait``); ``failover`` (gave up on
            the source); ``defer`` (the server asked for a pause of ``wait``
            seconds, longer than we wait).
        wait: seconds waited before the retry, or the deferral; 0 otherwise.
        note: why the policy decided so, when it is not obvious (a deferral,
            a retry skipped for the run deadline); "" otherwise.
        kind: the failure's kind as the retry policy saw it (``"http"``,
            ``"timeout"``, ``"final"``... see ``ProblemKind``); None for a success.
    """

    label: str
    url: str
    number: int
    status: int | None
    cause: str
    elapsed: float
    verdict: Verdict
    wait: float = 0.0
    note: str = ""
    kind: ProblemKind | None = None

    @property
    def ok(self) -> bool:
        """Whether the source answered (a feed or a 304) on this try."""
        return self.verdict in ("fetched", "not_modified")


def failure_messages(attempts: tuple[Attempt, ...]) -> tuple[str, ...]:
    """One message per source that was tried and did not answer, in the order tried.

    A message is ``"<redacted url>: <cause of its last try>"``, then
    ``" (N tries)"`` when the source was retried, then ``"; <note>"`` when the
    policy explains its decision.

    Args:
        attempts: the records of one feed, in the order made.

    Returns:
        The messages, e.g. ``("http://a/feed: HTTP 503 (3 tries)",)``.
    """
    messages: list[str] = []
    for index, attempt in enumerate(attempts):
        following = attempts[index + 1] if index + 1 < len(attempts) else None
        if following is not None and following.number > 1:
            continue  # not this source's last try
        if attempt.ok:
            continue
        text = f"{attempt.url}: {attempt.cause}"
        if attempt.number > 1:
            text += f" ({attempt.number} tries)"
        if attempt.note:
            text += f"; {attempt.note}"
        messages.append(text)
    return tuple(messages)


class _Trail:
    """Mixin: the ``failures`` view of an outcome's ``attempts``."""

    __slots__ = ()
    attempts: tuple[Attempt, ...]

    @property
    def failures(self) -> tuple[str, ...]:
        """Messages of the sources that failed, one each, in the order tried."""
        return failure_messages(self.attempts)


@dataclass(frozen=True, slots=True)
class Fetched(_Trail):
    """A 200 (or a local file) whose body passed the ``is_feed`` check.

    Attributes:
        source: the source that answered.
        body: the body, decompressed.
        content_type: the ``Content-Type`` header (guessed from the suffix for files).
        final_url: the URL after redirects, unredacted (it is the base URL of the feed).
        validators: this response's ``ETag`` / ``Last-Modified`` (empty for files).
        attempts: every try of this feed, the successful one last.
        max_age: seconds the response says it stays fresh (its freshness
            lifetime, from ``Cache-Control`` / ``Expires`` / ``Date``: see
            ``_policy.freshness``; an ``Age`` added by a cache in between is not
            subtracted): 0 when it must be asked again every time, None when it
            does not say (and for files). A caller may skip the feed until then.
    """

    source: Source
    body: bytes
    content_type: str | None
    final_url: str
    validators: Validators
    attempts: tuple[Attempt, ...] = ()
    max_age: float | None = None


@dataclass(frozen=True, slots=True)
class NotModified(_Trail):
    """A 304 from ``source``: the feed did not change since the validators were stored.

    Attributes:
        source: the source that answered.
        attempts: every try of this feed, the successful one last.
        max_age: seconds the 304 says the stored copy stays fresh (as ``Fetched.max_age``).
    """

    source: Source
    attempts: tuple[Attempt, ...] = ()
    max_age: float | None = None


@dataclass(frozen=True, slots=True)
class FetchFailure(_Trail):
    """Every source was tried and failed.

    Attributes:
        message: one line naming each URL (redacted) and its cause, ``"; "``-joined
            (``failures`` joined), or why there was nothing to try.
        attempts: every try of this feed.
    """

    message: str
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Deferred(_Trail):
    """Come back later: a server asked for a pause longer than this run waits.

    Not a failure of the feed's content: a source answered 429 or 503 with a
    ``Retry-After`` above ``backoff_cap`` or past the run deadline, and no other
    source answered. Keep the feed's state and fetch it again from ``until`` on.

    Attributes:
        until: when the earliest deferring source said to come back (UTC).
        message: every failed source's message, ``"; "``-joined (like ``FetchFailure``).
        attempts: every try of this feed.
    """

    until: datetime
    message: str
    attempts: tuple[Attempt, ...] = ()


@dataclass(frozen=True, slots=True)
class Skipped(_Trail):
    """Not fetched this run: the run deadline passed before a source could be tried.

    Not a failure: the feed simply gets no news this run. A feed whose first
    sources failed before the deadline, with sources left untried, is Skipped
    too (its ``attempts`` show what was tried).

    Attributes:
        reason: e.g. ``"run deadline passed before the fetch started"``.
        attempts: the tries made before the deadline (usually none).
    """

    reason: str
    attempts: tuple[Attempt, ...] = ()


FetchOutcome = Fetched | NotModified | FetchFailure | Deferred | Skipped
