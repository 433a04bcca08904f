"""The aiohttp sessions of one ``fetch_all`` call: one per distinct proxy.

Scope: build ``aiohttp.ClientSession`` objects (headers, timeouts, pool, proxy,
no cookies, no decompression), hand them out by proxy, close them all.
Contains no request logic; aiohttp errors are handled in ``_http``.

Why aiohttp (issue #16, "cheap 304s"): ``bench/clients.py`` measured the CPU
of one conditional GET answered 304 by nginx at 165 µs for aiohttp against
803 µs for httpx (docs/scale.md, "Cheap 304s").
"""

from __future__ import annotations

import ssl
from functools import cache
from types import TracebackType

import aiohttp
import certifi

from feedsite.config import FetchConfig

from ._decode import ACCEPT_ENCODING

#: Preferred media types: the feed formats first, then XML, then anything.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)

#: The longest status line or header line accepted. aiohttp's default (8,190 bytes) is
#: below what some servers send (long ``Content-Security-Policy`` or ``Set-Cookie``
#: lines); h11, under httpx, read header blocks of up to 16 KiB.
MAX_HEADER_LINE = 16 * 1024


def client_timeout(settings: FetchConfig) -> aiohttp.ClientTimeout:
    """The connect and read timeouts of aiohttp.

    A phase timeout not shorter than the total ``timeout`` is left out (None),
    as are aiohttp's own total and pool waits: the total timeout of ``_http``
    bounds them, so the cause of a timeout is never a race between two equal
    clocks. This is where ``connect_timeout`` and ``read_timeout`` are capped by
    ``timeout`` (``fetch: {timeout: 7}`` keeps the default ``connect_timeout: 10``).

    ``sock_read`` is the longest wait for any data, for the response head and
    between body chunks alike (httpx's ``read``).
    """

    def shorter(seconds: float) -> float | None:
        return seconds if seconds < settings.timeout else None

    return aiohttp.ClientTimeout(
        total=None,
        sock_connect=shorter(settings.connect_timeout),
        sock_read=shorter(settings.read_timeout),
    )


@cache
def tls_context() -> ssl.SSLContext:
    """The certificate check of every HTTPS request: the system's trusted roots (where the
    OS has a store: a company's own CA works) and Mozilla's (``certifi``, which httpx used
    alone before issue #16: a machine without a usable system store, such as Python from
    python.org on macOS or a slim container without ``ca-certificates``, still verifies).
    One per process: building it reads both stores (~40 ms)."""
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=certifi.where())
    return context


def build_client(settings: FetchConfig, proxy: str | None) -> aiohttp.ClientSession:
    """Create one session (the caller closes it); call it inside the running loop.

    Redirects are not followed by aiohttp: ``_http`` follows them itself, to
    detect loops and vet every hop. Bodies are not decompressed by aiohttp
    (``auto_decompress`` off): ``_decode.BoundedBody`` does it under the size
    cap. No cookie is kept between requests. The environment's proxy variables
    are ignored (``trust_env`` off): the proxy comes from the settings only.

    Args:
        settings: timeouts, pool size and User-Agent.
        proxy: an http(s) proxy URL (credentials allowed), or None to connect directly.

    Returns:
        An ``aiohttp.ClientSession`` whose pool holds up to ``concurrency``
        connections (the per-host limit is ``_limits.Slots``'s).
    """
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(
            limit=settings.concurrency, limit_per_host=0, ssl=tls_context()
        ),
        headers={
            "User-Agent": settings.user_agent_header,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=client_timeout(settings),
        cookie_jar=aiohttp.DummyCookieJar(),
        proxy=proxy or None,
        trust_env=False,
        auto_decompress=False,
        max_line_size=MAX_HEADER_LINE,
        max_field_size=MAX_HEADER_LINE,
    )


class Clients:
    """One session per distinct proxy, created on first use, all closed on exit.

    Use as ``async with Clients(settings) as clients: clients.get(proxy)``, in
    the event loop that makes the requests (aiohttp binds a session to it).

    Args:
        settings: passed to ``build_client``.
    """

    def __init__(self, settings: FetchConfig) -> None:
        self._settings = settings
        self._clients: dict[str | None, aiohttp.ClientSession] = {}

    def get(self, proxy: str | None) -> aiohttp.ClientSession:
        """The session for ``proxy`` (None or ``""``: a direct connection)."""
        key = proxy or None
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = build_client(self._settings, key)
        return client

    async def __aenter__(self) -> Clients:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            await client.close()
