"""The items table: what a run records about items is what the next run reads back."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsite._run import run
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def test_a_seen_only_items_new_date_is_stored_once(
    tmp_path: Path, project: Callable[[str], Path]
) -> None:
    """issue #11: an item that is only ``seen`` (not posted) and changes its date got the same
    intent on every run, because the state kept its old date. Now the new date is stored by
    the run that sees it, and the next run has nothing to record."""
    config = project(
        """
        site: {hexo_root: ./blog, timezone: UTC}
        feeds:
          新闻:
            示例:
              头条: {path: feed.xml, items_per_feed: 1}
        """
    )
    feed = tmp_path / "feed.xml"
    newest = Entry("g0", "Newest", T0 - timedelta(hours=1))
    feed.write_bytes(rss([newest, Entry("g1", "Older", T0 - timedelta(days=2))]))
    run(load_config(config), now=T0)
    moved = T0 - timedelta(days=3)
    feed.write_bytes(rss([newest, Entry("g1", "Older", moved)]))

    second = run(load_config(config), now=T0 + timedelta(hours=1))
    third = run(load_config(config), now=T0 + timedelta(hours=2))

    assert [i.status for i in second.decision.item_intents] == ["seen"]
    assert third.decision.item_intents == []
    with sqlite3.connect(tmp_path / ".feedsite/state.sqlite") as db:
        rows = db.execute("SELECT status, date FROM items ORDER BY seq").fetchall()
    assert [r[0] for r in rows] == ["live", "seen"]
    assert datetime.fromisoformat(rows[1][1]) == moved
