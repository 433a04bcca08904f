"""Store stage: feedsite's state in one SQLite file. A DAO: no business logic.

Split by domain, one mixin each, over a base that opens, migrates and wraps errors:

* ``_base``: :class:`StateBase` (open, snapshot, migrations, reads, :class:`Tx`);
* ``_feeds``: feeds, validators, RSSHub instances;
* ``_items``: items, their data and bodies, the site's list of live items;
* ``_ledger``: the one ledger of the files feedsite owns, for every target;
* ``_images``: local images (each URL's download and files, placeholders);
* ``_cards``: the native site's card cache;
* ``_catalog``: the RSSHub route catalog;
* ``_stories``: story signatures, their index and links.

Reads return records (``Stored*``, ``OwnedFile``, ...); writes take intents decided
elsewhere, through one :meth:`State.transaction` so that one step's items, feeds and
ledger rows commit together. Timestamps are stored as ISO 8601 UTC strings. Every
``sqlite3`` error is wrapped into :class:`~feedsite.errors.StateError` in ``_base``,
and nowhere else.
"""

from __future__ import annotations

from ._articles import ArticlesMixin
from ._base import StateBase, Tx
from ._cards import CardsMixin, SiteCard
from ._catalog import CatalogMixin
from ._feeds import FeedsMixin
from ._images import ImagesMixin
from ._items import ItemsMixin, LiveItem
from ._ledger import LedgerMixin
from ._stories import StoredStoryGraph, StoriesMixin

__all__ = ["LiveItem", "SiteCard", "State", "StoredStoryGraph", "Tx"]


class State(
    FeedsMixin,
    ItemsMixin,
    ImagesMixin,
    ArticlesMixin,
    LedgerMixin,
    CardsMixin,
    CatalogMixin,
    StoriesMixin,
    StateBase,
):
    """The state database. Open with :meth:`open` (or :meth:`snapshot`); use as a context
    manager."""
