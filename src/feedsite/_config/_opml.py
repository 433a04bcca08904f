"""OPML subscription lists → a proposal for the feed tree (private). Pure: bytes in, values out.

Reads what feed readers export (Feedly, Inoreader, NetNewsWire, Miniflux, FreshRSS,
Thunderbird, feedsite's own ``opml.xml``) and proposes where each feed goes in feedsite's
three-level tree (category → site → feed). Writes nothing: the caller shows the proposal and
adds it to ``feedsite.yaml`` (:func:`feedsite._config._edit.add_feeds`).

The mapping (docs/opml.md)::

    folders above a feed   category            site                    feed
    none (a flat list)     default_category    the feed's name         feed_name ("全部")
    one: A                 A                   the feed's name         feed_name ("全部")
    two: A > B             A                   B                       the feed's name
    more: A > B > C …      A                   "B › C › …"             the feed's name

* A folder is an outline without ``xmlUrl`` that has outlines inside; a folder without a
  name is transparent (its outlines count as its parent's).
* A name is ``title``, else ``text``, else the host of ``htmlUrl``, else of ``xmlUrl``;
  HTML entities are decoded once more (exporters that escape twice write ``&amp;amp;``),
  control characters dropped, whitespace collapsed, and cut to :data:`MAX_NAME` characters.
* Folders of the same name are one category (one site): they merge. A site made from a
  feed's name never merges: a taken name gets " (2)", " (3)" …, and so does a feed name
  taken in its site, or a name feedsite reserves at that level (``images``, ``fulltext``,
  ``rules``).
* Skipped, each reported as ``(what, why)``: an outline without ``xmlUrl`` (folders aside),
  a URL that is not http(s) with a host, an ``xmlUrl`` met before (exact text), an
  ``include`` or a non-feed ``type`` (``link``, FreshRSS's ``HTML+XPath`` …).

The XML parser is lxml's, hardened: no network, no DTD loading, no entity expansion beyond
XML's predefined five and character references, no huge trees; a "billion laughs" or any
file that declares entities (``<!ENTITY``) is refused, since libxml2 expands internal entities
in attribute values whatever its options say. Before parsing, a bare ``&`` that starts no
reference becomes ``&amp;`` and an HTML named entity (``&nbsp;``, ``&eacute;``) its character
reference: both are common in hand-made and older exports and would otherwise make the file
unreadable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Container
from dataclasses import dataclass
from urllib.parse import urlsplit

from lxml import etree

from feedsite._config._edit import RESERVED_NAMES
from feedsite.errors import FeedsiteError

__all__ = ["OpmlError", "OpmlFeed", "OpmlImport", "read_opml"]

#: Longer names are cut (with "…"): a name becomes a folder on disk, and 255 bytes is the
#: usual limit of one (80 CJK characters are 240 bytes in UTF-8).
MAX_NAME = 80
#: Joins the folders below the category into one site name (deeper nesting).
SITE_JOIN = " › "
#: Outline types that are not feeds (lower-cased); a type containing "xpath" or
#: "dotnotation" (FreshRSS's web-scraping feeds) is not either.
_NOT_FEEDS = frozenset(("link", "include", "html", "text"))
#: ``<!ENTITY`` in the encodings a byte search can see (UTF-8 and kin, UTF-16 both ways).
_ENTITY_DECLARATIONS = tuple("<!ENTITY".encode(c) for c in ("ascii", "utf-16-le", "utf-16-be"))
_XML_ENTITIES = frozenset((b"amp", b"lt", b"gt", b"quot", b"apos"))
#: ``&`` followed by a name and ``;``, a character reference, or nothing valid.
_AMP = re.compile(rb"&(?:([A-Za-z][A-Za-z0-9]{0,31});|#[0-9]{1,8};|#[xX][0-9A-Fa-f]{1,8};)?")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_BAD_URL_CHAR = re.compile(r"[\s\x00-\x1f\x7f]")


class OpmlError(FeedsiteError, ValueError):
    """The bytes are not an OPML file that can be read (names the reason and the line)."""


@dataclass(frozen=True, slots=True)
class OpmlFeed:
    """One feed of the file, placed in the tree. Does not check the tree of a config."""

    #: Category name (first level).
    category: str
    #: Site name (second level).
    site: str
    #: Feed name (third level).
    name: str
    #: The outline's ``xmlUrl``: an http(s) URL with a host, as the file wrote it (trimmed).
    url: str


@dataclass(frozen=True, slots=True)
class OpmlImport:
    """What a file proposes: the feeds in document order, and what was left out and why."""

    #: Feeds to add, unique by URL and by (category, site, name).
    feeds: tuple[OpmlFeed, ...]
    #: ``(what, why)``: ``what`` is the outline's place ("Tech › Example"), ``why`` the reason.
    skipped: tuple[tuple[str, str], ...]


def read_opml(
    data: bytes, *, default_category: str = "导入", feed_name: str = "全部"
) -> OpmlImport:
    """Read an OPML file and propose a place in the tree for each of its feeds.

    Args:
        data: the file's bytes (any encoding its XML declaration names).
        default_category: the category of feeds outside any folder (a flat list).
        feed_name: the feed name of a site made from one feed (feeds with fewer than two
            folders above them).

    Returns:
        The feeds and the skipped outlines, in document order.

    Raises:
        OpmlError: not well-formed XML, or the root is not ``<opml>`` with a ``<body>``.
    """
    root = _parse(data)
    if _local(root.tag) != "opml":
        raise OpmlError(f"not an OPML file: the root element is <{_local(root.tag)}>, not <opml>")
    body = next((el for el in root if _local(el.tag) == "body"), None)
    if body is None:
        raise OpmlError("not an OPML file: <opml> has no <body>")
    walker = _Walker(_clean_name(default_category) or "导入", _clean_name(feed_name) or "全部")
    walker.walk(body, ())
    return OpmlImport(tuple(walker.feeds), tuple(walker.skipped))


def _parse(data: bytes) -> etree._Element:
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    # libxml2 expands internal entities inside attribute values whatever the parser's
    # options say: a file that declares entities is refused before parsing (OPML needs none).
    if any(mark in data for mark in _ENTITY_DECLARATIONS):
        raise OpmlError("the file declares XML entities (<!ENTITY …>); OPML needs none")
    try:
        root = etree.fromstring(_fix_ampersands(data), parser)
    except etree.XMLSyntaxError as exc:
        raise OpmlError(f"not well-formed XML: {exc.msg}") from exc
    dtd = root.getroottree().docinfo.internalDTD
    # (an encoding the byte search above cannot see; lxml-stubs do not know iterentities)
    if dtd is not None and any(True for _ in dtd.iterentities()):  # type: ignore[union-attr]
        raise OpmlError("the file declares XML entities (<!ENTITY …>); OPML needs none")
    return root


def _fix_ampersands(data: bytes) -> bytes:
    """Make ``&`` that XML would refuse readable: a bare ``&`` → ``&amp;``, an HTML named
    entity → its numeric character reference. Well-formed XML passes unchanged (it holds
    neither); only ASCII-compatible encodings are touched (in UTF-16 nothing matches)."""

    def fix(match: re.Match[bytes]) -> bytes:
        name = match.group(1)
        if match.group(0) == b"&":
            return b"&amp;"
        if name is None or name in _XML_ENTITIES:
            return match.group(0)
        entity = "&" + name.decode("ascii") + ";"
        char = html.unescape(entity)
        if char == entity:
            return match.group(0)  # not HTML's: the document's own DTD entity, or an error
        return "".join(f"&#{ord(c)};" for c in char).encode("ascii")

    return _AMP.sub(fix, data) if b"&" in data else data


def _local(tag: object) -> str:
    """An element's name without its namespace; "" for comments and processing instructions."""
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def _attributes(el: etree._Element) -> dict[str, str]:
    """The un-namespaced attributes, names lower-cased (``xmlURL`` and ``xmlurl`` occur)."""
    out: dict[str, str] = {}
    for key, value in el.attrib.items():
        name = key if isinstance(key, str) else key.decode("utf-8", "replace")
        if not name.startswith("{"):
            out.setdefault(name.lower(), value if isinstance(value, str) else value.decode())
    return out


