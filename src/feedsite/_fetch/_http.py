"""One HTTP attempt on one source, and the client those attempts share.

Scope: build the ``httpx.AsyncClient``, send one (conditional) GET, stream the
body under a size cap, and map every outcome, httpx errors included, to an
``AttemptResult``. Contains no business logic: no failover, no retries.

``attempt_http`` is the single boundary where httpx exceptions become messages.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable

import httpx

from ._model import (
    AttemptResult,
    Fetched,
    FetchSettings,
    NotModified,
    Source,
    SourceFailed,
    Validators,
)
from ._redact import redact

#: Preferred media types: the feed formats first, then XML, then anything.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)
MAX_REDIRECTS = 10


def build_client(settings: FetchSettings) -> httpx.AsyncClient:
    """Create the client of one ``fetch_all`` call (the caller closes it).

    Args:
        settings: timeouts, pool size and User-Agent.

    Returns:
        An ``httpx.AsyncClient`` that follows up to ``MAX_REDIRECTS`` redirects.
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": settings.user_agent,
            "Accept": ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
        timeout=httpx.Timeout(settings.timeout),
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        ),
        follow_redirects=True,
        max_redirects=MAX_REDIRECTS,
        trust_env=False,
    )


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


def _os_cause(exc: BaseException) -> str | None:
    """The innermost OS-level reason in ``exc``'s chain (e.g. "Connection refused")."""
    reason: str | None = None
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, OSError) and current.errno is not None:
            reason = os.strerror(current.errno) if current.errno > 0 else current.strerror
        current = current.__cause__ or current.__context__
    return reason


def describe_error(exc: Exception, timeout: float) -> str:
    """Turn a network-level exception into a short, precise cause.

    Args:
        exc: an ``httpx.HTTPError``, ``httpx.InvalidURL`` or ``TimeoutError``.
        timeout: the request timeout, to say how long we waited.

    Returns:
        The cause, e.g. ``"timed out after 20.0 s"`` or ``"cannot connect: Connection refused"``.
    """
    detail = _os_cause(exc) or str(exc).strip() or type(exc).__name__
    waited = f"timed out after {float(timeout)} s"
    match exc:
        case httpx.ConnectTimeout():
            return f"{waited} while connecting"
        case httpx.TimeoutException() | TimeoutError():
            return waited
        case httpx.ConnectError():
            return f"cannot connect: {detail}"
        case httpx.RemoteProtocolError() | httpx.LocalProtocolError():
            return f"protocol error: {detail}"
        case httpx.ReadError() | httpx.WriteError():
            return f"connection error: {detail}"
        case httpx.TooManyRedirects():
            return f"too many redirects (more than {MAX_REDIRECTS})"
        case httpx.UnsupportedProtocol():
            return f"unsupported URL: {detail}"
        case httpx.DecodingError():
            return f"cannot decode the body: {detail}"
        case httpx.InvalidURL():
            return f"invalid URL: {detail}"
        case _:
            return f"{type(exc).__name__}: {detail}"


def _media_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return content_type.partition(";")[0].strip().lower() or None


class _BodyTooLarge(Exception):
    """The streamed body went past ``max_body`` (internal signal)."""


async def _read_capped(response: httpx.Response, max_body: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > max_body:
            raise _BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _get(
    client: httpx.AsyncClient,
    source: Source,
    validators: Validators | None,
    settings: FetchSettings,
    is_feed: Callable[[bytes], bool],
) -> AttemptResult:
    """Send the GET and judge the response; httpx errors propagate to the caller."""
    url = redact(source.url)
    sent = conditional_headers(validators)
    async with client.stream("GET", source.url, headers=sent) as response:
        final_url = str(response.url)
        via = f" (redirected to {redact(final_url)})" if response.history else ""
        status = response.status_code
        if status == 304:
            if sent:
                return NotModified(source=source)
            return SourceFailed(f"{url}: HTTP 304 to a request that was not conditional{via}")
        if status != 200:
            return SourceFailed(f"{url}: HTTP {status}{via}")
        try:
            body = await _read_capped(response, settings.max_body)
        except _BodyTooLarge:
            return SourceFailed(f"{url}: body larger than {settings.max_body} bytes{via}")
        content_type = response.headers.get("Content-Type")
        if not is_feed(body):
            kind = _media_type(content_type) or "no Content-Type"
            return SourceFailed(f"{url}: 200 but not a feed ({kind}){via}")
        return Fetched(
            source=source,
            body=body,
            content_type=content_type,
            final_url=final_url,
            validators=Validators(
                etag=response.headers.get("ETag"),
                last_modified=response.headers.get("Last-Modified"),
            ),
        )


async def attempt_http(
    client: httpx.AsyncClient,
    source: Source,
    validators: Validators | None,
    settings: FetchSettings,
    is_feed: Callable[[bytes], bool],
) -> AttemptResult:
    """Try one HTTP(S) source once.

    This is the one place where httpx errors are caught. Every status other than
    200 and 304 is a failure of this source, 4xx included (400, 401, 410...): the
    next source may well serve the feed, and failing over is simpler and safer
    than guessing which client errors are final.

    Args:
        client: the shared client.
        source: where to GET.
        validators: stored validators of ``source.label``, if any.
        settings: ``timeout`` (also the total deadline of this attempt) and ``max_body``.
        is_feed: the cheap "does this look like a feed" check for 200 bodies.

    Returns:
        ``Fetched`` for a 200 that passes ``is_feed``, ``NotModified`` for a 304
        to a conditional GET, else ``SourceFailed`` with ``"<url>: <cause>"``.
    """
    try:
        async with asyncio.timeout(settings.timeout):
            return await _get(client, source, validators, settings, is_feed)
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as exc:
        cause = describe_error(exc, settings.timeout)
        return SourceFailed(f"{redact(source.url)}: {redact(cause)}")
