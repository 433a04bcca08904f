"""lxml mapper for RSS 0.90/0.91/0.92/1.0 (RDF)/2.0 and Atom 0.3/1.0.

Reads a UTF-8 feed document with lxml and maps it to :class:`ParsedFeed`. The
parser never loads a DTD, never expands DTD entities (no XXE, no "billion
laughs") and never touches the network; predefined XML entities and character
references are decoded as usual.

Broken documents are read in three steps, each tried only when the previous
one left a problem:

1. lxml in recover mode;
2. the same after a textual repair, outside CDATA sections, of what libxml2
   recovers badly (HTML named entities such as ``&nbsp;``, bare ``&`` and
   ``<``, control characters): libxml2 silently drops the rest of a text node
   after such an error;
3. lxml's HTML parser (tag names lower-cased, ``<link>`` void, CDATA turned
   into text first), when the XML tree has no usable feed root or fewer
   entries than the document has ``<item>`` / ``<entry>`` tags (recovery
   stops early, e.g. at raw ``<br>`` inside a description); its reading is
   kept only if it finds more entries.

Only direct children of the channel and of each item are visited, each one
dispatched by a single dictionary lookup on its tag.

Contains no business logic: values are mapped as the feed states them, but for
URLs: every URL returned (feed and item links, cover candidates, base URLs) is
absolute ``http(s)`` and passed :func:`feedsite._url.safe_url`; others are None
or dropped. Relative URLs resolve against xml:base, the channel link and, last,
the *public* form of the fetch URL (no credentials, query or fragment: issue #10
row 5), never against the fetch URL itself (:func:`feedsite._url.relative_base`,
the rule the JSON Feed mapper shares).
"""

from __future__ import annotations

import base64
import binascii
import copy
import dataclasses
import html
import html.entities
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import lru_cache
from types import MappingProxyType
from typing import cast

from lxml import etree
from lxml import html as lxml_html

from feedsite._url import redact, relative_base, safe_url
from feedsite.errors import ParseError
from feedsite.types import Enclosure, FeedFormat, ParsedFeed, ParsedItem, Person, Tag

from ._dates import parse_date
from ._values import (
    duration_seconds,
    make_person,
    medium,
    merge_enclosures,
    mime_type,
    person,
    positive_int,
    short_text,
    tag,
    unique_people,
    unique_tags,
    with_defaults,
)

__all__ = ["parse_xml"]

_Element = etree._Element

ATOM10 = "http://www.w3.org/2005/Atom"
ATOM03 = "http://purl.org/atom/ns#"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RSS10 = "http://purl.org/rss/1.0/"
RSS090 = "http://my.netscape.com/rdf/simple/0.9/"
DC = "http://purl.org/dc/elements/1.1/"
DCTERMS = "http://purl.org/dc/terms/"
CONTENT = "http://purl.org/rss/1.0/modules/content/"
MEDIA = "http://search.yahoo.com/mrss/"
ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
XHTML = "http://www.w3.org/1999/xhtml"

#: Namespaces RSS core elements are found in ("" = none).
_RSS_NAMESPACES = (
    "",
    RSS10,
    RSS090,
    "http://backend.userland.com/rss2",
    "http://blogs.law.harvard.edu/tech/rss",
    "http://backend.userland.com/rss",
)
_RSS_ELEMENTS: Mapping[str, str] = MappingProxyType({
    "channel": "channel", "item": "item", "title": "title", "link": "link",
    "guid": "guid", "pubDate": "published", "description": "description",
    "author": "author", "enclosure": "enclosure", "category": "category", "ttl": "ttl",
    # Bodies of RSS 0.9x-era and Scripting News dialects, as feedparser reads them.
    "body": "rss_body", "fullitem": "fullitem",
})  # fmt: skip
_ATOM_ELEMENTS: Mapping[str, str] = MappingProxyType({
    "entry": "entry", "title": "atom_title", "link": "atom_link", "id": "atom_id",
    "published": "published", "issued": "published", "created": "created",
    "updated": "updated", "modified": "updated", "summary": "atom_summary",
    "content": "atom_content", "author": "atom_author", "category": "atom_category",
})  # fmt: skip
_OTHER_ELEMENTS: Mapping[tuple[str, str], str] = MappingProxyType({
    (DC, "title"): "dc_title", (DC, "date"): "dc_date", (DC, "creator"): "dc_creator",
    (DC, "description"): "dc_description", (DCTERMS, "issued"): "published",
    (DC, "author"): "dc_creator", (DC, "subject"): "dc_subject",
    (DCTERMS, "created"): "created", (DCTERMS, "modified"): "updated",
    (CONTENT, "encoded"): "content_encoded", (XHTML, "body"): "xhtml_body",
    (MEDIA, "thumbnail"): "media_thumbnail", (MEDIA, "content"): "media_content",
    (MEDIA, "group"): "media_group", (MEDIA, "description"): "media_description",
    (MEDIA, "title"): "media_title", (MEDIA, "category"): "media_category",
    ("http://search.yahoo.com/mrss", "thumbnail"): "media_thumbnail",
    ("http://search.yahoo.com/mrss", "title"): "media_title",
    ("http://search.yahoo.com/mrss", "category"): "media_category",
    ("http://search.yahoo.com/mrss", "content"): "media_content",
    ("http://search.yahoo.com/mrss", "group"): "media_group",
    ("http://search.yahoo.com/mrss", "description"): "media_description",
    (ITUNES, "author"): "itunes_author", (ITUNES, "summary"): "itunes_summary",
    (ITUNES, "image"): "itunes_image", (ITUNES, "duration"): "itunes_duration",
    (ITUNES, "category"): "itunes_category", (ITUNES, "keywords"): "itunes_keywords",
    (MEDIA, "keywords"): "media_keywords",
    ("http://search.yahoo.com/mrss", "keywords"): "media_keywords",
})  # fmt: skip


