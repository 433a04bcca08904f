"""What a URL may be: the one place that decides it (docs/security.md).

Every URL that feedsite takes from a feed or a server and puts into an output
(an item's link, a cover, a body image, an iframe, an enclosure) passes
:func:`safe_url`; every URL of the site owner's that could be shown or used as
a base passes :func:`public_url` or :func:`redact`. The rules every stage and
target share about URLs live here, once: which URL a feed's relative references
resolve against (:func:`relative_base`, used by the XML and the JSON parser) and
what the site owner's image proxy does to an image URL and to a body
(:func:`proxied`, :func:`proxy_images`, used by both targets). *When* a target
applies the proxy stays the target's (the ``legacy`` profile keeps the old
script's test). Pure string functions.

URLs are parsed as browsers parse them (the WHATWG URL standard, through
``ada-url``), so a value a browser would read differently from Python's
``urllib`` (``http://127.0.0.1\\@example.com/`` is 127.0.0.1 to a browser)
is judged by what the browser will load.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import quote

from ada_url import URL, join_url, normalize_url

__all__ = [
    "MAX_URL_LENGTH",
    "SECRET_PARAMS",
    "proxied",
    "proxy_images",
    "public_base",
    "public_url",
    "redact",
    "relative_base",
    "safe_url",
    "url_host",
]

#: Longer URLs are refused (no real link, image or video URL comes near it).
MAX_URL_LENGTH = 8192

_SCHEMES = frozenset(("http:", "https:"))
#: Characters the WHATWG serialiser leaves in some URL components that would end or
#: break out of an attribute value, quoted or not (``"``, ``<``, ``>`` and spaces are
#: already percent-encoded by then; these two are not, in paths, queries or fragments).
_ATTR_UNSAFE = str.maketrans({"'": "%27", "`": "%60", '"': "%22"})  # '"': hosts keep it
#: C0 controls and DEL; the WHATWG parser strips or rejects them, we drop them first.
_CONTROLS = re.compile("[\x00-\x1f\x7f]")

#: Query parameters that carry secrets of the site owner (RSSHub's ``key``, tokens,
#: passwords): hidden in messages and never published.
SECRET_PARAMS = frozenset(
    (
        "key",
        "access_key",
        "accesskey",
        "api_key",
        "apikey",
        "token",
        "access_token",
        "auth",
        "password",
        "passwd",
        "pwd",
        "secret",
        "sig",
        "signature",
        "code",
    )
)
_SECRET_PARAM_RE = re.compile(
    r"([?&;](?:" + "|".join(sorted(SECRET_PARAMS, key=len, reverse=True)) + r")=)[^&#;\s\"'<>]*",
    re.IGNORECASE,
)
_USERINFO_RE = re.compile(r"(\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/?#\s@\"'<>]*@")


def safe_url(raw: str | None, base: str | None = None) -> str | None:
    """The URL to publish for ``raw``, or None when it must not be used.

    Args:
        raw: a URL as the feed gave it (plain text: entities already decoded).
        base: resolves a relative ``raw``; must itself be public (see :func:`public_base`).

    Returns:
        An absolute ``http``/``https`` URL, normalised by the WHATWG serialiser,
        without user name or password, and safe inside any HTML attribute
        (no quote, backtick, ``<``, ``>``, space or control character), or None for
        anything else: other schemes (``javascript:``, ``data:``, ``file:``…),
        unparseable values, no host, or longer than :data:`MAX_URL_LENGTH`.
    """
    if not raw:
        return None
    return _safe_url(raw, base)


@lru_cache(maxsize=8192)
def _safe_url(raw: str, base: str | None) -> str | None:
    # The same URL is met at parse time, in the clean stage and again by each target:
    # the cache makes the later checks free. ``normalize_url``/``join_url`` return the
    # WHATWG serialisation in one call (the ``URL`` object's attribute access costs
    # several times more); the scheme, host and credentials are read off that string.
    text = (_CONTROLS.sub("", raw) if _CONTROLS.search(raw) else raw).strip()
    if not text or len(text) > MAX_URL_LENGTH:
        return None
    try:
        href = join_url(base, text) if base else normalize_url(text)
    except ValueError:
        return None
    if href.startswith("https://"):
        start = 8
    elif href.startswith("http://"):
        start = 7
    else:
        return None
    end = len(href)
    for mark in "/?#":
        found = href.find(mark, start, end)
        if found >= 0:
            end = found
    if end == start:
        return None  # no host (WHATWG refuses it for http(s); kept as a guard)
    at = href.rfind("@", start, end)  # "@" is percent-encoded inside the user info
    if at >= 0:
        href = href[:start] + href[at + 1 :]
    href = href.translate(_ATTR_UNSAFE)
    return href if len(href) <= MAX_URL_LENGTH else None


def url_host(raw: str) -> str | None:
    """The host a browser would contact for ``raw`` (lower-case, IDNA), or None."""
    url = safe_url(raw)
    if url is None:
        return None
    return URL(url).hostname or None


@lru_cache(maxsize=1024)
def public_base(url: str | None) -> str | None:
    """``url`` fit to resolve a feed's relative links against: no credentials, query
    or fragment (a relative ``""`` or ``#x`` would otherwise copy the fetch URL's
    ``?key=`` into a published link). None when ``url`` is not http(s)."""
    parsed = _owner_url(url)
    if parsed is None:
        return None
    parsed.search = ""
    parsed.hash = ""
    return parsed.href.translate(_ATTR_UNSAFE)


def relative_base(
    *declared: str | None, fetch_url: str | None = None, fetch_url_first: bool = False
) -> str | None:
    """The URL a feed's relative references resolve against (docs/security.md).

    The first of ``declared`` that is set, in the caller's order of precedence (an
    ``xml:base`` in scope, the item's link, the channel link or JSON
    ``home_page_url``; each already :func:`safe_url` output), else the public form
    of ``fetch_url`` (:func:`public_base`): never the fetch URL itself, whose user
    name, password and query (``?key=``) would otherwise be copied into every
    relative link resolved against it (issue #10 row 5).

    Args:
        declared: the bases the document declares, most specific first.
        fetch_url: the feed's URL as fetched (credentials and all), or None.
        fetch_url_first: the fetch URL's public form comes before ``declared``
            (Atom: RFC 4287 §1.1 / RFC 3986 resolve against the document's URL;
            RSS and JSON Feed have no such rule, and their site link comes first).

    Returns:
        A safe absolute http(s) URL, or None when there is no base.
    """
    public = public_base(fetch_url) if fetch_url else None
    if fetch_url_first and public:
        return public
    return next((url for url in declared if url), None) or public


def proxied(url: str | None, proxy: str | None) -> str | None:
    """An image URL as published behind the site owner's image proxy.

    An ``http://`` image is fetched through ``proxy`` (the proxy URL, then the image
    URL: the old script's rule), and the result passes :func:`safe_url` (None when
    refused); any other URL, or no proxy, leaves ``url`` as it is.
    """
    if url and proxy and url.startswith("http://"):
        return safe_url(proxy + url)
    return url


def proxy_images(body: str, proxy: str | None) -> str:
    """``body`` with ``proxy`` in front of every ``src="http://`` (the old script's rule).

    The proxy is the site owner's, but it lands inside an attribute: it is
    attribute-escaped so that no value of it can end the attribute. No proxy:
    ``body`` unchanged.
    """
    if not proxy:
        return body
    return body.replace('src="http://', f'src="{html.escape(proxy)}http://')


def public_url(url: str | None) -> str | None:
    """A site owner's URL (a feed's, an instance's) as it may be published: no
    credentials, secret query parameters removed, fragment kept; ``file:`` and other
    local schemes give None (a local path is nobody's business)."""
    parsed = _owner_url(url)
    if parsed is None:
        return None
    if parsed.search:
        kept = [
            pair
            for pair in parsed.search[1:].split("&")
            if pair and pair.split("=", 1)[0].lower() not in SECRET_PARAMS
        ]
        parsed.search = "&".join(kept)
    return parsed.href.translate(_ATTR_UNSAFE)


def _owner_url(url: str | None) -> URL | None:
    """``url`` parsed, when it is http(s) with a host, without user name and password."""
    if not url:
        return None
    try:
        parsed = URL(_CONTROLS.sub("", url).strip())
    except ValueError:
        return None
    if parsed.protocol not in _SCHEMES or not parsed.hostname:
        return None
    parsed.username = ""
    parsed.password = ""
    return parsed


def with_param(url: str, name: str, value: str) -> str:
    """``url`` with ``name=value`` added to its query, the value percent-encoded: an
    access key holding ``;``, ``&``, ``#`` or a space reaches the server whole and is
    never cut where :func:`redact` stops reading a value."""
    return f"{url}{'&' if '?' in url else '?'}{name}={quote(value, safe='')}"


def redact(text: str) -> str:
    """``text`` (a URL or a message holding URLs) with credentials and secret query
    values shown as ``***``: ``https://***@host/route?key=***``."""
    if "@" in text:
        text = _USERINFO_RE.sub(r"\1***@", text)
    if "=" in text:
        text = _SECRET_PARAM_RE.sub(r"\1***", text)
    return text