def _clean_name(raw: str | None) -> str:
    """Entities decoded, control characters dropped, whitespace collapsed."""
    if not raw:
        return ""
    text = html.unescape(raw) if "&" in raw else raw
    return _cut(" ".join(_CONTROL.sub(" ", text).split()))


def _cut(text: str) -> str:
    return text if len(text) <= MAX_NAME else text[: MAX_NAME - 1].rstrip() + "…"


def _host(url: str | None) -> str:
    if not url:
        return ""
    try:
        return urlsplit(url.strip()).hostname or ""
    except ValueError:
        return ""


def _http_url(raw: str) -> str | None:
    """``raw`` trimmed when it is an http(s) URL with a host (the config's own rule), else None."""
    url = raw.strip()
    if "&amp;" in url:  # escaped twice by the exporter: the query's "&" is meant
        url = url.replace("&amp;", "&")
    if not url or _BAD_URL_CHAR.search(url):
        return None
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return url


def _unique(name: str, taken: Container[str], reserved: bool) -> str:
    """``name``, or ``name (2)``, ``name (3)`` … when taken (or reserved at this level)."""
    if name not in taken and not (reserved and name in RESERVED_NAMES):
        return name
    n = 2
    while f"{name} ({n})" in taken:
        n += 1
    return f"{name} ({n})"


