"""The RSSHub route catalog (table ``catalog``): what an instance served, with its
validators. Records; decides nothing (``_run._catalog`` decides when to ask again)."""

from __future__ import annotations

from collections.abc import Iterable

from feedsite._records import StoredCatalogPart

from ._base import StateBase, Tx, from_iso, iso


class CatalogMixin(StateBase):
    """The cached catalog."""

    def catalog_parts(self) -> dict[str, StoredCatalogPart]:
        """The stored parts (``namespace``, ``radar``), by name."""
        rows = self._query(
            "SELECT name, source, body, etag, last_modified, fetched_at FROM catalog"
        )
        out: dict[str, StoredCatalogPart] = {}
        for name, source, body, etag, modified, fetched in rows:
            at = from_iso(fetched)
            assert at is not None
            out[name] = StoredCatalogPart(name, source, bytes(body), etag, modified, at)
        return out

    def record_catalog_parts(self, tx: Tx, parts: Iterable[StoredCatalogPart]) -> None:
        """Insert or replace parts."""
        tx.executemany(
            "INSERT OR REPLACE INTO catalog (name, source, body, etag, last_modified,"
            " fetched_at) VALUES (?,?,?,?,?,?)",
            [(p.name, p.source, p.body, p.etag, p.last_modified, iso(p.fetched_at)) for p in parts],
        )