def _element_keys() -> dict[tuple[str, str], str]:
    """(namespace, local name) → field key, for every element the mappers read."""
    keys = {(ns, local): key for ns in _RSS_NAMESPACES for local, key in _RSS_ELEMENTS.items()}
    for ns in (ATOM10, ATOM03):
        keys.update({(ns, local): key for local, key in _ATOM_ELEMENTS.items()})
    keys.update(_OTHER_ELEMENTS)
    return keys


#: Clark-notation tag → field key, for the children of channels and items.
_KEYS: Mapping[str, str] = MappingProxyType(
    {f"{{{ns}}}{local}" if ns else local: key for (ns, local), key in _element_keys().items()}
)
#: (namespace, lower-case local name) → field key: undeclared prefixes and HTML-parsed trees.
_LOOSE_KEYS: Mapping[tuple[str, str], str] = MappingProxyType(
    {
        # Atom names RSS does not use, for Atom read without its namespace.
        **{("", local): key for local, key in _ATOM_ELEMENTS.items() if local not in _RSS_ELEMENTS},
        **{(ns, local.lower()): key for (ns, local), key in _element_keys().items()},
    }
)
#: Known namespaces by their lower-case form. XML namespaces are case-sensitive, but
#: feeds spell them freely: the iTunes one is mostly ``…/DTDs/Podcast-1.0.dtd`` (Apple's
#: own examples), also ``…/DTDs/PodCast-1.0.dtd``; feedparser matches every namespace
#: case-insensitively, and so do we (only for tags not found as written).
_NAMESPACES_LOWER: Mapping[str, str] = MappingProxyType(
    {ns.lower(): ns for ns, _ in _element_keys() if ns}
)
#: Conventional prefixes, for documents that use them without declaring them.
_PREFIXES: Mapping[str, str] = MappingProxyType(
    {"": "", "rss": "", "dc": DC, "dcterms": DCTERMS, "content": CONTENT, "media": MEDIA,
     "atom": ATOM10, "xhtml": XHTML, "itunes": ITUNES}
)  # fmt: skip
_RSS_VERSIONS: Mapping[str, FeedFormat] = MappingProxyType(
    {"0.90": "rss090", "0.91": "rss091", "0.92": "rss092", "1.0": "rss10"}
)
_DATE_KEYS = ("published", "dc_date", "updated", "created")
_IMAGE_SUFFIXES = (
    ".jpg", ".jpeg", ".png", ".gif", ".webp", ".avif", ".bmp", ".svg", ".jfif", ".heic"
)  # fmt: skip
_HTML_TYPES = frozenset(("html", "text/html"))
_XHTML_TYPES = frozenset(("xhtml", "application/xhtml+xml"))
#: libxml2 errors after which recover mode loses text, and the repair fixes.
_REPAIRABLE = frozenset(
    ("ERR_UNDECLARED_ENTITY", "ERR_NAME_REQUIRED", "ERR_ENTITYREF_SEMICOL_MISSING",
     "ERR_INVALID_CHAR", "ERR_INVALID_CHARREF", "ERR_INVALID_DEC_CHARREF",
     "ERR_INVALID_HEX_CHARREF", "WAR_UNDECLARED_ENTITY")
)  # fmt: skip
#: Every "&" but the five XML entities (skipped in C: escaped HTML is full of them).
_AMPERSAND_RE = re.compile(
    r"&(?!(?:amp|lt|gt|quot|apos);)"
    r"(?:(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,8}|[A-Za-z][A-Za-z0-9]{0,31});)?"
)
_CONTROL_RE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CDATA_RE = re.compile(r"<!\[CDATA\[(.*?)\]\]>", re.DOTALL)
_CDATA_SPLIT_RE = re.compile(r"(<!\[CDATA\[.*?\]\]>)", re.DOTALL)
#: A "<" that cannot start markup ("a < b", "x <= 3").
_LONE_LT_RE = re.compile(r"<(?=[\s\d=])")
_CLOSE_TAG_OR_ENTITY_RE = re.compile(r"</\w+>|&#?\w+;")
_TAG_NAME_RE = re.compile(r"</?(\w+)")
_ENTITY_NAME_RE = re.compile(r"&(\w+);")
#: feedparser's "acceptable elements": an RSS title is HTML only if all its tags are in here.
_TITLE_HTML_ELEMENTS = frozenset(
    {
        "a", "abbr", "acronym", "address", "area", "article", "aside", "audio", "b", "big",
        "blockquote", "br", "button", "canvas", "caption", "center", "cite", "code", "col",
        "colgroup", "command", "datagrid", "datalist", "dd", "del", "details", "dfn", "dialog",
        "dir", "div", "dl", "dt", "em", "event-source", "fieldset", "figcaption", "figure",
        "font", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "i",
        "img", "input", "ins", "kbd", "keygen", "label", "legend", "li", "m", "map", "menu",
        "meter", "multicol", "nav", "nextid", "noscript", "ol", "optgroup", "option", "output",
        "p", "pre", "progress", "q", "s", "samp", "section", "select", "small", "sound",
        "source", "spacer", "span", "strike", "strong", "sub", "sup", "table", "tbody", "td",
        "textarea", "tfoot", "th", "thead", "time", "tr", "tt", "u", "ul", "var", "video"
    }
)  # fmt: skip
_MAX_WARNINGS = 5


@dataclass(frozen=True, slots=True)
class _Context:
    """What item mapping needs from the document around it."""

    #: The base for relative URLs outside any xml:base (channel link or the public
    #: form of the feed URL); always a safe absolute URL, None when there is none.
    base: str | None
    #: Whether the document mentions xml:base at all (else lxml is not asked).
    has_xml_base: bool
    #: The zone for dates without an offset.
    default_tz: tzinfo
    #: Whether the tree came from the HTML fallback parser.
    loose: bool
    #: Atom: the feed's authors, which entries without one inherit (RFC 4287 §4.2.1).
    feed_authors: tuple[Person, ...]


