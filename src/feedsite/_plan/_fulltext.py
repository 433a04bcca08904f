"""Full text (issue #13), the pure part: which article pages to fetch, when to try a failed
one again, and whether an extracted article replaces the feed's own body.

No I/O, no clock: the run passes the stored article rows and ``now`` in (docs/fulltext.md).

* An item of a feed with ``fulltext: auto`` or a selector, with a link, wants its article
  when the state has none for that link, or has one made from another version of the item
  (its content hash) or with another setting; a failed page is tried again after a backoff
  (30 minutes, doubling, at most 2 days, or the server's later ``Retry-After``); a refused
  one (not HTML, nothing extracted) only when the item or the setting changes.
* An extracted article is used when its text is at least :data:`MIN_SHARE` of the feed's own
  body text ("an extracted text much shorter than the feed's own body is not used").
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from feedsite._records import StoredArticle

__all__ = [
    "MIN_SHARE",
    "ArticleWant",
    "StoredArticle",
    "after_failure",
    "article_key",
    "item_clean_key",
    "usable",
    "uses_article",
    "wanted",
]

#: The shortest extracted text used, as a share of the feed's own body text.
MIN_SHARE = 0.5
_FIRST_BACKOFF = timedelta(minutes=30)
_MAX_BACKOFF = timedelta(days=2)


@dataclass(frozen=True, slots=True)
class ArticleWant:
    """An article page to fetch: for item ``item_id`` of feed ``feed_key``."""

    feed_key: str
    item_id: str
    url: str
    item_hash: str
    setting: str


def wanted(
    items: Iterable[ArticleWant], stored: Mapping[str, StoredArticle], now: datetime
) -> list[ArticleWant]:
    """The pages to fetch now, among the articles of ``items``; one per URL (the first)."""
    out: dict[str, ArticleWant] = {}
    for want in items:
        if want.url in out:
            continue
        row = stored.get(want.url)
        if (
            row is None
            or row.item_hash != want.item_hash
            or row.setting != want.setting
            or (row.state == "failed" and (row.next_attempt is None or row.next_attempt <= now))
        ):
            out[want.url] = want
    return list(out.values())


def after_failure(failures: int, now: datetime, retry_after: datetime | None = None) -> datetime:
    """When to try a page again after its ``failures``-th failure in a row."""
    delay = min(_FIRST_BACKOFF * 2 ** max(failures - 1, 0), _MAX_BACKOFF)
    later = now + delay
    return later if retry_after is None or retry_after < later else retry_after


def usable(article_chars: int, feed_chars: int) -> bool:
    """Whether an article of ``article_chars`` characters of text replaces a feed body of
    ``feed_chars`` (both without white space)."""
    return article_chars > 0 and article_chars >= MIN_SHARE * feed_chars


def article_key(row: StoredArticle | None, item_hash: str, setting: str) -> str:
    """What an item's cleaned body depends on, of its article: the digest of the article
    that replaces its body, or "-" (the feed's own body)."""
    if (
        row is None
        or row.state != "ok"
        or not row.used
        or row.item_hash != item_hash
        or row.setting != setting
    ):
        return "-"
    return row.digest[:16]


def uses_article(clean_key: str | None) -> bool:
    """Whether a body cleaned with ``clean_key`` (:func:`item_clean_key`) is an article's."""
    return clean_key is not None and "|a=" in clean_key and "|a=-" not in clean_key


def item_clean_key(base: str, fulltext_key: str, article: str, rewrite: str = "") -> str:
    """The key of an item's cleaned body: the run's cleaning options ``base``; for a feed
    with full text (``fulltext_key`` not "off") its setting and :func:`article_key`; for a
    feed with rewrite rules their key (``RuleSet.rewrite_key``)."""
    key = base if fulltext_key == "off" else f"{base}|ft={fulltext_key}|a={article}"
    return f"{key}|rw={rewrite}" if rewrite else key
