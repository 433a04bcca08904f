"""The parse stage: feed bytes → :class:`~feedsite.types.ParsedFeed`.

Two entry points:

* :func:`parse_feed` decodes and maps RSS 0.90-2.0, RDF, Atom 0.3/1.0 and
  JSON Feed 1.0/1.1 documents, recovering what it can from broken ones;
* :func:`looks_like_feed` is the fetcher's cheap sniff for "this HTTP 200 is
  an HTML page (or anything else), not a feed".

Contains no business logic: does not fetch, clean (sanitize) or decide
anything; values are returned as the feed states them, with non-fatal problems
listed in ``ParsedFeed.warnings``. Library exceptions (lxml, json) are turned into
:class:`~feedsite.errors.ParseError` here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from typing import TypeVar

from lxml import etree

from feedsite.errors import ParseError
from feedsite.types import ParsedFeed, ParsedItem

from ._encoding import decode, unicode_signature
from ._json import parse_json
from ._values import demoronize, has_c1
from ._xml import parse_xml

__all__ = ["MAX_TITLE_CHARS", "looks_like_feed", "parse_feed"]

#: Control characters removed from titles (C0 but tab and newline, DEL, C1): they
#: are invisible, break terminals and YAML readers, and no title means them.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Lone UTF-16 surrogates: a JSON ``"\ud800"`` decodes to one, and no UTF-8 writer
#: (SQLite, files, the terminal) accepts it (issue #10 row 4). Replaced by U+FFFD.
_SURROGATES = re.compile("[\ud800-\udfff]")
#: A JSON escape of a surrogate (a valid pair matches too: then the strings are searched).
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")
#: Longest title kept, in characters (issue #10 row 13); a longer one is cut and
#: ends with "…". The longest real title in the corpora has 206 characters.
MAX_TITLE_CHARS = 2000

#: How much of a body :func:`looks_like_feed` reads.
_SNIFF_BYTES = 4096
_FEED_ROOTS = frozenset(("rss", "rdf:rdf", "feed", "atom:feed", "rss:rss"))


def parse_feed(
    data: bytes,
    *,
    url: str = "",
    content_type: str | None = None,
    default_tz: datetime.tzinfo = datetime.UTC,
) -> ParsedFeed:
    """Parses a feed document.

    Args:
        data: the body as fetched.
        url: the feed's URL, for error messages and as the last-resort base
            for relative links.
        content_type: the HTTP Content-Type header, if any (its charset counts).
        default_tz: the zone in which dates without an offset are read.

    Returns:
        The feed; all its datetimes are aware UTC.

    Raises:
        ParseError: the bytes are not a feed at all.
    """
    if not data or data.isspace():
        raise ParseError("empty document", url)
    # Only a JSON escape can make a lone surrogate: bytes are decoded with "replace"
    # and libxml2 refuses a character reference to one (issue #10 row 4).
    surrogates = False
    try:
        if _is_json(data, content_type):
            decoded = decode(data, content_type, xml=False)
            surrogates = _SURROGATE_ESCAPE.search(decoded.utf8) is not None
            feed = parse_json(decoded.utf8, url=url, default_tz=default_tz)
        else:
            decoded = decode(data, content_type)
            feed = parse_xml(decoded.utf8, url=url, default_tz=default_tz)
    except ParseError:
        raise
    except (etree.LxmlError, ValueError, ArithmeticError, RecursionError) as error:
        # ArithmeticError: a number no reader expected (an overflow) costs this feed only.
        raise ParseError(f"unreadable feed: {error}", url) from error
    warnings = tuple(dict.fromkeys(decoded.warnings + feed.warnings))
    # Windows-1252 mapping is for XML feeds only: a JSON Feed is Unicode by definition,
    # so a "\u0092" in it is what its writer meant (and then removed from titles).
    xml = not feed.format.startswith("json")
    c1 = xml and has_c1(decoded.utf8)
    items = tuple(_tidy_item(item, surrogates, c1, xml=xml) for item in feed.items)
    if any(new is not old for new, old in zip(items, feed.items, strict=True)):
        feed = dataclasses.replace(feed, items=items)
    feed = dataclasses.replace(feed, warnings=warnings) if warnings != feed.warnings else feed
    if xml and (title := demoronize(feed.title)) is not feed.title:
        feed = dataclasses.replace(feed, title=_CONTROLS.sub("", title))
    return _tidy(feed, ("title", "link"), surrogates)


def _tidy_item(item: ParsedItem, surrogates: bool, c1: bool, *, xml: bool) -> ParsedItem:
    """An item with a bounded, control-free title, Windows-1252 C1 characters mapped in
    its title and bodies, and no lone surrogate anywhere."""
    # Titles are short: always scanned (also for "&#146;" the XML parser read).
    title = demoronize(item.title) if xml else item.title
    if _CONTROLS.search(title):
        title = _CONTROLS.sub("", title)
    if title is not item.title:
        item = dataclasses.replace(item, title=title)
    if item.author and _CONTROLS.search(item.author):  # shown as text, like the title
        item = dataclasses.replace(item, author=_CONTROLS.sub("", item.author))
    if c1:  # bodies: references are the HTML parser's (the clean stage's) to map
        content, summary = item.content_html, item.summary_html
        item = dataclasses.replace(
            item,
            content_html=demoronize(content, references=False) if content else content,
            summary_html=demoronize(summary, references=False) if summary else summary,
        )
    return _tidy(item, _ITEM_TEXT, surrogates)


_T = TypeVar("_T", ParsedItem, ParsedFeed)
_V = TypeVar("_V")

#: The ParsedItem fields holding text (``images`` is a tuple of them).
_ITEM_TEXT = (
    "guid", "link", "title", "content_html", "summary_html", "description_raw", "author",
    "base_url",
)  # fmt: skip


def _tidy(value: _T, names: tuple[str, ...], surrogates: bool) -> _T:
    """``value`` with its title bounded and, when the document may hold ``surrogates``,
    lone surrogates replaced; ``value`` itself if unchanged.

    Cheap: only JSON documents with a surrogate escape are searched (``str.isascii``
    is O(1), and a non-ASCII string is searched once by a regex, no copy).
    """
    changes: dict[str, object] = {}
    for name in names:
        text = getattr(value, name)
        if surrogates and text is not None and not text.isascii() and _SURROGATES.search(text):
            changes[name] = text = _SURROGATES.sub("\ufffd", text)
        if name == "title" and len(text) > MAX_TITLE_CHARS:
            changes[name] = text[: MAX_TITLE_CHARS - 1].rstrip() + "…"
    lists = ("images", "categories") if isinstance(value, ParsedItem) else ("warnings",)
    for field in lists:
        more: tuple[str, ...] = getattr(value, field)
        if surrogates and any(not s.isascii() and _SURROGATES.search(s) for s in more):
            changes[field] = tuple(_SURROGATES.sub("\ufffd", s) for s in more)
    if surrogates and isinstance(value, ParsedItem):
        for field in ("tags", "authors", "enclosures"):
            values: tuple[object, ...] = getattr(value, field)
            changes[field] = tuple(_without_surrogates(v) for v in values)
    return dataclasses.replace(value, **changes) if changes else value  # type: ignore[arg-type]


def _without_surrogates(value: _V) -> _V:
    """A tag, person or enclosure with lone surrogates in its strings replaced."""
    changes = {
        field.name: _SURROGATES.sub("\ufffd", text)
        for field in dataclasses.fields(value)  # type: ignore[arg-type]
        if isinstance(text := getattr(value, field.name), str)
    }
    return dataclasses.replace(value, **changes)  # type: ignore[type-var]


def looks_like_feed(data: bytes) -> bool:
    """Tells feeds from HTML pages, error bodies and other non-feeds, cheaply.

    Reads only the first few KB: skips a BOM, whitespace, the XML declaration,
    comments, processing instructions and a DOCTYPE, then looks at the root
    element's name (``rss``, ``rdf:RDF``, ``feed``). A JSON body must name a
    ``jsonfeed.org/version``.

    Args:
        data: the body (or its beginning).

    Returns:
        True for RSS/RDF/Atom XML (any encoding with a BOM, or BOM-less UTF-16)
        and JSON Feed; False otherwise.
    """
    head = _sniff_text(data[:_SNIFF_BYTES])
    if head.startswith("{"):
        return '"version"' in head and "jsonfeed.org/version" in head
    root = _first_element_name(head)
    return root is not None and root.lower() in _FEED_ROOTS


def _is_json(data: bytes, content_type: str | None) -> bool:
    """Whether to read the body as JSON: it starts with "{" (after a BOM / whitespace)."""
    head = _sniff_text(data[:_SNIFF_BYTES])
    if head:
        return head.startswith("{")
    return bool(content_type) and "json" in (content_type or "").lower()


def _sniff_text(head: bytes) -> str:
    """The beginning of a body as text, good enough to find ASCII markup in."""
    signature = unicode_signature(head[:4])
    if signature is None:
        text = head.decode("latin-1")  # ASCII-compatible: enough to read markup
    else:
        name, bom_length = signature
        text = head[bom_length:].decode(name, "replace")
    return text.lstrip("\ufeff \t\r\n")


def _first_element_name(text: str) -> str | None:
    """The name of the first element past the prolog; None if something else comes first."""
    rest = text
    while rest.startswith("<"):
        if rest.startswith("<!--"):
            after = _after(rest, "-->", 4)
        elif rest.startswith("<?"):
            after = _after(rest, "?>", 2)
        elif rest.startswith("<!"):
            subset = rest.find("[")  # a DOCTYPE internal subset may contain ">"
            close = rest.find(">")
            if 0 <= subset < close:
                subset_end = rest.find("]", subset)
                after = _after(rest, ">", subset_end) if subset_end >= 0 else 0
            else:
                after = close + 1
        else:
            end = 1
            while end < len(rest) and (rest[end].isalnum() or rest[end] in ":_-."):
                end += 1
            return rest[1:end] or None
        if after <= 0:
            return None
        rest = rest[after:].lstrip()
    return None


def _after(text: str, marker: str, start: int) -> int:
    """The index just past ``marker`` found from ``start``; 0 when it is missing."""
    found = text.find(marker, start)
    return found + len(marker) if found >= 0 else 0
