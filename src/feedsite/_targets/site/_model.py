"""Values of the static-site target: posts, the feed tree, pages and the plan. No I/O."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from feedsite._targets._paths import safe_component
from feedsite.config import NativeConfig, SiteConfig

PageKind = Literal[
    "post",
    "home",
    "category",
    "site",
    "feed",
    "month",
    "archive",
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
    {"post", "home", "category", "site", "feed", "month", "archive", "search"}
)


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
