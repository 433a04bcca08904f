"""Rules in a run (issue #13): what the decider needs to judge stored items again, and the
preview of what rules hide and rewrite (``feedsite rules``, ``run --dry-run``). Decides
nothing: ``_plan`` judges (``_plan._rules``), ``_clean._rewrite`` rewrites."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from feedsite._plan._rules import ItemFields
from feedsite._records import StoredFeed, StoredItem
from feedsite._store import State
from feedsite.config import Config

__all__ = ["stored_fields"]


def stored_fields(
    config: Config,
    state: State,
    stored_feeds: Mapping[str, StoredFeed],
    stored_items: Mapping[str, Sequence[StoredItem]],
) -> dict[tuple[str, str], ItemFields]:
    """The fields of the live and filtered items of every feed whose rule set is not the one
    its items were last judged by (read from the store only for those feeds)."""
    keys: list[tuple[str, str]] = []
    needs_content: dict[str, bool] = {}
    for feed in config.feeds:
        key = "" if feed.rules.empty else feed.rules.key()
        before = stored_feeds.get(feed.key)
        if ((before.rules_key if before is not None else None) or "") == key or not key:
            continue
        needs_content[feed.key] = feed.rules.needs_content
        keys += [
            (feed.key, s.item_id)
            for s in stored_items.get(feed.key, ())
            if s.status in ("live", "filtered")
        ]
    if not keys:
        return {}
    from feedsite._clean._rewrite import plain_text

    times = {
        (s.feed_key, s.item_id): s.date or s.first_seen
        for feed_key in needs_content
        for s in stored_items.get(feed_key, ())
    }
    out: dict[tuple[str, str], ItemFields] = {}
    for k, data in state.item_data(keys).items():
        item = data.item
        out[k] = ItemFields(
            title=item.title,
            content=plain_text(data.body_clean) if needs_content[k[0]] else "",
            author=item.author or "",
            link=item.link or "",
            categories=item.categories,
            time=times[k],
        )
    return out
