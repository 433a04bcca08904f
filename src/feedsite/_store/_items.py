"""Items (table ``items``): their metadata, their stored data and cleaned bodies (packed in
table ``bodies``, see ``_bodies``), and the
list of live items the static site reads (joined with its card cache). Records what
was decided; decides nothing.
"""

from __future__ import annotations

import json
import zlib
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, cast

from feedsite._records import ItemData, ItemIntent, ItemStatus, StoredItem
from feedsite.errors import StateError
from feedsite.types import Enclosure, ParsedItem, Person, Tag

from ._base import StateBase, Tx, from_iso, iso
from ._bodies import Bodies, pack, unpack
from ._cards import SiteCard
from ._stories import drop_story_rows

#: Characters of a body read for excerpts (and, from the first ``<img``, for covers).
_HEAD_CHARS = 2000
#: Item ids per ``IN (...)`` list (SQLite's limit on parameters is far above it).
_CHUNK = 500

_ITEM_COLUMNS = "feed_key, item_id, status, first_seen, seq, date, content_hash, clean_key"


@dataclass(frozen=True, slots=True)
class LiveItem:
    """A live item as the static site lists it: metadata and the start of its body."""

    feed_key: str
    item_id: str
    first_seen: datetime
    seq: int
    date: datetime | None
    content_hash: str
    clean_key: str
    link: str | None
    title: str
    author: str | None
    images: tuple[str, ...]
    #: The site's cached card for this version of the item (None: compute it anew).
    card: SiteCard | None
    #: Without a card: the first characters of the cleaned body (for excerpts).
    body_head: str
    #: Without a card: the cleaned body from its first ``<img`` on (a few characters).
    first_img: str | None
    #: The post's images, cover first (None: not known yet, an older row).
    image_urls: tuple[str, ...] | None = None
    #: Its tags and enclosures (issue #17).
    tags: tuple[Tag, ...] = ()
    enclosures: tuple[Enclosure, ...] = ()

    @property
    def source_key(self) -> str:
        """The version of the item a card derives from (its body and title)."""
        return f"{self.content_hash}.{self.clean_key}"


