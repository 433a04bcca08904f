"""Values of the static-site target: posts, the feed tree, pages and the plan. No I/O."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from feedsite._targets._paths import safe_component
from feedsite.config import NativeConfig, SiteConfig
from feedsite.types import Enclosure

PageKind = Literal[
    "post",
    "home",
    "category",
    "site",
    "feed",
    "month",
    "archive",
    "tag",
    "tags",
    "search",
    "atom",
    "opml",
    "sitemap",
    "asset",
]

#: The folder of the images the site serves itself (copies of ``images.dir``'s files).
IMAGES_DIR = "feedsite-images/"

#: Kinds written as HTML pages (listed in the sitemap).
HTML_KINDS: frozenset[str] = frozenset(
    {"post", "home", "category", "site", "feed", "month", "archive", "search", "tag", "tags"}
)


#: Enclosures of a post the site keeps (Atom ``link rel="enclosure"``, the post's players).
MAX_ENCLOSURES = 10

#: Titles are shown at most this long on a post's own page (and kept this long in memory);
#: feeds give 18 MB titles (issue #10 row 13). Independent of any cap at parse time.
TITLE_MAX = 2000
#: Titles in listings, cards, neighbours, search results and Atom feeds: every post's title is
#: on many pages, so one huge title must not make every page huge.
SHORT_TITLE_MAX = 300


def cap_title(title: str, limit: int) -> str:
    """``title`` cut to at most ``limit`` characters, an ellipsis marking the cut."""
    if len(title) <= limit:
        return title
    return title[: limit - 1].rstrip() + "…"


def category_dir(category: str) -> str:
    return f"c/{safe_component(category)}/"


def site_dir(category: str, site: str) -> str:
    return f"{category_dir(category)}{safe_component(site)}/"


def feed_dir(category: str, site: str, feed: str) -> str:
    return f"{site_dir(category, site)}{safe_component(feed)}/"


def month_dir(year: int, month: int) -> str:
    return f"archive/{year:04d}/{month:02d}/"


#: The page listing every tag that has a page (its own folder: a tag named ``index.html``
#: must not collide with it).
TAGS_PATH = "tags/index.html"


def tag_dir(key: str) -> str:
    """The folder of a tag's page: ``t/`` and the tag's key (:func:`feedsite._targets._tags.
    tag_key`: case and width folded) made a safe path component.

    A key that a case-insensitive file system (NTFS, APFS, exFAT: they compare upper-cased
    names) could take for another (``ı`` for ``i``) gets its hash too."""
    name = safe_component(key)
    if name == key and key.upper().casefold() != key:  # (a changed name has its hash)
        name += "~" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"t/{name}/"


def format_duration(seconds: int | None) -> str:
    """``h:mm:ss`` (``m:ss`` under an hour); "" when unknown, not positive or absurd
    (over 1,000 hours)."""
    if not seconds or seconds <= 0 or seconds >= 1000 * 3600:
        return ""
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def format_size(length: int | None) -> str:
    """``512 KB``, ``3.4 MB``, ``1.2 GB`` (1 KB = 1024 bytes); "" when unknown, not
    positive or absurd (over 1 TB)."""
    if not length or length <= 0 or length >= 1 << 40:
        return ""
    if length < 1 << 20:
        return f"{max(1, round(length / 1024))} KB"
    if length < 1 << 30:
        return f"{length / (1 << 20):.1f} MB"
    return f"{length / (1 << 30):.1f} GB"


@dataclass(frozen=True, slots=True)
class SiteEnclosure:
    """One enclosure of a post, as the site shows it (issue #17): its URL passed
    :func:`feedsite._url.safe_url` at build time (stored rows may come from older
    versions)."""

    url: str
    #: MIME type (lower case) or None.
    type: str | None
    #: Size in bytes, when the feed stated it.
    length: int | None
    #: Play time in seconds, when the feed stated it.
    duration: int | None
    #: Its title (at most :data:`SHORT_TITLE_MAX` characters), or "".
    title: str
    #: ``audio`` or ``video`` when a post page plays it (:func:`playable`); else None.
    kind: str | None

    @property
    def duration_text(self) -> str:
        return format_duration(self.duration)

    @property
    def size_text(self) -> str:
        return format_size(self.length)


@dataclass(frozen=True, slots=True)
class TagLink:
    """One tag on a post page: its name as the post gives it, and its page (None: the tag
    has no page, :data:`feedsite._targets.site._plan.MAX_TAG_PAGES`)."""

    name: str
    path: str | None


@dataclass(frozen=True, slots=True)
class TagNode:
    """One tag with a page: its key (case and width folded), the name shown (its most used
    spelling), its page and how many posts have it."""

    key: str
    name: str
    path: str
    count: int


@dataclass(frozen=True, slots=True)
class SitePost:
    """One live item as the site shows it (everything but its full body)."""

    #: The post's file name under posts/ (without .html): the item id (``<id>-<8 hex>`` for the same
    #: item in a second feed).
    uid: str
    item_id: str
    feed_key: str
    category: str
    site: str
    feed: str
    #: At most :data:`TITLE_MAX` characters (:attr:`short_title` in listings).
    title: str
    #: The item's link, only when it passed :func:`feedsite._url.safe_url` (http(s), no
    #: credentials, attribute-safe); None otherwise.
    link: str | None
    #: The item's date, else its first-seen time (aware UTC).
    time: datetime
    author: str | None
    #: The cover image, only when it passed :func:`feedsite._url.safe_url`.
    cover: str | None
    excerpt: str
    #: "zh" when the text is mostly CJK, else "en".
    lang: str
    #: Everything of the item that changes its page (content hash, clean key, time).
    data_key: str
    #: (year, month) in the display zone.
    month: tuple[int, int]
    #: Feed order within the config (for stable ties).
    feed_index: int
    seq: int
    #: The cover served by the site itself (issue #12): its card thumbnail and its
    #: width-capped file, paths under the output root; None: hotlinked (``cover``) or none.
    cover_file: str | None = None
    cover_width: int = 0
    cover_height: int = 0
    cover_main: str | None = None
    #: Its tags' names (:func:`feedsite._targets._tags.tag_names`: cleaned, capped).
    tags: tuple[str, ...] = ()
    #: Its enclosures as stored: :func:`feedsite._targets.site._plan.site_enclosures` makes
    #: them what a page shows (safe URLs, at most :data:`MAX_ENCLOSURES`) when a page that
    #: shows them is rendered (its post page, the Atom feeds listing it), so a build pays
    #: nothing for the enclosures of unchanged posts. The page keys follow them through
    #: :attr:`data_key` (an item's content hash changes with its enclosures).
    enclosures: tuple[Enclosure, ...] = ()

    @property
    def path(self) -> str:
        return f"posts/{self.uid}.html"

    @property
    def short_title(self) -> str:
        """The title as listings, Atom feeds and neighbours show it (:data:`SHORT_TITLE_MAX`)."""
        return cap_title(self.title, SHORT_TITLE_MAX)

    @property
    def category_path(self) -> str:
        return category_dir(self.category) + "index.html"

    @property
    def site_path(self) -> str:
        return site_dir(self.category, self.site) + "index.html"

    @property
    def feed_path(self) -> str:
        return feed_dir(self.category, self.site, self.feed) + "index.html"

    @property
    def month_path(self) -> str:
        return month_dir(*self.month) + "index.html"


@dataclass(frozen=True, slots=True)
class FeedRef:
    """One configured feed: where it sits in the tree and the URL the OPML names."""

    category: str
    site: str
    name: str
    key: str
    xml_url: str


@dataclass(frozen=True, slots=True)
class FeedNode:
    name: str
    path: str
    count: int
    key: str
    xml_url: str


@dataclass(frozen=True, slots=True)
class SiteNode:
    name: str
    path: str
    count: int
    feeds: tuple[FeedNode, ...]


@dataclass(frozen=True, slots=True)
class CategoryNode:
    name: str
    path: str
    count: int
    sites: tuple[SiteNode, ...]


@dataclass(frozen=True, slots=True)
class MonthNode:
    year: int
    month: int
    path: str
    count: int


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything besides the posts that changes the output's bytes.

    One settings object, not a mirror of the config: the configured values stay in their
    sections, referenced as they are (``native``: title, base URL, posts per page, templates
    folder, search; ``site``: timezone, image proxy), and the fields hold only what the
    build derives — from the config (the display zone, the sorted iframe hosts) or from the
    templates and static files in use (their key, the hashed asset paths). The properties
    give the values the pages use (the base URL without its trailing slash, at least one
    post per page): a page's input key hashes these exactly as before, so a site built by
    an earlier version is not rebuilt.
    """

    native: NativeConfig
    site: SiteConfig
    #: The display zone: ``site.timezone``, else UTC (checked to exist).
    zone: str
    #: Hosts whose iframes a post page keeps (``clean.iframe_hosts``, sorted), checked again
    #: at build time: a body stored by an older version may hold any iframe.
    iframe_hosts: tuple[str, ...]
    #: Hash of the templates and static files in use (and feedsite's site version).
    templates_key: str
    #: Output paths of the stylesheet and the search script (content-hashed names).
    css_path: str
    js_path: str
    #: Output path of the SVG favicon (content-hashed name; "" for none).
    icon_path: str = ""
    #: The image proxy of ``images.mode: proxy`` (or the older ``site.image_proxy``).
    proxy: str | None = None

    @property
    def title(self) -> str:
        return self.native.title

    @property
    def base_url(self) -> str:
        """``native.base_url`` without its trailing slash ("" when not set)."""
        return self.native.base_url.rstrip("/")

    @property
    def per_page(self) -> int:
        return max(1, self.native.per_page)

    @property
    def image_proxy(self) -> str | None:
        return self.proxy


@dataclass(frozen=True, slots=True)
class Page:
    """One output file: what it shows and the key of its inputs."""

    path: str
    key: str
    kind: PageKind
    #: Posts shown (cards, entries), newest first; the post itself for a post page.
    posts: tuple[SitePost, ...] = ()
    #: (category[, site[, feed]]) for tree pages and their Atom feeds.
    scope: tuple[str, ...] = ()
    #: Post pages: neighbours within the feed. Month pages: neighbour months.
    newer: SitePost | MonthNode | None = None
    older: SitePost | MonthNode | None = None
    #: Month pages: the month.
    month: MonthNode | None = None
    #: Posts under this page in all (tree pages).
    total: int = 0
    #: The story of each shown post that has one, by uid (cards' sources, a post's
    #: other reports).
    stories: Mapping[str, StoryView] = field(default_factory=dict)
    #: Home page: ``native.home`` ("stream", "boards", "both"), the hot stories, the boards.
    home: str = "stream"
    hot: tuple[HotStory, ...] = ()
    boards: tuple[Board, ...] = ()
    #: Post pages: the post's tags and their pages. Tag pages: the tag.
    tags: tuple[TagLink, ...] = ()
    tag: TagNode | None = None


@dataclass(frozen=True, slots=True)
class StoryView:
    """One post's story as a page shows it (issue #15): the other reports of the same story.

    Does not decide which items are one story (``_plan._stories`` does); only what of the
    story's live members a card or a post page names."""

    #: The story's id (16 hex digits).
    id: str
    #: Distinct site names among all members, the shown post's included.
    sites: int
    #: What the card names: the first member (in lead order) of each other site; when every
    #: member is on the shown post's own site, the first member of each other feed.
    sources: tuple[SitePost, ...]
    #: Every other member, in lead order (the post page's "also reported by").
    others: tuple[SitePost, ...]
    #: The shown post leads the story.
    lead: bool

    @property
    def by_feed(self) -> bool:
        """The sources are other feeds of the post's own site (named by feed, not site)."""
        return self.sites == 1


@dataclass(frozen=True, slots=True)
class HotStory:
    """One entry of the home page's "hot" list: a story reported by several sites in the 24 h
    before the newest post."""

    #: The story's lead (the entry links to its post page).
    lead: SitePost
    #: Distinct sites among the members of the last 24 h.
    sites: int
    #: The newest member's time.
    newest: datetime
    #: The lead's story (the card line's sources).
    story: StoryView


@dataclass(frozen=True, slots=True)
class Board:
    """One site's board on the home page (``native.home: boards``/``both``): its newest
    titles, one per story."""

    category: str
    site: str
    #: The site's page.
    path: str
    #: How many posts the site has.
    count: int
    posts: tuple[SitePost, ...]


@dataclass(frozen=True, slots=True)
class PagePlan:
    """What the output should hold and what must change to get there."""

    pages: tuple[Page, ...]
    #: Pages whose input key differs from the manifest (or whose file is missing).
    render: tuple[Page, ...]
    #: Paths recorded in the manifest that no page holds any more.
    delete: tuple[str, ...]
    tree: tuple[CategoryNode, ...]
    months: tuple[MonthNode, ...]
    #: The tags with a page, most posts first (the tags page).
    tags: tuple[TagNode, ...] = ()
