"""Builders of the records the store's tests record and read back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from feedsite._records import ItemData, ItemIntent, ItemStatus
from feedsite.types import ParsedItem

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FEED = '["新闻", "示例", "头条"]'
OTHER = '["c", "s", "f"]'


def data(n: int, body: str = "<p>body</p>", *, images: tuple[str, ...] = ()) -> ItemData:
    """Item ``n``'s full data, cleaned body ``body``."""
    return ItemData(
        ParsedItem(
            guid=f"g{n}",
            link=f"https://e.org/{n}",
            title=f"标题 {n}",
            date=T0 - timedelta(days=n),
            content_html=f"<div>{body}</div>",
            summary_html=f"<p>summary {n}</p>",
            description_raw=f" raw {n} ",
            images=images,
            author="作者",
            base_url="https://e.org/",
        ),
        body_clean=body,
        clean_key="ck1",
    )


def intent(
    n: int,
    status: ItemStatus = "live",
    *,
    feed: str = FEED,
    with_data: bool = True,
    date: datetime | None = None,
    chash: str | None = None,
    body: str = "<p>body</p>",
    images: tuple[str, ...] = (),
) -> ItemIntent:
    """An intent about item ``n`` (id ``i<n>``, first seen ``n`` hours before T0)."""
    return ItemIntent(
        feed,
        f"i{n}",
        status,
        T0 - timedelta(hours=n),
        n,
        T0 - timedelta(days=n) if date is None else date,
        chash or f"h{n}",
        data(n, body, images=images) if with_data else None,
    )
