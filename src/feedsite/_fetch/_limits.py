"""How many requests may be in flight: over all hosts, and per ``host:port``.

Scope: ``host_key`` (pure) and ``Slots``, the two levels of semaphores. A slot
is held for one request (one try, its redirects and body included), not
during retry waits, so a feed that backs off lets others through, and feeds
waiting for a busy host do not block feeds for other hosts.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

_DEFAULT_PORTS = {"http": 80, "https": 443}


def host_key(url: str) -> str | None:
    """Return ``host:port`` of an http(s) URL (lower-cased, default port filled in).

    Args:
        url: any URL.

    Returns:
        E.g. ``"rsshub.app:443"``; None for other schemes and unreadable URLs
        (those get no per-host limit).
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in _DEFAULT_PORTS or not host:
        return None
    if ":" in host:
        host = f"[{host}]"
    return f"{host}:{port or _DEFAULT_PORTS[scheme]}"


class Slots:
    """Request slots: ``concurrency`` in all, ``per_host`` per host.

    Args:
        concurrency: requests in flight at once, in all.
        per_host: requests in flight at once to one host.
    """

    def __init__(self, concurrency: int, per_host: int) -> None:
        self._all = asyncio.Semaphore(concurrency)
        self._per_host = per_host
        self._hosts: dict[str, asyncio.Semaphore] = {}

    @asynccontextmanager
    async def hold(self, host: str | None) -> AsyncIterator[None]:
        """Hold a slot of ``host`` (when not None), then a global one, for the block.

        The host slot is taken first so that requests queued for a busy host
        wait without holding a global slot.
        """
        if host is None:
            async with self._all:
                yield
            return
        semaphore = self._hosts.get(host)
        if semaphore is None:
            semaphore = self._hosts[host] = asyncio.Semaphore(self._per_host)
        async with semaphore, self._all:
            yield
