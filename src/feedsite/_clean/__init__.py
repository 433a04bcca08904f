"""Clean stage: untrusted item HTML in, safe HTML out. Pure functions; decides nothing else.

What it does, in order:

1. nh3 (ammonia) removes scripts, styles, event handlers and every tag or
   attribute not on the allow-list;
2. on nh3's output, lazy-loaded images (``data-src``, ``data-original``,
   ``data-lazy-src``, ``data-actualsrc``) get a real ``src`` (the lazy URL wins
   over a placeholder ``src`` such as a 1×1 GIF or a ``data:`` URI);
3. then, and only then, every URL attribute (``href``, ``src``, ``poster``,
   ``cite``) is rebuilt from its unescaped value by :func:`feedsite._url.safe_url`
   against the public form of the item's base URL (no credentials, query or
   fragment: issue #10 row 5): anything but absolute ``http(s)`` is refused
   (``javascript:``, ``data:``, ``vbscript:``, relative URLs without a base...);
   a refused ``href``/``cite``/``poster`` is dropped, an ``<img>`` without a
   usable ``src`` is removed, an ``<iframe>`` is left inert. ``href`` also keeps
   fragment-only links (``#note1``) and plain ``mailto:``/``tel:`` addresses;
4. iframes keep their ``src`` only when the host a browser would contact
   (:func:`feedsite._url.url_host`, WHATWG parsing: ``http://127.0.0.1\\@x.com/``
   is 127.0.0.1) is on the configured allow-list of video hosts (row 8);
5. every ``<img>`` gets ``referrerpolicy="no-referrer"`` (Chinese image hosts
   refuse hot-linking with a foreign ``Referer``).

Steps 2-5 run on nh3's output, which is canonical HTML (double-quoted
attributes, ``<`` escaped in text), so matching whole tags there is exact. The
lazy URL is checked like any other: a ``data-src="javascript:…"`` cannot reach
``src`` (issue #10 row 3).

:func:`first_img_src` (``_images.py``) is the first-image rule both targets use
on the bodies this stage makes.
"""

from __future__ import annotations

import hashlib
import html
import re
from functools import lru_cache

import nh3

from feedsite._url import public_base, safe_url, url_host

from ._images import first_img_src, image_urls, localize_images, widest

__all__ = [
    "CLEAN_VERSION",
    "clean_html",
    "clean_key",
    "first_img_src",
    "image_urls",
    "localize_images",
]

#: Bumped whenever cleaning output changes for the same input and options.
#: 2: URL attributes rebuilt by ``safe_url`` after lazy images, iframe hosts read as
#: browsers read them, relative URLs resolved against the public base (issue #10).
#: 3: an ``<img>`` with only a ``srcset``/``data-srcset`` takes its widest candidate (issue #12).
CLEAN_VERSION = "3"

_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-actualsrc")
#: Candidate lists (``url 640w, url 2x``): read for the image when there is no ``src``;
#: never kept (a target that serves the image itself writes its own).
_SRCSET_ATTRS = ("srcset", "data-srcset")
_TAGS = frozenset(nh3.ALLOWED_TAGS) | {"iframe", "video", "audio", "source", "picture", "figure"}
_ATTRIBUTES: dict[str, set[str]] = {
    **{tag: set(attrs) for tag, attrs in nh3.ALLOWED_ATTRIBUTES.items()},
    "img": {"src", "alt", "title", "width", "height", "align", *_LAZY_ATTRS, *_SRCSET_ATTRS},
    "a": {"href", "hreflang", "title"},
    "iframe": {"src", "width", "height", "allowfullscreen", "frameborder"},
    "video": {"src", "poster", "controls", "width", "height"},
    "audio": {"src", "controls"},
    "source": {"src", "type"},
    "*": {"title", "lang", "dir"},
}
_URL_SCHEMES = {"http", "https", "mailto", "tel"}
#: Attributes whose value is a URL, on the tags of :data:`_TAG_RE` that allow them.
_URL_ATTRS = ("href", "src", "poster", "cite")

# A whole start tag of nh3's canonical output: attribute values are double-quoted
# and hold no '"' (nh3 writes &quot;), so this cannot stop inside a value.
_TAG_RE = re.compile(
    r'<(img|a|iframe|video|audio|source|blockquote|q|del|ins)\b((?:[^>"]|"[^"]*")*)>'
)
_ATTR_RE = re.compile(r'\s([a-z-]+)="([^"]*)"')
_PLACEHOLDER_SRC = re.compile(
    r"^(data:|about:|$)|(blank|loading|lazy|placeholder|spacer|pixel)\.", re.I
)
#: A plain e-mail address or phone number link: nothing a browser could read as markup,
#: script or another scheme (the scheme itself is matched case-insensitively).
_MAILTO_TEL = re.compile(r"(?i:mailto|tel):[^\s\"'<>`\\\x00-\x1f\x7f]+")


