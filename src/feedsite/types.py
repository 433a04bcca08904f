"""Values that flow through the pipeline.

Names say which way the data flows:

* ``Parsed*``   came from a feed (the parse stage's output);
* ``Stored*``   was read from the state database;
* ``*Intent``   is to be written (decided by the plan stage, applied by store/targets).

All datetimes are timezone-aware UTC.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

#: The format a feed document was recognised as.
FeedFormat = Literal[
    "rss090", "rss091", "rss092", "rss10", "rss20", "atom03", "atom10", "json10", "json11"
]


@dataclass(frozen=True, slots=True)
class Validators:
    """HTTP caching validators of one source of a feed, as its last 200 response gave
    them (fetched, stored, sent back). The one validators type of every stage."""

    #: The ``ETag`` header, sent back as ``If-None-Match``.
    etag: str | None = None
    #: The ``Last-Modified`` header, sent back as ``If-Modified-Since``.
    last_modified: str | None = None


@dataclass(frozen=True, slots=True)
class ParsedItem:
    """One entry of a feed, as the feed said it (no cleaning, no decisions)."""

    #: guid / Atom id / JSON id, stripped; None when absent or empty.
    guid: str | None
    #: The article URL (absolute when the feed allowed resolving it).
    link: str | None
    #: Plain text title (HTML-typed titles already reduced to their text); "" if none.
    title: str
    #: Publication date (published, else updated / dc:date), aware UTC.
    date: datetime | None
    #: Full content HTML: content:encoded / Atom content / JSON content_html
    #: (or escaped content_text).
    content_html: str | None
    #: Summary HTML: RSS description / Atom summary / JSON summary.
    summary_html: str | None
    #: The description element's raw text exactly as in the document (whitespace kept),
    #: for the legacy profile. RSS: description; Atom: summary, else content; JSON: content_html.
    description_raw: str | None
    #: Cover candidates outside the body, in priority order: enclosure (image/*),
    #: media:thumbnail, media:content (image), JSON image / banner_image.
    images: tuple[str, ...] = ()
    #: Author name, when the feed gives one.
    author: str | None = None
    #: Base URL for resolving relative links in the bodies.
    base_url: str | None = None
    #: The item's categories / tags as text (RSS ``category``, Atom ``category``'s label
    #: else term, JSON Feed ``tags``), in order, without repeats; for rules (issue #13).
    categories: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ParsedFeed:
    """A whole feed document."""

    format: FeedFormat
    title: str
    link: str | None
    #: Entries in document order.
    items: tuple[ParsedItem, ...]
    #: Non-fatal problems met while parsing (recovered XML errors, bad dates...).
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PostSource:
    """Everything a post is rendered from: one kept item of one feed, read from the state."""

    item_id: str
    category: str
    site: str
    feed: str
    title: str
    link: str | None
    #: The item's own date, else None (renderers then use ``first_seen``).
    date: datetime | None
    first_seen: datetime
    #: Sanitised body HTML (default profile).
    body_clean: str
    #: The description element's raw text (legacy profile).
    description_raw: str | None
    #: Cover candidates from outside the body (enclosure, media:*, JSON image).
    images: tuple[str, ...]
    #: The post's images the site serves itself, by original URL (issue #12).
    local_images: Mapping[str, LocalImage] = field(default_factory=dict)
    #: A generated cover (under the image folder) for a post without an image.
    cover_file: str | None = None
    #: The other reports of its story (``site.dedupe: link``, issue #15), lead first.
    others: tuple[OtherReport, ...] = ()


@dataclass(frozen=True, slots=True)
class OtherReport:
    """Another feed's report of a post's story (``site.dedupe: link``)."""

    site: str
    feed: str
    title: str
    link: str | None


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """Options that change a post's bytes. Part of every post's render key."""

    profile: Literal["default", "legacy"]
    #: IANA zone the post dates are written in (Hexo's ``timezone``), None = UTC.
    timezone: str | None
    image_proxy: str | None
    placeholder: str
    source_key: str
    #: URL of the image folder as the site serves it (``/feedsite-images/``); None: no
    #: image is served locally (hotlinked, or proxied).
    image_prefix: str | None = None


@dataclass(frozen=True, slots=True)
class ImageFile:
    """One file of a local image, relative to the image folder (``ab/abcd….webp``)."""

    role: Literal["main", "small", "thumb", "cover"]
    path: str
    width: int
    height: int
    size: int


@dataclass(frozen=True, slots=True)
class LocalImage:
    """An image the site serves itself, as the targets render it."""

    url: str
    files: tuple[ImageFile, ...]

    def file(self, role: str) -> ImageFile | None:
        """Its file of ``role`` (``main``, ``small``, ``thumb``), if it has one."""
        return next((f for f in self.files if f.role == role), None)