def parse_xml(utf8: bytes, *, url: str, default_tz: tzinfo) -> ParsedFeed:
    """Parses an RSS or Atom document.

    Args:
        utf8: the document as UTF-8 (its own encoding declaration is ignored).
        url: the feed's URL as fetched (credentials and all); messages show it
            redacted, and only its public form is a base URL.
        default_tz: the zone for dates without an offset.

    Returns:
        The mapped feed.

    Raises:
        ParseError: the document is not an RSS or Atom feed, even after recovery.
    """
    tree = _parse(utf8)
    warnings = list(tree.messages)
    if tree.root is not None and tree.error_types & _REPAIRABLE:
        repaired = _parse(_repair(utf8.decode("utf-8", "replace")).encode("utf-8"))
        if repaired.root is not None and _root_format(repaired.root) is not None:
            warnings.append("re-read after repairing entities, bare '&' or control characters")
            warnings.extend(repaired.messages)
            tree = repaired
    has_xml_base = b"xml:base" in utf8
    fmt = _root_format(tree.root) if tree.root is not None else None
    feed = None
    if tree.root is not None and fmt is not None:
        feed = _map_feed(tree.root, fmt, url, default_tz, [*warnings], has_xml_base, loose=False)
        # Recovery can also stop early and lose the entries after an error.
        if not tree.messages or 0 < _entry_tags(utf8) <= len(feed.items):
            return feed

    fallback = _html_fallback(utf8)
    fallback_fmt = _root_format(fallback) if fallback is not None else None
    if fallback is not None and fallback_fmt is not None:
        loose_warnings = [*warnings, "not well-formed XML: entries read with the HTML parser"]
        loose = _map_feed(
            fallback, fallback_fmt, url, default_tz, loose_warnings, False, loose=True
        )
        if feed is None or len(loose.items) > len(feed.items):
            return loose
    if feed is not None:
        return feed
    raise ParseError(_not_a_feed_message(tree), redact(url))


def _entry_tags(utf8: bytes) -> int:
    """Roughly how many items / entries the document has (start tags, counted in C)."""
    return sum(utf8.count(tag) for tag in (b"<item>", b"<item ", b"<entry>", b"<entry "))


# -- parsing -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Tree:
    """lxml's reading of a document."""

    #: The root element; None when nothing could be recovered.
    root: _Element | None
    #: libxml2 error type names (``ERR_UNDECLARED_ENTITY``...).
    error_types: frozenset[str]
    #: The first error messages, with their positions.
    messages: tuple[str, ...]


def _parse(utf8: bytes) -> _Tree:
    """Parses with every external and DTD feature off (no XXE, no entity expansion)."""
    parser = etree.XMLParser(
        encoding="utf-8",  # overrides the document's declaration: we decoded it ourselves
        recover=True,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        attribute_defaults=False,
        huge_tree=False,
        remove_comments=False,
        remove_pis=False,
        strip_cdata=False,
        collect_ids=False,
    )
    if utf8[:1].isspace():
        utf8 = utf8.lstrip()  # nothing may precede the XML declaration
    try:
        root = etree.fromstring(utf8, parser)
    except etree.XMLSyntaxError:
        root = None  # nothing recoverable; the error log says why
    log = parser.error_log
    messages = [f"line {e.line}, column {e.column}: {e.message}" for e in log[:_MAX_WARNINGS]]
    if len(log) > _MAX_WARNINGS:
        messages.append(f"{len(log) - _MAX_WARNINGS} more XML errors")
    return _Tree(root, frozenset(e.type_name for e in log), tuple(messages))


def _repair(text: str) -> str:
    """Rewrites what libxml2 recovers badly: HTML entities, bare '&' and '<', control
    characters. CDATA sections are left as they are (but for control characters)."""
    parts = _CDATA_SPLIT_RE.split(_CONTROL_RE.sub("", text))
    parts[::2] = [_LONE_LT_RE.sub("&lt;", _AMPERSAND_RE.sub(_fix_ampersand, p)) for p in parts[::2]]
    return "".join(parts)


def _fix_ampersand(match: re.Match[str]) -> str:
    """One ``&...`` of :func:`_repair`: HTML entities become character references,
    bare ``&`` and unknown names become text, invalid character references go."""
    name = match[1]
    if name is None:
        return "&amp;"
    if name[0] == "#":
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        allowed = code in (9, 10, 13) or 0x20 <= code <= 0xD7FF or 0xE000 <= code <= 0x10FFFF
        return f"&#{code};" if allowed and code not in (0xFFFE, 0xFFFF) else ""
    chars = html.entities.html5.get(name + ";")
    if chars is None:
        return "&amp;" + name + ";"
    return "".join(f"&#{ord(char)};" for char in chars)


def _html_fallback(utf8: bytes) -> _Element | None:
    """Reads the document with the HTML parser and finds the feed element in it."""
    text = _CDATA_RE.sub(lambda m: html.escape(m[1], quote=False), utf8.decode("utf-8", "replace"))
    parser = etree.HTMLParser(
        encoding="utf-8", no_network=True, remove_comments=True, huge_tree=False, recover=True
    )
    try:
        document = etree.fromstring(text.encode("utf-8"), parser)
    except etree.LxmlError:
        return None
    if document is None:
        return None
    for element in document.iter():
        if isinstance(element.tag, str) and _root_format(element) is not None:
            return element
    return None


def _not_a_feed_message(tree: _Tree) -> str:
    """Why a document is not a feed, for :class:`ParseError`."""
    if tree.root is None:
        return "not XML" + (f" ({tree.messages[0]})" if tree.messages else "")
    local = _split(tree.root.tag)[1].lower() if isinstance(tree.root.tag, str) else "?"
    if local == "html":
        return "an HTML page, not a feed"
    return f"not a feed: the root element is <{local}>"


# -- structure -----------------------------------------------------------------------------


