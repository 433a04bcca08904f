"""Download post images once, past hotlink protection and private-address traps (issue #12).

Scope: turn image requests into ``fetch_all`` requests (one per image, one
``Source`` per ``Referer`` candidate), judge the bodies, detect hotlink
placeholders, and report every image as ``ImageGot`` or ``ImageMissed``.
Contains no decoding (the caller's ``check`` sniffs the bytes), no storage and
no policy of its own: retries, failover, per-host limits, ``Retry-After``, the
deadline and the body cap are ``fetch_all``'s (``_runner``, ``_policy``).

How one image goes:

1. Its URL must be http(s) with a host; unless ``allow_private``, a host that
   is (or, without a proxy, resolves to) a non-public address is refused
   before any request, and so is every redirect target (``_address``).
2. Its ``Referer`` candidates (``_referer.referers_for``) are tried in order:
   a 4xx or a rejected body with one fails over to the next; a timeout, a
   connection error, a 5xx or a long ``Retry-After`` ends the image for this
   call once retried (``FetchRequest.one_server``: the next ``Referer`` would
   ask the same server). A body passes when ``check`` accepts it and its
   sha256 is not a known placeholder.
3. Hotlink placeholders: a host that dislikes a ``Referer`` may answer 200 with
   one "no hotlinking" image for every URL. After the first pass, a digest
   returned for at least ``SUSPECT_URLS`` distinct URLs of one host (and at
   most ``SUSPECT_MAX_SIZE`` bytes) is suspected. Those URLs are fetched again
   with the candidates after the one that gave it, rejecting that digest:

   - some URL gets other bytes: the digest is a placeholder (reported in
     ``placeholders``), the new bytes win, and the URLs left without other
     bytes are missed ("hotlink placeholder ..."); except when the other bytes
     are themselves one image shared by all those URLs (then both answers look
     alike and the one fetched without a ``Referer`` wins);
   - otherwise, when a URL got the same digest again or a 4xx from the other
     candidates, it was a real shared image (kept for every URL);
   - otherwise (no other candidate, or the checks failed) nothing tells, and
     the URLs are missed ("suspected hotlink placeholder ..."), not permanently.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from urllib.parse import urlsplit

from feedsite.config import FetchConfig, check_proxy

from ._address import address_refusal, url_refusal
from ._model import (
    Attempt,
    BodyCheck,
    Deferred,
    Fetched,
    FetchFailure,
    FetchOutcome,
    FetchRequest,
    Skipped,
    Source,
    UrlCheck,
)
from ._redact import redact
from ._runner import fetch_all

#: A digest returned for this many distinct URLs of one host is a suspected placeholder.
SUSPECT_URLS = 3
#: Only bodies up to this size can be suspected (placeholders are small).
SUSPECT_MAX_SIZE = 64 * 1024
#: ``Accept`` of image requests: the raster formats a browser asks for (no SVG: it can
#: carry script).
IMAGE_ACCEPT = "image/webp,image/png,image/jpeg,image/gif,image/*;q=0.8,*/*;q=0.5"
#: HTTP statuses after which retrying cannot help (Gone, Bad Request, URI Too Long,
#: Unavailable For Legal Reasons). 401/403 depend on the ``Referer`` or the host's
#: mood, and a 404 may come back: those are transient for the caller's backoff.
PERMANENT_STATUSES = frozenset({400, 410, 414, 451})
_PLACEHOLDER_CAUSES = ("hotlink placeholder", "the same image again")
#: Final for this call, not for good: a host name that does not resolve today (a machine
#: offline, a domain between owners) may tomorrow; its images are tried again later.
_NOT_FOR_GOOD = (*_PLACEHOLDER_CAUSES, "cannot connect")


@dataclass(frozen=True, slots=True)
class ImageRequest:
    """One image to download.

    Attributes:
        url: a safe absolute http(s) URL (as ``_url.safe_url`` gives).
        referers: the ``Referer`` values tried in order (failover), from
            ``referers_for``; None sends no ``Referer``. Duplicates and values that
            cannot travel in a header are dropped; empty means ``(None,)``.
        allow_private: the item's feed was itself fetched from a private or
            loopback address, so its images may be there too.
        proxy: as ``FetchRequest.proxy``: None uses ``settings.proxy``, ``""``
            connects directly.

    Raises:
        ValueError: ``proxy`` is not an http(s) proxy URL.
    """

    url: str
    referers: tuple[str | None, ...]
    allow_private: bool = False
    proxy: str | None = None

    def __post_init__(self) -> None:
        check_proxy(self.proxy, f"proxy of image {redact(self.url)!r}")


@dataclass(frozen=True, slots=True)
class ImageGot:
    """An image downloaded and accepted by ``check``.

    Attributes:
        url: the requested URL.
        data: the body, decompressed.
        referer: the ``Referer`` that worked (None: none was sent).
        digest: the sha256 of ``data``, hex.
    """

    url: str
    data: bytes
    referer: str | None
    digest: str


@dataclass(frozen=True, slots=True)
class ImageMissed:
    """An image not downloaded this time.

    Attributes:
        url: the requested URL.
        reason: precise, redacted plain text, e.g. ``"HTTP 403 (Referer
            https://weibo.com/, no Referer)"``, ``"private address 10.0.0.5
            refused"``, ``"hotlink placeholder (same 1,234-byte image for 3 URLs of
            img.host)"``, ``"body larger than 10485760 bytes ..."``.
        permanent: retrying cannot help: a bad URL, a refused address, a body too
            large, undecodable or refused by ``check``, HTTP 400/410/414/451.
            Not permanent: 403, 404, 5xx, timeouts, connection errors,
            placeholders (a ``Referer`` rule may fix them); the caller backs off.
        retry_after: when a server asked to come back (its ``Retry-After``), UTC.
        skipped: the deadline passed before it was tried (or checked): try again
            next run, without backoff.
    """

    url: str
    reason: str
    permanent: bool
    retry_after: datetime | None = None
    skipped: bool = False


@dataclass(frozen=True, slots=True)
class ImageFetchResult:
    """What one ``fetch_images`` call gave.

    Attributes:
        outcomes: by URL, one for every distinct requested URL, in request order.
        placeholders: host -> digests found to be hotlink placeholders in this call
            (pass them as ``known_placeholders`` next time).
    """

    outcomes: dict[str, ImageGot | ImageMissed]
    placeholders: dict[str, frozenset[str]] = field(default_factory=dict)


# -- requests ---------------------------------------------------------------


def _header_safe(value: str | None) -> bool:
    return value is None or (value.isascii() and value.isprintable() and bool(value.strip()))


def _candidates(request: ImageRequest) -> tuple[str | None, ...]:
    """The request's Referers: header-safe, without duplicates, never empty."""
    kept = tuple(dict.fromkeys(r for r in request.referers if _header_safe(r)))
    return kept or (None,)


