"""One HTTP try of one source: a (conditional) GET, its redirects and its body.

Scope: send the request, follow redirects (with loop detection), stream the
body under the size cap, read how long the answer stays fresh, and turn every
outcome, aiohttp errors included, into a ``TryResult``. Contains no retries
and no failover (see ``_runner``).

``attempt_http`` is the single boundary where aiohttp exceptions become
causes (``describe_error``). The causes keep the wording they had on httpx
(e.g. ``"protocol error: Server disconnected without sending a response."``),
so stored messages and the tests read the same across the switch (issue #16).
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import aiohttp
from aiohttp import http_exceptions
from multidict import CIMultiDictProxy
from yarl import URL

from feedsite.config import FetchConfig
from feedsite.types import Validators

from ._decode import BadEncoding, BodyTooLarge, BoundedBody, TruncatedEncoding
from ._model import BodyCheck, Fetched, NotModified, Source, UrlCheck
from ._policy import RETRY_AFTER_STATUSES, freshness, parse_retry_after
from ._redact import proxy_label, redact
from ._try import Failed, Problem, ProblemKind, Success, TryResult

_TITLE = re.compile(rb"<title[^>]*>\s*([^<]{1,300})", re.IGNORECASE)
#: Statuses whose ``Location`` is followed (the rest are judged as they are).
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SCHEMES = frozenset({"http", "https"})


def conditional_headers(validators: Validators | None) -> dict[str, str]:
    """Return ``If-None-Match`` / ``If-Modified-Since`` for the stored validators.

    Values that cannot travel in a header (non-ASCII, control characters) are
    dropped: an unconditional GET is always correct, just more expensive.
    """
    headers: dict[str, str] = {}
    if validators is None:
        return headers
    for name, value in (
        ("If-None-Match", validators.etag),
        ("If-Modified-Since", validators.last_modified),
    ):
        if value and value.isascii() and value.isprintable():
            headers[name] = value
    return headers


@dataclass
class _Progress:
    """How far one try got, so a timeout or a broken connection can say where."""

    url: str
    redirected: bool = False
    phase: Literal["response", "body"] = "response"
    received: int = 0
    #: The body's ``Content-Length``, once the response head arrived.
    expected: int | None = None

    def via(self) -> str:
        return f" (redirected to {redact(self.url)})" if self.redirected else ""


class _BadURL(Exception):
    """A URL (the source's or a ``Location``) that cannot be requested."""


class _Unsendable(Exception):
    """aiohttp refused to send the request (e.g. a header value with a newline)."""


def _os_cause(exc: BaseException) -> str | None:
    """The innermost OS-level reason in ``exc``'s chain (e.g. "Connection refused")."""
    reason: str | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLError):
            # Its errno is OpenSSL's, not the OS's: "Operation not permitted" would mislead.
            # (aiohttp's wrappers are SSLErrors too, without the details: the original is
            # further down the chain.)
            verify = getattr(current, "verify_message", None)
            detail = getattr(current, "reason", None)
            if verify:
                reason = f"certificate verify failed: {verify}"
            elif detail:
                reason = f"TLS error: {detail}"
        elif isinstance(current, OSError) and current.errno is not None:
            reason = os.strerror(current.errno) if current.errno > 0 else current.strerror
        current = current.__cause__ or current.__context__
    return reason


#: The OS error aiohttp appends, as a repr, to the message of a body cut short by a
#: broken connection (it keeps no reference to it): ``...". ConnectionResetError(104, '...')"``.
_LOST_CONNECTION = re.compile(r"\. \w+Error\((\d+), ")


def _lost_connection(exc: aiohttp.ClientPayloadError) -> str | None:
    """Why the connection broke under a body (e.g. "Connection reset by peer"), if it broke."""
    reason = _os_cause(exc)
    if reason is not None:
        return reason
    match = _LOST_CONNECTION.search(str(exc))
    return os.strerror(int(match.group(1))) if match else None


def _in_chain(exc: BaseException, kind: type[BaseException]) -> bool:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _cut_short(exc: aiohttp.ClientPayloadError, progress: _Progress) -> str:
    """The cause of a body that ended early, worded as h11 worded it under httpx."""
    if _in_chain(exc, http_exceptions.ContentLengthError) and progress.expected is not None:
        return (
            "peer closed connection without sending complete message body "
            f"(received {progress.received} bytes, expected {progress.expected})"
        )
    if _in_chain(exc, http_exceptions.TransferEncodingError):
        return (
            "peer closed connection without sending complete message body (incomplete chunked read)"
        )
    return str(exc).strip() or type(exc).__name__


