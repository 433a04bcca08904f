"""Item identity and content hashing. Pure; contains no business logic."""

from __future__ import annotations

import hashlib
import json
from dataclasses import fields

from feedsite.types import Enclosure, ParsedItem, Tag

#: The fields of a tag and of an enclosure, in order (all plain values: what
#: ``dataclasses.astuple`` gives, without its deep copy).
_TAG_FIELDS = tuple(f.name for f in fields(Tag))
_ENCLOSURE_FIELDS = tuple(f.name for f in fields(Enclosure))


def item_id(item: ParsedItem) -> str:
    """16 hex digits of a hash of the guid, else the link, else title + date (+ body)."""
    if item.guid:
        basis = "guid:" + item.guid
    elif item.link:
        basis = "link:" + item.link
    else:
        date = item.date.isoformat() if item.date else ""
        basis = "title:" + item.title + "\x1f" + date
        if not item.title and not date:
            basis += "\x1f" + (item.content_html or item.summary_html or "")
    return hashlib.sha256(basis.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def content_hash(item: ParsedItem) -> str:
    """Hash of everything of the item that can change its post."""
    h = hashlib.sha256()
    for part in (
        item.guid,
        item.link,
        item.title,
        item.date.isoformat() if item.date else None,
        item.author,
        "\x1e".join(item.images),
        item.base_url,
        item.content_html,
        item.summary_html,
        item.description_raw,
    ):
        h.update(b"\x00" if part is None else part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    # Tags and enclosures (issue #17) count only when there are some: the hash of an item
    # without them is what it was before they were read, so its post is not rewritten.
    if item.tags or item.enclosures:
        extra = json.dumps(
            [
                [[getattr(t, f) for f in _TAG_FIELDS] for t in item.tags],
                [[getattr(e, f) for f in _ENCLOSURE_FIELDS] for e in item.enclosures],
            ],
            ensure_ascii=False,
        )
        h.update(b"\x1d" + extra.encode("utf-8", "surrogatepass"))
    return h.hexdigest()[:32]