_CONTROLS = re.compile("[\x00-\x1f\x7f]")
_SENTINEL_HOST = "relative.invalid"
_SENTINEL_BASE = f"https://{_SENTINEL_HOST}/"


def clean_key(iframe_hosts: tuple[str, ...]) -> str:
    """A short key that changes whenever cleaning would give different output."""
    raw = "\x1f".join((CLEAN_VERSION, *sorted(iframe_hosts)))
    return hashlib.sha256(raw.encode()).hexdigest()[:16]


def clean_html(html: str, *, base_url: str | None, iframe_hosts: tuple[str, ...]) -> str:
    """Sanitise one item body.

    Args:
        html: the item's HTML, untrusted.
        base_url: URL relative links are resolved against; only its public form is
            used (:func:`feedsite._url.public_base`: no credentials, query or
            fragment). None: relative references are kept, attribute-escaped, for
            the target to resolve against the article's link (protocol-relative
            ones become ``https:``).
        iframe_hosts: hosts whose iframes are kept (exact host names).

    Returns:
        Safe HTML that keeps the article's text and images; every URL in it is an
        absolute ``http(s)`` URL (or a ``#fragment``, ``mailto:`` or ``tel:`` href,
        or, without a base, a relative reference).
    """
    cleaned = _cleaner().clean(html)
    if "<" not in cleaned:
        return cleaned
    base = public_base(base_url)
    hosts = frozenset(iframe_hosts)
    return _TAG_RE.sub(lambda m: _fix_tag(m, base, hosts), cleaned)


@lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    # Iframe hosts are not judged here: nh3 sees the value before it is resolved
    # against the base; _fix_tag judges the exact URL that is written.
    return nh3.Cleaner(
        tags=set(_TAGS),
        clean_content_tags={"script", "style", "noscript", "template", "object", "embed"},
        attributes=_ATTRIBUTES,
        url_schemes=_URL_SCHEMES,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )


def _fix_tag(match: re.Match[str], base: str | None, hosts: frozenset[str]) -> str:
    tag, rest = match.group(1), match.group(2)
    attrs = dict(_ATTR_RE.findall(rest))
    self_closing = rest.rstrip().endswith("/")
    if tag == "img":
        lazy = next((attrs[a] for a in _LAZY_ATTRS if attrs.get(a)), None)
        if lazy is None:
            lazy = next((widest(attrs[a]) for a in _SRCSET_ATTRS if attrs.get(a)), None)
        if lazy and _PLACEHOLDER_SRC.search(attrs.get("src", "")):
            attrs["src"] = lazy
        for a in (*_LAZY_ATTRS, *_SRCSET_ATTRS):
            attrs.pop(a, None)
    # Schemes are checked after the lazy URL moved into src (issue #10 row 3).
    for key in _URL_ATTRS:
        value = attrs.get(key)
        if value is None:
            continue
        url = _attr_url(html.unescape(value), base, href=key == "href")
        if url is None:
            del attrs[key]
        else:
            attrs[key] = url
    if tag == "iframe":
        src = attrs.get("src")
        # The host a browser contacts, not what urlsplit reads (issue #10 row 8).
        if src is None or url_host(html.unescape(src)) not in hosts:
            return "<iframe>"  # no allowed source: keep an inert element
    if tag == "img":
        if "src" not in attrs:
            return ""  # no image to show: nothing left worth keeping
        attrs["referrerpolicy"] = "no-referrer"
    body = "".join(f' {k}="{v}"' for k, v in attrs.items())
    return f"<{tag}{body}{' /' if self_closing else ''}>"


def _is_relative(value: str) -> bool:
    """Whether a browser reads ``value`` as a path on the page's own host (not a scheme,
    not ``//host`` nor ``\\\\host`` nor ``/\\host``, which name another host)."""
    url = safe_url(value, _SENTINEL_BASE)
    return url is not None and url_host(url) == _SENTINEL_HOST


def _attr_url(value: str, base: str | None, *, href: bool) -> str | None:
    """An attribute's URL (unescaped) as it may be written back (escaped), or None."""
    if href:
        stripped = value.strip()
        if stripped.startswith("#"):
            return html.escape(stripped)  # same page: harmless
        if _MAILTO_TEL.fullmatch(stripped):
            scheme, _, rest = stripped.partition(":")
            return html.escape(f"{scheme.lower()}:{rest}")
    if base is None:
        value = _CONTROLS.sub("", value).strip()
        if value.startswith("//"):
            value = "https:" + value
        elif _is_relative(value):
            return html.escape(value)  # left for the target to resolve (see clean_html)
    url = safe_url(value, base)
    # safe_url's URLs hold no quote, backtick, "<", ">" or space; only "&" needs escaping.
    return None if url is None else url.replace("&", "&amp;")