class ItemsMixin(StateBase):
    """Items."""

    # -- reads ---------------------------------------------------------------

    def items(self) -> dict[str, list[StoredItem]]:
        """Every item's metadata, grouped by feed key."""
        out: dict[str, list[StoredItem]] = defaultdict(list)
        for row in self._query(f"SELECT {_ITEM_COLUMNS} FROM items"):
            out[row[0]].append(_stored(row))
        return dict(out)

    def items_of(self, feed_key: str) -> list[StoredItem]:
        """The metadata of one feed's items."""
        return [
            _stored(row)
            for row in self._query(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE feed_key = ?", (feed_key,)
            )
        ]

    def items_of_feeds(self, feed_keys: Iterable[str]) -> dict[str, list[StoredItem]]:
        """The metadata of the given feeds' items, grouped by feed key (feeds without items
        are left out)."""
        out: dict[str, list[StoredItem]] = {}
        for feed_key in sorted(set(feed_keys)):
            items = self.items_of(feed_key)
            if items:
                out[feed_key] = items
        return out

    def live_item_keys(self, feed_keys: Iterable[str]) -> set[tuple[str, str]]:
        """The (feed_key, item_id) of the given feeds' live items."""
        return {
            (feed_key, row[0])
            for feed_key in sorted(set(feed_keys))
            for row in self._query(
                "SELECT item_id FROM items WHERE feed_key = ? AND status = 'live'", (feed_key,)
            )
        }

    def item_feed_keys(self) -> set[str]:
        """The feeds that have items."""
        return {row[0] for row in self._query("SELECT DISTINCT feed_key FROM items")}

    def items_by_id(self, item_id: str) -> list[StoredItem]:
        """Every item with this id (in any feed)."""
        return [
            _stored(row)
            for row in self._query(
                f"SELECT {_ITEM_COLUMNS} FROM items WHERE item_id = ? ORDER BY feed_key",
                (item_id,),
            )
        ]

    def item_data(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], ItemData]:
        """Full stored data of the given (feed_key, item_id) items (those that have it:
        a seen-only item recorded without data has none)."""
        out: dict[tuple[str, str], ItemData] = {}
        for feed_key, chunk in _by_feed(keys):
            for row in self._query(
                "SELECT i.item_id, i.guid, i.link, i.title, i.date, i.author, i.images,"
                " i.base_url, b.data, i.clean_key, i.image_urls, i.categories, i.extras"
                " FROM items i LEFT JOIN bodies b ON b.id = i.body_id"
                f" WHERE i.feed_key = ? AND i.item_id IN ({_marks(chunk)})",
                (feed_key, *chunk),
            ):
                if row[3] is None:
                    continue
                content, summary, raw, clean = self._unpack(row[8], feed_key, row[0])
                tags, enclosures, authors = _extras_from(row[12])
                out[(feed_key, row[0])] = ItemData(
                    ParsedItem(
                        guid=row[1],
                        link=row[2],
                        title=row[3],
                        date=from_iso(row[4]),
                        author=row[5],
                        images=tuple(json.loads(row[6] or "[]")),
                        base_url=row[2] if isinstance(row[7], bytes) else row[7],
                        content_html=content,
                        summary_html=summary,
                        description_raw=raw,
                        categories=tuple(json.loads(row[11] or "[]")),
                        tags=tags,
                        enclosures=enclosures,
                        authors=authors,
                    ),
                    body_clean=clean or "",
                    clean_key=row[9],
                    image_urls=None if row[10] is None else tuple(json.loads(row[10])),
                )
        return out

    def bodies(self, keys: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
        """The cleaned bodies of the given (feed_key, item_id) items ("": none stored).

        Read feed by feed through the primary key, 500 at a time: rows of one feed sit
        together in the table.
        """
        out: dict[tuple[str, str], str] = {}
        for feed_key, chunk in _by_feed(keys):
            for item_id, blob in self._query(
                "SELECT i.item_id, b.data FROM items i LEFT JOIN bodies b ON b.id = i.body_id"
                f" WHERE i.feed_key = ? AND i.item_id IN ({_marks(chunk)})",
                (feed_key, *chunk),
            ):
                out[(feed_key, item_id)] = self._unpack(blob, feed_key, item_id)[3] or ""
        return out

    def _unpack(self, blob: bytes | None, feed_key: str, item_id: str) -> Bodies:
        """An item's stored bodies (all None when it has none)."""
        if blob is None:
            return (None, None, None, None)
        try:
            return unpack(blob)
        except (ValueError, zlib.error) as e:
            raise StateError(
                f"state {self.path}: the stored body of item {item_id!r} of feed"
                f" {feed_key} is damaged ({e}); `feedsite remove {item_id}` drops it"
            ) from e

    def live_items(self, feed_keys: Iterable[str], card_version: str) -> list[LiveItem]:
        """Every live item of the given feeds, without full bodies (see :class:`LiveItem`).

        One scan of a covering index; the start of the body is read only for items
        without an up-to-date card (one made by ``card_version`` from this version of the
        item: its ``source_key`` is ``<card_version>:<content_hash>.<clean_key>``).
        """
        wanted = set(feed_keys)
        out: list[LiveItem] = []
        stale: list[tuple[str, str]] = []
        for row in self._query(
            "SELECT i.feed_key, i.item_id, i.first_seen, i.seq, i.date, i.content_hash,"
            " i.clean_key, i.link, i.title, i.author, i.images,"
            " c.source_key, c.excerpt, c.lang, c.first_img_src, i.image_urls, i.extras"
            " FROM items i LEFT JOIN site_cards c"
            " ON c.feed_key = i.feed_key AND c.item_id = i.item_id"
            " WHERE i.status = 'live'"
        ):
            if row[0] not in wanted:
                continue
            source_key = f"{card_version}:{row[5]}.{row[6]}"
            card = None
            if row[11] == source_key:
                card = SiteCard(row[0], row[1], source_key, row[12], row[13], row[14])
            else:
                stale.append((row[0], row[1]))
            images = row[10]
            tags, enclosures, _authors = _extras_from(row[16])
            out.append(
                LiveItem(
                    feed_key=row[0],
                    item_id=row[1],
                    first_seen=datetime.fromisoformat(row[2]),
                    seq=row[3],
                    date=from_iso(row[4]),
                    content_hash=row[5],
                    clean_key=row[6],
                    link=row[7],
                    title=row[8] or "",
                    author=row[9],
                    images=() if not images or images == "[]" else tuple(json.loads(images)),
                    card=card,
                    body_head="",
                    first_img=None,
                    image_urls=None if row[15] is None else tuple(json.loads(row[15])),
                    tags=tags,
                    enclosures=enclosures,
                )
            )
        if stale:
            heads = self._body_heads(stale)
            out = [
                it if it.card is not None else replace(it, **heads.get(_key(it), {})) for it in out
            ]
        return out

    def _body_heads(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], dict[str, Any]]:
        """``body_head`` and ``first_img`` (see :class:`LiveItem`) of the given items."""
        out: dict[tuple[str, str], dict[str, Any]] = {}
        for key, body in self.bodies(keys).items():
            img = body.find("<img")
            out[key] = {
                "body_head": body[:_HEAD_CHARS],
                "first_img": body[img : img + _HEAD_CHARS] if img >= 0 else None,
            }
        return out

    # -- writes --------------------------------------------------------------

    def record_items(self, tx: Tx, intents: Sequence[ItemIntent]) -> None:
        """Insert or update items. An intent with ``data`` replaces the stored data; one
        without keeps it (and records status, position, date and hash). Tombstones
        (``pruned``, ``removed``) keep no bodies."""
        with_data = [i for i in intents if i.data is not None]
        tx.executemany(
            "INSERT INTO items (feed_key, item_id, status, first_seen, seq, date, content_hash,"
            " guid, link, title, author, images, base_url, clean_key, image_urls, categories,"
            " extras) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
            " ON CONFLICT (feed_key, item_id) DO UPDATE SET status=excluded.status,"
            " first_seen=excluded.first_seen, seq=excluded.seq, date=excluded.date,"
            " content_hash=excluded.content_hash, guid=excluded.guid, link=excluded.link,"
            " title=excluded.title, author=excluded.author, images=excluded.images,"
            " base_url=excluded.base_url, clean_key=excluded.clean_key,"
            " image_urls=excluded.image_urls, categories=excluded.categories,"
            " extras=excluded.extras",
            [_item_row(i) for i in with_data],
        )
        for i in with_data:  # the replaced body goes (trigger items_body_replaced)
            body_id = tx.insert("INSERT INTO bodies (data) VALUES (?)", (_packed(i),))
            tx.execute(
                "UPDATE items SET body_id=? WHERE feed_key=? AND item_id=?",
                (body_id, i.feed_key, i.item_id),
            )
        tx.executemany(
            "INSERT INTO items (feed_key, item_id, status, first_seen, seq, date, content_hash)"
            " VALUES (?,?,?,?,?,?,?) ON CONFLICT (feed_key, item_id) DO UPDATE SET"
            # Date and hash too: the decider compares them, and a seen-only item whose
            # date changed was recorded again on every run (issue #11). A seen row's
            # stored body is never rendered (an item entering the window is cleaned
            # from the document), so a newer hash beside an older body is harmless.
            " status=excluded.status, seq=excluded.seq, date=excluded.date,"
            " content_hash=excluded.content_hash",
            [_meta_row(i) for i in intents if i.data is None],
        )
        tx.executemany(
            f"UPDATE items SET {_NO_BODY} WHERE feed_key=? AND item_id=?"
            " AND status IN ('pruned','removed')",
            [(i.feed_key, i.item_id) for i in intents if i.status in ("pruned", "removed")],
        )

    def set_items_seen(self, tx: Tx, keys: Iterable[tuple[str, str]]) -> None:
        """Live items whose post was not written are remembered as ``seen``, not posted."""
        tx.executemany(
            "UPDATE items SET status='seen' WHERE feed_key=? AND item_id=? AND status='live'",
            keys,
        )

    def forget_items(self, tx: Tx, keys: Iterable[tuple[str, str]]) -> None:
        """Delete the given (feed_key, item_id) items."""
        tx.executemany("DELETE FROM items WHERE feed_key=? AND item_id=?", keys)

    def set_item_status(self, feed_key: str, item_id: str, status: ItemStatus) -> None:
        """Set one item's status, in its own transaction (a tombstone's body goes)."""
        with self.transaction() as tx:
            tx.execute(
                "UPDATE items SET status=? WHERE feed_key=? AND item_id=?",
                (status, feed_key, item_id),
            )
            if status in ("pruned", "removed"):
                tx.execute(
                    f"UPDATE items SET {_NO_BODY} WHERE feed_key=? AND item_id=?",
                    (feed_key, item_id),
                )
            if status != "live":  # stories hold live items only
                drop_story_rows(tx, [(feed_key, item_id)])