def describe_error(
    exc: Exception, settings: FetchConfig, progress: _Progress
) -> tuple[ProblemKind, str]:
    """Turn a network-level exception into its kind and a short, precise cause.

    Args:
        exc: an ``aiohttp.ClientError``, a ``_BadURL`` or ``_Unsendable``, or
            the ``TimeoutError`` of the total timeout.
        settings: the timeouts, to say how long we waited.
        progress: where the try was (waiting for the response, or N body bytes in).

    Returns:
        ``(kind, cause)``, e.g. ``("connect", "cannot connect: Connection refused")``.
    """
    detail = _os_cause(exc) or str(exc).strip() or type(exc).__name__
    in_body = progress.phase == "body"
    after = f" after {progress.received} body bytes" if in_body else ""
    where = (
        f"reading the body, {progress.received} bytes received"
        if in_body
        else "waiting for the response"
    )
    match exc:
        case aiohttp.ConnectionTimeoutError():
            return "timeout", f"timed out after {float(settings.connect_timeout)} s connecting"
        case aiohttp.SocketTimeoutError():
            return "timeout", (
                f"timed out after {float(settings.read_timeout)} s without data {where}"
            )
        case aiohttp.ServerTimeoutError():
            return "timeout", f"timed out after {float(settings.timeout)} s ({type(exc).__name__})"
        case TimeoutError():
            return "timeout", f"timed out after {float(settings.timeout)} s {where}"
        case aiohttp.ClientHttpProxyError():
            return "connect", f"proxy error: HTTP {exc.status} {exc.message}".rstrip()
        case aiohttp.ClientConnectorError() if _unknown_name(exc):
            # The name does not exist: asking again in a second gives the same answer, and
            # a host of 50 images would cost 50 rounds of backoff (a temporary resolver
            # failure, EAI_AGAIN, is retried as any connection error).
            return "final", f"cannot connect: {detail}"
        case aiohttp.ClientConnectorError():
            return "connect", f"cannot connect: {detail}"
        case aiohttp.ServerDisconnectedError() if not in_body:
            return "protocol", "protocol error: Server disconnected without sending a response."
        case aiohttp.ClientPayloadError():
            lost = _lost_connection(exc)
            if lost is not None:
                return "network", f"connection error: {lost}{after}"
            return "protocol", f"protocol error: {_cut_short(exc, progress)}"
        case aiohttp.ServerDisconnectedError():
            return "network", f"connection error: server disconnected{after}"
        case aiohttp.ClientResponseError():
            # The response head could not be parsed (aiohttp reports it as a 400).
            return "protocol", f"protocol error: {exc.message or detail}"
        case aiohttp.ClientConnectionError():
            return "network", f"connection error: {detail}{after}"
        case _BadURL() | aiohttp.InvalidURL() | aiohttp.NonHttpUrlClientError():
            return "final", f"unsupported URL: {detail}"
        case _Unsendable():
            return "final", f"cannot send the request: {detail}"
        case _:
            return "final", f"{type(exc).__name__}: {detail}"


#: ``getaddrinfo`` answers that a name does not exist (not that the resolver failed).
_NO_SUCH_NAME = frozenset(
    code for code in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", None)) if code is not None
)


def _unknown_name(exc: aiohttp.ClientConnectorError) -> bool:
    error = exc.os_error
    return isinstance(error, socket.gaierror) and error.errno in _NO_SUCH_NAME


def _checked_url(url: URL) -> URL:
    """``url`` if it can be requested: http(s) with a host."""
    if url.scheme not in _SCHEMES:
        scheme = f"scheme {url.scheme!r}" if url.scheme else "no http:// or https:// scheme"
        raise _BadURL(scheme)
    try:
        host = url.host  # decodes IDNA: a Location's "xn--a" raises UnicodeError
    except ValueError as exc:
        raise _BadURL(f"bad host: {exc}") from None
    if not host:
        raise _BadURL("no host")
    return url


def _with_credentials(url: URL, previous: URL) -> URL:
    """``url`` (a redirect's target) with the user name and password of ``previous`` when
    both are on one origin: aiohttp's response URL has none, and a server that moves a
    protected feed to another path of its own still wants them. Never to another origin."""
    if previous.user is None or url.user is not None:
        return url
    if (url.scheme, url.host, url.port) != (previous.scheme, previous.host, previous.port):
        return url
    return url.with_user(previous.user).with_password(previous.password)


