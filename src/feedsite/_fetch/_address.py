"""Refuse URLs that point into private networks (the SSRF guard of image downloads).

Scope: decide whether a host is a loopback, private, link-local, multicast,
reserved, unspecified or otherwise non-public address, from its literal form
(``address_refusal``, pure) or from what its name resolves to (``url_refusal``,
one ``getaddrinfo``). Contains no HTTP.

A feed's item can name any image URL: ``http://169.254.169.254/latest/meta-data``
or ``http://10.0.0.1/admin``. Unless the feed itself was fetched from a private
address, such URLs are refused before any request and on every redirect hop.

Limits, on purpose:

- Through a proxy, names are not resolved here (the proxy resolves them, and
  often the local resolver cannot); IP literals are still checked. What the
  proxy can reach is the proxy's business.
- The check resolves the name, then aiohttp resolves it again to connect: a DNS
  answer that changes in between (DNS rebinding) is not caught. Pinning the
  address would need a custom transport; the private-address refusal is a guard
  against feeds naming internal hosts, not against a hostile DNS server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import threading
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Name suffixes that only exist inside a network (RFC 6761, RFC 6762, RFC 8375, common use).
_LOCAL_SUFFIXES = (".localhost", ".local", ".lan", ".internal", ".home.arpa", ".localdomain")
_IPV4_CHARACTERS = frozenset("0123456789abcdefx.")


def _host_of(url: str) -> tuple[str, int | None] | None:
    """``(host, port)`` of an http(s) URL, host lower-case without brackets or trailing dot."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    host = parts.hostname
    if not host:
        return None
    return host.rstrip(".").lower(), port


def literal_address(host: str) -> IPAddress | None:
    """The address ``host`` spells, when it is an IP literal; None for a name.

    Besides the usual forms, the legacy IPv4 forms a resolver also accepts
    (``127.1``, ``0x7f.0.0.1``, ``2130706433``) count as literals, and an
    IPv6 zone (``fe80::1%eth0``) is ignored.

    Args:
        host: a host as in a URL (brackets allowed).

    Returns:
        The address, or None.
    """
    text = host.strip("[]").rstrip(".").lower().partition("%")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        pass
    if text[:1].isdigit() and set(text) <= _IPV4_CHARACTERS:
        try:
            return ipaddress.IPv4Address(socket.inet_aton(text))
        except OSError:
            return None
    return None


def address_kind(address: IPAddress) -> str | None:
    """What kind of non-public address ``address`` is; None for a public one.

    An IPv4-mapped IPv6 address (``::ffff:10.0.0.1``) is judged as its IPv4 address.

    Returns:
        ``"loopback"``, ``"unspecified"``, ``"link-local"``, ``"multicast"``,
        ``"private"``, ``"reserved"``, ``"non-public"`` (shared, documentation,
        benchmarking ranges...) or None.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    checks = (
        ("loopback", address.is_loopback),
        ("unspecified", address.is_unspecified),
        ("link-local", address.is_link_local),
        ("multicast", address.is_multicast),
        ("private", address.is_private),
        ("reserved", address.is_reserved),
        ("non-public", not address.is_global),
    )
    return next((kind for kind, hit in checks if hit), None)


def is_local_name(host: str) -> bool:
    """Tell whether ``host`` is a name that only exists inside a network.

    ``localhost`` and ``*.localhost``, ``.local`` (mDNS), ``.lan``, ``.internal``,
    ``.home.arpa``, ``.localdomain``, and single-label names (``rsshub`` in a
    Docker network).
    """
    name = host.rstrip(".").lower()
    if literal_address(name) is not None:
        return False
    return name == "localhost" or "." not in name or name.endswith(_LOCAL_SUFFIXES)


def _shown(address: IPAddress) -> str:
    """``address`` as messages show it (an IPv4-mapped address keeps its dotted IPv4)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return f"::ffff:{address.ipv4_mapped}"
    return str(address)