def _root_format(root: _Element) -> FeedFormat | None:
    """Recognises the feed format from the root element."""
    tag = root.tag
    if not isinstance(tag, str):
        return None
    namespace, local = _split(tag)
    local = local.lower()
    if local in ("rss", "rss:rss"):
        version = (root.get("version") or "").strip()
        return _RSS_VERSIONS.get(version, "rss20")
    if local in ("rdf", "rdf:rdf"):
        namespaces = {_split(child.tag)[0] for child in root if isinstance(child.tag, str)}
        return "rss090" if RSS090 in namespaces else "rss10"
    if local in ("feed", "atom:feed"):
        is_03 = namespace == ATOM03 or (root.get("version") or "").strip() == "0.3"
        return "atom03" if is_03 else "atom10"
    return None


def _split(tag: str) -> tuple[str, str]:
    """Clark notation → (namespace, local name)."""
    if tag[:1] == "{":
        namespace, _, local = tag[1:].partition("}")
        return namespace, local
    return "", tag


def _key(tag: object) -> str | None:
    """The field key of a child element's tag (None for unknown tags, comments, PIs)."""
    key = _KEYS.get(tag) if isinstance(tag, str) else None
    return key if key is not None or not isinstance(tag, str) else _loose_key(tag)


@lru_cache(maxsize=1024)
def _loose_key(tag: str) -> str | None:
    """Key lookup for undeclared prefixes (``dc:creator``), lower-cased HTML-parsed tags
    and known namespaces spelled in another case."""
    if tag[:1] == "{":
        spelled, name = _split(tag)
        known = _NAMESPACES_LOWER.get(spelled.lower())
        if known is None or known == spelled:
            return None
        return _KEYS.get(f"{{{known}}}{name}")
    prefix, _, local = tag.rpartition(":")
    namespace = _PREFIXES.get(prefix.lower())
    return None if namespace is None else _LOOSE_KEYS.get((namespace, local.lower()))


def _collect(parent: _Element) -> dict[str, list[_Element]]:
    """Groups the direct children of an element by field key, in document order."""
    found: dict[str, list[_Element]] = {}
    keys = _KEYS
    for child in parent:
        tag = child.tag
        key = keys.get(tag)  # comments and PIs have a function as tag: no match
        if key is None and isinstance(tag, str):
            key = _loose_key(tag)
        if key is not None:
            found.setdefault(key, []).append(child)
    return found


def _map_feed(
    root: _Element,
    fmt: FeedFormat,
    url: str,
    default_tz: tzinfo,
    warnings: list[str],
    has_xml_base: bool,
    *,
    loose: bool,
) -> ParsedFeed:
    """Maps the channel / feed element and its items."""
    is_atom = fmt.startswith("atom")
    if is_atom and _split(root.tag)[0] not in ("", ATOM10, ATOM03):
        _adopt_draft_namespace(root)
    top = _collect(root)
    channel = _collect(top["channel"][0]) if "channel" in top else {}
    meta = channel or top
    items = channel.get("item", []) + top.get("item", []) + top.get("entry", [])
    if loose:
        items = [e for e in root.iter() if _key(e.tag) in ("item", "entry")]

    # The channel link itself resolves against xml:base, then the public fetch URL.
    public = relative_base(fetch_url=url)
    document = _Context(public, has_xml_base, default_tz, loose, feed_authors=())
    feed_link = _channel_link(meta, document)
    context = _Context(
        # Atom resolves against xml:base, then the document URL (RFC 4287 §1.1 / RFC 3986);
        # RSS has no rule, and the channel link is the conventional base.
        base=relative_base(feed_link, fetch_url=url, fetch_url_first=is_atom),
        has_xml_base=has_xml_base,
        default_tz=default_tz,
        loose=loose,
        feed_authors=(),
    )
    if is_atom:
        feed_authors = unique_people(_atom_person(a, context) for a in meta.get("atom_author", []))
        context = dataclasses.replace(context, feed_authors=feed_authors)
    title_el = _first(meta, "title", "atom_title", "dc_title")
    mapped = tuple(_map_item(item, context, warnings, index) for index, item in enumerate(items))
    return ParsedFeed(
        format=fmt,
        title=_title(title_el) if title_el is not None else "",
        link=feed_link,
        items=mapped,
        warnings=tuple(warnings),  # after the items: they add date warnings
        ttl=_ttl(meta.get("ttl", [])),
    )


def _adopt_draft_namespace(root: _Element) -> None:
    """Reads a ``<feed>`` in another namespace as Atom 0.3: the drafts before Atom 0.3
    (2003) used ``http://purl.org/echo/``, ``http://purl.org/pie/``, ``…/necho`` and
    others; their elements are Atom's."""
    namespace = _split(root.tag)[0]
    prefix = f"{{{namespace}}}"
    for element in root.iter():
        tag = element.tag
        if isinstance(tag, str) and tag.startswith(prefix):
            element.tag = f"{{{ATOM03}}}{tag[len(prefix) :]}"


#: The longest ``<ttl>`` taken (minutes): a week; longer ones are read as a week.
_MAX_TTL = 7 * 24 * 60


def _ttl(elements: list[_Element]) -> int | None:
    """RSS ``<ttl>``: minutes the channel may be cached; None when absent or not a number."""
    text = (elements[0].text or "").strip() if elements else ""
    if not text.isascii() or not text.isdigit():
        return None
    return min(int(text), _MAX_TTL)


def _channel_link(meta: dict[str, list[_Element]], ctx: _Context) -> str | None:
    """The channel / feed link, resolved against xml:base and the document URL."""
    for element in meta.get("link", []):
        link = _rss_link(element, ctx.loose)
        if link:
            return _resolve(link, _base_of(element, ctx))
    alternate = _atom_alternate(meta.get("atom_link", []))
    if alternate is None:
        return None
    return _resolve(alternate.get("href", ""), _base_of(alternate, ctx))


# -- items ---------------------------------------------------------------------------------


