"""The native site's card cache (table ``site_cards``): what the site derived from each
live item's body, so that a rebuild lists items without reading their bodies.

Stores and counts; when to forget stale cards is the site target's rule.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._base import StateBase


@dataclass(frozen=True, slots=True)
class SiteCard:
    """What the static site derived from an item's body (cached in ``site_cards``)."""

    feed_key: str
    item_id: str
    #: The version of the item and of the card maker it derives from:
    #: ``<card version>:<content_hash>.<clean_key>``.
    source_key: str
    excerpt: str
    lang: str
    #: ``src`` of the body's first ``<img>`` (None: it has none).
    first_img_src: str | None


class CardsMixin(StateBase):
    """The site's card cache."""

    def record_site_cards(self, cards: Sequence[SiteCard]) -> None:
        """Cache ``cards`` (replacing an item's older card), in one transaction."""
        if not cards:
            return
        with self.transaction() as tx:
            tx.executemany(
                "INSERT INTO site_cards (feed_key, item_id, source_key, excerpt, lang,"
                " first_img_src) VALUES (?,?,?,?,?,?) ON CONFLICT (feed_key, item_id) DO UPDATE"
                " SET source_key=excluded.source_key, excerpt=excluded.excerpt,"
                " lang=excluded.lang, first_img_src=excluded.first_img_src",
                [
                    (k.feed_key, k.item_id, k.source_key, k.excerpt, k.lang, k.first_img_src)
                    for k in cards
                ],
            )

    def site_card_counts(self) -> tuple[int, int]:
        """(cards cached, items live): for the site's rule of when to forget stale cards."""
        cached, live = self._query(
            "SELECT (SELECT count(*) FROM site_cards),"
            " (SELECT count(*) FROM items WHERE status = 'live')"
        )[0]
        return int(cached), int(live)

    def forget_stale_site_cards(self) -> None:
        """Forget the cards of items that are no longer live (or no longer stored)."""
        with self.transaction() as tx:
            tx.execute(
                "DELETE FROM site_cards WHERE NOT EXISTS (SELECT 1 FROM items i"
                " WHERE i.feed_key = site_cards.feed_key AND i.item_id = site_cards.item_id"
                " AND i.status = 'live')"
            )