#: Stored as ``base_url`` when it is the item's link (nearly always: 35 bytes an item,
#: issue #16). A blob: a TEXT column keeps it as it is, and no URL reads back as one.
_SAME_AS_LINK = b""

#: Drops an item's bodies (what the feed said and the cleaned one) and its images.
_NO_BODY = "body_id=NULL, image_urls=NULL, extras=NULL"


def _stored(row: Sequence[Any]) -> StoredItem:
    feed_key, item_id, status, first_seen, seq, date, content_hash, clean_key = row
    return StoredItem(
        feed_key,
        item_id,
        cast(ItemStatus, status),
        datetime.fromisoformat(first_seen),
        seq,
        from_iso(date),
        content_hash,
        clean_key,
    )


def _by_feed(keys: Iterable[tuple[str, str]]) -> Iterator[tuple[str, list[str]]]:
    """(feed_key, up to 500 sorted item ids) for the distinct given keys."""
    by_feed: dict[str, list[str]] = defaultdict(list)
    for feed_key, item_id in set(keys):
        by_feed[feed_key].append(item_id)
    for feed_key, ids in by_feed.items():
        ids.sort()
        for start in range(0, len(ids), _CHUNK):
            yield feed_key, ids[start : start + _CHUNK]


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _key(item: LiveItem) -> tuple[str, str]:
    return (item.feed_key, item.item_id)