def _map_item(item: _Element, ctx: _Context, warnings: list[str], index: int) -> ParsedItem:
    """Maps one RSS item or Atom entry."""
    found = _collect(item)
    guid_el = _first(found, "guid")
    guid = _strip(_text(guid_el)) if guid_el is not None else None
    if guid is None:
        atom_id = _first(found, "atom_id")
        guid = _strip(_text(atom_id)) if atom_id is not None else None
    if guid is None:
        guid = _strip(item.get(f"{{{RDF}}}about") or item.get("rdf:about") or "")

    link = _item_link(found, guid_el, ctx)
    title_el = _first(found, "title", "atom_title", "dc_title", "media_title")
    content_el = _first(
        found, "content_encoded", "atom_content", "xhtml_body", "rss_body", "fullitem"
    )
    summary_el = _first(found, "description", "dc_description", "atom_summary")
    if summary_el is None:
        summary_el = _media_description(found)
    if summary_el is None:
        summary_el = _first(found, "itunes_summary")
    if content_el is None and "description" in found and "atom_summary" in found:
        # RSS with both <description> and <summary>: feedparser reads the second
        # as the content; neither is lost.
        summary, other = found["description"][0], found["atom_summary"][0]
        if _split(other.tag)[0] == "":
            first_is_summary = item.index(other) < item.index(summary)
            summary_el, content_el = (other, summary) if first_is_summary else (summary, other)
    raw_el = _first(found, "description", "dc_description", "atom_summary", "atom_content")
    body_el = content_el if content_el is not None else summary_el
    authors = _authors(found, ctx)
    tags, categories = _tags(found)
    return ParsedItem(
        guid=guid,
        link=link,
        title=_title(title_el) if title_el is not None else "",
        date=_item_date(found, ctx, warnings, index),
        content_html=_body_html(content_el) if content_el is not None else None,
        summary_html=_body_html(summary_el) if summary_el is not None else None,
        description_raw=_raw(raw_el) if raw_el is not None else None,
        images=_images(found, ctx),
        author=_author_of(authors),
        base_url=_item_base(body_el, link, ctx),
        categories=categories,
        tags=tags,
        enclosures=_enclosures(found, ctx),
        authors=authors,
    )


def _item_link(
    found: dict[str, list[_Element]], guid_el: _Element | None, ctx: _Context
) -> str | None:
    """RSS link, else Atom alternate link, else a permalink guid / Atom id that is a URL."""
    for element in found.get("link", []):
        link = _rss_link(element, ctx.loose)
        if link:
            return _resolve(link, _base_of(element, ctx))
    alternate = _atom_alternate(found.get("atom_link", []))
    if alternate is not None:
        return _resolve(alternate.get("href", ""), _base_of(alternate, ctx))
    # Like feedparser: a permalink guid, or an Atom id, that is an http(s) URL.
    if guid_el is None:
        guid_el = _first(found, "atom_id")
    elif (_attribute(guid_el, "isPermaLink") or "true").strip().lower() == "false":
        return None
    guid = _text(guid_el).strip() if guid_el is not None else ""
    return safe_url(guid) if guid.lower().startswith(("http://", "https://")) else None


def _media_description(found: dict[str, list[_Element]]) -> _Element | None:
    """media:description of the item or of its media:group (YouTube's video text)."""
    grouped = [
        child
        for group in found.get("media_group", [])
        for child in group
        if _key(child.tag) == "media_description"
    ]
    candidates = found.get("media_description", []) + grouped
    return candidates[0] if candidates else None


def _rss_link(element: _Element, loose: bool) -> str:
    """An RSS link's URL: its text, an href attribute, or (HTML-parsed, void) its tail."""
    link = _text(element).strip() or (element.get("href") or "").strip()
    if not link and loose:
        link = (element.tail or "").strip()
    # Double-escaped query strings ("?a=1&amp;b=2" after XML decoding), as feedparser does.
    return link.replace("&amp;", "&")


def _atom_alternate(links: Iterable[_Element]) -> _Element | None:
    """The best rel="alternate" link: text/html first, then untyped, then any other type."""
    best: tuple[int, _Element] | None = None
    for link in links:
        rel = (link.get("rel") or "alternate").strip().lower()
        if rel != "alternate" or not (link.get("href") or "").strip():
            continue
        kind = (link.get("type") or "").strip().lower()
        rank = 0 if kind == "text/html" else 1 if not kind else 2
        if best is None or rank < best[0]:
            best = (rank, link)
    return best[1] if best else None


def _item_date(
    found: dict[str, list[_Element]], ctx: _Context, warnings: list[str], index: int
) -> datetime | None:
    """The first parseable of: published forms, dc:date, updated forms, created forms."""
    unparsed: list[str] = []
    for key in _DATE_KEYS:
        for element in found.get(key, []):
            text = _text(element).strip()
            if not text:
                continue
            parsed = parse_date(text, ctx.default_tz)
            if parsed is not None:
                return parsed
            unparsed.append(text)
    if unparsed:
        warnings.append(f"item {index}: unparseable date {unparsed[0]!r}")
    return None


def _authors(found: dict[str, list[_Element]], ctx: _Context) -> tuple[Person, ...]:
    """RSS author, dc:creator / dc:author, itunes:author, Atom authors; else the feed's."""
    if not ("author" in found or "dc_creator" in found or "atom_author" in found
            or "itunes_author" in found):  # fmt: skip
        return ctx.feed_authors
    people: list[Person | None] = []
    for element in found.get("author", []):
        # An Atom author read without its namespace has children.
        people.append(_atom_person(element, ctx) if len(element) else person(_text(element)))
    for element in found.get("dc_creator", []) + found.get("itunes_author", []):
        people.append(person(_text(element)))
    people.extend(_atom_person(element, ctx) for element in found.get("atom_author", []))
    return unique_people(people) or ctx.feed_authors


def _author_of(authors: tuple[Person, ...]) -> str | None:
    """The ``author`` field: the first name, else the first e-mail address."""
    for value in authors:
        if value.name:
            return value.name
    return next((value.email for value in authors if value.email), None)


