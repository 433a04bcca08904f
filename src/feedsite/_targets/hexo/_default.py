"""The ``default`` profile: sanitised HTML and front matter from a real YAML emitter.

Front matter keys, in order: title, categories, headimg, author, comments,
date, thumbnail, and the article's original URL under ``settings.source_key``
(``source_url`` by default; ``link`` would make Volantis redirect to it).
Every string value is double-quoted so no YAML reader can take it for a bool,
number, date or null. The date is written as wall-clock time in the target
timezone without an offset, which is how Hexo reads dates (docs/profiles.md).
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import yaml

from feedsite.types import PostSource, RenderSettings

from ._body import hexo_safe
from ._cover import apply_image_proxy, first_img_src, placeholder


class _Quoted(str):
    """A string value the dumper writes double-quoted (keys stay plain)."""

    __slots__ = ()


class _Dumper(yaml.SafeDumper):
    """SafeDumper that double-quotes ``_Quoted`` values."""


def _quoted_representer(dumper: yaml.SafeDumper, value: _Quoted) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", str(value), style='"')


_Dumper.add_representer(_Quoted, _quoted_representer)


def render(post: PostSource, settings: RenderSettings) -> str:
    """The default-profile post text for ``post``."""
    body = post.body_clean or _escape(post.title)
    cover = first_img_src(body) or next(iter(post.images), None)
    if cover is not None and not cover.startswith("https://") and settings.image_proxy:
        body = apply_image_proxy(body, settings.image_proxy)
        if cover.startswith("http://"):
            cover = settings.image_proxy + cover
    if not cover:
        cover = placeholder(settings.placeholder, post.item_id)

    zone = ZoneInfo(settings.timezone or "UTC")
    when = (post.date or post.first_seen).astimezone(zone).replace(tzinfo=None, microsecond=0)
    meta: dict[str, Any] = {
        "title": _Quoted(post.title),
        "categories": [_Quoted(post.category), _Quoted(post.site), _Quoted(post.feed)],
        "headimg": _Quoted(cover),
        "author": _Quoted(post.site),
        "comments": False,
        "date": when,
        "thumbnail": _Quoted(cover),
    }
    if post.link:
        meta[settings.source_key] = _Quoted(post.link)
    front = yaml.dump(
        meta,
        Dumper=_Dumper,
        allow_unicode=True,
        sort_keys=False,
        default_flow_style=False,
        width=2**31,
    )
    return f"---\n{front}---\n\n<div>\n{hexo_safe(body)}\n</div>\n"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