@dataclass(slots=True)
class _Site:
    #: True for a site made from a folder (folders of one name merge), False for one made
    #: from a feed's name (never merges).
    folder: bool
    feeds: dict[str, str]


class _Walker:
    """Walks the outlines in document order, placing feeds and recording skips."""

    def __init__(self, default_category: str, feed_name: str) -> None:
        self.default_category = default_category
        self.feed_name = feed_name
        self.feeds: list[OpmlFeed] = []
        self.skipped: list[tuple[str, str]] = []
        #: category → site → _Site
        self.tree: dict[str, dict[str, _Site]] = {}
        #: (category, folder path below it) → the site name it was given
        self.folder_sites: dict[tuple[str, tuple[str, ...]], str] = {}
        #: xmlUrl → where it went
        self.seen: dict[str, str] = {}

    def walk(self, parent: etree._Element, folders: tuple[str, ...]) -> None:
        for el in parent:
            if _local(el.tag) != "outline":
                continue
            attrs = _attributes(el)
            name = _clean_name(attrs.get("title")) or _clean_name(attrs.get("text"))
            children = [c for c in el if _local(c.tag) == "outline"]
            raw_url = attrs.get("xmlurl")
            if raw_url is None or not raw_url.strip():
                if children:
                    self.walk(el, (*folders, name) if name else folders)
                    continue
                what = _where(folders, name or _host(attrs.get("htmlurl") or attrs.get("url")))
                kind = attrs.get("type", "").strip()
                reason = "no xmlUrl" + (f' (type="{kind}")' if kind else "")
                if kind.lower() == "include":
                    reason = "an OPML include (not followed)"
                self.skipped.append((what or "an outline", reason))
                continue
            self.feed(attrs, name, raw_url, folders)
            if children:  # a feed outline holding outlines: they sit in a folder of its name
                self.walk(el, (*folders, name) if name else folders)

    def feed(
        self, attrs: dict[str, str], name: str, raw_url: str, folders: tuple[str, ...]
    ) -> None:
        url = _http_url(raw_url)
        name = name or _host(attrs.get("htmlurl")) or _host(raw_url) or raw_url.strip()
        name = _clean_name(name)
        what = _where(folders, name)
        kind = attrs.get("type", "").strip()
        if kind.lower() in _NOT_FEEDS or "xpath" in kind.lower() or "dotnotation" in kind.lower():
            self.skipped.append((what, f'type="{kind}" is not a feed'))
            return
        if url is None:
            self.skipped.append((what, f"not an http(s) URL: {raw_url.strip()[:200]}"))
            return
        if url in self.seen:
            self.skipped.append((what, f"duplicate of {self.seen[url]} (same xmlUrl)"))
            return
        category, site, feed = self.place(folders, name)
        self.seen[url] = _where((category, site), feed)
        self.feeds.append(OpmlFeed(category, site, feed, url))

    def place(self, folders: tuple[str, ...], name: str) -> tuple[str, str, str]:
        """Pick (category, site, feed) for a feed named ``name`` under ``folders``."""
        category = folders[0] if folders else self.default_category
        sites = self.tree.setdefault(category, {})
        below = folders[1:]
        if below:
            key = (category, below)
            site_name = self.folder_sites.get(key)
            if site_name is None:  # a name taken here belongs to another folder or a feed
                site_name = _unique(_cut(SITE_JOIN.join(below)), sites, True)
                self.folder_sites[key] = site_name
            site = sites.setdefault(site_name, _Site(True, {}))
            feed = _unique(name, site.feeds, True)
        else:
            site_name = _unique(name, sites, True)
            site = sites.setdefault(site_name, _Site(False, {}))
            feed = _unique(self.feed_name, site.feeds, True)
        site.feeds[feed] = name
        return category, site_name, feed


def _where(folders: tuple[str, ...], name: str) -> str:
    return SITE_JOIN.join(p for p in (*folders, name) if p)