def _atom_person(element: _Element, ctx: _Context) -> Person | None:
    """An Atom person construct (``name``, ``email``, ``uri``; Atom 0.3 ``url``), or its text."""
    parts: dict[str, _Element] = {}
    for child in element:
        if isinstance(child.tag, str):
            parts.setdefault(_split(child.tag)[1].lower(), child)
    if not parts:
        return person(_text(element))
    uri_el = next((parts[k] for k in ("uri", "url", "homepage") if k in parts), None)
    uri = _text(uri_el).strip() if uri_el is not None else ""
    name_el, email_el = parts.get("name"), parts.get("email")
    return make_person(
        _text(name_el) if name_el is not None else None,
        _text(email_el) if email_el is not None else None,
        _resolve(uri, _base_of(uri_el, ctx)) if uri and uri_el is not None else None,
    )


#: The scheme of ``itunes:category`` tags (as feedparser names it).
_ITUNES_SCHEME = "http://www.itunes.com/"
#: ``media:category``'s scheme when it names none (Media RSS 1.5.1).
_MEDIA_CATEGORY_SCHEME = "http://search.yahoo.com/mrss/category_schema"


def _tags(found: dict[str, list[_Element]]) -> tuple[tuple[Tag, ...], tuple[str, ...]]:
    """Tags from RSS ``category`` (``domain``), Atom ``category`` (``term``, ``scheme``,
    ``label``), ``dc:subject``, ``media:category`` (also in ``media:group``),
    ``itunes:category``, then ``itunes:keywords`` / ``media:keywords``, in that order;
    and the ``categories`` (label, else term, of the RSS and Atom categories only, as
    the rules of issue #13 have always read them)."""
    if not ("category" in found or "atom_category" in found or "dc_subject" in found
            or "media_category" in found or "media_group" in found
            or "itunes_category" in found or "itunes_keywords" in found
            or "media_keywords" in found):  # fmt: skip
        return (), ()
    tags: list[Tag | None] = []
    for element in found.get("category", []) + found.get("atom_category", []):
        term = element.get("term") or _text(element)
        scheme = element.get("scheme") or _attribute(element, "domain")
        tags.append(tag(term, scheme, element.get("label")))
        if len(tags) > 4 * _MAX_CATEGORIES:
            break  # a hostile feed's 100,000 categories: enough looked at
    categories = tuple(dict.fromkeys(t.label or t.term for t in unique_tags(tags)))
    tags.extend(tag(_text(element)) for element in found.get("dc_subject", [])[:_MAX_CATEGORIES])
    media = found.get("media_category", []) + _in_groups(found, "media_category")
    for element in media[:_MAX_CATEGORIES]:
        scheme = element.get("scheme") or _MEDIA_CATEGORY_SCHEME
        tags.append(tag(_text(element), scheme, element.get("label")))
    for element in found.get("itunes_category", [])[:_MAX_CATEGORIES]:
        # <itunes:category text="Technology"><itunes:category text="Gadgets"/>…
        tags.append(tag(element.get("text"), _ITUNES_SCHEME))
        tags.extend(tag(child.get("text"), _ITUNES_SCHEME) for child in list(element)[:8])
    # Comma-separated keywords, as feedparser splits them.
    keywords = [(e, _ITUNES_SCHEME) for e in found.get("itunes_keywords", [])[:4]] + [
        (e, None)
        for e in (found.get("media_keywords", []) + _in_groups(found, "media_keywords"))[:4]
    ]
    for element, scheme in keywords:
        terms = _text(element)[: 64 * 210].split(",")
        tags.extend(tag(term, scheme) for term in terms[:_MAX_CATEGORIES])
    return unique_tags(tags), categories


def _in_groups(found: dict[str, list[_Element]], key: str) -> list[_Element]:
    """The children with field ``key`` of the item's ``media:group`` elements."""
    groups = found.get("media_group")
    if not groups:
        return []
    return [child for group in groups for child in group if _key(child.tag) == key]


def _enclosures(found: dict[str, list[_Element]], ctx: _Context) -> tuple[Enclosure, ...]:
    """RSS enclosures and Atom enclosure links, then ``media:content`` (item, then its
    ``media:group``), merged by URL; item-level ``media:thumbnail`` / ``itunes:image``
    and ``itunes:duration`` fill what they lack."""
    links = [
        link
        for link in found.get("atom_link", ())
        if link.get("rel") is not None and link.get("rel", "").strip().lower() == "enclosure"
    ]
    if not (links or "enclosure" in found or "media_content" in found or "media_group" in found):
        return ()
    out: list[Enclosure] = []
    for element in found.get("enclosure", []) + links:
        href = _attribute(element, "url") if _key(element.tag) == "enclosure" else None
        url = _url_attribute(element, href or element.get("href"), ctx)
        if url is not None:
            kind = mime_type(element.get("type"))
            out.append(
                Enclosure(
                    url,
                    kind,
                    length=positive_int(element.get("length")),
                    title=short_text(element.get("title")),
                    medium=medium(None, kind),
                )
            )
        if len(out) >= 4 * _MAX_ENCLOSURES:
            break
    groups = found.get("media_group", [])
    contents = [(c, None) for c in found.get("media_content", [])] + [
        (child, group) for group in groups for child in group if _key(child.tag) == "media_content"
    ]
    for content, group in contents[: 4 * _MAX_ENCLOSURES]:
        url = _url_attribute(content, content.get("url"), ctx)
        if url is None:
            continue
        kind = mime_type(content.get("type"))
        out.append(
            Enclosure(
                url,
                kind,
                length=positive_int(content.get("fileSize")),
                duration=duration_seconds(content.get("duration")),
                thumbnail=_media_thumbnail(content, group, ctx),
                title=_media_title(content, group),
                medium=medium(content.get("medium"), kind),
                source="media",
            )
        )
    thumbnail = _media_thumbnail(None, None, ctx, found.get("media_thumbnail", []))
    if thumbnail is None:
        for image in found.get("itunes_image", []):
            thumbnail = _url_attribute(image, image.get("href"), ctx)
            if thumbnail:
                break
    duration_el = _first(found, "itunes_duration")
    duration = duration_seconds(_text(duration_el)) if duration_el is not None else None
    return with_defaults(merge_enclosures(out), thumbnail=thumbnail, duration=duration)


