"""JSON Feed 1.0 / 1.1 mapper (https://www.jsonfeed.org/version/1.1/).

Maps a decoded JSON Feed document to :class:`ParsedFeed`. Values of the wrong
JSON type (a number where a string belongs, an object where a list belongs)
are ignored rather than fatal; item ids that are numbers (allowed by 1.0) are
turned into strings.

Contains no business logic: values are mapped as the feed states them, but for
URLs: every URL returned passed :func:`feedsite._url.safe_url` (absolute
``http(s)`` only; others are None or dropped), and relative ones resolve against
``home_page_url``, else the *public* form of the fetch URL (issue #10 row 5):
:func:`feedsite._url.relative_base`, the rule the XML mapper shares.
"""

from __future__ import annotations

import html
import json
from datetime import datetime, tzinfo
from typing import Any

from feedsite._url import redact, relative_base, safe_url
from feedsite.errors import ParseError
from feedsite.types import Enclosure, FeedFormat, ParsedFeed, ParsedItem, Person, Tag

from ._dates import parse_date
from ._values import (
    MAX_ENCLOSURES,
    MAX_TAGS,
    duration_seconds,
    make_person,
    medium,
    merge_enclosures,
    mime_type,
    positive_int,
    short_text,
    tag,
    unique_people,
    unique_tags,
)

__all__ = ["is_json_feed", "parse_json"]

_VERSION_PREFIX = "https://jsonfeed.org/version/"


def is_json_feed(document: object) -> bool:
    """Whether a decoded JSON value is a JSON Feed (a version URL, or an items list)."""
    if not isinstance(document, dict):
        return False
    version = document.get("version")
    if isinstance(version, str) and "jsonfeed.org/version/" in version:
        return True
    # Lenient: a bare "1" / "1.0" / "1.1" (seen in the wild), or none, with an items list.
    return version in (None, "1", "1.0", "1.1") and isinstance(document.get("items"), list)


def parse_json(utf8: bytes, *, url: str, default_tz: tzinfo) -> ParsedFeed:
    """Parses a JSON Feed document.

    Args:
        utf8: the document as UTF-8.
        url: the feed's URL as fetched (credentials and all); messages show it
            redacted, and only its public form is a base URL.
        default_tz: the zone for dates without an offset.

    Returns:
        The mapped feed.

    Raises:
        ParseError: the bytes are not JSON, or not a JSON Feed.
    """
    try:
        document = json.loads(utf8)
    except (ValueError, RecursionError) as error:
        raise ParseError(f"not JSON: {error}", redact(url)) from error
    if not is_json_feed(document):
        raise ParseError("JSON, but not a JSON Feed (no jsonfeed.org version)", redact(url))
    version = _string(document, "version") or ""
    is_10 = version.rstrip("/").endswith("/version/1") or version in ("1", "1.0")
    fmt: FeedFormat = "json10" if is_10 else "json11"
    home = _string(document, "home_page_url")
    link = safe_url(home, relative_base(fetch_url=url)) if home else None
    base = relative_base(link, fetch_url=url)
    feed_authors = _authors(document, base)
    warnings: list[str] = []
    items = document.get("items")
    mapped = tuple(
        _map_item(item, index, base, feed_authors, default_tz, warnings)
        for index, item in enumerate(items if isinstance(items, list) else [])
        if isinstance(item, dict)
    )
    return ParsedFeed(
        format=fmt,
        title=(_string(document, "title") or "").strip(),
        link=link,
        items=mapped,
        warnings=tuple(warnings),  # after the items: they add date warnings
    )