def _parse_url(text: str) -> URL:
    try:
        return _checked_url(URL(text))
    except ValueError as exc:
        raise _BadURL(str(exc) or "cannot parse it") from None


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.partition(";")[0].strip().lower() or None


def _page_title(body: bytes) -> str | None:
    """The ``<title>`` of an HTML page (a portal, an error page), shortened."""
    match = _TITLE.search(body, 0, 65536)
    if match is None:
        return None
    title = " ".join(match.group(1).decode("utf-8", "replace").split())
    return title[:77] + "..." if len(title) > 80 else title or None


def _content_length(headers: CIMultiDictProxy[str]) -> int | None:
    value = headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


def _max_age(headers: CIMultiDictProxy[str], received: datetime) -> float | None:
    """Seconds the response stays fresh, from its caching headers (see ``freshness``)."""
    cache_control = headers.getall("Cache-Control", None)
    return freshness(
        ", ".join(cache_control) if cache_control else None,
        headers.get("Expires"),
        headers.get("Date"),
        received,
        headers.get("Age"),
    )


async def _read_body(response: aiohttp.ClientResponse, max_body: int, progress: _Progress) -> bytes:
    """Stream and decode the raw body, holding at most ``max_body`` decoded bytes."""
    body = BoundedBody(response.headers.get("Content-Encoding"), max_body)
    declared = progress.expected
    if body.coding == "identity" and declared is not None and declared > max_body:
        raise BodyTooLarge(f"Content-Length: {declared}")
    stream = response.content
    try:
        async for chunk in stream.iter_any():
            body.feed(chunk)
            progress.received = body.raw_size
    finally:
        # What arrived, consumed or not: a broken connection drops the unread rest.
        progress.received = max(progress.received, stream.total_bytes)
    return body.finish()


def _final(cause: str, status: int | None = None) -> Failed:
    return Failed(cause, Problem("final", status))


def _not_a_feed(body: bytes, content_type: str | None, via: str) -> Failed:
    kind = _media_type(content_type) or "no Content-Type"
    if not body or body.isspace():
        return _final(f"200 with an empty body ({kind}){via}", 200)
    title = _page_title(body) if "html" in kind else None
    if title:  # the server's text: an error page may echo the URL with its key
        title = redact(title)
    about = f'{kind}, title "{title}"' if title else kind
    return _final(f"200 but not a feed ({about}){via}", 200)


async def _judge(
    response: aiohttp.ClientResponse,
    source: Source,
    conditional: bool,
    settings: FetchConfig,
    is_feed: BodyCheck,
    progress: _Progress,
) -> TryResult:
    """Turn the final (non-redirect) response into a ``TryResult``; reads a 200's body."""
    status = response.status
    headers = response.headers
    via = progress.via()
    if status == 304:
        if conditional:
            max_age = _max_age(headers, datetime.now(UTC))
            return Success(NotModified(source=source, max_age=max_age), 304, "HTTP 304")
        return _final(f"HTTP 304 to a request that was not conditional{via}", 304)
    if status != 200:
        retry_after = None
        if status in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(headers.get("Retry-After"), datetime.now(UTC))
        return Failed(f"HTTP {status}{via}", Problem("http", status, retry_after))
    received = datetime.now(UTC)
    progress.phase = "body"
    progress.expected = _content_length(headers)
    try:
        body = await _read_body(response, settings.max_body, progress)
    except BodyTooLarge as exc:
        detail = f" ({exc})" if str(exc) else ""
        return _final(f"body larger than {settings.max_body} bytes{detail}{via}", 200)
    except BadEncoding as exc:
        return _final(f"cannot decode the body: {redact(str(exc))}{via}", 200)
    except TruncatedEncoding as exc:
        return Failed(f"truncated body: {exc}{via}", Problem("protocol", 200))
    content_type = headers.get("Content-Type")
    verdict = bool(body) and not body.isspace() and is_feed(body)
    if isinstance(verdict, str):
        return _final(f"{redact(verdict or 'body rejected')}{via}", 200)
    if not verdict:
        return _not_a_feed(body, content_type, via)
    fetched = Fetched(
        source=source,
        body=body,
        content_type=content_type,
        final_url=str(response.url),
        validators=Validators(etag=headers.get("ETag"), last_modified=headers.get("Last-Modified")),
        max_age=_max_age(headers, received),
    )
    return Success(fetched, 200, "HTTP 200")


