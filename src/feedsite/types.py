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
class Tag:
    """One category / tag of an item, as the feed gave it (issue #17). Does not link
    anywhere: ``scheme`` is an identifier, not a URL to render."""

    #: The category's text (RSS ``category`` text, Atom ``term``, ``media:category``,
    #: ``dc:subject``, JSON Feed ``tags``), whitespace-normalised, at most 200 characters.
    term: str
    #: RSS ``domain`` / Atom and media ``scheme``: the vocabulary the term is from
    #: (plain text, at most 200 characters; never rendered as a link).
    scheme: str | None = None
    #: Atom / media ``label``: a human-readable form of the term.
    label: str | None = None


@dataclass(frozen=True, slots=True)
class Enclosure:
    """A file attached to an item: podcast audio, a video, an image (issue #17).

    RSS ``enclosure``, Atom ``link rel="enclosure"``, ``media:content`` (also inside
    ``media:group``), JSON Feed ``attachments``; entries with the same URL are merged.
    Every URL passed :func:`feedsite._url.safe_url`.
    """

    #: The file's absolute http(s) URL.
    url: str
    #: MIME type (``audio/mpeg``), lower case; None when absent or malformed.
    type: str | None = None
    #: Size in bytes, when the feed states a positive one.
    length: int | None = None
    #: Play time in whole seconds (``media:content duration``, ``itunes:duration``,
    #: JSON ``duration_in_seconds``).
    duration: int | None = None
    #: A preview image URL (``media:thumbnail``, ``itunes:image``, JSON ``image``).
    thumbnail: str | None = None
    #: Its title (``media:title``, Atom link ``title``, JSON attachment ``title``).
    title: str | None = None
    #: ``audio``, ``video``, ``image``, ``document`` or ``executable``: ``media:content``'s
    #: ``medium``, else the MIME type's major part; None when neither tells.
    medium: str | None = None
    #: Which element it came from first: ``enclosure`` (RSS enclosure, Atom link,
    #: JSON attachment) or ``media`` (``media:content``).
    source: Literal["enclosure", "media"] = "enclosure"


@dataclass(frozen=True, slots=True)
class Person:
    """An author of an item (issue #17); at least one of the fields is set."""

    #: Display name (``Example editor``).
    name: str | None = None
    #: E-mail address, as the feed wrote it.
    email: str | None = None
    #: Home page (Atom ``uri``, JSON Feed ``url``): a safe absolute http(s) URL.
    uri: str | None = None


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
    #: Author name, when the feed gives one: the first name in ``authors``, else the
    #: first e-mail address there.
    author: str | None = None
    #: Base URL for resolving relative links in the bodies.
    base_url: str | None = None
    #: The item's categories / tags as text (RSS ``category``, Atom ``category``'s label
    #: else term, JSON Feed ``tags``), in order, without repeats; for rules (issue #13).
    #: Each tag's label, else term, of ``tags``.
    categories: tuple[str, ...] = ()
    #: Categories with their scheme and label, in document order, without repeated
    #: terms, at most 64 (issue #17).
    tags: tuple[Tag, ...] = ()
    #: Attached files (audio, video, images), in document order, at most 32 (issue #17).
    enclosures: tuple[Enclosure, ...] = ()
    #: Authors in order of preference: RSS ``author`` (``email (name)``,
    #: ``name (email)``, ``name <email>``), ``dc:creator`` / ``dc:author``,
    #: ``itunes:author``, Atom ``author`` (else the feed's), JSON Feed ``authors`` /
    #: ``author`` (else the feed's); at most 16, without repeats (issue #17).
    authors: tuple[Person, ...] = ()


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
    #: RSS ``<ttl>``: minutes the feed may be cached before it is fetched again.
    ttl: int | None = None


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
    #: The item's tags as the feed gave them (issue #17; the ``default`` profile's
    #: ``tags:``).
    tags: tuple[Tag, ...] = ()


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