def address_refusal(host: str) -> str | None:
    """Why ``host`` is refused without resolving it: a non-public literal or ``localhost``.

    Args:
        host: a URL's host.

    Returns:
        E.g. ``"private address 10.0.0.5 refused"``; None when the literal is public
        or ``host`` is a name other than ``localhost`` (resolve it to know more).
    """
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return f"local name {name} refused"
    address = literal_address(name)
    if address is None:
        return None
    kind = address_kind(address)
    return None if kind is None else f"{kind} address {_shown(address)} refused"


async def _resolved_refusal(host: str, port: int | None) -> str | None:
    loop = asyncio.get_running_loop()
    try:
        answers = await loop.getaddrinfo(host, port or 80, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return None  # the request fails to connect and says why
    for _family, _type, _proto, _name, sockaddr in answers:
        address = literal_address(str(sockaddr[0]))
        if address is None:
            continue
        kind = address_kind(address)
        if kind is not None:
            return f"{host} resolves to {kind} address {_shown(address)}, refused"
    return None


async def url_refusal(
    url: str, *, resolve: bool, cache: dict[str, str | None] | None = None
) -> str | None:
    """Why a request to ``url`` is refused, or None when it may go ahead.

    Args:
        url: the URL about to be requested (the first or a redirect target).
        resolve: also resolve a name and refuse it when any of its addresses is
            not public (False when a proxy will resolve it).
        cache: answers by host, shared by the checks of one download batch.

    Returns:
        A reason like ``"loopback address 127.0.0.1 refused"`` or
        ``"intranet.example resolves to private address 10.0.0.5, refused"``.
    """
    found = _host_of(url)
    if found is None:
        return None  # no host: the request itself fails with a precise cause
    host, port = found
    refused = address_refusal(host)
    if refused is not None or not resolve or literal_address(host) is not None:
        return refused
    if cache is not None and host in cache:
        return cache[host]
    refused = await _resolved_refusal(host, port)
    if cache is not None:
        cache[host] = refused
    return refused


def _resolves_private(host: str, timeout: float) -> bool:
    """Whether ``host`` resolves to a non-public address, waiting at most ``timeout`` s."""
    found: list[bool] = []

    def lookup() -> None:
        try:
            answers = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError):
            return
        addresses = (literal_address(str(answer[4][0])) for answer in answers)
        found.append(any(a is not None and address_kind(a) for a in addresses))

    # A daemon thread: a resolver that hangs must not hold up the run, or its exit.
    thread = threading.Thread(target=lookup, name="resolve-source", daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(found and found[0])


def is_private_source(url: str, *, resolve: bool = True, timeout: float = 2.0) -> bool:
    """Tell whether a feed fetched from ``url`` came from a private network.

    Its items' images may then be on private addresses too (``allow_private``).

    Args:
        url: the feed's fetch URL (or its RSSHub instance).
        resolve: also resolve a name (one ``getaddrinfo``, at most ``timeout``
            seconds; the name was just resolved to fetch the feed, so usually cached).
        timeout: the longest wait for the resolver.

    Returns:
        True for a non-public IP literal, ``localhost``, an intranet name
        (``rsshub``, ``*.lan``, ``*.internal``...) or a name resolving to a
        non-public address; False otherwise (and for URLs without a host).
    """
    found = _host_of(url)
    if found is None:
        return False
    host = found[0]
    address = literal_address(host)
    if address is not None:
        return address_kind(address) is not None
    if is_local_name(host):
        return True
    return resolve and _resolves_private(host, timeout)


def private_check(*, resolve: bool) -> Callable[[str], Awaitable[str | None]]:
    """A ``FetchRequest.check_url`` refusing private, loopback and link-local addresses on
    every hop (names resolved only when ``resolve``: not through a proxy); one cache of
    answers by host for every request it is given to."""
    cache: dict[str, str | None] = {}

    async def refusal(url: str) -> str | None:
        return await url_refusal(url, resolve=resolve, cache=cache)

    return refusal
