"""One HTTP try of one source: a (conditional) GET, its redirects and its body.

Scope: send the request, follow redirects (with loop detection), stream the
body under the size cap, and turn every outcome, httpx errors included, into
a ``TryResult``. Contains no retries and no failover (see ``_runner``).

``attempt_http`` is the single boundary where httpx exceptions become causes.
"""

from __future__ import annotations

import asyncio
import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

import httpx

from feedsite.config import FetchConfig
from feedsite.types import Validators

from ._decode import BadEncoding, BodyTooLarge, BoundedBody, TruncatedEncoding
from ._model import BodyCheck, Fetched, NotModified, Source, UrlCheck
from ._policy import RETRY_AFTER_STATUSES, parse_retry_after
from ._redact import proxy_label, redact
from ._try import Failed, Problem, ProblemKind, Success, TryResult

_TITLE = re.compile(rb"<title[^>]*>\s*([^<]{1,300})", re.IGNORECASE)


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

    def via(self) -> str:
        return f" (redirected to {redact(self.url)})" if self.redirected else ""


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


def describe_error(
    exc: Exception, settings: FetchConfig, progress: _Progress
) -> tuple[ProblemKind, str]:
    """Turn a network-level exception into its kind and a short, precise cause.

    Args:
        exc: an ``httpx.HTTPError``, ``httpx.InvalidURL`` or the ``TimeoutError``
            of the total timeout.
        settings: the timeouts, to say how long we waited.
        progress: where the try was (waiting for the response, or N body bytes in).

    Returns:
        ``(kind, cause)``, e.g. ``("connect", "cannot connect: Connection refused")``.
    """
    detail = _os_cause(exc) or str(exc).strip() or type(exc).__name__
    in_body = progress.phase == "body"
    where = (
        f"reading the body, {progress.received} bytes received"
        if in_body
        else "waiting for the response"
    )
    match exc:
        case httpx.ConnectTimeout():
            return "timeout", f"timed out after {float(settings.connect_timeout)} s connecting"
        case httpx.ReadTimeout():
            return "timeout", (
                f"timed out after {float(settings.read_timeout)} s without data {where}"
            )
        case httpx.TimeoutException():
            return "timeout", f"timed out after {float(settings.timeout)} s ({type(exc).__name__})"
        case TimeoutError():
            return "timeout", f"timed out after {float(settings.timeout)} s {where}"
        case httpx.ProxyError():
            return "connect", f"proxy error: {detail}"
        case httpx.ConnectError():
            return "connect", f"cannot connect: {detail}"
        case httpx.RemoteProtocolError():
            return "protocol", f"protocol error: {detail}"
        case httpx.UnsupportedProtocol():
            return "final", f"unsupported URL: {detail}"
        case httpx.NetworkError() | httpx.TransportError():
            after = f" after {progress.received} body bytes" if in_body else ""
            return "network", f"connection error: {detail}{after}"
        case httpx.InvalidURL():
            return "final", f"invalid URL: {detail}"
        case _:
            return "final", f"{type(exc).__name__}: {detail}"


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


def _content_length(response: httpx.Response) -> int | None:
    value = response.headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None


async def _read_body(response: httpx.Response, max_body: int, progress: _Progress) -> bytes:
    """Stream and decode the body, holding at most ``max_body`` decoded bytes."""
    body = BoundedBody(response.headers.get("Content-Encoding"), max_body)
    declared = _content_length(response)
    if body.coding == "identity" and declared is not None and declared > max_body:
        raise BodyTooLarge(f"Content-Length: {declared}")
    async for chunk in response.aiter_raw():
        body.feed(chunk)
        progress.received = body.raw_size
    return body.finish()


def _final(cause: str, status: int | None = None) -> Failed:
    return Failed(cause, Problem("final", status))


def _not_a_feed(body: bytes, content_type: str | None, via: str) -> Failed:
    kind = _media_type(content_type) or "no Content-Type"
    if not body or body.isspace():
        return _final(f"200 with an empty body ({kind}){via}", 200)
    title = _page_title(body) if "html" in kind else None
    about = f'{kind}, title "{title}"' if title else kind
    return _final(f"200 but not a feed ({about}){via}", 200)