def _map_item(
    item: dict[str, Any],
    index: int,
    base: str | None,
    feed_authors: tuple[Person, ...],
    default_tz: tzinfo,
    warnings: list[str],
) -> ParsedItem:
    """Maps one JSON Feed item (a dict; values of the wrong type count as absent)."""
    raw_id = item.get("id")
    is_id = isinstance(raw_id, str | int | float) and not isinstance(raw_id, bool)
    guid = str(raw_id).strip() if is_id else None
    url = _string(item, "url") or _string(item, "external_url")
    link = safe_url(url, base) if url else None
    content_html = _string(item, "content_html")
    body = content_html.strip() if content_html is not None else ""
    summary = (_string(item, "summary") or "").strip()
    candidates = [_string(item, key) for key in ("image", "banner_image")]
    attachments = item.get("attachments")
    for attachment in attachments if isinstance(attachments, list) else []:
        if isinstance(attachment, dict):
            mime = _string(attachment, "mime_type") or ""
            attachment_url = _string(attachment, "url")
            if attachment_url and mime.lower().startswith("image/"):
                candidates.append(attachment_url)
    images = [u for c in candidates if c and (u := safe_url(c, base))]
    authors = _authors(item, base) or feed_authors
    tags = _tags(item)
    return ParsedItem(
        guid=guid or None,
        link=link,
        title=(_string(item, "title") or "").strip(),
        date=_date(item, index, default_tz, warnings),
        content_html=body or _text_to_html(_string(item, "content_text")),
        summary_html=html.escape(summary, quote=False) if summary else None,
        description_raw=content_html,
        images=tuple(dict.fromkeys(images)),
        author=next((a.name for a in authors if a.name), None),
        base_url=relative_base(link, base),
        categories=tuple(t.term for t in tags),
        tags=tags,
        enclosures=_enclosures(item, base, images[0] if images else None),
        authors=authors,
    )


def _tags(item: dict[str, Any]) -> tuple[Tag, ...]:
    """JSON Feed ``tags``: the strings among them, stripped, in order, at most 64."""
    tags = item.get("tags")
    if not isinstance(tags, list):
        return ()
    return unique_tags(tag(t) for t in tags[: 4 * MAX_TAGS] if isinstance(t, str))


def _enclosures(
    item: dict[str, Any], base: str | None, thumbnail: str | None
) -> tuple[Enclosure, ...]:
    """JSON Feed ``attachments`` (``url``, ``mime_type``, ``title``, ``size_in_bytes``,
    ``duration_in_seconds``), the item's ``image`` as their thumbnail."""
    attachments = item.get("attachments")
    if not isinstance(attachments, list):
        return ()
    out = []
    for attachment in attachments[: 4 * MAX_ENCLOSURES]:
        if not isinstance(attachment, dict):
            continue
        raw = _string(attachment, "url")
        url = safe_url(raw, base) if raw else None
        if url is None:
            continue
        kind = mime_type(_string(attachment, "mime_type"))
        kind_medium = medium(None, kind)
        out.append(
            Enclosure(
                url,
                kind,
                length=positive_int(attachment.get("size_in_bytes")),
                duration=duration_seconds(attachment.get("duration_in_seconds")),
                thumbnail=thumbnail if kind_medium != "image" else None,
                title=short_text(_string(attachment, "title")),
                medium=kind_medium,
            )
        )
    return merge_enclosures(out)


def _date(
    item: dict[str, Any], index: int, default_tz: tzinfo, warnings: list[str]
) -> datetime | None:
    """``date_published``, else ``date_modified``; unparseable ones are warned about."""
    for key in ("date_published", "date_modified"):
        value = _string(item, key)
        if value and value.strip():
            parsed = parse_date(value, default_tz)
            if parsed is not None:
                return parsed
            warnings.append(f"item {index}: unparseable {key} {value!r}")
    return None


def _authors(obj: dict[str, Any], base: str | None) -> tuple[Person, ...]:
    """``authors`` (1.1), then ``author`` (1.0): ``name`` and ``url``."""
    authors = obj.get("authors")
    candidates = list(authors[:64]) if isinstance(authors, list) else []
    candidates.append(obj.get("author"))
    people = []
    for author in candidates:
        if isinstance(author, dict):
            raw = _string(author, "url")
            uri = safe_url(raw, base) if raw else None
            people.append(make_person(_string(author, "name"), None, uri))
    return unique_people(people)


def _text_to_html(text: str | None) -> str | None:
    """Plain text as HTML: escaped, blank-line-separated paragraphs, ``<br>`` for line breaks."""
    if text is None or not text.strip():
        return None
    paragraphs = [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]
    return "".join(
        "<p>" + html.escape(p, quote=False).replace("\n", "<br>\n") + "</p>" for p in paragraphs
    )


def _string(obj: dict[str, Any], key: str) -> str | None:
    """A string member, None when absent or of another type."""
    value = obj.get(key)
    return value if isinstance(value, str) else None