def _label(referer: str | None) -> str:
    """The ``Source.label`` of a candidate."""
    return "no referer" if referer is None else f"referer {referer}"


def _describe(referer: str | None) -> str:
    """How messages name a candidate."""
    return "no Referer" if referer is None else f"Referer {redact(referer)}"


def _source(url: str, referer: str | None) -> Source:
    headers = [("Accept", IMAGE_ACCEPT)]
    if referer is not None:
        headers.append(("Referer", referer))
    return Source(label=_label(referer), url=url, headers=tuple(headers))


def _url_problem(url: str) -> str | None:
    """Why ``url`` cannot be downloaded at all, or None."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return "invalid URL"
    if parts.scheme.lower() not in ("http", "https"):
        return f"not an http(s) URL ({parts.scheme or 'no scheme'})"
    if not parts.hostname:
        return "invalid URL (no host)"
    return None


def _host(url: str) -> str:
    try:
        return (urlsplit(url).hostname or "").rstrip(".").lower()
    except ValueError:
        return ""


@dataclass(frozen=True, slots=True)
class _Job:
    """One image of one pass: its request and the candidates this pass tries."""

    request: ImageRequest
    referers: tuple[str | None, ...]


class _Batch:
    """What the passes of one ``fetch_images`` call share."""

    def __init__(
        self,
        settings: FetchConfig,
        check: Callable[[bytes], str | None],
        deadline: float | None,
        jitter: Callable[[], float],
    ) -> None:
        self.settings = settings
        self.check = check
        self.deadline = deadline
        self.jitter = jitter
        self.resolved: dict[str, str | None] = {}

    def proxy_of(self, request: ImageRequest) -> str | None:
        return request.proxy if request.proxy is not None else self.settings.proxy

    def url_check(self, request: ImageRequest) -> UrlCheck | None:
        """The private-address check of ``request``'s hops (names resolved only without proxy)."""
        if request.allow_private:
            return None
        resolve = not self.proxy_of(request)
        resolved = self.resolved

        async def refusal(url: str) -> str | None:
            return await url_refusal(url, resolve=resolve, cache=resolved)

        return refusal

    def body_check(self, rejected: Mapping[str, str]) -> BodyCheck:
        """``check``, after refusing the ``rejected`` digests (digest -> cause)."""
        check = self.check

        def judge(body: bytes) -> bool | str:
            cause = rejected.get(hashlib.sha256(body).hexdigest())
            if cause is not None:
                return cause
            reason = check(body)
            return True if reason is None else reason

        return judge

    async def run(
        self, jobs: Sequence[_Job], rejected: Mapping[str, str]
    ) -> dict[str, FetchOutcome]:
        """One ``fetch_all`` over ``jobs`` (keyed by URL)."""
        requests = [
            FetchRequest(
                key=job.request.url,
                sources=tuple(_source(job.request.url, r) for r in job.referers),
                proxy=job.request.proxy,
                check_url=self.url_check(job.request),
                one_server=True,
            )
            for job in jobs
        ]
        if not requests:
            return {}
        return await fetch_all(
            requests,
            self.settings,
            self.body_check(rejected),
            deadline=self.deadline,
            jitter=self.jitter,
        )


