"""The httpx clients of one ``fetch_all`` call: one per distinct proxy.

Scope: build ``httpx.AsyncClient`` objects (headers, timeouts, pool, proxy),
hand them out by proxy, close them all. Contains no request logic; httpx
errors are handled in ``_http``.
"""

from __future__ import annotations

from types import TracebackType

import httpx

from feedsite.config import FetchConfig

from ._decode import ACCEPT_ENCODING

#: Preferred media types: the feed formats first, then XML, then anything.
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, */*;q=0.8"
)


def client_timeout(settings: FetchConfig) -> httpx.Timeout:
    """The connect and read timeouts of httpx.

    A phase timeout not shorter than the total ``timeout`` is left out (None),
    as are write and pool waits: the total timeout of ``_http`` bounds them,
    so the cause of a timeout is never a race between two equal clocks. This is
    where ``connect_timeout`` and ``read_timeout`` are capped by ``timeout``
    (``fetch: {timeout: 7}`` keeps the default ``connect_timeout: 10``).
    """

    def shorter(seconds: float) -> float | None:
        return seconds if seconds < settings.timeout else None

    return httpx.Timeout(
        None, connect=shorter(settings.connect_timeout), read=shorter(settings.read_timeout)
    )


def build_client(settings: FetchConfig, proxy: str | None) -> httpx.AsyncClient:
    """Create one client (the caller closes it).

    Redirects are not followed by httpx: ``_http`` follows them itself, to
    detect loops. The environment's proxy variables are ignored (``trust_env``
    off): the proxy comes from the settings only.

    Args:
        settings: timeouts, pool size and User-Agent.
        proxy: an http(s) proxy URL, or None to connect directly.

    Returns:
        An ``httpx.AsyncClient``.
    """
    return httpx.AsyncClient(
        headers={
            "User-Agent": settings.user_agent_header,
            "Accept": ACCEPT,
            "Accept-Encoding": ACCEPT_ENCODING,
        },
        timeout=client_timeout(settings),
        limits=httpx.Limits(
            max_connections=settings.concurrency,
            max_keepalive_connections=settings.concurrency,
        ),
        follow_redirects=False,
        proxy=proxy or None,
        trust_env=False,
    )


class Clients:
    """One client per distinct proxy, created on first use, all closed on exit.

    Use as ``async with Clients(settings) as clients: clients.get(proxy)``.

    Args:
        settings: passed to ``build_client``.
    """

    def __init__(self, settings: FetchConfig) -> None:
        self._settings = settings
        self._clients: dict[str | None, httpx.AsyncClient] = {}

    def get(self, proxy: str | None) -> httpx.AsyncClient:
        """The client for ``proxy`` (None or ``""``: a direct connection)."""
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
            await client.aclose()