def _media_thumbnail(
    content: _Element | None,
    group: _Element | None,
    ctx: _Context,
    candidates: Iterable[_Element] = (),
) -> str | None:
    """The first safe ``media:thumbnail`` URL of the content, else of its group (or of
    ``candidates``)."""
    for parent in (content, group):
        if parent is not None:
            candidates = [c for c in parent if _key(c.tag) == "media_thumbnail"]
            if candidates:
                break
    for element in candidates:
        url = _url_attribute(element, element.get("url"), ctx)
        if url is not None:
            return url
    return None


def _media_title(content: _Element, group: _Element | None) -> str | None:
    """``media:title`` of the content, else of its group."""
    for parent in (content, group):
        if parent is not None:
            for child in parent:
                if _key(child.tag) == "media_title":
                    return short_text(_text(child))
    return None


def _url_attribute(element: _Element, value: str | None, ctx: _Context) -> str | None:
    """A URL attribute's value, resolved and checked like links (:func:`_resolve`)."""
    value = (value or "").strip()
    return _resolve(value, _base_of(element, ctx)) if value else None


def _images(found: dict[str, list[_Element]], ctx: _Context) -> tuple[str, ...]:
    """Cover candidates, deduplicated, in this order: enclosures (and Atom enclosure
    links), media:thumbnail, media:content (images), itunes:image."""
    urls: list[str] = []
    for enclosure in found.get("enclosure", []):
        _add_image(urls, enclosure, _attribute(enclosure, "url"), enclosure.get("type"), ctx)
    for link in found.get("atom_link", []):
        if (link.get("rel") or "").strip().lower() == "enclosure":
            _add_image(urls, link, link.get("href"), link.get("type"), ctx)
    groups = found.get("media_group", [])
    contents = found.get("media_content", []) + [
        child for group in groups for child in group if _key(child.tag) == "media_content"
    ]
    thumbnails = found.get("media_thumbnail", []) + [
        child
        for parent in (*groups, *contents)
        for child in parent
        if _key(child.tag) == "media_thumbnail"
    ]
    for thumbnail in thumbnails:
        _add_image(urls, thumbnail, thumbnail.get("url"), "image/*", ctx)
    for content in contents:
        medium = (content.get("medium") or "").strip().lower()
        kind = content.get("type") or ("image/*" if medium == "image" else None)
        if medium in ("", "image"):
            _add_image(urls, content, content.get("url"), kind, ctx)
    for image in found.get("itunes_image", []):
        _add_image(urls, image, image.get("href"), "image/*", ctx)
    return tuple(dict.fromkeys(urls))


def _add_image(
    urls: list[str], element: _Element, url: str | None, kind: str | None, ctx: _Context
) -> None:
    """Appends a cover candidate if it is typed as an image or looks like one (and is safe)."""
    url = (url or "").strip()
    if not url:
        return
    if (kind or "").strip().lower().startswith("image/") or _image_like(url):
        resolved = _resolve(url, _base_of(element, ctx))
        if resolved is not None:
            urls.append(resolved)


def _image_like(url: str) -> bool:
    """Whether a URL's path ends like an image file."""
    path = url.split("#", 1)[0].split("?", 1)[0].lower()
    return path.endswith(_IMAGE_SUFFIXES)


def _item_base(body: _Element | None, link: str | None, ctx: _Context) -> str | None:
    """xml:base in scope of the body, else the item's link, else the channel link / feed URL."""
    declared = body.base if body is not None and ctx.has_xml_base else None
    return relative_base(_resolve(declared, ctx.base) if declared else None, link, ctx.base)


# -- text ----------------------------------------------------------------------------------


def _first(found: dict[str, list[_Element]], *keys: str) -> _Element | None:
    """The first element found under the first of ``keys`` that has one."""
    for key in keys:
        elements = found.get(key)
        if elements:
            return elements[0]
    return None


#: Categories looked at per item (see :data:`._values.MAX_TAGS` for those kept).
_MAX_CATEGORIES = 64
#: Enclosures looked at per item, divided by four.
_MAX_ENCLOSURES = 32


def _text(element: _Element) -> str:
    """The element's character data (CDATA included, comments excluded)."""
    if len(element) == 0:
        return element.text or ""
    return "".join(cast("Iterator[str]", element.itertext()))


def _strip(value: str) -> str | None:
    """The value stripped, None when nothing is left."""
    value = value.strip()
    return value or None


def _attribute(element: _Element, name: str) -> str | None:
    """An attribute, also under its lower-case name (HTML-parsed trees)."""
    value = element.get(name)
    return value if value is not None else element.get(name.lower())


def _title(element: _Element) -> str:
    """A title as plain text.

    RSS titles are text that may hold escaped HTML: like feedparser, a title is
    taken as HTML (and reduced to its text here) when it has a closing tag or an
    entity reference, all its tags are common HTML elements and all its entities
    are HTML 4 entities. Atom titles follow their ``type``.
    """
    namespace, _ = _split(element.tag)
    if namespace in (ATOM10, ATOM03):
        text = _text(element)
        kind = _content_kind(element)
        if (element.get("mode") or "").strip().lower() == "base64" or (
            kind == "other" and not len(element)
        ):  # Atom 0.3 mode="base64"; Atom 1.0 §4.1.3.3: other types are base64
            text = _base64(text)
        elif len(element) and _HIDDEN_RE.search(markup := _inner_markup(element, unwrap_div=True)):
            text, kind = markup, "html"  # inline XHTML with a script: its text, not the script's
        return (html_to_text(text) if kind == "html" else text).strip()
    text = _text(element).strip()
    return html_to_text(text).strip() if _looks_like_html(text) else text