# -- outcomes ---------------------------------------------------------------


def _last_tries(attempts: Iterable[Attempt]) -> list[Attempt]:
    """The last try of each source, in the order tried."""
    last: dict[str, Attempt] = {}
    for attempt in attempts:
        last.pop(attempt.label, None)
        last[attempt.label] = attempt
    return list(last.values())


def _is_permanent(attempt: Attempt) -> bool:
    if attempt.ok:
        return False
    if attempt.kind == "http":
        return attempt.status in PERMANENT_STATUSES
    return attempt.kind == "final" and not attempt.cause.startswith(_NOT_FOR_GOOD)


def _reason(attempts: Sequence[Attempt], referers: Mapping[str, str | None]) -> str:
    """``"HTTP 403 (Referer https://weibo.com/, no Referer)"``: causes with their Referers."""
    parts: list[tuple[str, list[str]]] = []
    for attempt in _last_tries(attempts):
        if attempt.ok:
            continue
        cause = attempt.cause
        if attempt.number > 1:
            cause += f" after {attempt.number} tries"
        if attempt.note:
            cause += f"; {attempt.note}"
        who = _describe(referers.get(attempt.label))
        if parts and parts[-1][0] == cause:
            parts[-1][1].append(who)
        else:
            parts.append((cause, [who]))
    return "; ".join(f"{cause} ({', '.join(who)})" for cause, who in parts)


def _missed(
    url: str, outcome: FetchOutcome, referers: Mapping[str, str | None], prefix: str = ""
) -> ImageMissed:
    """The ``ImageMissed`` of a failed, deferred or skipped outcome."""
    reason = _reason(outcome.attempts, referers)
    match outcome:
        case Skipped(reason=why):
            return ImageMissed(url, prefix + why, permanent=False, skipped=True)
        case Deferred(until=until):
            return ImageMissed(url, prefix + reason, permanent=False, retry_after=until)
        case FetchFailure(message=message):
            tries = _last_tries(outcome.attempts)
            permanent = bool(tries) and all(_is_permanent(a) for a in tries)
            return ImageMissed(url, prefix + (reason or message), permanent=permanent)
        case _:  # a 304: never asked for (no validators)
            return ImageMissed(url, prefix + "unexpected answer", permanent=False)


@dataclass(frozen=True, slots=True)
class _Body:
    """A body a pass accepted, and the candidate that gave it."""

    data: bytes
    digest: str
    referer: str | None

    def got(self, url: str) -> ImageGot:
        return ImageGot(url, self.data, self.referer, self.digest)


def _accepted(outcome: FetchOutcome, referers: Mapping[str, str | None]) -> _Body | None:
    if not isinstance(outcome, Fetched):
        return None
    data = outcome.body
    return _Body(data, hashlib.sha256(data).hexdigest(), referers.get(outcome.source.label))


def _labels(candidates: Iterable[str | None]) -> dict[str, str | None]:
    return {_label(referer): referer for referer in candidates}


