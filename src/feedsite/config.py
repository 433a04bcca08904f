"""Load and validate ``feedsite.yaml``.

The file describes a three-level tree of feeds (category → site → feed) plus a
few settings::

    site:
      hexo_root: ./blog          # posts go to <hexo_root>/source/_posts
      profile: default           # default | legacy
      timezone: Asia/Shanghai
    rsshub:
      instances: [https://rsshub.example.org]
      access_key: ${RSSHUB_KEY}  # ${VAR} / ${VAR:-default} work in every value
    defaults:
      items_per_feed: 15
    feeds:
      新媒体:
        观察者网:
          头条: /guancha/headline               # a route: needs rsshub.instances
          首页: {route: /guancha, items_per_feed: 5}
      本地:
        样例:
          一: {url: https://example.org/feed.xml}
          二: {path: feeds/other.xml}           # relative to this file's folder

Usage::

    from feedsite.config import load_config

    config = load_config("feedsite.yaml")
    for warning in config.warnings:
        print("warning:", warning)
    for feed in config.feeds:
        print(feed.label, feed.route or feed.url, feed.items_per_feed)

Anything invalid raises :class:`~feedsite.errors.ConfigError` naming the key
path and line, e.g. ``feedsite.yaml, line 12, at feeds.编程.掘金.前端.items_per_feed:
expected a whole number 1..10000, got "five"``. Unknown keys are errors.

Notes:
    * Keys are read as their source text: a site written ``123:`` or ``yes:`` is
      named "123" / "yes". Names are stripped and must not be empty.
    * A null value (``key:`` with nothing after it) means "not set" and takes
      the default, except ``max_age: null`` on a feed, which turns off a
      ``defaults.max_age`` for that feed.
    * ``~`` in paths is not expanded; write ``${HOME}/blog``.
    * A value naming a file or folder (``site.hexo_root``, ``state.path``,
      ``native.out``, ``native.templates``, a feed's ``path:`` or ``file://`` URL)
      must not use a ``${VAR}`` that is unset or empty: ``${UNSET}/blog`` would be
      ``/blog`` (issue #10 row 9). Elsewhere an unset variable is a warning and
      reads as "" (``access_key: ${RSSHUB_KEY}`` without the variable: no key).
    * Limits (issue #10 row 11): at most :data:`MAX_FEEDS` feeds, and at most
      :data:`MAX_VALUES` (1,000,000) values counted as if every YAML alias were
      written out.

Layout: this module is the whole schema, in one place: the frozen dataclasses
(the shape and the defaults), the keys each section allows, the limits, and
every rule of a valid value (feed tree, URLs, proxies, time zones, durations,
cover templates). It is not split into a private ``_schema`` module because the
rules fill exactly these dataclasses: adding a key is one edit here, and the
dataclasses keep ``feedsite.config`` as their home. What is not feedsite's (the
line-numbered YAML tree, ``${VAR}``, aliases, merge keys, generic typed readers)
is :mod:`feedsite._config._tree`, which knows nothing of feedsite.
"""

from __future__ import annotations

import functools
import json
import os
import re
import string
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from functools import cache, lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from feedsite._config._css import selector_problem
from feedsite._config._rules import EMPTY as EMPTY_RULES
from feedsite._config._rules import Rules, RuleSet, read_rules
from feedsite._config._rules import merge as merge_rules
from feedsite._config._tree import (
    Entry,
    MapNode,
    Node,
    Reader,
    Scalar,
    SeqNode,
    describe,
    has_control,
    is_null,
    join,
    quote,
    read_duration,
    suggest,
)
from feedsite._url import redact
from feedsite.errors import ConfigError

__all__ = [
    "DEFAULT_IFRAME_HOSTS",
    "DEFAULT_PLACEHOLDER",
    "MAX_FEEDS",
    "MAX_VALUES",
    "NO_TIMEZONE_WARNING",
    "CleanConfig",
    "Config",
    "FeedSpec",
    "FetchConfig",
    "ImageMode",
    "ImagePolicy",
    "ImagesConfig",
    "NativeConfig",
    "RsshubConfig",
    "SiteConfig",
    "check_proxy",
    "load_config",
    "parse_config",
]

DEFAULT_PLACEHOLDER = "https://picsum.photos/400/300?random={n}"
DEFAULT_IFRAME_HOSTS = (
    "player.bilibili.com",
    "www.bilibili.com",
    "player.youku.com",
    "www.youtube.com",
    "www.youtube-nocookie.com",
    "player.vimeo.com",
    "v.qq.com",
)
NO_TIMEZONE_WARNING = "no timezone set (site.timezone): dates without an offset are read as UTC"

