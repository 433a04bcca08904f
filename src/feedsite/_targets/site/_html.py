"""Small pure helpers for the site's HTML: relative URLs and post bodies."""

from __future__ import annotations

import html
import re
from functools import lru_cache
from urllib.parse import quote

from feedsite._url import proxy_images, safe_url, url_host

# Bodies come from the clean stage (nh3, then its tag fixups), which writes lower-case names
# and every attribute as ` name="value"`: literal patterns scan 43 MB of bodies 3× faster.
_IMG = re.compile(r"<img\b([^>]*)>")
_IFRAME = re.compile(r"<iframe\b([^>]*)>")
_SRC = re.compile(r' src="([^"]*)"')
_URL_ATTR = re.compile(r"""( (?:href|src|poster)=")([^"]*)(")""")
_ABSOLUTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:|//|#)", re.I)
_SAFE_ABSOLUTE = re.compile(r"^(?:https?://|//|#|mailto:|tel:)", re.I)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def root_prefix(page_path: str) -> str:
    """The relative path from ``page_path``'s folder to the site root ("" at the root)."""
    return "../" * page_path.count("/")


def rel_url(page_path: str, target: str) -> str:
    """``target`` (a path under the root) as a URL relative to ``page_path``."""
    return "../" * page_path.count("/") + _quoted(target)


@lru_cache(maxsize=65536)
def _quoted(path: str) -> str:
    return quote(path)


def abs_url(base_url: str, target: str) -> str:
    """``target`` under ``base_url``; ``index.html`` is dropped (pretty URLs)."""
    if target.endswith("index.html"):
        target = target[: -len("index.html")]
    return base_url.rstrip("/") + "/" + quote(target)


def prepare_body(
    body: str, link: str | None, image_proxy: str | None, iframe_hosts: tuple[str, ...] = ()
) -> str:
    """A cleaned body ready for a post page.

    Every ``<img>`` is lazy, sends no referrer and has an ``alt`` (empty when the feed
    gave none); URLs the clean stage could not
    make absolute are resolved against the article's link (a relative URL would
    point into this site); an iframe whose host (as a browser reads it) is not in
    ``iframe_hosts`` is left empty, as the clean stage leaves it (bodies stored by
    older versions may hold any iframe: issue #10 row 8).
    """
    body = _CONTROL.sub("", body)
    if "<iframe" in body:
        body = _IFRAME.sub(lambda m: _fix_iframe(m, iframe_hosts), body)
    if image_proxy:
        body = proxy_images(body, image_proxy)
    body = _URL_ATTR.sub(lambda m: _fix_url(m, link), body)
    return _IMG.sub(_fix_img, body)


def _fix_url(m: re.Match[str], link: str | None) -> str:
    value = m.group(2)
    if not value or _SAFE_ABSOLUTE.match(value):
        return m.group(0)
    if "&" in value:
        value = html.unescape(value)
    if _ABSOLUTE.match(value) and not _SAFE_ABSOLUTE.match(value):
        # Bodies of older runs may hold anything: only http(s), mailto:, tel:, in-page
        # fragments and inline images are linked (issue #10 row 3).
        keep = m.group(1) != ' href="' and value[:11].lower() == "data:image/"
        return m.group(0) if keep else m.group(1) + "#" + m.group(3)
    # Relative: resolved against the (safe) article link as a browser would resolve it.
    fixed = safe_url(value, link) if link else None
    return m.group(1) + (html.escape(fixed) if fixed else "#") + m.group(3)


def _fix_iframe(m: re.Match[str], hosts: tuple[str, ...]) -> str:
    src = _SRC.search(m.group(1))
    if src is None:
        return m.group(0)
    host = url_host(html.unescape(src.group(1)))
    return m.group(0) if host is not None and host in hosts else "<iframe>"


def _fix_img(m: re.Match[str]) -> str:
    attrs = m.group(1)
    low = attrs.lower()
    if " alt=" not in low:
        # A feed's image without a text alternative: screen readers would read its URL
        # (WCAG 1.1.1; axe-core's image-alt, issue #15). Nothing better is known of it.
        attrs = ' alt=""' + attrs
    if "loading=" not in low:
        attrs = ' loading="lazy"' + attrs
    if "referrerpolicy=" not in low:
        attrs = ' referrerpolicy="no-referrer"' + attrs
    return "<img" + attrs + ">"


def xml_text(text: str) -> str:
    """``text`` escaped for XML text and double-quoted attributes (control chars dropped)."""
    return (
        _CONTROL.sub("", text)
        .replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
    )
