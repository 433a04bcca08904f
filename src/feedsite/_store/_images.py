"""Local images (tables ``images``, ``image_placeholders`` and ``items.image_urls``): each
image URL's download and files, the hotlink placeholders found per host, and the images
of each live post. Records what the image stage decided; decides nothing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import cast

from feedsite._records import ImageRefs, ImageState, StoredImage
from feedsite.types import ImageFile

from ._base import StateBase, Tx, from_iso, iso

_COLUMNS = "url, state, digest, files, size, host, referer, error, failures, next_attempt"


class ImagesMixin(StateBase):
    """Local images."""

    def images(self) -> dict[str, StoredImage]:
        """Every image URL's row, by URL."""
        out: dict[str, StoredImage] = {}
        for row in self._query(f"SELECT {_COLUMNS} FROM images"):
            out[row[0]] = StoredImage(
                url=row[0],
                state=cast(ImageState, row[1]),
                digest=row[2],
                files=tuple(ImageFile(*f) for f in json.loads(row[3] or "[]")),
                size=row[4],
                host=row[5],
                referer=row[6],
                error=row[7],
                failures=row[8],
                next_attempt=from_iso(row[9]),
            )
        return out

    def image_placeholders(self) -> frozenset[str]:
        """The digests of every "no hotlinking" image found so far (any host)."""
        return frozenset(row[0] for row in self._query("SELECT digest FROM image_placeholders"))

    def live_image_refs(self) -> tuple[list[ImageRefs], list[ImageRefs]]:
        """The images of every live post, and the live posts whose images are not known
        yet (stored by an older version: their ``image_urls`` is NULL; ``urls`` empty)."""
        refs: list[ImageRefs] = []
        unknown: list[ImageRefs] = []
        for feed_key, item_id, first_seen, date, link, urls in self._query(
            "SELECT feed_key, item_id, first_seen, date, link, image_urls FROM items"
            " WHERE status = 'live'"
        ):
            rank = from_iso(date) or datetime.fromisoformat(first_seen)
            known = () if urls is None else tuple(json.loads(urls))
            (unknown if urls is None else refs).append(
                ImageRefs(feed_key, item_id, rank, link, known)
            )
        return refs, unknown

    def image_refs_of_feeds(self, feed_keys: Iterable[str]) -> list[ImageRefs]:
        """The images of the given feeds' live posts (as :meth:`live_image_refs`; a post
        whose images are not known yet has ``urls`` empty: see :meth:`unknown_image_refs`)."""
        out: list[ImageRefs] = []
        for feed_key in sorted(set(feed_keys)):
            for item_id, first_seen, date, link, urls in self._query(
                "SELECT item_id, first_seen, date, link, image_urls FROM items"
                " WHERE feed_key = ? AND status = 'live'",
                (feed_key,),
            ):
                rank = from_iso(date) or datetime.fromisoformat(first_seen)
                known = () if urls is None else tuple(json.loads(urls))
                out.append(ImageRefs(feed_key, item_id, rank, link, known))
        return out

    def unknown_image_refs(self) -> list[ImageRefs]:
        """The live posts whose images are not known yet (rows of an older version: their
        ``image_urls`` is NULL), as :meth:`live_image_refs` lists them."""
        return [
            ImageRefs(feed_key, item_id, from_iso(date) or datetime.fromisoformat(first), link, ())
            for feed_key, item_id, first, date, link in self._query(
                "SELECT feed_key, item_id, first_seen, date, link FROM items"
                " WHERE status = 'live' AND image_urls IS NULL"
            )
        ]

    def imageless_items(self, feed_keys: Iterable[str]) -> set[tuple[str, str]]:
        """The (feed_key, item_id) of the given feeds' live posts without images, or whose
        images are not known yet (``image_urls`` NULL: :meth:`unknown_image_refs`); the
        others' lists are not read."""
        return {
            (feed_key, row[0])
            for feed_key in sorted(set(feed_keys))
            for row in self._query(
                "SELECT item_id, image_urls FROM items WHERE feed_key = ? AND status = 'live'"
                " AND (image_urls IS NULL OR length(image_urls) < 8)",
                (feed_key,),
            )
            if row[1] is None or not json.loads(row[1])
        }

    def record_image_urls(self, tx: Tx, urls: Mapping[tuple[str, str], Sequence[str]]) -> None:
        """Record the images of items read anew (an older row's NULL ``image_urls``)."""
        tx.executemany(
            "UPDATE items SET image_urls=? WHERE feed_key=? AND item_id=?",
            [(json.dumps(list(u)), fk, iid) for (fk, iid), u in urls.items()],
        )

    def record_images(self, tx: Tx, rows: Iterable[StoredImage]) -> None:
        """Insert or replace image rows."""
        tx.executemany(
            f"INSERT OR REPLACE INTO images ({_COLUMNS}) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    r.url,
                    r.state,
                    r.digest,
                    json.dumps([[f.role, f.path, f.width, f.height, f.size] for f in r.files]),
                    r.size,
                    r.host,
                    r.referer,
                    r.error,
                    r.failures,
                    iso(r.next_attempt),
                )
                for r in rows
            ],
        )

    def forget_images(self, tx: Tx, urls: Iterable[str]) -> None:
        """Delete the rows of image URLs no live post uses any more."""
        tx.executemany("DELETE FROM images WHERE url=?", [(u,) for u in urls])

    def record_placeholders(self, tx: Tx, found: Mapping[str, Iterable[str]]) -> None:
        """Remember hotlink placeholders (host → digests)."""
        tx.executemany(
            "INSERT OR IGNORE INTO image_placeholders (host, digest) VALUES (?,?)",
            [(host, d) for host, digests in found.items() for d in digests],
        )
