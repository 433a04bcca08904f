"""Full text (table ``articles``): each article page's extraction, by the item's link.
Records what the full-text stage got; decides nothing (``_plan._fulltext`` does)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from typing import cast

from feedsite._records import ArticleState, StoredArticle

from ._base import StateBase, Tx, from_iso, iso

_COLUMNS = "url, state, item_hash, setting, digest, used, error, failures, next_attempt"


class ArticlesMixin(StateBase):
    """Article pages."""

    def articles(self, urls: Collection[str] | None = None) -> dict[str, StoredArticle]:
        """The rows of ``urls`` (every row when None), without their HTML, by URL."""
        if urls is None:
            rows = self._query(f"SELECT {_COLUMNS} FROM articles")
        else:
            rows = []
            wanted = sorted(set(urls))
            for start in range(0, len(wanted), 500):
                part = wanted[start : start + 500]
                rows += self._query(
                    f"SELECT {_COLUMNS} FROM articles WHERE url IN ({','.join('?' * len(part))})",
                    tuple(part),
                )
        return {
            r[0]: StoredArticle(
                url=r[0],
                state=cast(ArticleState, r[1]),
                item_hash=r[2],
                setting=r[3],
                digest=r[4],
                used=bool(r[5]),
                error=r[6],
                failures=r[7],
                next_attempt=from_iso(r[8]),
            )
            for r in rows
        }

    def article_html(self, urls: Collection[str]) -> dict[str, str]:
        """The extracted HTML of the ``ok`` rows among ``urls``."""
        out: dict[str, str] = {}
        wanted = sorted(set(urls))
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for url, html in self._query(
                "SELECT url, html FROM articles WHERE state = 'ok' AND url IN"
                f" ({','.join('?' * len(part))})",
                tuple(part),
            ):
                out[url] = html or ""
        return out

    def record_articles(
        self, tx: Tx, rows: Iterable[StoredArticle], html: Mapping[str, str]
    ) -> None:
        """Insert or replace article rows (``html``: the extracted body of the ``ok`` ones)."""
        tx.executemany(
            f"INSERT OR REPLACE INTO articles ({_COLUMNS}, html) VALUES (?,?,?,?,?,?,?,?,?,?)",
            [
                (
                    r.url,
                    r.state,
                    r.item_hash,
                    r.setting,
                    r.digest,
                    int(r.used),
                    r.error,
                    r.failures,
                    iso(r.next_attempt) if r.next_attempt is not None else None,
                    html.get(r.url),
                )
                for r in rows
            ],
        )

    def has_articles(self) -> bool:
        """Whether any article row is stored."""
        return bool(self._query("SELECT 1 FROM articles LIMIT 1"))

    def forget_unlinked_articles(self, tx: Tx) -> None:
        """Drop the rows of pages no item the state keeps links to any more."""
        tx.execute(
            "DELETE FROM articles WHERE url NOT IN"
            " (SELECT link FROM items WHERE link IS NOT NULL AND status != 'removed')"
        )