_TOP_KEYS = (
    "site",
    "rsshub",
    "defaults",
    "fetch",
    "clean",
    "state",
    "native",
    "images",
    "fulltext",
    "rules",
    "watch",
    "feeds",
)
_SITE_KEYS = (
    "hexo_root",
    "profile",
    "timezone",
    "image_proxy",
    "placeholder",
    "source_key",
    "targets",
    "language",
    "dedupe",
)
_NATIVE_KEYS = ("out", "title", "base_url", "templates", "per_page", "search", "home")
#: ``site.dedupe`` (issue #15): what the Hexo target does with the other reports of a story.
_DEDUPE = ("keep", "link", "skip")
#: ``native.home``: the native site's front page.
_HOMES = ("stream", "boards", "both")
_HOME_OF: dict[str, Literal["stream", "boards", "both"]] = {
    "stream": "stream",
    "boards": "boards",
    "both": "both",
}
_DEDUPE_OF: dict[str, Literal["keep", "link", "skip"]] = {
    "keep": "keep",
    "link": "link",
    "skip": "skip",
}
#: ``priority:`` bounds (higher leads a story; docs/stories.md).
_PRIORITY_MAX = 1000
_TARGETS = ("hexo", "native")
_RSSHUB_KEYS = ("instances", "access_key", "catalog")
_FETCH_KEYS = (
    "concurrency",
    "per_host",
    "timeout",
    "connect_timeout",
    "read_timeout",
    "retries",
    "user_agent",
    "proxy",
)
_OPTION_KEYS = ("items_per_feed", "keep", "max_age", "timezone")
_SOURCE_KEYS = ("route", "url", "path")
_FEED_KEYS = (
    *_SOURCE_KEYS,
    *_OPTION_KEYS,
    "proxy",
    "images",
    "fulltext",
    "rules",
    "priority",
    "interval",
)
#: ``watch:`` (issue #16): the schedule of ``feedsite watch`` (docs/watch.md).
_WATCH_KEYS = ("interval", "min_interval", "max_interval", "build_every")
_PROFILES = ("default", "legacy")
_MAX_ITEMS = 10000
#: Feeds one config may list (the scale feedsite is built and benchmarked for is 10,000).
MAX_FEEDS = 20_000
#: Values (scalars, keys, mappings, lists) a config may hold, counted as if every alias were
#: written out (issue #10 row 11: a 6 KB file of 100 × 100 × 100 aliases would otherwise be
#: walked as a million feeds). A 20,000-feed config with per-feed options and merge keys is
#: ~300,000.
MAX_VALUES = 1_000_000
_SHAPE = "feeds are nested exactly three levels: feeds → category → site → feed name: route or URL"
_ACCEPTED_SOURCES = (
    'expected an RSSHub route starting with "/" or an http://, https:// or file:// URL'
)
#: A feed string that looks like a file path (``feeds/a.xml``, ``./news.json``).
_FILE_LIKE = re.compile(r"\.(?:xml|rss|atom|json|rdf|feed)\Z|\A(?:\.{1,2}/|~)", re.IGNORECASE)
_NOT_IANA = frozenset({"localtime", "posixrules", "Factory"})
_ZONE_SHAPE = re.compile(r"[A-Za-z0-9_+-]+(?:/[A-Za-z0-9_+-]+){0,3}\Z")
_BAD_ROUTE_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")
_HOST = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*\Z")
_FRONT_MATTER_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*\Z")
_HOME = "https://github.com/feedsite/feedsite"
#: The ``images:`` keys a category, a site or a feed may override (issue #12).
_IMAGE_LEVEL_KEYS = ("mode", "proxy", "referer", "cover")
#: The ``images:`` keys valid only in the top-level section: one budget for the whole site.
_IMAGE_TOP_ONLY = ("max_total", "max_size", "max_pixels", "width", "time_budget", "dir")
_IMAGE_KEYS = (*_IMAGE_LEVEL_KEYS, *_IMAGE_TOP_ONLY)
_IMAGE_MODES = ("local", "proxy", "hotlink")
_COVERS = ("generated", "placeholder")
#: A reserved key inside a category (sites) and a site (feeds): that level's image settings.
_RESERVED = "images"
#: Every reserved key inside a category and a site: that level's settings for what is below.
_LEVEL_KEYS = (_RESERVED, "fulltext", "rules", "priority", "interval")
#: The words ``fulltext:`` takes; anything else is a CSS selector.
_FULLTEXT_WORDS = ("auto", "rsshub", "off")
_REFERER_WORDS = ("article", "none")
_SIZE = re.compile(r"\s*(\d{1,12}(?:\.\d{1,9})?)\s*(b|[kmg]i?b)?\s*\Z", re.IGNORECASE)
_SIZE_UNITS = {"": 1, "b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}
_BUDGET = re.compile(r"\s*(\d{1,9})\s*([smh]?)\s*\Z")
_BUDGET_UNITS = {"s": 1, "m": 60, "h": 3600, "": 1}
_MAX_BUDGET = 86400


#: How a post's images are served (issue #12): ``local`` downloads each image once and serves
#: it from the site; ``proxy`` rewrites image URLs through ``ImagePolicy.proxy``; ``hotlink``
#: leaves them pointing at their hosts.
ImageMode = Literal["local", "proxy", "hotlink"]


@dataclass(frozen=True, slots=True)
class ImagePolicy:
    """One feed's image settings, resolved feed > site > category > top-level ``images:``.

    Holds what may vary per feed; the site-wide budget is :class:`ImagesConfig`. Does not
    match hosts against ``referer`` patterns: the fetch stage does.

    Usage::

        ImagePolicy()                                  # local images, generated covers
        ImagePolicy(mode="proxy", proxy="https://images.weserv.nl/?url=")
        ImagePolicy(referer=(("*.sinaimg.cn", "https://weibo.com/"), ("a.example", "article")))

    Raises:
        ValueError: an unknown mode or cover, mode ``proxy`` without a ``proxy`` prefix, or a
            ``referer`` pattern or value that is not valid.
    """

    #: ``local`` | ``proxy`` | ``hotlink``.
    mode: ImageMode = "local"
    #: URL prefix put before an image URL in mode ``proxy`` (``site.image_proxy``'s rule).
    proxy: str | None = None
    #: ``(host pattern, Referer)`` pairs, the most specific level first, one per pattern.
    #: A pattern is a lower-case host or ``*.suffix``; a value is an http(s) URL, ``article``
    #: (the item's own link) or ``none`` (no Referer header).
    referer: tuple[tuple[str, str], ...] = ()
    #: Cover of an item without an image: ``generated`` (an SVG made from the site's name)
    #: or ``placeholder`` (``site.placeholder``).
    cover: Literal["generated", "placeholder"] = "generated"

    def __post_init__(self) -> None:
        if self.mode not in _IMAGE_MODES:
            raise ValueError(f"mode must be local, proxy or hotlink, not {self.mode!r}")
        if self.cover not in _COVERS:
            raise ValueError(f"cover must be generated or placeholder, not {self.cover!r}")
        if self.proxy is not None and _url_problem(self.proxy, ("http", "https")):
            raise ValueError(f"proxy must be an http(s) URL prefix, not {self.proxy!r}")
        if self.mode == "proxy" and not self.proxy:
            raise ValueError("mode proxy needs a proxy URL prefix")
        for pattern, value in self.referer:
            if _host_pattern(pattern) != pattern:
                raise ValueError(f"bad referer host pattern {pattern!r}")
            if value not in _REFERER_WORDS and _url_problem(value, ("http", "https")):
                raise ValueError(f"bad Referer for {pattern}: {value!r}")


@dataclass(frozen=True, slots=True)
class ImagesConfig:
    """The top-level ``images:`` section: the site-wide image budget and the default policy.

    Every count is checked here too, so a value built in code obeys the file's limits.

    Usage::

        ImagesConfig(dir=Path("blog/source/feedsite-images"))
        ImagesConfig(dir=Path(".feedsite/images"), max_total=200 * 1024**2, time_budget=0.0)

    Raises:
        ValueError: a limit is out of range (see docs/configuration.md).
    """

    #: Folder of the image files (absolute once loaded).
    dir: Path
    #: Bytes all image files together may take (GitHub Pages allows 1 GB per site).
    max_total: int = 800 * 1024**2
    #: Bytes of one download; a larger image is refused while it streams.
    max_size: int = 10 * 1024**2
    #: Width × height of one image (decompression bombs are refused before decoding).
    max_pixels: int = 50_000_000
    #: Body images are served at most this many pixels wide.
    width: int = 1280
    #: Seconds a run spends downloading images; 0: none are downloaded this run.
    time_budget: float = 120.0
    #: The top-level policy, which categories, sites and feeds override.
    policy: ImagePolicy = ImagePolicy()

    def __post_init__(self) -> None:
        for name, value, low, high in (
            ("max_total", self.max_total, 1024**2, None),
            ("max_size", self.max_size, 1024, 1024**3),
            ("max_pixels", self.max_pixels, 10_000, 1_000_000_000),
            ("width", self.width, 64, 8192),
        ):
            if value < low or (high is not None and value > high):
                bound = f"at least {low}" if high is None else f"{low}..{high}"
                raise ValueError(f"{name} must be {bound}, not {value}")
        if not 0 <= self.time_budget <= _MAX_BUDGET:
            raise ValueError(
                f"time_budget must be 0..{_MAX_BUDGET} seconds, not {self.time_budget}"
            )


@dataclass(frozen=True, slots=True)
class FullText:
    """Where the body of a feed's posts comes from when the feed carries a summary (issue #13).

    ``auto``: the article extracted from the item's link; ``selector``: the element of the
    article page that ``selector`` (CSS) matches; ``rsshub``: the route asked with RSSHub's
    ``mode=fulltext``; ``off``: the feed's own body.
    """

    mode: Literal["auto", "selector", "rsshub", "off"]
    selector: str | None = None

    @property
    def fetches_pages(self) -> bool:
        """Whether feedsite fetches the article pages itself."""
        return self.mode in ("auto", "selector")

    def key(self) -> str:
        """What, of this setting, a post's body depends on."""
        return self.mode if self.selector is None else f"{self.mode}:{self.selector}"


FULLTEXT_OFF = FullText("off")


@functools.cache
def _feed_key(category: str, site: str, name: str) -> str:
    # Asked for millions of times in a run of 10,000 feeds: made once per feed.
    return json.dumps([category, site, name], ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class FeedSpec:
    """One feed of the tree, with its options resolved against ``defaults``."""

    category: str
    site: str
    name: str
    #: RSSHub route starting with "/" (exactly one of route / url is set).
    route: str | None
    #: http(s):// or file:// URL (``path:`` values become file:// URLs).
    url: str | None
    #: Newest N items taken from each fetch.
    items_per_feed: int
    #: Retention: newest N posts kept.
    keep: int
    #: Retention: posts older than this are pruned; None keeps them.
    max_age: timedelta | None
    #: IANA zone for dates without an offset in this feed.
    timezone: str | None
    #: Line of the feed's key in the config file.
    line: int
    #: http(s) proxy for this feed; "" forces a direct connection; None: fetch.proxy.
    proxy: str | None = None
    #: The feed's image settings (``images:`` of the feed, its site, its category, the top).
    images: ImagePolicy = ImagePolicy()
    #: Where its posts' bodies come from (``fulltext:`` of the feed or the nearest level).
    fulltext: FullText = FULLTEXT_OFF
    #: The rules of the feed and the levels above it, merged (docs/rules.md); their
    #: ``max_age`` is folded into the feed's ``max_age`` (retention).
    rules: RuleSet = EMPTY_RULES
    #: Which copy of a story leads (issue #15): higher first, then the tree's order
    #: (``priority:`` of the feed or the nearest level; 0 when none).
    priority: int = 0
    #: How often the feed is fetched (``interval:`` of the feed or the nearest level;
    #: docs/watch.md). None: every ``feedsite run``, and ``watch.interval`` in a watch.
    interval: timedelta | None = None

    @property
    def key(self) -> str:
        """Stable identity in the state DB: a JSON array of category, site, name."""
        return _feed_key(self.category, self.site, self.name)

    @property
    def key_path(self) -> str:
        """The feed's key path in the config file, e.g. ``feeds.新媒体.观察者网.头条``."""
        return f"feeds.{self.category}.{self.site}.{self.name}"

    @property
    def label(self) -> str:
        """A human label, e.g. ``新媒体 › 观察者网 › 头条``."""
        return f"{self.category} › {self.site} › {self.name}"


@dataclass(frozen=True, slots=True)
class SiteConfig:
    """The ``site:`` section."""

    hexo_root: Path
    profile: Literal["default", "legacy"] = "default"
    timezone: str | None = None
    image_proxy: str | None = None
    placeholder: str = DEFAULT_PLACEHOLDER
    source_key: str = "source_url"
    #: Outputs: "hexo" (posts in <hexo_root>/source/_posts), "native" (feedsite's own site).
    targets: tuple[str, ...] = ("hexo",)
    #: The language of names taken from the RSSHub catalog: "zh" (the default) or "en".
    language: Literal["zh", "en"] = "zh"
    #: The Hexo posts of a story's other reports (issue #15): ``keep`` every post, ``link``
    #: them to each other (front matter ``sources`` and a footer), ``skip`` all but the lead's.
    dedupe: Literal["keep", "link", "skip"] = "keep"


@dataclass(frozen=True, slots=True)
class RsshubConfig:
    """The ``rsshub:`` section."""

    instances: tuple[str, ...] = ()
    access_key: str | None = None
    #: A copy of the route catalog (``rsshub.catalog``): a folder holding ``namespace.json``
    #: (and ``radar-rules.json``), or a ``namespace.json`` file; None: ask the instances.
    catalog: Path | None = None


@dataclass(frozen=True, slots=True)
class FetchConfig:
    """How the fetch stage behaves: the ``fetch:`` section plus its fixed knobs.

    The one settings object of the fetch stage: ``_fetch.fetch_all`` takes it as
    it is. Holds nothing that varies per run: the run deadline and the retry
    jitter are arguments of ``fetch_all``.

    Timeouts: ``connect_timeout`` bounds opening a connection, ``read_timeout``
    bounds each wait for data (headers or the next body bytes), and ``timeout``
    bounds one whole request (redirects and body included), so a server that
    trickles bytes is cut at ``timeout``. Each is capped by ``timeout``: a phase
    timeout not shorter than it is left to the total one.

    Retries: a transient failure (timeout, connection error or reset, truncated
    body, HTTP 408, 429 or 5xx) of one source is retried up to ``retries`` times
    after a capped exponential backoff with jitter (``backoff_base`` doubling up
    to ``backoff_cap``) before the next source is tried. A ``Retry-After`` on
    429/503 is slept instead when it is at most ``backoff_cap`` and ends before
    the run deadline; a longer one defers that source.

    Usage::

        FetchConfig()                               # the defaults of an empty fetch: section
        FetchConfig(timeout=5.0, retries=0, proxy="http://127.0.0.1:3128")

    Raises:
        ValueError: a setting is out of range, or ``proxy`` is not an http(s) proxy URL.
    """

    #: Requests in flight at once, over all hosts.
    concurrency: int = 8
    #: Requests in flight to one host (one RSSHub instance is not hammered).
    per_host: int = 2
    #: Seconds: total per request (and the cap of the two below); connecting; waiting for data.
    timeout: float = 30.0
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    #: Retries of a timeout, connection error, 408, 429 or 5xx before failing over.
    retries: int = 2
    #: The ``User-Agent`` header as configured; None: feedsite's (see ``user_agent_header``).
    user_agent: str | None = None
    #: http(s) proxy for every feed (a feed's own ``proxy`` overrides; "" = none).
    proxy: str | None = None
    # The fixed knobs below are not YAML keys.
    #: Fail a response once its decompressed body exceeds this many bytes.
    max_body: int = 20 * 1024 * 1024
    #: Redirects followed per request; a URL seen twice fails at once.
    max_redirects: int = 10
    #: Seconds before the first retry (before jitter).
    backoff_base: float = 0.5
    #: The longest backoff, and the longest ``Retry-After`` slept.
    backoff_cap: float = 8.0

    def __post_init__(self) -> None:
        at_least_one = {
            "concurrency": self.concurrency,
            "per_host": self.per_host,
            "max_body": self.max_body,
        }
        for name, value in at_least_one.items():
            if value < 1:
                raise ValueError(f"{name} must be at least 1, not {value}")
        for name, number in (
            ("timeout", self.timeout),
            ("connect_timeout", self.connect_timeout),
            ("read_timeout", self.read_timeout),
        ):
            if not number > 0:
                raise ValueError(f"{name} must be positive, not {number}")
        for name, count in (("retries", self.retries), ("max_redirects", self.max_redirects)):
            if count < 0:
                raise ValueError(f"{name} must not be negative, not {count}")
        if not 0 <= self.backoff_base <= self.backoff_cap:
            raise ValueError(
                f"need 0 <= backoff_base <= backoff_cap, not {self.backoff_base} "
                f"and {self.backoff_cap}"
            )
        check_proxy(self.proxy, "proxy")

    @property
    def user_agent_header(self) -> str:
        """The ``User-Agent`` sent: ``user_agent``, or ``feedsite/<version> (+<home page>)``."""
        return self.user_agent or _default_user_agent()


@dataclass(frozen=True, slots=True)
class CleanConfig:
    """The ``clean:`` section."""

    iframe_hosts: tuple[str, ...] = DEFAULT_IFRAME_HOSTS


@dataclass(frozen=True, slots=True)
class NativeConfig:
    """The native site (``feedsite build``)."""

    #: Output folder; default ``_site`` beside the config.
    out: Path
    title: str = "feedsite"
    #: Public URL of the site (feeds and sitemap need absolute URLs); may have a subpath.
    base_url: str = ""
    #: A folder of Jinja2 templates overriding the packaged ones by name.
    templates: Path | None = None
    per_page: int = 30
    search: bool = True
    #: The front page (issue #15): ``stream`` (cards, one per story), ``boards`` (one card
    #: per site with its newest titles) or ``both`` (the boards above the stream).
    home: Literal["stream", "boards", "both"] = "stream"


@dataclass(frozen=True, slots=True)
class WatchConfig:
    """The ``watch:`` section: the schedule of ``feedsite watch`` (docs/watch.md).

    A feed's interval (its ``interval:``, else ``interval`` here) is stretched by what the
    server says (RSS ``ttl``, ``Cache-Control: max-age``, ``Expires``) and by backoff after
    failures, then held within ``min_interval`` .. ``max_interval``.
    """

    #: The interval of feeds without an ``interval:`` of their own (in a watch).
    interval: timedelta = timedelta(minutes=15)
    #: No feed is fetched more often than this, whatever its interval or server says.
    min_interval: timedelta = timedelta(minutes=1)
    #: Every feed is fetched at least this often, whatever its server says or its failures.
    max_interval: timedelta = timedelta(hours=24)
    #: The targets are rebuilt at most once per this long (changes wait for the next build).
    build_every: timedelta = timedelta(seconds=60)


@dataclass(frozen=True, slots=True)
class Config:
    """A whole, validated configuration."""

    file: Path
    root: Path
    site: SiteConfig
    rsshub: RsshubConfig
    fetch: FetchConfig
    clean: CleanConfig
    state_path: Path
    feeds: tuple[FeedSpec, ...]
    warnings: tuple[str, ...]
    native: NativeConfig
    #: The top-level ``images:`` section (each feed's resolved policy is ``FeedSpec.images``).
    images: ImagesConfig
    #: Routes listed without names (``feeds:`` or a category or a site given as a list)
    #: that the ``names`` given to the parser did not name: they have no FeedSpec yet.
    bare_routes: tuple[BareRoute, ...] = ()
    #: The ``watch:`` section.
    watch: WatchConfig = WatchConfig()


@dataclass(frozen=True, slots=True)
class BareRoute:
    """A route listed without its names; the levels given above it are kept."""

    route: str
    category: str | None
    site: str | None
    #: ``feeds[2]``, ``feeds.新媒体[0]``...
    key_path: str
    line: int

    @property
    def key(self) -> tuple[str, str | None, str | None]:
        """What the names of :func:`parse_config` are looked up by."""
        return (self.route, self.category, self.site)


#: Names for bare routes: by :attr:`BareRoute.key`, (category, site, feed) from the catalog.
RouteNames = Mapping[tuple[str, str | None, str | None], tuple[str, str, str]]


@dataclass(frozen=True, slots=True)
class _Defaults:
    items_per_feed: int
    keep: int | None
    max_age: timedelta | None
    timezone: str | None


def check_proxy(proxy: str | None, where: str) -> None:
    """Reject a proxy URL that is not ``http(s)://host[:port]``.

    ``None`` and ``""`` are accepted (no proxy / a direct connection). The same rule
    as a ``proxy:`` key of the file, for values built in code.

    Args:
        proxy: the proxy URL to check.
        where: the setting's name, for the error message.

    Raises:
        ValueError: the URL has another scheme, no host or a bad port.
    """
    if proxy and _url_problem(proxy, ("http", "https")):
        raise ValueError(f"{where} must be an http:// or https:// proxy URL with a host")


@cache
def _default_user_agent() -> str:
    """Return ``feedsite/<version> (+<home page>)``; version ``0`` when not installed."""
    try:
        import importlib.metadata  # only when a request needs the header: 25 ms at start

        version = importlib.metadata.version("feedsite")
    except importlib.metadata.PackageNotFoundError:
        version = "0"
    return f"feedsite/{version} (+{_HOME})"


def load_config(
    path: str | os.PathLike[str],
    *,
    environ: Mapping[str, str] | None = None,
    names: RouteNames | None = None,
) -> Config:
    """Read and validate a config file.

    Args:
        path: the YAML file; relative paths inside it are resolved against its folder.
        environ: variables for ``${VAR}``; defaults to ``os.environ``.
        names: names of routes listed without them (``Config.bare_routes`` lists those
            it does not name; ``feedsite._run._catalog.load_named`` supplies them).

    Returns:
        The validated configuration.

    Raises:
        ConfigError: the file cannot be read, is not UTF-8, or is invalid.
    """
    label = os.fspath(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(
            f"cannot read the config file: {exc.strerror or exc}", file=label
        ) from exc
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError("the file is not UTF-8 text", line=line, file=label) from exc
    return _build(text, Path(os.path.abspath(path)), label, environ, names)


def parse_config(
    text: str,
    *,
    file: Path,
    environ: Mapping[str, str] | None = None,
    names: RouteNames | None = None,
) -> Config:
    """Validate config text as if it had been read from ``file``.

    Args:
        text: the YAML text.
        file: where it (nominally) lives: relative paths resolve against its folder,
            and messages name it. Nothing is read from disk.
        environ: variables for ``${VAR}``; defaults to ``os.environ``.
        names: as for :func:`load_config`.

    Returns:
        The validated configuration.

    Raises:
        ConfigError: the text is invalid.
    """
    return _build(text, Path(os.path.abspath(file)), str(file), environ, names)


def _build(
    text: str,
    file: Path,
    label: str,
    environ: Mapping[str, str] | None,
    names: RouteNames | None = None,
) -> Config:
    r = Reader(label, os.environ if environ is None else environ, max_values=MAX_VALUES)
    tree = r.parse(text)
    if tree is None:
        r.fail("the file is empty: expected a mapping with at least a feeds: section", "", None)
    top = r.keys(tree, "", _TOP_KEYS, what="a mapping of sections (" + ", ".join(_TOP_KEYS) + ")")
    root = file.parent
    site_keys = r.keys(_value(top, "site"), "site", _SITE_KEYS)
    site = _site(r, site_keys, root)
    rs = r.keys(_value(top, "rsshub"), "rsshub", _RSSHUB_KEYS)
    rsshub = RsshubConfig(
        instances=tuple(_instances(r, rs.get("instances"), "rsshub.instances")),
        access_key=r.text(rs.get("access_key"), "rsshub.access_key") or None,
        catalog=r.path(rs.get("catalog"), "rsshub.catalog", root),
    )
    fetch = _fetch(r, r.keys(_value(top, "fetch"), "fetch", _FETCH_KEYS))
    hosts = r.keys(_value(top, "clean"), "clean", ("iframe_hosts",)).get("iframe_hosts")
    clean = (
        CleanConfig()
        if hosts is None or is_null(hosts.value)
        else CleanConfig(tuple(_hosts(r, hosts, "clean.iframe_hosts")))
    )
    state_path = _state(r, r.keys(_value(top, "state"), "state", ("path",)), root, site.hexo_root)
    images = _images(
        r,
        r.keys(_value(top, "images"), "images", _IMAGE_KEYS),
        root,
        site,
        site_keys.get("image_proxy"),
        state_path,
    )
    d = r.keys(_value(top, "defaults"), "defaults", _OPTION_KEYS)
    defaults = _Defaults(
        items_per_feed=r.integer(d.get("items_per_feed"), "defaults.items_per_feed", 1, _MAX_ITEMS)
        or 15,
        keep=r.integer(d.get("keep"), "defaults.keep", 1, _MAX_ITEMS),
        max_age=read_duration(r, d.get("max_age"), "defaults.max_age"),
        timezone=_timezone(r, d.get("timezone"), "defaults.timezone"),
    )
    top_rules = top.get("rules")
    inherited = _Inherited(
        images.policy,
        _fulltext(r, top.get("fulltext"), "fulltext") or FULLTEXT_OFF,
        () if top_rules is None else (read_rules(r, top_rules.value, "rules"),),
    )
    feeds, bare = _Tree(r, root, bool(rsshub.instances), defaults, names or {}).read(
        top.get("feeds"), inherited
    )
    if site.timezone is None and all(f.timezone is None for f in feeds):
        r.warnings.append(NO_TIMEZONE_WARNING)
    native = _native(r, r.keys(_value(top, "native"), "native", _NATIVE_KEYS), root)
    watch = _watch(r, r.keys(_value(top, "watch"), "watch", _WATCH_KEYS))
    return Config(
        file,
        root,
        site,
        rsshub,
        fetch,
        clean,
        state_path,
        feeds,
        tuple(r.warnings),
        native,
        images,
        bare,
        watch,
    )


def _interval(r: Reader, entry: Entry | None, path: str) -> timedelta | None:
    """Read an interval: ``30s``, ``15m``, ``2h``, ``1d`` (a unit is required); None when
    absent or null."""
    if entry is not None and isinstance(entry.value, Scalar):
        raw = entry.value.value
        if isinstance(raw, int | float) and not isinstance(raw, bool):
            r.fail(
                f'expected a duration with its unit, like "15m", "90s" or "2h", got {raw}'
                f' (write "{raw}s" for seconds)',
                path,
                entry.value.line,
            )
    return read_duration(r, entry, path, example="15m")


def _watch(r: Reader, s: dict[str, Entry]) -> WatchConfig:
    d = WatchConfig()
    values = {key: _interval(r, s.get(key), f"watch.{key}") for key in _WATCH_KEYS}
    watch = WatchConfig(
        interval=values["interval"] or d.interval,
        min_interval=values["min_interval"] or d.min_interval,
        max_interval=values["max_interval"] or d.max_interval,
        build_every=values["build_every"] or d.build_every,
    )
    if watch.min_interval > watch.max_interval:
        entry = s.get("min_interval") or s.get("max_interval")
        r.fail(
            f"min_interval ({watch.min_interval}) is longer than max_interval"
            f" ({watch.max_interval})",
            "watch.min_interval" if "min_interval" in s else "watch.max_interval",
            None if entry is None else entry.value.line,
        )
    return watch


def _native(r: Reader, s: dict[str, Entry], root: Path) -> NativeConfig:
    base_entry = s.get("base_url")
    base_url = r.one_line(base_entry, "native.base_url") or ""
    if base_url and base_entry is not None:
        base_url = _http_url(
            r, base_url, "native.base_url", base_entry.value.line, "the site's URL"
        )
    search = r.choice(s.get("search"), "native.search", ("true", "false"))
    return NativeConfig(
        out=r.path(s.get("out"), "native.out", root) or root / "_site",
        title=r.one_line(s.get("title"), "native.title") or "feedsite",
        base_url=base_url.rstrip("/"),
        templates=r.path(s.get("templates"), "native.templates", root),
        per_page=r.integer(s.get("per_page"), "native.per_page", 1, 500) or 30,
        search=search != "false",
        home=_HOME_OF[r.choice(s.get("home"), "native.home", _HOMES) or "stream"],
    )


def _value(entries: dict[str, Entry], key: str) -> Node | None:
    entry = entries.get(key)
    return None if entry is None else entry.value


def _site(r: Reader, s: dict[str, Entry], root: Path) -> SiteConfig:
    profile = r.choice(s.get("profile"), "site.profile", _PROFILES)
    proxy_entry = s.get("image_proxy")
    proxy = r.text(proxy_entry, "site.image_proxy") or None
    if proxy is not None and proxy_entry is not None:
        proxy = _http_url(r, proxy, "site.image_proxy", proxy_entry.value.line, "a URL prefix")
    return SiteConfig(
        hexo_root=r.path(s.get("hexo_root"), "site.hexo_root", root) or root / "blog",
        profile="legacy" if profile == "legacy" else "default",
        timezone=_timezone(r, s.get("timezone"), "site.timezone"),
        image_proxy=proxy,
        placeholder=_placeholder(r, s.get("placeholder"), "site.placeholder")
        or DEFAULT_PLACEHOLDER,
        source_key=_front_matter_key(r, s.get("source_key"), "site.source_key") or "source_url",
        targets=_targets(r, s.get("targets")),
        language="en"
        if r.choice(s.get("language"), "site.language", ("zh", "en")) == "en"
        else "zh",
        dedupe=_DEDUPE_OF[r.choice(s.get("dedupe"), "site.dedupe", _DEDUPE) or "keep"],
    )


def _targets(r: Reader, entry: Entry | None) -> tuple[str, ...]:
    chosen = []
    for text, path, line in r.text_list(entry, "site.targets", "a target", "targets"):
        if text not in _TARGETS:
            r.fail(f'expected "hexo" or "native", got "{text}"', path, line)
        if text not in chosen:
            chosen.append(text)
    return tuple(chosen) or ("hexo",)


def _fetch(r: Reader, s: dict[str, Entry]) -> FetchConfig:
    d = FetchConfig()
    concurrency = r.integer(s.get("concurrency"), "fetch.concurrency", 1, 64)
    per_host = r.integer(s.get("per_host"), "fetch.per_host", 1, 64)
    retries = r.integer(s.get("retries"), "fetch.retries", 0, 10)
    seconds = "a number of seconds > 0"
    timeout = r.number(s.get("timeout"), "fetch.timeout", what=seconds)
    connect = r.number(s.get("connect_timeout"), "fetch.connect_timeout", what=seconds)
    read = r.number(s.get("read_timeout"), "fetch.read_timeout", what=seconds)
    return FetchConfig(
        concurrency=d.concurrency if concurrency is None else concurrency,
        per_host=d.per_host if per_host is None else per_host,
        timeout=d.timeout if timeout is None else timeout,
        connect_timeout=d.connect_timeout if connect is None else connect,
        read_timeout=d.read_timeout if read is None else read,
        retries=d.retries if retries is None else retries,
        user_agent=r.one_line(s.get("user_agent"), "fetch.user_agent"),
        proxy=_proxy(r, s.get("proxy"), "fetch.proxy"),
    )


def _proxy(r: Reader, entry: Entry | None, path: str) -> str | None:
    """An http(s) proxy URL; "" means "no proxy" (to override a global one per feed)."""
    text = r.one_line(entry, path)
    if entry is not None and not is_null(entry.value) and text is None:
        return ""
    if text is None or entry is None:
        return None
    return _http_url(r, text, path, entry.value.line, "a proxy URL")


def _state(r: Reader, s: dict[str, Entry], root: Path, hexo_root: Path) -> Path:
    entry = s.get("path")
    state_path = r.path(entry, "state.path", root) or root / ".feedsite" / "state.sqlite"
    for folder in ("source", "public"):
        published = hexo_root / folder
        if state_path == published or published in state_path.parents:
            hint = (
                " (the default, <config folder>/.feedsite/…; set state.path)" if not entry else ""
            )
            r.fail(
                f"the state file must not lie under <hexo_root>/{folder}, where Hexo would "
                f"publish it; got {state_path}{hint}",
                "state.path",
                None if entry is None else entry.value.line,
            )
    return state_path


# -- images: (issue #12) ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _ImageLevel:
    """One level's ``images:`` settings as written; None / () where that level is silent."""

    mode: ImageMode | None
    proxy: str | None
    referer: tuple[tuple[str, str], ...]
    cover: Literal["generated", "placeholder"] | None
    #: Where ``mode`` is written, for "mode proxy needs a proxy URL".
    mode_path: str
    mode_line: int | None


def _images(
    r: Reader,
    s: dict[str, Entry],
    root: Path,
    site: SiteConfig,
    image_proxy: Entry | None,
    state_path: Path,
) -> ImagesConfig:
    """Read the top-level ``images:`` section (``s``: its entries, keys already checked)."""
    level = _image_level(r, s, "images")
    legacy = site.profile == "legacy"
    proxy_entry = s.get("proxy")
    if level.proxy is not None and site.image_proxy is not None and proxy_entry is not None:
        where = "" if image_proxy is None else f" (line {image_proxy.line})"
        r.fail(
            f"images.proxy and site.image_proxy{where} are both set; site.image_proxy is the "
            "older spelling of images.proxy: keep one",
            "images.proxy",
            proxy_entry.value.line,
        )
    proxy = level.proxy or site.image_proxy
    # site.image_proxy alone keeps meaning what it always did: images go through the proxy.
    default_mode: ImageMode = "hotlink" if legacy else "local"
    mode = level.mode or ("proxy" if site.image_proxy else default_mode)
    if mode == "proxy" and proxy is None:
        r.fail(_NEEDS_PROXY, level.mode_path, level.mode_line)
    if legacy and level.mode == "local":
        r.warn(
            "profile legacy: legacy posts keep hotlinking their images, byte-identical to the "
            "old script's; mode local applies only to the native site",
            level.mode_path,
            level.mode_line,
        )
    d = ImagesConfig(dir=Path())
    max_total = _size(r, s.get("max_total"), "images.max_total", 1024**2, None)
    max_size = _size(r, s.get("max_size"), "images.max_size", 1024, 1024**3)
    pixels = r.integer(s.get("max_pixels"), "images.max_pixels", 10_000, 1_000_000_000)
    width = r.integer(s.get("width"), "images.width", 64, 8192)
    budget = _budget(r, s.get("time_budget"), "images.time_budget")
    return ImagesConfig(
        dir=_images_dir(r, s.get("dir"), root, site, state_path),
        max_total=d.max_total if max_total is None else max_total,
        max_size=d.max_size if max_size is None else max_size,
        max_pixels=d.max_pixels if pixels is None else pixels,
        width=d.width if width is None else width,
        time_budget=d.time_budget if budget is None else budget,
        policy=ImagePolicy(
            mode=mode,
            proxy=proxy,
            referer=level.referer,
            cover=level.cover or ("placeholder" if legacy else "generated"),
        ),
    )


_NEEDS_PROXY = (
    "mode proxy needs a URL prefix: set proxy beside it, in a level above, in the top-level "
    'images: section or as site.image_proxy (e.g. proxy: "https://images.weserv.nl/?url=")'
)


def _images_dir(
    r: Reader, entry: Entry | None, root: Path, site: SiteConfig, state_path: Path
) -> Path:
    """Read ``images.dir``; default ``<hexo_root>/source/feedsite-images`` or beside the state."""
    folder = r.path(entry, "images.dir", root)
    line = None if entry is None else entry.value.line
    hint = ""
    if folder is None:
        hexo = "hexo" in site.targets
        folder = (
            site.hexo_root / "source" / "feedsite-images" if hexo else state_path.parent / "images"
        )
        hint = f" (the default, {folder}; set images.dir)"
    if folder == state_path or folder in state_path.parents:
        r.fail(
            f"the images folder must not hold the state file {state_path}; got {folder}{hint}",
            "images.dir",
            line,
        )
    posts = site.hexo_root / "source" / "_posts"
    if folder == posts or posts in folder.parents or folder in posts.parents:
        r.fail(
            "the images folder must be apart from <hexo_root>/source/_posts, which holds the "
            f"posts (neither inside it nor holding it); got {folder}{hint}",
            "images.dir",
            line,
        )
    return folder


def _is_reserved(entry: Entry) -> bool:
    """Return True for a level's settings key (``images:``, ``fulltext:``) in a category or a
    site (not a site or feed name)."""
    return entry.key.strip() in _LEVEL_KEYS


@dataclass(frozen=True, slots=True)
class _Inherited:
    """The settings a level passes down to the levels under it."""

    images: ImagePolicy
    fulltext: FullText
    #: The ``rules:`` of the levels above, top first.
    rules: tuple[Rules, ...] = ()
    #: ``priority:`` of the nearest level above.
    priority: int = 0
    #: ``interval:`` of the nearest level above.
    interval: timedelta | None = None


def _level_settings(
    r: Reader, node: MapNode, path: str, child: str, parent: _Inherited
) -> _Inherited:
    """Apply the reserved entries of a category or site mapping, if any, to ``parent``."""
    images, fulltext, rules = parent.images, parent.fulltext, parent.rules
    priority, interval = parent.priority, parent.interval
    for entry in node.entries:
        key = entry.key.strip()
        if key == _RESERVED:
            images = _inherit(r, _level(r, entry, f"{path}.{_RESERVED}", child), parent.images)
        elif key == "fulltext":
            fulltext = _fulltext(r, entry, f"{path}.fulltext") or fulltext
        elif key == "rules":
            rules = (*rules, read_rules(r, entry.value, f"{path}.rules"))
        elif key == "priority":
            priority = _priority(r, entry, f"{path}.priority")
        elif key == "interval":
            interval = _interval(r, entry, f"{path}.interval") or interval
    return _Inherited(images, fulltext, rules, priority, interval)


def _priority(r: Reader, entry: Entry, path: str) -> int:
    """Read ``priority:``: an integer from -1000 to 1000 (higher leads a story)."""
    value = r.integer(entry, path, -_PRIORITY_MAX, _PRIORITY_MAX)
    return 0 if value is None else value


@lru_cache(maxsize=4096)
def _merged_rules(levels: tuple[Rules, ...], *, without_age: bool = False) -> RuleSet:
    """The merged rules of ``levels``: one object for every feed with the same levels (the
    run compiles each rule set once)."""
    rules = merge_rules(levels)
    return replace(rules, max_age=None) if without_age else rules


def _fulltext(r: Reader, entry: Entry | None, path: str) -> FullText | None:
    """Read ``fulltext:``: ``auto``, ``rsshub``, ``off`` or a CSS selector; None when null."""
    if entry is None or is_null(entry.value):
        return None
    value = entry.value
    if isinstance(value, Scalar) and isinstance(value.value, bool):  # YAML 1.1: off, no, false
        return FullText("auto") if value.value else FULLTEXT_OFF
    if not isinstance(value, Scalar) or not isinstance(value.value, str) or not value.text.strip():
        r.fail(
            f"expected auto, rsshub, off or a CSS selector, got {describe(value)}",
            path,
            entry.line,
        )
    text = value.text.strip()
    if text in _FULLTEXT_WORDS:
        return FullText("auto" if text == "auto" else "rsshub" if text == "rsshub" else "off")
    problem = selector_problem(text)
    if problem is not None:
        r.fail(
            f"{json.dumps(text, ensure_ascii=False)} is not auto, rsshub or off, nor a CSS "
            f"selector: {problem}",
            path,
            value.line,
        )
    return FullText("selector", text)


def _level(r: Reader, entry: Entry, path: str, child: str | None) -> _ImageLevel | None:
    """Read a category's, site's or feed's ``images:``; None when null.

    ``child`` names what a same-named entry would otherwise be (``site`` in a category,
    ``feed`` in a site), for the "reserved" hint; None for a feed's option.
    """
    value = entry.value
    if is_null(value):
        return None
    allowed = ", ".join(_IMAGE_LEVEL_KEYS)
    hint = (
        ""
        if child is None
        else f'; "{_RESERVED}" is reserved here for this level\'s image settings: '
        f'rename the {child} called "{_RESERVED}"'
    )
    if not isinstance(value, MapNode):
        r.fail(
            f"expected a mapping of image settings ({allowed}), got {describe(value)}{hint}",
            path,
            entry.line,
        )
    for item in value.entries:
        if item.key in _IMAGE_TOP_ONLY:
            r.fail(
                f"{item.key} is valid only in the top-level images: section (one budget for the "
                f"whole site); here: {allowed}",
                join(path, item.key),
                item.line,
            )
        if item.key not in _IMAGE_LEVEL_KEYS:
            r.fail(
                f'unknown key "{item.key}"{suggest(item.key, _IMAGE_LEVEL_KEYS)}; '
                f"allowed here: {allowed}{hint}",
                join(path, item.key),
                item.line,
            )
    return _image_level(r, r.keys(value, path, _IMAGE_LEVEL_KEYS), path)


def _image_level(r: Reader, s: dict[str, Entry], path: str) -> _ImageLevel:
    """Read ``mode``, ``proxy``, ``referer`` and ``cover`` of one level's entries ``s``."""
    mode_entry = s.get("mode")
    mode = r.choice(mode_entry, f"{path}.mode", _IMAGE_MODES)
    proxy_entry = s.get("proxy")
    proxy = r.text(proxy_entry, f"{path}.proxy", what="a URL prefix") or None
    if proxy is not None and proxy_entry is not None:
        proxy = _http_url(r, proxy, f"{path}.proxy", proxy_entry.value.line, "a URL prefix")
    cover = r.choice(s.get("cover"), f"{path}.cover", _COVERS)
    return _ImageLevel(
        mode=_MODES.get(mode or ""),
        proxy=proxy,
        referer=_referers(r, s.get("referer"), f"{path}.referer"),
        cover="placeholder" if cover == "placeholder" else "generated" if cover else None,
        mode_path=f"{path}.mode",
        mode_line=None if mode_entry is None else mode_entry.value.line,
    )


_MODES: dict[str, ImageMode] = {"local": "local", "proxy": "proxy", "hotlink": "hotlink"}


def _inherit(r: Reader, level: _ImageLevel | None, parent: ImagePolicy) -> ImagePolicy:
    """Resolve one level against its parent's policy: set keys win, referer rules merge.

    The level's ``referer`` rules come first, then the parent's for other patterns.
    """
    if level is None:
        return parent
    mode = level.mode or parent.mode
    proxy = level.proxy or parent.proxy
    if mode == "proxy" and proxy is None:  # only a mode set here can lack one (parents are valid)
        r.fail(_NEEDS_PROXY, level.mode_path, level.mode_line)
    own = {pattern for pattern, _ in level.referer}
    referer = level.referer + tuple(rule for rule in parent.referer if rule[0] not in own)
    return ImagePolicy(mode, proxy, referer, level.cover or parent.cover)


def _referers(r: Reader, entry: Entry | None, path: str) -> tuple[tuple[str, str], ...]:
    """Read ``referer:``, a mapping of host pattern → http(s) URL, ``article`` or ``none``."""
    if entry is None or is_null(entry.value):
        return ()
    value = entry.value
    if not isinstance(value, MapNode):
        r.fail(
            "expected a mapping of host patterns to Referers, like "
            f'"*.sinaimg.cn": https://weibo.com/, got {describe(value)}',
            path,
            value.line,
        )
    rules: dict[str, str] = {}
    lines: dict[str, int] = {}
    for item in value.entries:
        item_path = join(path, item.key)
        pattern = _host_pattern(item.key)
        if pattern is None:
            r.fail(
                'expected a host like "img.example.com" or a pattern like "*.example.com" '
                f"(quoted in YAML), got {quote(item.key)}",
                item_path,
                item.line,
            )
        if pattern in lines:
            r.fail(
                f'host pattern "{pattern}" appears twice: first at line {lines[pattern]}, '
                f"again at line {item.line}",
                item_path,
                item.line,
            )
        lines[pattern] = item.line
        what = 'a Referer: "article", "none" or a URL'
        text = r.text(item, item_path, what=what)
        if text is None:
            r.fail(f"expected {what}, got nothing (null)", item_path, item.value.line)
        if text not in _REFERER_WORDS:
            text = _http_url(r, text, item_path, item.value.line, what)
        rules[pattern] = text
    return tuple(rules.items())


def _host_pattern(text: str) -> str | None:
    """Return a host or ``*.suffix`` pattern lower-cased, or None when it is not one."""
    pattern = text.strip().lower()
    host = pattern.removeprefix("*.")
    return pattern if _HOST.match(host) else None


def _size(r: Reader, entry: Entry | None, path: str, low: int, high: int | None) -> int | None:
    """Read a size: ``800MB``, ``1.5GB``, ``500KB``, ``10 MB`` or whole bytes (KB = 1024)."""
    if entry is None or is_null(entry.value):
        return None
    value = entry.value
    raw = value.value if isinstance(value, Scalar) else None
    size: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        size = raw
    elif isinstance(raw, str) and (match := _SIZE.match(raw)):
        number, unit = match.group(1), (match.group(2) or "").lower()
        if "." not in number or unit[:1] in ("k", "m", "g"):  # bytes are whole
            size = round(float(number) * _SIZE_UNITS[unit[:1]])
    if size is None or size < low or (high is not None and size > high):
        bounds = (
            f"at least {_show_size(low)}"
            if high is None
            else (f"{_show_size(low)}..{_show_size(high)}")
        )
        r.fail(
            f'expected a size like "800MB", "1.5GB", "500KB" or a whole number of bytes '
            f"(KB = 1024), {bounds}, got {describe(value)}",
            path,
            value.line,
        )
    return size


def _show_size(size: int) -> str:
    for unit, factor in (("GB", 1024**3), ("MB", 1024**2), ("KB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} bytes"


def _budget(r: Reader, entry: Entry | None, path: str) -> float | None:
    """Read ``time_budget``: ``90s``, ``2m``, ``1h`` or whole seconds, 0..24h (0: no downloads)."""
    if entry is None or is_null(entry.value):
        return None
    value = entry.value
    raw = value.value if isinstance(value, Scalar) else None
    seconds: int | None = None
    if isinstance(raw, int) and not isinstance(raw, bool):
        seconds = raw
    elif isinstance(raw, str) and (match := _BUDGET.match(raw)):
        seconds = int(match.group(1)) * _BUDGET_UNITS[match.group(2)]
    if seconds is None or not 0 <= seconds <= _MAX_BUDGET:
        r.fail(
            'expected a duration like "2m", "90s" or "1h" (a whole number with unit s, m or h; '
            "a bare number means seconds; 0: no image downloads this run; at most 24h), "
            f"got {describe(value)}",
            path,
            value.line,
        )
    return float(seconds)


class _Tree:
    """Reads ``feeds:``: category → site → feed mappings, and routes listed without names
    (``feeds:``, a category or a site given as a list), named from ``names`` (the RSSHub
    catalog's, docs/catalog.md) or left in ``bare``."""

    def __init__(
        self, r: Reader, root: Path, has_instances: bool, d: _Defaults, names: RouteNames
    ) -> None:
        self.r, self.root, self.has_instances, self.d, self.names = r, root, has_instances, d, names
        self.specs: list[FeedSpec] = []
        self.bare: list[BareRoute] = []
        #: Where each (category, site, feed) was given: a second one is an error.
        self.taken: dict[tuple[str, str, str], int] = {}

    def read(
        self, entry: Entry | None, top: _Inherited
    ) -> tuple[tuple[FeedSpec, ...], tuple[BareRoute, ...]]:
        r = self.r
        if entry is None:
            r.fail(f"missing the required feeds: section ({_SHAPE})", "feeds", None)
        value = entry.value
        if is_null(value) or (isinstance(value, MapNode | SeqNode) and not _entries(value)):
            r.fail(
                f"expected at least one feed, got {describe(value)}; {_SHAPE}", "feeds", entry.line
            )
        if isinstance(value, SeqNode):
            self.listed(value, "feeds", None, None, top)
        elif not isinstance(value, MapNode):
            r.fail(
                f"expected a mapping of categories, got {describe(value)}; {_SHAPE}",
                "feeds",
                entry.line,
            )
        else:
            _check_feed_count(r, value)
            self.categories(value, top)
        if not self.specs and not self.bare:
            r.fail(f"expected at least one feed; {_SHAPE}", "feeds", entry.line)
        return tuple(self.specs), tuple(self.bare)

    def categories(self, tree: MapNode, top: _Inherited) -> None:
        r = self.r
        categories: dict[str, int] = {}
        for cat in tree.entries:
            category = _name(r, cat, "feeds", "category", categories)
            cat_path = f"feeds.{category}"
            if is_null(cat.value):
                r.warn(f"category {category} has no sites", cat_path, cat.line)
                continue
            if isinstance(cat.value, SeqNode):
                self.listed(cat.value, cat_path, category, None, top)
                continue
            if not isinstance(cat.value, MapNode):
                r.fail(
                    f"expected a mapping of sites, got {describe(cat.value)}; {_SHAPE}",
                    cat_path,
                    cat.line,
                )
            cat_policy = _level_settings(r, cat.value, cat_path, "site", top)
            if all(_is_reserved(e) for e in cat.value.entries):
                r.warn(f"category {category} has no sites", cat_path, cat.line)
            sites: dict[str, int] = {}
            for site_entry in cat.value.entries:
                if _is_reserved(site_entry):
                    continue
                site = _name(r, site_entry, cat_path, "site", sites)
                self.site(category, site, site_entry, cat_policy)

    def site(self, category: str, site: str, site_entry: Entry, cat_policy: _Inherited) -> None:
        r = self.r
        site_path = f"feeds.{category}.{site}"
        if is_null(site_entry.value):
            r.warn(f"site {site} has no feeds", site_path, site_entry.line)
            return
        if isinstance(site_entry.value, SeqNode):
            self.listed(site_entry.value, site_path, category, site, cat_policy)
            return
        if not isinstance(site_entry.value, MapNode):
            r.fail(
                f"expected a mapping of feed names under the site, got "
                f"{describe(site_entry.value)}; {_SHAPE}",
                site_path,
                site_entry.line,
            )
        site_policy = _level_settings(r, site_entry.value, site_path, "feed", cat_policy)
        if all(_is_reserved(e) for e in site_entry.value.entries):
            r.warn(f"site {site} has no feeds", site_path, site_entry.line)
        names: dict[str, int] = {}
        for feed in site_entry.value.entries:
            if _is_reserved(feed):
                continue
            name = _name(r, feed, site_path, "feed", names)
            self.add(category, site, name, feed, site_policy)

    def listed(
        self,
        seq: SeqNode,
        path: str,
        category: str | None,
        site: str | None,
        inherited: _Inherited,
    ) -> None:
        """Routes given without (some of) their names."""
        r = self.r
        for i, node in enumerate(seq.items):
            item_path = f"{path}[{i}]"
            if not isinstance(node, Scalar) or not isinstance(node.value, str):
                r.fail(
                    "expected an RSSHub route (its names come from the catalog), got "
                    f"{describe(node)}; a URL or options need a name: `name: https://…`",
                    item_path,
                    getattr(node, "line", None),
                )
            text = node.text.strip()
            if not text.startswith("/"):
                r.fail(
                    "a feed listed without a name must be an RSSHub route, "
                    f"got {_quote_url(text)}: "
                    "give it a name (`name: https://…`, or `name: {path: …}` for a file)",
                    item_path,
                    node.line,
                )
            _feed_source(r, text, item_path, node.line)
            bare = BareRoute(text, category, site, item_path, node.line)
            got = self.names.get(bare.key)
            if got is None:
                self.bare.append(bare)
                continue
            cat, site_name, feed = category or got[0], site or got[1], got[2]
            entry = Entry(feed, node.line, Scalar(text, text, node.line))
            self.add(cat, site_name, feed, entry, inherited, bare)

    def add(
        self,
        category: str,
        site: str,
        name: str,
        entry: Entry,
        inherited: _Inherited,
        bare: BareRoute | None = None,
    ) -> None:
        key = (category, site, name)
        if bare is not None and key in self.taken:
            self.r.fail(
                f"{bare.route} is named {category} › {site} › {name} by the catalog, as is the "
                f"feed at line {self.taken[key]}: give one of them its names",
                bare.key_path,
                bare.line,
            )
        self.taken.setdefault(key, entry.line)
        spec = _feed(
            self.r, category, site, name, entry, self.root, self.has_instances, self.d, inherited
        )
        self.specs.append(spec)


def _entries(node: MapNode | SeqNode) -> list[Entry] | list[Node]:
    return node.entries if isinstance(node, MapNode) else node.items


def _check_feed_count(r: Reader, tree: MapNode) -> None:
    """Refuse more than MAX_FEEDS feeds before any is read, naming the first one too many."""
    count = 0
    for cat in tree.entries:
        sites = cat.value.entries if isinstance(cat.value, MapNode) else []
        for site in sites:
            if _is_reserved(site):
                continue
            feeds = site.value.entries if isinstance(site.value, MapNode) else []
            feeds = [f for f in feeds if not _is_reserved(f)]
            if count + len(feeds) > MAX_FEEDS:
                feed = feeds[MAX_FEEDS - count]
                r.fail(
                    f"too many feeds: a config may list at most {MAX_FEEDS:,}; "
                    "split it into several configs (each with its own state.path)",
                    f"feeds.{cat.key}.{site.key}.{feed.key}",
                    feed.line,
                )
            count += len(feeds)


def _feed(
    r: Reader,
    category: str,
    site: str,
    name: str,
    entry: Entry,
    root: Path,
    has_instances: bool,
    d: _Defaults,
    inherited: _Inherited,
) -> FeedSpec:
    key_path = f"feeds.{category}.{site}.{name}"
    value = entry.value
    options: dict[str, Entry] = {}
    if isinstance(value, Scalar) and isinstance(value.value, str):
        route, url = _feed_source(r, value.text, key_path, value.line)
        if url is not None and url[:5].lower() == "file:":
            r.require_set(value, key_path, "a file")
    elif isinstance(value, MapNode):
        options = r.keys(value, key_path, _FEED_KEYS, what="a feed mapping")
        given = [k for k in _SOURCE_KEYS if k in options]
        if len(given) != 1:
            found = "none" if not given else " and ".join(given)
            r.fail(
                f"expected exactly one of route, url or path, found {found}", key_path, entry.line
            )
        kind, source = given[0], options[given[0]]
        source_path = f"{key_path}.{kind}"
        text = r.text(source, source_path, what=f"a {kind}")
        if text is None:
            r.fail(f"expected a {kind}, got nothing (null)", source_path, source.value.line)
        if kind == "path":
            file_path = r.path(source, source_path, root)
            route, url = None, None if file_path is None else file_path.as_uri()
        else:
            route, url = _feed_source(r, text, source_path, source.value.line)
            if url is not None and url[:5].lower() == "file:":
                r.require_set(source.value, source_path, "a file")
            if (route is not None) != (kind == "route"):
                other = "url: for a URL" if kind == "route" else "route: for an RSSHub route"
                r.fail(
                    f"expected a {kind}, got {json.dumps(text, ensure_ascii=False)}; use {other}",
                    source_path,
                    source.value.line,
                )
    else:
        r.fail(
            f"{_ACCEPTED_SOURCES}, or a mapping with route, url or path; got {describe(value)}",
            key_path,
            entry.line,
        )
    if route is not None and not has_instances:
        r.fail(f"route {route} needs rsshub.instances", key_path, entry.line)
    items = r.integer(options.get("items_per_feed"), f"{key_path}.items_per_feed", 1, _MAX_ITEMS)
    items = d.items_per_feed if items is None else items
    keep = r.integer(options.get("keep"), f"{key_path}.keep", 1, _MAX_ITEMS) or d.keep or items
    max_age = (
        read_duration(r, options["max_age"], f"{key_path}.max_age")
        if "max_age" in options
        else d.max_age
    )
    timezone = _timezone(r, options.get("timezone"), f"{key_path}.timezone") or d.timezone
    proxy = _proxy(r, options.get("proxy"), f"{key_path}.proxy")
    policy = inherited.images
    images = options.get(_RESERVED)
    if images is not None:
        policy = _inherit(r, _level(r, images, f"{key_path}.images", None), policy)
    fulltext = _fulltext(r, options.get("fulltext"), f"{key_path}.fulltext")
    if fulltext is not None and fulltext.mode == "rsshub" and route is None:
        r.fail(
            "fulltext: rsshub asks RSSHub for the full text of a route; this feed is a URL "
            "(use auto or a CSS selector)",
            f"{key_path}.fulltext",
            options["fulltext"].line,
        )
    if fulltext is None:
        fulltext = inherited.fulltext
        if fulltext.mode == "rsshub" and route is None:
            fulltext = FULLTEXT_OFF  # a level's `rsshub` concerns its routes only
    levels = inherited.rules
    if "rules" in options:
        levels = (*levels, read_rules(r, options["rules"].value, f"{key_path}.rules"))
    rules = _merged_rules(levels) if levels else EMPTY_RULES
    if rules.max_age is not None:  # an age rule is retention: such posts are pruned
        max_age = rules.max_age if max_age is None else min(max_age, rules.max_age)
        rules = _merged_rules(levels, without_age=True)
    return FeedSpec(
        category,
        site,
        name,
        route,
        url,
        items,
        keep,
        max_age,
        timezone,
        entry.line,
        proxy,
        images=policy,
        fulltext=fulltext,
        rules=rules,
        priority=_priority(r, options["priority"], f"{key_path}.priority")
        if "priority" in options
        else inherited.priority,
        interval=_interval(r, options.get("interval"), f"{key_path}.interval")
        or inherited.interval,
    )


# -- the rules of values --------------------------------------------------------


def _timezone(r: Reader, entry: Entry | None, path: str) -> str | None:
    """Read an IANA time zone name; None when missing or null."""
    name = r.text(entry, path, what="an IANA time zone name")
    if name is None or entry is None:
        return None
    if not _check_timezone(name):
        hint = suggest(name, _zone_names())
        r.fail(
            f'expected an IANA time zone name like "Asia/Shanghai", got {describe(entry.value)}'
            + hint,
            path,
            entry.value.line,
        )
    return name


def _name(r: Reader, entry: Entry, parent: str, kind: str, seen: dict[str, int]) -> str:
    """Read a category / site / feed name: stripped, non-empty, unique in ``seen``."""
    name = entry.key.strip()
    if not name:
        r.fail(f"a {kind} name must not be empty", join(parent, entry.key), entry.line)
    if has_control(name):
        r.fail(f"a {kind} name must not contain control characters", join(parent, name), entry.line)
    if name in seen:
        r.fail(
            f'{kind} "{name}" appears twice: first at line {seen[name]}, '
            f"again at line {entry.line}",
            join(parent, name),
            entry.line,
        )
    seen[name] = entry.line
    return name


def _quote_url(text: str) -> str:
    """:func:`quote` of a value meant as a URL, with what may be a secret hidden first:
    everything before its last ``@`` (user names and passwords, with or without a scheme,
    whatever characters they hold) and secret query values (``?key=***``). Before the cut
    to 80 characters, so no prefix of a secret is left either."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        scheme, rest = "", text
    if "@" in rest:
        rest = "***" + rest[rest.rindex("@") :]
    return quote(redact(scheme + sep + rest))


def _http_url(r: Reader, text: str, path: str, line: int, what: str) -> str:
    """Check an http(s) URL with a host; returns it unchanged."""
    if _url_problem(text, ("http", "https")):
        r.fail(f"expected {what} (an http:// or https:// URL), got {_quote_url(text)}", path, line)
    return text


def _instances(r: Reader, entry: Entry | None, path: str) -> list[str]:
    """Read RSSHub base URLs: http(s), trailing "/" stripped, no query, deduplicated."""
    out: list[str] = []
    for text, item_path, line in r.text_list(entry, path, "a URL", "URLs"):
        base = _http_url(r, text, item_path, line, "an RSSHub instance URL").rstrip("/")
        if "?" in base or "#" in base:
            r.fail(
                f"expected an RSSHub base URL without ?query or #fragment, got {_quote_url(text)}",
                item_path,
                line,
            )
        if base not in out:
            out.append(base)
    return out


def _hosts(r: Reader, entry: Entry | None, path: str) -> list[str]:
    """Read host names: lower-cased, deduplicated."""
    out: list[str] = []
    for text, item_path, line in r.text_list(entry, path, "a host name", "host names"):
        host = text.strip().lower()
        if not _HOST.match(host):
            r.fail(
                f'expected a host name like "player.bilibili.com", got {quote(text)}',
                item_path,
                line,
            )
        if host not in out:
            out.append(host)
    return out


def _placeholder(r: Reader, entry: Entry | None, path: str) -> str | None:
    """Read a cover URL template whose only fields are ``{n}`` and ``{id}``."""
    text = r.text(entry, path, what="a URL template")
    if text is None or entry is None:
        return None
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
        bad = next((f for f in fields if f not in ("n", "id")), None)
        if bad is None:
            text.format(n=1, id="0")
    except (ValueError, KeyError, IndexError, TypeError, AttributeError):
        bad = "?"  # unbalanced braces, or a format spec that fails
    if bad is not None or not text.strip():
        found = f"{{{bad}}} in " if bad not in (None, "?") else ""
        r.fail(
            "expected a cover URL whose only fields are {n} (1..1000) and {id} "
            f"(write {{{{ and }}}} for literal braces), got {found}{quote(text)}",
            path,
            entry.value.line,
        )
    return text


def _front_matter_key(r: Reader, entry: Entry | None, path: str) -> str | None:
    """Read a front-matter key (letters, digits, ``_``, ``-``)."""
    text = r.text(entry, path)
    if text is not None and entry is not None and not _FRONT_MATTER_KEY.match(text):
        r.fail(
            "expected a front-matter key (letters, digits, _ and -, not starting "
            f"with a digit), got {quote(text)}",
            path,
            entry.value.line,
        )
    return text


def _feed_source(r: Reader, text: str, path: str, line: int) -> tuple[str | None, str | None]:
    """Classify a feed string as ``(route, None)`` or ``(None, url)``.

    A string starting with "/" is always an RSSHub route; otherwise it must be an
    http(s) URL with a host or a file URL with an absolute path.
    """
    if text.startswith("/"):
        if text.startswith("//") or len(text) < 2 or _BAD_ROUTE_CHAR.search(text):
            r.fail(
                f'expected an RSSHub route like "/guancha/headline", got {quote(text)}',
                path,
                line,
            )
        return text, None
    if _url_problem(text, ("http", "https", "file")):
        hint = ""
        bare = text.strip()
        if bare and not _scheme(text):
            if _FILE_LIKE.search(bare):  # a file next to the config, not a route
                hint = f" (a local file? write `{{path: {bare}}}`)"
            else:
                hint = f' (did you mean "/{bare}"?)'
        r.fail(f"{_ACCEPTED_SOURCES}, got {_quote_url(text)}{hint}", path, line)
    return None, text


@cache
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _check_timezone(name: str) -> bool:
    """Return True when ``name`` is an IANA time zone ZoneInfo can load."""
    # The shape check first: ZoneInfo falls back to importing tzdata.zoneinfo.<parts>,
    # which recurses without bound on names with many "/" parts.
    if name in _NOT_IANA or len(name) > 64 or not _ZONE_SHAPE.match(name):
        return False
    try:
        zoneinfo.ZoneInfo(name)
    except (ValueError, OSError, KeyError, ImportError, RecursionError):
        return False  # ZoneInfoNotFoundError is a KeyError
    return True


def _url_problem(text: str, schemes: tuple[str, ...]) -> bool:
    """Return True unless ``text`` is a URL with one of ``schemes``.

    http(s) URLs need a host; file URLs need an absolute path (the host may be empty).
    """
    if not text or _BAD_ROUTE_CHAR.search(text):
        return True
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return True
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        return True
    if scheme == "file":
        return not parts.path.startswith("/")
    return not parts.hostname


def _scheme(text: str) -> str:
    try:
        return urlsplit(text).scheme
    except ValueError:
        return ""