def _looks_like_html(text: str) -> bool:
    """feedparser's guess (``looks_like_html``) at whether an RSS title is HTML."""
    if not _CLOSE_TAG_OR_ENTITY_RE.search(text):
        return False
    if any(tag.lower() not in _TITLE_HTML_ELEMENTS for tag in _TAG_NAME_RE.findall(text)):
        return False
    return all(name in html.entities.entitydefs for name in _ENTITY_NAME_RE.findall(text))


def html_to_text(markup: str) -> str:
    """The text of an HTML fragment (entities decoded, tags dropped).

    The content of elements a browser never shows as text (``script``, ``style``...) is
    dropped with them: ``text_content()`` alone leaked script source into plain-text
    titles (issue #17, feedparser's ``sanitize/feed_title_script.xml``).
    """
    if "<" not in markup:
        return html.unescape(markup)
    try:
        fragment = lxml_html.fragment_fromstring(markup, create_parent="div")
    except (etree.ParserError, ValueError):
        return html.unescape(markup)
    if _HIDDEN_RE.search(markup):
        etree.strip_elements(fragment, *_HIDDEN_ELEMENTS, with_tail=False)
    return str(fragment.text_content())


#: Elements whose content is not text a reader sees.
_HIDDEN_ELEMENTS = ("script", "style", "template", "noscript", "noembed", "noframes", "title")
_HIDDEN_RE = re.compile(r"<(?:script|style|template|noscript|noembed|noframes|title)\b", re.I)


def _content_kind(element: _Element) -> str:
    """Atom text construct kind: "text", "html", "xhtml" (inline markup) or "other"."""
    kind = (element.get("type") or "text").strip().lower()
    mode = (element.get("mode") or "").strip().lower()  # Atom 0.3
    if kind in _HTML_TYPES:
        result = "html"
    elif kind in _XHTML_TYPES or kind.endswith(("+xml", "/xml")):
        result = "xhtml"
    elif kind in ("text", "text/plain") or kind.startswith("text/"):
        result = "text"
    else:
        return "other"
    if mode == "escaped" and result == "xhtml":
        return "html"
    if mode == "xml" and result == "html" and len(element):
        return "xhtml"
    return result


def _body_html(element: _Element) -> str | None:
    """An item body (RSS description / content:encoded, Atom summary / content) as HTML."""
    namespace, _ = _split(element.tag)
    if _key(element.tag) == "media_description":
        value = _text(element).strip()
        if (element.get("type") or "plain").strip().lower() != "html":
            value = html.escape(value, quote=False)
        return value or None
    if namespace not in (ATOM10, ATOM03):
        value = _raw(element).strip()
        return value or None
    if element.get("src"):
        return None  # out-of-line content (RFC 4287 §4.1.3.2)
    kind = _content_kind(element)
    if kind == "xhtml" or len(element):
        value = _inner_markup(element, unwrap_div=kind == "xhtml")
    else:
        value = _text(element)
        if (element.get("mode") or "").strip().lower() == "base64":
            value = _base64(value)
        if kind == "text":
            value = html.escape(value, quote=False)
        elif kind == "other":
            # Atom 1.0 §4.1.3.3: base64 of another media type. Decoded text is kept as
            # HTML (as feedparser does; the clean stage makes it safe), binary is dropped.
            value = _base64(value.strip(), strict=True)
    value = value.strip()
    return value or None


def _raw(element: _Element) -> str:
    """The element's content as the document holds it: its text, or its inner markup."""
    if len(element) == 0:
        return element.text or ""
    return _inner_markup(element, unwrap_div=False)


def _inner_markup(element: _Element, *, unwrap_div: bool) -> str:
    """Serialises an element's children as HTML, without the XHTML namespace."""
    children = [child for child in element if isinstance(child.tag, str)]
    source = element
    if (
        unwrap_div
        and len(children) == 1
        and _split(children[0].tag)[1] == "div"
        and not (element.text or "").strip()
    ):
        source = children[0]
    # A detached copy carries only the namespace declarations its own subtree uses,
    # so once its tags lose their namespace, cleanup_namespaces drops them all.
    container = copy.deepcopy(source)
    for node in container.iter():
        if isinstance(node.tag, str) and node.tag[:1] == "{":
            node.tag = _split(node.tag)[1]
    etree.cleanup_namespaces(container)
    parts = [html.escape(container.text or "", quote=False)]
    parts.extend(
        etree.tostring(child, method="html", encoding="unicode", with_tail=True)
        for child in container
    )
    return "".join(parts)


def _base64(value: str, *, strict: bool = False) -> str:
    """Base64 content (Atom 0.3 ``mode="base64"``, Atom 1.0 other media types), decoded
    as UTF-8; left as is when it is not base64, or ``""`` then when ``strict`` (also
    for bytes that are not UTF-8 text)."""
    try:
        decoded = base64.b64decode("".join(value.split()), validate=True)
        return decoded.decode("utf-8", "strict" if strict else "replace")
    except (binascii.Error, ValueError):
        return "" if strict else value


# -- URLs ----------------------------------------------------------------------------------


def _base_of(element: _Element, ctx: _Context) -> str | None:
    """The base URL in scope: xml:base (resolved against the context base), else the context."""
    if ctx.has_xml_base:
        base = element.base
        if base:
            return _resolve(base, ctx.base) or ctx.base
    return ctx.base


def _resolve(href: str, base: str | None) -> str | None:
    """A possibly relative reference as a safe absolute URL (:func:`safe_url`), or None:
    not http(s) (``javascript:``, ``data:``...), unparseable, or relative without a base.

    ``base`` is always a safe URL itself (the context base or a resolved xml:base).
    """
    return safe_url(href, base)
