"""Stories (issue #15): each live item's signature, the index of its keys and the links
found between items (tables ``story_items``, ``story_keys``, ``story_links``). Records;
decides nothing: ``_plan._stories`` makes the signatures and the links, ``_run._stories``
says which to add and drop. Rows are plain tuples (:meth:`Signature.to_row` and back): the
store does not import the decider."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ._base import StateBase, Tx

Key = tuple[str, str]
#: One ``story_items`` row: feed_key, item_id, time (µs), priority, urls, titles, title,
#: sketch, keys (see ``_plan._stories.Signature.to_row``).
SignatureRow = tuple[str, str, int, int, str, str, str, bytes, bytes]
#: One link: (a, b, why) with ``a < b``.
LinkRow = tuple[Key, Key, str]

_CHUNK = 500
#: Stored as ``titles`` when they are the one title (four items in five: 50 bytes an item,
#: issue #16). A blob: a TEXT column keeps it as it is, and no title reads back as one.
_SAME_AS_TITLE = b""


@dataclass(frozen=True, slots=True)
class StoredStoryGraph:
    """Every link between live items, and the time (µs since the epoch) of each linked item:
    all that grouping them into stories needs (items in no link are stories of their own)."""

    links: tuple[LinkRow, ...]
    times: dict[Key, int]


class StoriesMixin(StateBase):
    """Story signatures, their index and links."""

    def story_item_keys(self, feed_keys: Iterable[str] | None = None) -> set[Key]:
        """The items that have a signature (of the given feeds only, when given)."""
        if feed_keys is None:
            return {(f, i) for f, i in self._query("SELECT feed_key, item_id FROM story_items")}
        return {
            (f, i)
            for feed_key in sorted(set(feed_keys))
            for f, i in self._query(
                "SELECT feed_key, item_id FROM story_items WHERE feed_key = ?", (feed_key,)
            )
        }

    def story_candidates(self, index_keys: Iterable[int]) -> dict[int, list[Key]]:
        """The items indexed under each of the given index keys (those that have any)."""
        keys = sorted(set(index_keys))
        out: dict[int, list[Key]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            for k, feed_key, item_id in self._query(
                "SELECT k.key, s.feed_key, s.item_id FROM story_keys k JOIN story_items s"
                f" ON s.sid = k.sid WHERE k.key IN ({','.join('?' * len(chunk))})",
                chunk,
            ):
                out.setdefault(k, []).append((feed_key, item_id))
        for found in out.values():
            found.sort()  # the same order whatever the order they were signed in
        return out

    def story_signatures(self, keys: Iterable[Key]) -> list[SignatureRow]:
        """The signature rows of the given items (those that have one)."""
        by_feed: dict[str, list[str]] = {}
        for feed_key, item_id in set(keys):
            by_feed.setdefault(feed_key, []).append(item_id)
        out: list[SignatureRow] = []
        for feed_key, ids in sorted(by_feed.items()):
            ids.sort()
            for start in range(0, len(ids), _CHUNK):
                chunk = ids[start : start + _CHUNK]
                out += self._query(
                    "SELECT feed_key, item_id, time, priority, urls, titles, title, sketch, keys"
                    f" FROM story_items WHERE feed_key = ? AND item_id IN"
                    f" ({','.join('?' * len(chunk))})",
                    (feed_key, *chunk),
                )
        return [
            (*r[:5], r[6] if isinstance(r[5], bytes) else r[5], r[6], bytes(r[7]), bytes(r[8]))
            for r in out
        ]

    def story_graph(self) -> StoredStoryGraph:
        """Every link and the times of the linked items."""
        links = tuple(
            ((a, ai), (b, bi), why)
            for a, ai, b, bi, why in self._query(
                "SELECT a_feed, a_item, b_feed, b_item, why FROM story_links"
            )
        )
        times = {
            (f, i): t
            for f, i, t in self._query(
                "SELECT s.feed_key, s.item_id, s.time FROM story_items s WHERE EXISTS"
                " (SELECT 1 FROM story_links l WHERE l.a_feed = s.feed_key"
                " AND l.a_item = s.item_id) OR EXISTS (SELECT 1 FROM story_links l"
                " WHERE l.b_feed = s.feed_key AND l.b_item = s.item_id)"
            )
        }
        return StoredStoryGraph(links, times)

    def record_stories(
        self,
        tx: Tx,
        signatures: Sequence[SignatureRow],
        links: Iterable[LinkRow],
        drop: Iterable[Key] = (),
        drop_feeds: Iterable[str] = (),
    ) -> None:
        """Drop the rows of ``drop`` (and of every item of ``drop_feeds``), then insert the
        signatures, their index keys and the links. An item signed again must be in
        ``drop`` too (its old keys and links go)."""
        for feed_key in drop_feeds:
            _drop_keys(
                tx, tx.rows("SELECT sid, keys FROM story_items WHERE feed_key = ?", (feed_key,))
            )
            for table, feed in (
                ("story_items", "feed_key"),
                ("story_links", "a_feed"),
                ("story_links", "b_feed"),
            ):
                tx.execute(f"DELETE FROM {table} WHERE {feed} = ?", (feed_key,))
        drop_story_rows(tx, list(drop))
        index: list[tuple[int, int]] = []
        for r in signatures:
            sid = tx.insert(
                "INSERT INTO story_items (feed_key, item_id, time, priority, urls, titles,"
                " title, sketch, keys) VALUES (?,?,?,?,?,?,?,?,?)",
                (*r[:5], _SAME_AS_TITLE if r[5] == r[6] else r[5], *r[6:]),
            )
            index += [(k, sid) for k in _index_keys(r[8])]
        # In key order: each insert lands beside the last one in the b-tree.
        tx.executemany("INSERT OR IGNORE INTO story_keys (key, sid) VALUES (?,?)", sorted(index))
        tx.executemany(
            "INSERT OR REPLACE INTO story_links (a_feed, a_item, b_feed, b_item, why)"
            " VALUES (?,?,?,?,?)",
            [(*a, *b, why) for a, b, why in links],
        )

    def drop_story_keys_before(self, tx: Tx, micros: int) -> None:
        """Take the items older than ``micros`` out of the index (they can no longer match
        a new item) and drop what only matching needs; their rows and links stay while they
        are live. Reads only the items that cross the line (index ``story_items_indexed``)."""
        _drop_keys(
            tx, tx.rows("SELECT sid, keys FROM story_items WHERE indexed AND time < ?", (micros,))
        )
        # Out of the index, a signature is never compared again: only its time (for the
        # stories it is in) and the fact that it was made stay (issue #16, compact state).
        tx.execute(
            "UPDATE story_items SET indexed = 0, urls = '', titles = '', title = '', sketch = x'',"
            " keys = x'' WHERE indexed AND time < ?",
            (micros,),
        )


def drop_story_rows(tx: Tx, keys: Sequence[Key]) -> None:
    """Delete the signatures, index entries and links of the given items."""
    for feed_key, item_id in keys:
        _drop_keys(
            tx,
            tx.rows(
                "SELECT sid, keys FROM story_items WHERE feed_key = ? AND item_id = ? AND indexed",
                (feed_key, item_id),
            ),
        )
    for table, feed, item in (
        ("story_items", "feed_key", "item_id"),
        ("story_links", "a_feed", "a_item"),
        ("story_links", "b_feed", "b_item"),
    ):
        tx.executemany(f"DELETE FROM {table} WHERE {feed} = ? AND {item} = ?", keys)


def _index_keys(blob: bytes) -> tuple[int, ...]:
    """The index keys of a signature row (int64 little-endian)."""
    return struct.unpack(f"<{len(blob) // 8}q", blob)


def _drop_keys(tx: Tx, rows: Sequence[tuple[int, bytes]]) -> None:
    """Delete the index entries of the given (sid, keys) signature rows."""
    tx.executemany(
        "DELETE FROM story_keys WHERE key = ? AND sid = ?",
        [(k, sid) for sid, blob in rows for k in _index_keys(blob)],
    )