def _meta_row(i: ItemIntent) -> tuple[object, ...]:
    """The metadata columns of an item row."""
    return (i.feed_key, i.item_id, i.status, iso(i.first_seen), i.seq, iso(i.date), i.content_hash)


def _packed(i: ItemIntent) -> bytes:
    assert i.data is not None
    d = i.data.item
    return pack((d.content_html, d.summary_html, d.description_raw, i.data.body_clean))


def _item_row(i: ItemIntent) -> tuple[object, ...]:
    assert i.data is not None
    d = i.data.item
    return (
        *_meta_row(i),
        d.guid,
        d.link,
        d.title,
        d.author,
        json.dumps(list(d.images)),
        _SAME_AS_LINK if d.base_url is not None and d.base_url == d.link else d.base_url,
        i.data.clean_key,
        None if i.data.image_urls is None else json.dumps(list(i.data.image_urls)),
        json.dumps(list(d.categories), ensure_ascii=False) if d.categories else None,
        _extras(d),
    )


def _extras(item: ParsedItem) -> str | None:
    """An item's tags, enclosures and authors as one JSON value (column ``extras``): three
    lists of field lists, trailing empty lists left out; None when it has none."""
    parts = [
        [[t.term, t.scheme, t.label] for t in item.tags],
        [
            [e.url, e.type, e.length, e.duration, e.thumbnail, e.title, e.medium, e.source]
            for e in item.enclosures
        ],
        [[p.name, p.email, p.uri] for p in item.authors],
    ]
    while parts and not parts[-1]:
        parts.pop()
    return json.dumps(parts, ensure_ascii=False, separators=(",", ":")) if parts else None


def _extras_from(
    text: str | None,
) -> tuple[tuple[Tag, ...], tuple[Enclosure, ...], tuple[Person, ...]]:
    """What :func:`_extras` wrote (empty for NULL: none, or stored before schema 12)."""
    if not text:
        return (), (), ()
    parts = [*json.loads(text), [], [], []]
    return (
        tuple(Tag(*t) for t in parts[0]),
        tuple(Enclosure(*e) for e in parts[1]),
        tuple(Person(*p) for p in parts[2]),
    )
