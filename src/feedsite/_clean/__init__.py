"""Clean stage: untrusted item HTML in, safe HTML out. Pure functions; decides nothing else.

What it does, in order:

1. lazy-loaded images (``data-src``, ``data-original``, ``data-lazy-src``,
   ``data-actualsrc``) get a real ``src`` (the lazy URL wins over a placeholder
   ``src`` such as a 1×1 GIF or a ``data:`` URI);
2. nh3 (ammonia) removes scripts, styles, event handlers, ``javascript:``/``data:``
   URLs and every tag or attribute not on the allow-list; iframes survive only
   when their ``src`` host is on the configured allow-list of video hosts;
3. relative ``href``/``src`` URLs are made absolute against the item's base URL;
4. every ``<img>`` gets ``referrerpolicy="no-referrer"`` (Chinese image hosts
   refuse hot-linking with a foreign ``Referer``).

Steps 3 and 4 run on nh3's output, which is canonical HTML (double-quoted
attributes, ``<`` escaped in text), so matching whole tags there is exact.
"""

from __future__ import annotations

import hashlib
import re
from functools import lru_cache
from urllib.parse import urljoin, urlsplit

import nh3

#: Bumped whenever cleaning output changes for the same input and options.
CLEAN_VERSION = "1"

_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc")
_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"iframe", "video", "audio", "source", "picture", "figure"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height", "align", *_LAZY_ATTRS},
    "a": {"href", "hreflang", "title"},
    "iframe": {"src", "width", "height", "allowfullscreen", "frameborder"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "*": {"title", "lang", "dir"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}

# A whole start tag of nh3's canonical output: attribute values are double-quoted
# and hold no '"' (nh3 writes &quot;), so this cannot stop inside a value.
_TAG_RE = re.compile(r'<(img|a|iframe|video|audio|source)\b((?:[^>"]|"[^"]*")*)>')
_ATTR_RE = re.compile(r'\s([a-z-]+)="([^"]*)"')
_PLACEHOLDER_SRC = re.compile(
    r"^(data:|about:|$)|(blank|loading|lazy|placeholder|spacer|pixel)\.", re.I
)


def clean_key(iframe_hosts: tuple[str, ...]) -> str:
    """A short key that changes whenever cleaning would give different output."""
    raw = "\x1f".join((CLEAN_VERSION, *sorted(iframe_hosts)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def clean_html(html: str, *, base_url: str | None, iframe_hosts: tuple[str, ...]) -> str:
    """Sanitise one item body.

    Args:
        html: the item's HTML, untrusted.
        base_url: URL relative links are resolved against (None: leave them).
        iframe_hosts: hosts whose iframes are kept (exact host names).

    Returns:
        Safe HTML that keeps the article's text and images.
    """
    cleaned = _cleaner(tuple(sorted(iframe_hosts))).clean(html)
    if "<" not in cleaned:
        return cleaned
    return _TAG_RE.sub(lambda m: _fix_tag(m, base_url), cleaned)


@lru_cache(maxsize=8)
def _cleaner(iframe_hosts: tuple[str, ...]) -> nh3.Cleaner:
    hosts = frozenset(iframe_hosts)

    def attribute_filter(tag: str, attr: str, value: str) -> str | None:
        if tag == "iframe" and attr == "src":
            host = urlsplit(urljoin("https://x.invalid/", value)).hostname or ""
            return value if host in hosts else None
        return value

    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "noscript", "template", "object", "embed"},
        attributes=_ATTRIBUTES,
        attribute_filter=attribute_filter,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _fix_tag(match: re.Match[str], base_url: str | None) -> str:
    tag, rest = match.group(1), match.group(2)
    attrs = dict(_ATTR_RE.findall(rest))
    self_closing = rest.rstrip().endswith("/")
    if tag == "iframe" and "src" not in attrs:
        return "<iframe>"  # its host was not allowed: keep an inert element
    if tag == "img":
        lazy = next((attrs[a] for a in _LAZY_ATTRS if attrs.get(a)), None)
        if lazy and _PLACEHOLDER_SRC.search(attrs.get("src", "")):
            attrs["src"] = lazy
        for a in _LAZY_ATTRS:
            attrs.pop(a, None)
        attrs["referrerpolicy"] = "no-referrer"
    if base_url:
        for key in ("href", "src", "poster"):
            value = attrs.get(key)
            if value is not None and not _is_absolute(value):
                attrs[key] = _absolute(base_url, value)
    body = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{body}{' /' if self_closing else ''}>"


def _is_absolute(url: str) -> bool:
    return url.startswith(("http://", "https://", "mailto:", "tel:", "#"))


def _absolute(base_url: str, value: str) -> str:
    # values are attribute-escaped (&amp;); urljoin does not touch '&', so this is safe.
    try:
        return urljoin(base_url, value)
    except ValueError:
        return value
