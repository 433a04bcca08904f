"""The ``default`` profile: sanitised HTML and front matter every YAML reader reads verbatim.

Front matter keys, in order: title, categories, headimg, author, comments,
date, thumbnail, the article's original URL under ``settings.source_key``
(``source_url`` by default; ``link`` would make Volantis redirect to it), and
``tags`` when the item has some (issue #17, :func:`hexo_tags`).
Every string value is a double-quoted scalar with every risky character
escaped (``_yaml.double_quoted``), so no reader can take it for a bool,
number, date or null. The front matter always has this one shape, so it is
written directly rather than through a YAML emitter (PyYAML's pure-Python
dumper was 40 % of a run); ``tests/targets/test_default.py`` round-trips it.
The date is written as wall-clock time in the target timezone without an
offset, which is how Hexo reads dates (docs/profiles.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from feedsite._clean import first_img_src, localize_images
from feedsite._targets._tags import MAX_TAGS, tag_names
from feedsite._url import proxied, proxy_images, safe_url
from feedsite.types import PostSource, RenderSettings, Tag

from ._body import hexo_safe, sources_footer
from ._cover import placeholder
from ._yaml import double_quoted


def render(post: PostSource, settings: RenderSettings) -> str:
    """The default-profile post text for ``post``.

    Every URL of the front matter passes :func:`feedsite._url.safe_url` here, at
    render time, since items stored by older versions may hold anything (issue
    #10 rows 2, 3, 5): the cover is the first safe body image, else the first safe
    cover candidate, else the generated cover, else the placeholder; a refused link
    writes no ``source_url`` line. Images the site serves itself (``post.local_images``,
    issue #12) are written with ``settings.image_prefix``: the cover's width-capped file as
    ``headimg`` and its card thumbnail as ``thumbnail``.
    """
    body = post.body_clean or _escape(post.title)
    cover = first_img_src(body) or next(filter(None, map(safe_url, post.images)), None)
    thumb = None
    prefix = settings.image_prefix
    if prefix is not None and post.local_images:
        local = post.local_images.get(cover) if cover else None
        main = local.file("main") if local is not None else None
        if local is not None and main is not None:
            cover = prefix + main.path
            thumb = prefix + (local.file("thumb") or main).path
        body = localize_images(body, post.local_images, prefix)
    elif cover is not None and not cover.startswith("https://") and settings.image_proxy:
        body = proxy_images(body, settings.image_proxy)
        cover = proxied(cover, settings.image_proxy)
    if not cover and prefix is not None and post.cover_file:
        cover = prefix + post.cover_file
    if not cover:
        cover = placeholder(settings.placeholder, post.item_id)
    link = safe_url(post.link)

    zone = ZoneInfo(settings.timezone or "UTC")
    when = _hexo_date(post.date, zone) or post.first_seen.astimezone(zone)
    cover_q = double_quoted(cover)
    thumb_q = double_quoted(thumb) if thumb else cover_q
    lines = [
        "---",
        "title: " + double_quoted(post.title),
        "categories:",
        "- " + double_quoted(post.category),
        "- " + double_quoted(post.site),
        "- " + double_quoted(post.feed),
        "headimg: " + cover_q,
        "author: " + double_quoted(post.site),
        "comments: false",
        "date: " + f"{when.year:04d}-{when:%m-%d %H:%M:%S}",
        "thumbnail: " + thumb_q,
    ]
    if link:
        lines.append(f"{settings.source_key}: {double_quoted(link)}")
    names = hexo_tags(post.tags)
    if names:
        lines.append("tags:")
        lines += ["- " + double_quoted(name) for name in names]
    if post.others:
        lines.append("sources:")
        for other in post.others:
            lines.append("- site: " + double_quoted(other.site))
            lines.append("  feed: " + double_quoted(other.feed))
            lines.append("  title: " + double_quoted(other.title))
            other_link = safe_url(other.link)
            if other_link:
                lines.append("  link: " + double_quoted(other_link))
    lines += ["---", "", "<div>", hexo_safe(body), "</div>", ""]
    if post.others:
        lines += [hexo_safe(sources_footer(post)), ""]
    return "\n".join(lines)


#: Left out of tag names: markup and quoting characters (themes print tag names in HTML and
#: URLs, some without escaping), and the brackets of Hexo's tag-plugin and template syntax.
TAG_DROP = "<>&\"'`{}[]\\"


#: What Hexo's ``slugize`` (hexo-util) turns into separators: a name made of these only
#: (``..``, ``#``, ``---``) would get the tag page ``tags//``.
_SLUG_SEPARATORS = re.compile(r"""[\s~`!@#$%^&*()\-_+=\[\]{}|\\;:"'<>,.?/]+""")


def hexo_tags(tags: Sequence[Tag]) -> list[str]:
    """The names written under ``tags:``: ``_targets._tags.tag_names`` (label else term,
    no control or format characters, whitespace collapsed, at most 40 characters and 10
    names, repeats once), without :data:`TAG_DROP`, and none that Hexo would give an
    empty address (:data:`_SLUG_SEPARATORS`)."""
    names = tag_names(tags, max_tags=len(tags), drop=TAG_DROP)
    return [n for n in names if _SLUG_SEPARATORS.sub("", n)][:MAX_TAGS]


def _hexo_date(date: datetime | None, zone: ZoneInfo) -> datetime | None:
    """``date`` in ``zone``, or None when Hexo cannot hold it.

    Hexo's YAML reader maps years 0-99 to 1900-1999, and Python cannot shift
    year 1 west of UTC or 9999 east of it. Such dates are placeholders in
    practice (Hugo writes ``0001-01-01`` for "no date"), so the post falls back
    to the first-seen time, like an item without a date.
    """
    if date is None:
        return None
    try:
        local = date.astimezone(zone)
    except (OverflowError, ValueError):
        return None
    return local if 100 <= local.year <= 9999 else None


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