# -- placeholders -----------------------------------------------------------


def _again(digest: str) -> str:
    """The cause of a recheck that got the suspected digest again."""
    return f"the same image again (sha256 {digest[:16]})"


def _known(digest: str) -> str:
    return f"hotlink placeholder (a known one, sha256 {digest[:16]})"


@dataclass
class _Suspect:
    """A digest one host returned for several URLs, and what the recheck showed."""

    host: str
    digest: str
    size: int
    urls: list[str]
    new: dict[str, _Body] = field(default_factory=dict)
    confirmed: set[str] = field(default_factory=set)  # same digest again, or a 4xx
    unsure: dict[str, ImageMissed] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        return f"same {self.size:,}-byte image for {len(self.urls)} URLs of {self.host}"


def _suspects(bodies: Mapping[str, _Body]) -> list[_Suspect]:
    groups: dict[tuple[str, str], list[str]] = {}
    for url, body in bodies.items():
        if len(body.data) <= SUSPECT_MAX_SIZE:
            groups.setdefault((_host(url), body.digest), []).append(url)
    return [
        _Suspect(host, digest, len(bodies[urls[0]].data), urls)
        for (host, digest), urls in groups.items()
        if len(urls) >= SUSPECT_URLS
    ]


def _later(candidates: tuple[str | None, ...], used: str | None) -> tuple[str | None, ...]:
    return candidates[candidates.index(used) + 1 :]


def _gave_again_or_refused(outcome: FetchOutcome, digest: str) -> bool:
    """Whether every other candidate gave ``digest`` again or refused with a 4xx."""
    tries = _last_tries(outcome.attempts)
    if not isinstance(outcome, FetchFailure) or not tries:
        return False
    again = _again(digest)
    return all(
        a.cause.startswith(again) or (a.kind == "http" and 400 <= (a.status or 0) < 500)
        for a in tries
    )


def _is_placeholder(suspect: _Suspect, first: Mapping[str, _Body]) -> bool:
    """Decide from the recheck (see the module docstring)."""
    if not suspect.new:
        return False
    shared = {body.digest for body in suspect.new.values()}
    if len(suspect.new) >= 2 and len(shared) == 1:
        # The other candidates also give one image for all: keep the no-Referer one.
        new_bare = all(body.referer is None for body in suspect.new.values())
        first_bare = any(first[url].referer is None for url in suspect.urls)
        return new_bare and not first_bare
    return True


def _settle(
    suspect: _Suspect, first: Mapping[str, _Body], outcomes: dict[str, ImageGot | ImageMissed]
) -> bool:
    """Write the outcomes of a suspect's URLs; return whether its digest is a placeholder."""
    placeholder = _is_placeholder(suspect, first)
    real = not placeholder and (bool(suspect.new) or bool(suspect.confirmed))
    for url in suspect.urls:
        unsure = suspect.unsure.get(url)
        if real or (placeholder and url in suspect.confirmed):
            outcomes[url] = first[url].got(url)
        elif placeholder and url in suspect.new:
            outcomes[url] = suspect.new[url].got(url)
        elif unsure is not None and unsure.skipped:
            outcomes[url] = unsure
        else:
            what = "hotlink placeholder" if placeholder else "suspected hotlink placeholder"
            reason = f"{what} ({suspect.summary})"
            if unsure is not None:
                reason += f"; then {unsure.reason}"
            elif not placeholder:
                reason += "; no other Referer to check it with"
            retry_after = unsure.retry_after if unsure is not None else None
            outcomes[url] = ImageMissed(url, reason, permanent=False, retry_after=retry_after)
    return placeholder


# -- the entry points ---------------------------------------------------------