async def _judge(
    response: httpx.Response,
    source: Source,
    conditional: bool,
    settings: FetchConfig,
    is_feed: BodyCheck,
    progress: _Progress,
) -> TryResult:
    """Turn the final (non-redirect) response into a ``TryResult``; reads a 200's body."""
    status = response.status_code
    via = progress.via()
    if status == 304:
        # A 304 has no body, but httpcore reuses the connection only once the
        # (empty) body has been read; without this every rerun reconnects.
        await response.aread()
        if conditional:
            return Success(NotModified(source=source), 304, "HTTP 304")
        return _final(f"HTTP 304 to a request that was not conditional{via}", 304)
    if status != 200:
        retry_after = None
        if status in RETRY_AFTER_STATUSES:
            retry_after = parse_retry_after(response.headers.get("Retry-After"), datetime.now(UTC))
        return Failed(f"HTTP {status}{via}", Problem("http", status, retry_after))
    progress.phase = "body"
    try:
        body = await _read_body(response, settings.max_body, progress)
    except BodyTooLarge as exc:
        detail = f" ({exc})" if str(exc) else ""
        return _final(f"body larger than {settings.max_body} bytes{detail}{via}", 200)
    except BadEncoding as exc:
        return _final(f"cannot decode the body: {exc}{via}", 200)
    except TruncatedEncoding as exc:
        return Failed(f"truncated body: {exc}{via}", Problem("protocol", 200))
    content_type = response.headers.get("Content-Type")
    verdict = bool(body) and not body.isspace() and is_feed(body)
    if isinstance(verdict, str):
        return _final(f"{verdict or 'body rejected'}{via}", 200)
    if not verdict:
        return _not_a_feed(body, content_type, via)
    fetched = Fetched(
        source=source,
        body=body,
        content_type=content_type,
        final_url=str(response.url),
        validators=Validators(
            etag=response.headers.get("ETag"),
            last_modified=response.headers.get("Last-Modified"),
        ),
    )
    return Success(fetched, 200, "HTTP 200")


async def _get(
    client: httpx.AsyncClient,
    source: Source,
    validators: Validators | None,
    settings: FetchConfig,
    is_feed: BodyCheck,
    progress: _Progress,
    check_url: UrlCheck | None = None,
) -> TryResult:
    """Send the GET, following redirects; httpx errors propagate to the caller.

    ``source.headers`` go on every hop; ``check_url`` vets every hop's URL first.
    """
    sent = conditional_headers(validators)
    request = client.build_request("GET", source.url, headers={**sent, **dict(source.headers)})
    visited = [str(request.url)]
    for _ in range(settings.max_redirects + 1):
        if check_url is not None:
            refused = await check_url(str(request.url))
            if refused is not None:
                return _final(f"{refused}{progress.via()}")
        progress.phase = "response"
        response = await client.send(request, stream=True)
        try:
            following = response.next_request
            if following is None:
                return await _judge(response, source, bool(sent), settings, is_feed, progress)
        finally:
            await response.aclose()
        target = str(following.url)
        if target in visited:
            chain = [*visited[visited.index(target) :], target]
            return _final("redirect loop: " + " -> ".join(redact(url) for url in chain))
        visited.append(target)
        progress.url, progress.redirected = target, True
        for name, value in source.headers:
            following.headers[name] = value
        request = following
    return _final(f"too many redirects (more than {settings.max_redirects}){progress.via()}")


async def attempt_http(
    client: httpx.AsyncClient,
    source: Source,
    validators: Validators | None,
    settings: FetchConfig,
    is_feed: BodyCheck,
    proxy: str | None = None,
    check_url: UrlCheck | None = None,
) -> TryResult:
    """Try one HTTP(S) source once.

    This is the one place where httpx errors are caught. Only a 200 that passes
    ``is_feed`` and a 304 to a conditional GET succeed; whether a failure is
    worth a retry is ``_policy``'s decision, from the ``Problem`` returned.

    Args:
        client: the client (of ``proxy``).
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
        ``Success`` (``Fetched`` or ``NotModified``), or ``Failed`` with a
        precise, redacted cause (without the URL).
    """
    progress = _Progress(url=source.url)
    try:
        async with asyncio.timeout(settings.timeout):
            return await _get(client, source, validators, settings, is_feed, progress, check_url)
    except (httpx.HTTPError, httpx.InvalidURL, TimeoutError) as exc:
        kind, cause = describe_error(exc, settings, progress)
        if proxy and kind in ("timeout", "connect", "network", "protocol"):
            cause += f" (via proxy {proxy_label(proxy)})"
        return Failed(redact(cause + progress.via()), Problem(kind))
