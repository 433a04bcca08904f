"""The ``legacy`` profile: the old GitHub Actions script's exact bytes.

Rules (see docs/profiles.md and ../shared/seed/README.md): a leading newline,
the title with ``: / \\ ? * “ ” < > | [ ]`` replaced by ``_`` and wrapped in
``"`` if it contains ``'`` else in ``'``; unquoted author, categories and date;
the description's raw text, unsanitised, in ``<div>   \\n … \\n</div>``; every
brace in the file turned into ``&#123;``/``&#125;``.

Where those rules would give invalid YAML or change a value's type (a title
with both quote kinds, a newline, a site called ``yes`` or ``123``), that one
value is written as a properly escaped double-quoted scalar instead.

The old script's title and file-name rules (:func:`legacy_title`,
:func:`legacy_stem`) live here, once: this writer uses the first, and
``feedsite adopt`` (``_adopt.py``) both, to find which old post is which item.
"""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

import yaml

from feedsite._clean import first_img_src
from feedsite._url import proxy_images
from feedsite.types import PostSource, RenderSettings

from ._body import sources_footer
from ._cover import placeholder
from ._yaml import UNSAFE_IN_QUOTES, double_quoted

__all__ = ["legacy_stem", "legacy_title", "render"]

#: The characters the old script replaced by ``_`` in a title (and so in its file name).
_MANGLE = str.maketrans(dict.fromkeys(":/\\?*“”<>|[]", "_"))
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def legacy_title(title: str) -> str:
    """The title the old script wrote in the front matter: ``: / \\ ? * “ ” < > | [ ]``
    replaced by ``_`` (``re.sub(r'[:/\\\\?*“”<>|\\[\\]]', '_', title)``)."""
    return title.translate(_MANGLE)


def legacy_stem(title: str) -> str:
    """The file name (without ``.md``) the old script gave an item titled ``title``:
    :func:`legacy_title`, then newlines, ``#`` and ``.`` removed (the front matter
    title keeps them)."""
    return legacy_title(title).replace("\n", "").replace("#", "").replace(".", "")


def render(post: PostSource, settings: RenderSettings) -> str:
    """The legacy post text for ``post``."""
    body = post.description_raw or ""
    cover = first_img_src(body)
    if cover is not None and "https://" not in cover and settings.image_proxy:
        body = proxy_images(body, settings.image_proxy)
        cover = first_img_src(body)  # not proxied(cover): the old script's exact bytes
    if not cover:
        cover = placeholder(settings.placeholder, post.item_id)

    title = legacy_title(post.title)
    quote = '"' if "'" in title else "'"
    lines = [
        "",
        "---",
        _line("title", f"{quote}{title}{quote}", title),
        "categories: ",
        *(_item(name) for name in (post.category, post.site, post.feed)),
        _line("headimg", f"'{cover}'", cover),
        _line("author", post.site, post.site),
        "comments: false",
        "date: " + _date(post, settings),
        _line("thumbnail", f"'{cover}'", cover),
        "---",
        "",
        "<div>   ",
        body + "  ",
        "</div>",
        " " * 12,
    ]
    if post.others:  # site.dedupe: link (issue #15): after the old format's bytes
        lines += [sources_footer(post), ""]
    return _braces("\n".join(lines))


def _braces(text: str) -> str:
    return text.replace("{", "&#123;").replace("}", "&#125;")


def _line(key: str, written: str, intended: str) -> str:
    """``key: written`` if YAML reads it back as ``intended``, else a safe quoted form."""
    if _reads_as(_braces(written), _braces(intended)):
        return f"{key}: {written}"
    return f"{key}: {_quoted(intended)}"


def _item(name: str) -> str:
    if _reads_as(_braces(name), _braces(name)):
        return f" - {name}"
    return f" - {_quoted(name)}"


def _quoted(value: str) -> str:
    # Braces become entities afterwards, which cannot break a double-quoted scalar.
    return double_quoted(value)


@lru_cache(maxsize=4096)
def _reads_as(written: str, intended: str) -> bool:
    if UNSAFE_IN_QUOTES.search(written):
        return False
    # Fast paths for the shapes the old script wrote: quoted scalars without
    # their own quote character inside are always read back verbatim.
    if len(written) >= 2 and written[0] == written[-1] == "'" and "'" not in written[1:-1]:
        return written[1:-1] == intended
    if (
        len(written) >= 2
        and written[0] == written[-1] == '"'
        and '"' not in written[1:-1]
        and "\\" not in written
    ):
        return written[1:-1] == intended
    try:
        loaded = yaml.safe_load(f"k: {written}\n")
    except yaml.YAMLError:
        return False
    return isinstance(loaded, dict) and loaded.get("k") == intended


def _date(post: PostSource, settings: RenderSettings) -> str:
    if post.date is not None:
        d = post.date
        return (
            f"{_DAYS[d.weekday()]}, {d.day:02d} {_MONTHS[d.month - 1]} {d.year:04d} "
            f"{d.hour:02d}:{d.minute:02d}:{d.second:02d} GMT"
        )
    local: datetime = post.first_seen.astimezone(ZoneInfo(settings.timezone or "UTC"))
    return local.strftime("%Y-%m-%d %H:%M:%S")