def _next_url(response: aiohttp.ClientResponse) -> URL | None:
    """Where a redirect points, resolved against the URL it came from; None if not one."""
    if response.status not in _REDIRECTS:
        return None
    location = response.headers.get("Location")
    if location is None:
        return None
    try:
        target = response.url.join(URL(location))
    except ValueError as exc:
        raise aiohttp.ClientResponseError(
            response.request_info,
            (),
            status=response.status,
            message=f"Invalid URL in location header: {exc}",
        ) from None
    return target.with_fragment(None)


async def _send(
    client: aiohttp.ClientSession, url: URL, headers: dict[str, str]
) -> aiohttp.ClientResponse:
    """GET ``url`` and return the response head (the caller releases it)."""
    try:
        return await client.get(url, headers=headers, allow_redirects=False)
    except aiohttp.ClientError:
        raise
    except ValueError as exc:
        # Raised before anything is sent: the request itself is malformed.
        raise _Unsendable(str(exc)) from exc


async def _get(
    client: aiohttp.ClientSession,
    source: Source,
    validators: Validators | None,
    settings: FetchConfig,
    is_feed: BodyCheck,
    progress: _Progress,
    check_url: UrlCheck | None = None,
) -> TryResult:
    """Send the GET, following redirects; aiohttp errors propagate to the caller.

    ``source.headers`` go on every hop; ``check_url`` vets every hop's URL first.
    """
    sent = conditional_headers(validators)
    headers = {**sent, **dict(source.headers)}
    url = _parse_url(source.url)
    visited = [str(url)]
    for _ in range(settings.max_redirects + 1):
        if check_url is not None:
            refused = await check_url(str(url))
            if refused is not None:
                return _final(f"{redact(refused)}{progress.via()}")
        progress.phase = "response"
        async with await _send(client, url, headers) as response:
            following = _next_url(response)
            if following is None:
                return await _judge(response, source, bool(sent), settings, is_feed, progress)
        target = str(following)
        if target in visited:
            chain = [*visited[visited.index(target) :], target]
            return _final("redirect loop: " + " -> ".join(redact(url) for url in chain))
        visited.append(target)
        progress.url, progress.redirected = target, True
        url = _with_credentials(_checked_url(following), url)
    return _final(f"too many redirects (more than {settings.max_redirects}){progress.via()}")


async def attempt_http(
    client: aiohttp.ClientSession,
    source: Source,
    validators: Validators | None,
    settings: FetchConfig,
    is_feed: BodyCheck,
    proxy: str | None = None,
    check_url: UrlCheck | None = None,
) -> TryResult:
    """Try one HTTP(S) source once.

    This is the one place where aiohttp errors are caught. Only a 200 that passes
    ``is_feed`` and a 304 to a conditional GET succeed; whether a failure is
    worth a retry is ``_policy``'s decision, from the ``Problem`` returned.

    Args:
        client: the session (of ``proxy``).
        source: where to GET.
        validators: stored validators of ``source.label``, if any.
        settings: ``timeout`` (the total deadline of this try, redirects and
            body included), ``max_body``, ``max_redirects``.
        is_feed: the cheap "does this look like a feed" check for 200 bodies
            (see ``BodyCheck``: a string it returns becomes the cause).
        proxy: the proxy ``client`` goes through, to name it in network errors.
        check_url: vets the URL of every hop before it is requested (see
            ``FetchRequest.check_url``); its refusal is a final problem.

    Returns:
        ``Success`` (``Fetched`` or ``NotModified``, with ``max_age``), or
        ``Failed`` with a precise, redacted cause (without the URL).
    """
    progress = _Progress(url=source.url)
    try:
        async with asyncio.timeout(settings.timeout):
            result = await _get(client, source, validators, settings, is_feed, progress, check_url)
    except (aiohttp.ClientError, _BadURL, _Unsendable, TimeoutError, ValueError) as exc:
        # ValueError: what yarl or aiohttp raise on a value no check above foresaw (one
        # feed's final failure, never the run's).
        kind, cause = describe_error(exc, settings, progress)
    else:
        return result
    if proxy and kind in ("timeout", "connect", "network", "protocol"):
        cause += f" (via proxy {proxy_label(proxy)})"
    return Failed(redact(cause + progress.via()), Problem(kind))
