"""Images of a body: which is the item's picture, which a post shows, and the body as a
site that serves them itself writes it. Pure.

Both targets use it (the Hexo profiles for a post's cover, the native site for a
card's picture), so it lives below them: in the clean stage, which makes the
bodies it reads and already judges every ``<img>`` in them. It is a rule about
bodies, not about one target's files; a target importing another target's
private module for it would tie the two together.
"""

from __future__ import annotations

import html as html_lib
import re
from collections.abc import Iterable, Mapping

from feedsite._url import safe_url
from feedsite.types import LocalImage

__all__ = ["MAX_IMAGES", "first_img_src", "image_urls", "localize_images", "widest"]

#: Images of one post that are served locally (the rest of a body stays hotlinked).
MAX_IMAGES = 64
#: The width a post's column shows images at, for ``sizes`` (the native site's and
#: Volantis's article column are about this wide).
COLUMN = 800

_IMG_SRC = re.compile(r"""<img\b[^>]*?\ssrc\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)


def first_img_src(html: str | None, base: str | None = None) -> str | None:
    """The URL of the first ``<img>`` in ``html`` whose ``src`` is a safe URL.

    The attribute value is HTML-unescaped first (``?w=1&amp;h=2`` is the URL
    ``?w=1&h=2``: issue #10 row 17), then passed through
    :func:`feedsite._url.safe_url`: a ``javascript:``/``data:`` source, or one that
    would break out of a quoted attribute (row 2), is skipped.

    Args:
        html: a body, sanitised or not.
        base: resolves relative sources (must be public); None: they are skipped.

    Returns:
        An absolute http(s) URL, plain text (not attribute-escaped), or None.
    """
    if not html:
        return None
    for m in _IMG_SRC.finditer(html):
        src = (
            m.group(1)
            if m.group(1) is not None
            else (m.group(2) if m.group(2) is not None else m.group(3))
        )
        url = safe_url(html_lib.unescape(src), base) if src else None
        if url is not None:
            return url
    return None


def image_urls(body: str | None, candidates: Iterable[str] = ()) -> tuple[str, ...]:
    """A post's images: its cover (the first-image rule: the body's first safe image,
    else the first safe of ``candidates``, the feed's enclosures and ``media:*``), then
    every other safe ``<img>`` of the body in order; no repeats, at most
    :data:`MAX_IMAGES`."""
    cover = first_img_src(body) or next(filter(None, map(safe_url, candidates)), None)
    out: dict[str, None] = {cover: None} if cover else {}
    for m in _IMG_SRC.finditer(body or ""):
        if len(out) >= MAX_IMAGES:
            break
        src = m.group(1) if m.group(1) is not None else (m.group(2) or m.group(3) or "")
        url = safe_url(html_lib.unescape(src)) if src else None
        if url is not None:
            out.setdefault(url, None)
    return tuple(out)


_IMG_TAG = re.compile(r"<img\b((?:[^>\"]|\"[^\"]*\")*)>")
_ATTR = re.compile(r'\s([a-z-]+)="([^"]*)"')
#: Attributes a local image gets anew (any the body had are dropped).
_REPLACED = frozenset(("src", "srcset", "sizes", "width", "height", "loading", "decoding"))


def localize_images(body: str, local: Mapping[str, LocalImage], prefix: str) -> str:
    """``body`` (canonical cleaned HTML) with each image in ``local`` served by the site.

    Such an ``<img>`` gets ``src`` = ``prefix`` + its width-capped file, its real
    ``width`` and ``height`` (the page does not jump as it loads), a ``srcset`` of its
    narrower file when it has one, ``loading="lazy"`` and ``decoding="async"``; its other
    attributes (``alt``, ``title``, ``referrerpolicy``) stay. Images not in ``local`` are
    left as they are (hotlinked, ``referrerpolicy="no-referrer"`` from the clean stage).

    Args:
        body: a cleaned body.
        local: the post's local images, by original URL.
        prefix: the image folder's URL as the page reaches it (``/feedsite-images/``,
            ``../../feedsite-images/``); attribute-escaped here.
    """
    if not local or "<img" not in body:
        return body
    pre = html_lib.escape(prefix)

    def fix(m: re.Match[str]) -> str:
        attrs = dict(_ATTR.findall(m.group(1)))
        image = local.get(html_lib.unescape(attrs.get("src", "")))
        main = image.file("main") if image is not None else None
        if image is None or main is None:
            return m.group(0)
        kept = [f' {k}="{v}"' for k, v in attrs.items() if k not in _REPLACED]
        new = [f' src="{pre}{main.path}"', f' width="{main.width}"', f' height="{main.height}"']
        small = image.file("small")
        if small is not None:
            new.append(
                f' srcset="{pre}{small.path} {small.width}w, {pre}{main.path} {main.width}w"'
                f' sizes="(max-width: {COLUMN}px) 100vw, {COLUMN}px"'
            )
        return "<img" + "".join(new) + "".join(kept) + ' loading="lazy" decoding="async">'

    return _IMG_TAG.sub(fix, body)


def widest(srcset: str) -> str | None:
    """The candidate of a ``srcset`` with the largest width (``640w``) or density
    (``2x``); the first one when none says (values as written: the cleaner's escaped, or an
    article page's as lxml read them)."""
    best: tuple[float, str] | None = None
    for part in srcset.split(","):
        fields = part.split()
        if not fields:
            continue
        size = 0.0
        if len(fields) > 1 and fields[1][-1:] in ("w", "x"):
            try:
                size = float(fields[1][:-1])
            except ValueError:
                size = 0.0
        if best is None or size > best[0]:
            best = (size, fields[0])
    return None if best is None else best[1]