async def fetch_images(
    requests: Sequence[ImageRequest],
    settings: FetchConfig,
    *,
    check: Callable[[bytes], str | None],
    known_placeholders: frozenset[str] = frozenset(),
    deadline: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> ImageFetchResult:
    """Download every image once, trying its Referers in order (see the module docstring).

    Per-image problems never raise: they come back as ``ImageMissed``. Exceptions
    from ``check`` are bugs and propagate.

    Args:
        requests: the images; a URL requested twice is fetched once (the first
            request's settings win).
        settings: the fetch settings; ``max_body`` is the image size cap (the
            caller passes ``dataclasses.replace(settings, max_body=...)``):
            counted while streaming, and a larger ``Content-Length`` is refused
            before reading.
        check: judges a 200 body: None accepts it (an image), else the reason,
            e.g. ``"not an image (HTML page)"``.
        known_placeholders: sha256 digests (hex) of hotlink placeholders found
            before: a body with one of them is rejected like a bad body.
        deadline: a ``time.monotonic()`` value: no request starts after it (those
            images come back ``skipped``); see ``fetch_all``.
        jitter: the retry jitter; see ``fetch_all``.

    Returns:
        Every distinct URL's outcome, and the placeholders found.
    """
    batch = _Batch(settings, check, deadline, jitter)
    outcomes: dict[str, ImageGot | ImageMissed | None] = {}
    jobs: list[_Job] = []
    for request in requests:
        if request.url in outcomes:
            continue
        problem = _url_problem(request.url)
        if problem is None and not request.allow_private:
            problem = address_refusal(_host(request.url))
        if problem is not None:
            outcomes[request.url] = ImageMissed(request.url, problem, permanent=True)
            continue
        outcomes[request.url] = None
        jobs.append(_Job(request, _candidates(request)))

    rejected = {digest: _known(digest) for digest in known_placeholders}
    first = await batch.run(jobs, rejected)
    bodies: dict[str, _Body] = {}
    for job in jobs:
        url, referers = job.request.url, _labels(job.referers)
        body = _accepted(first[url], referers)
        if body is None:
            outcomes[url] = _missed(url, first[url], referers)
        else:
            bodies[url] = body
            outcomes[url] = body.got(url)

    placeholders = await _recheck(batch, jobs, bodies, rejected, outcomes)
    return ImageFetchResult(
        outcomes={url: outcome for url, outcome in outcomes.items() if outcome is not None},
        placeholders=placeholders,
    )


async def _recheck(
    batch: _Batch,
    jobs: Sequence[_Job],
    bodies: Mapping[str, _Body],
    rejected: Mapping[str, str],
    outcomes: dict[str, ImageGot | ImageMissed | None],
) -> dict[str, frozenset[str]]:
    """Refetch the suspected placeholders' URLs with their later candidates; settle them."""
    suspects = _suspects(bodies)
    if not suspects:
        return {}
    by_url = {job.request.url: job for job in jobs}
    again = dict(rejected) | {s.digest: _again(s.digest) for s in suspects}
    rechecks: list[_Job] = []
    for suspect in suspects:
        for url in suspect.urls:
            job = by_url[url]
            later = _later(job.referers, bodies[url].referer)
            if later:
                rechecks.append(_Job(job.request, later))
    second = await batch.run(rechecks, again)
    for suspect in suspects:
        for url in suspect.urls:
            outcome = second.get(url)
            if outcome is None:
                continue
            referers = _labels(by_url[url].referers)
            body = _accepted(outcome, referers)
            if body is not None:
                suspect.new[url] = body
            elif _gave_again_or_refused(outcome, suspect.digest):
                suspect.confirmed.add(url)
            else:
                suspect.unsure[url] = _missed(url, outcome, referers)
    found: dict[str, set[str]] = {}
    settled: dict[str, ImageGot | ImageMissed] = {}
    for suspect in suspects:
        if _settle(suspect, bodies, settled):
            found.setdefault(suspect.host, set()).add(suspect.digest)
    outcomes.update(settled)
    return {host: frozenset(digests) for host, digests in found.items()}


def fetch_images_sync(
    requests: Sequence[ImageRequest],
    settings: FetchConfig,
    *,
    check: Callable[[bytes], str | None],
    known_placeholders: frozenset[str] = frozenset(),
    deadline: float | None = None,
    jitter: Callable[[], float] = random.random,
) -> ImageFetchResult:
    """Run ``fetch_images`` in a fresh event loop (not from inside a running loop).

    Args:
        requests: the images.
        settings: see ``fetch_images``.
        check: judges a 200 body (None: an image).
        known_placeholders: digests of known hotlink placeholders.
        deadline: the run deadline; see ``fetch_all``.
        jitter: the retry jitter; see ``fetch_all``.

    Returns:
        Every distinct URL's outcome, and the placeholders found.
    """
    return asyncio.run(
        fetch_images(
            requests,
            settings,
            check=check,
            known_placeholders=known_placeholders,
            deadline=deadline,
            jitter=jitter,
        )
    )
