"""Incremental runs: write only what changed, restore, respect hand edits, retention."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run import RunResult, remove_item, run
from feedsite.config import load_config
from feedsite.errors import FeedsiteError, UnknownItemError
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def day(n: int) -> datetime:
    return T0 - timedelta(days=n)


def entries(n: int, *, dated: bool = True) -> list[Entry]:
    return [Entry(f"g{i}", f"Title {i}", day(i) if dated else None) for i in range(n)]


class Site:
    """A project folder with one local RSS feed under 新闻 › 示例 › 头条."""

    def __init__(self, tmp_path: Path, write: Callable[[str], Path], options: str = "") -> None:
        self.feed = tmp_path / "feed.xml"
        self.config_path = write(
            f"""
            site:
              hexo_root: ./blog
              timezone: UTC
            feeds:
              新闻:
                示例:
                  头条: {{path: feed.xml{options}}}
            """
        )
        self.posts = tmp_path / "blog/source/_posts"

    def publish(self, items: list[Entry]) -> None:
        self.feed.write_bytes(rss(items))

    def run(self, now: datetime = T0, **kw: object) -> RunResult:
        return run(load_config(self.config_path), now=now, **kw)  # type: ignore[arg-type]

    def files(self) -> dict[str, bytes]:
        return {
            str(p.relative_to(self.posts)): p.read_bytes() for p in sorted(self.posts.rglob("*.md"))
        }

    def mtimes(self) -> dict[str, int]:
        return {str(p): p.stat().st_mtime_ns for p in self.posts.rglob("*")}

    def titles(self) -> set[str]:
        out = set()
        for data in self.files().values():
            for line in data.decode().splitlines():
                if line.startswith("title: "):
                    out.add(line[len("title: ") :].strip('"'))
        return out


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


@pytest.fixture
def site(tmp_path: Path, project: Callable[[str], Path]) -> Site:
    return Site(tmp_path, project)


def test_first_run_writes_one_post_per_item(site: Site) -> None:
    site.publish(entries(3))
    result = site.run()
    assert result.counts().posts_new == 3
    files = site.files()
    assert len(files) == 3
    assert all(name.startswith("新闻/示例/头条/") and name.endswith(".md") for name in files)
    assert site.titles() == {"Title 0", "Title 1", "Title 2"}


def test_unchanged_rerun_writes_nothing(site: Site) -> None:
    site.publish(entries(3))
    site.run()
    before = site.mtimes()
    result = site.run(T0 + timedelta(hours=1))
    c = result.counts()
    assert (c.posts_new, c.posts_updated, c.posts_unchanged) == (0, 0, 3)
    assert site.mtimes() == before


def test_changed_item_is_rewritten_in_place(site: Site) -> None:
    items = entries(2)
    site.publish(items)
    site.run()
    first = site.files()
    items[0] = Entry("g0", "Title 0, corrected", day(0), "<p>new text</p>")
    site.publish(items)
    result = site.run()
    assert result.counts().posts_updated == 1
    second = site.files()
    assert second.keys() == first.keys()
    changed = [k for k in first if first[k] != second[k]]
    assert len(changed) == 1
    assert b"Title 0, corrected" in second[changed[0]] and b"new text" in second[changed[0]]


def test_deleted_post_is_restored_from_state(site: Site) -> None:
    site.publish(entries(2))
    site.run()
    victim = next(iter(site.posts.rglob("*.md")))
    original = victim.read_bytes()
    victim.unlink()
    site.publish([])  # the feed no longer lists it: restored from state alone
    result = site.run()
    assert result.counts().posts_restored == 1
    assert victim.read_bytes() == original


def test_restored_even_when_the_feed_fails(site: Site) -> None:
    site.publish(entries(2))
    site.run()
    victim = next(iter(site.posts.rglob("*.md")))
    victim.unlink()
    site.feed.unlink()  # the feed now fails
    result = site.run()
    assert result.counts().feeds_failed == 1
    assert victim.exists()


def test_hand_edited_post_is_left_alone_and_reported(site: Site) -> None:
    items = entries(2)
    site.publish(items)
    site.run()
    victim = next(iter(site.posts.rglob("*.md")))
    victim.write_bytes(b"my own words")
    items = [Entry(e.guid, e.title + " v2", e.date) for e in items]
    site.publish(items)
    result = site.run()
    assert victim.read_bytes() == b"my own words"
    reported = [p for r in result.decision.reports for p in r.posts.edited]
    assert reported == [str(victim.relative_to(site.posts))]
    assert result.counts().posts_updated == 1  # the other one


def test_files_feedsite_never_wrote_are_never_touched(site: Site) -> None:
    site.publish(entries(1))
    site.run()
    mine = site.posts / "新闻/示例/头条/handwritten.md"
    mine.write_text("hello")
    other = site.posts / "elsewhere/post.md"
    other.parent.mkdir(parents=True)
    other.write_text("hi")
    site.publish([])
    site.run(T0 + timedelta(days=1))
    assert mine.read_text() == "hello" and other.read_text() == "hi"


def test_retention_prunes_and_does_not_churn(
    tmp_path: Path, project: Callable[[str], Path]
) -> None:
    site = Site(tmp_path, project, ", keep: 2")
    site.publish(entries(4))
    site.run()
    assert site.titles() == {"Title 0", "Title 1"}
    newer = Entry("new", "Newest", T0 + timedelta(hours=1))
    site.publish([newer, *entries(4)])
    result = site.run(T0 + timedelta(hours=2))
    assert result.counts().posts_pruned == 1
    assert site.titles() == {"Newest", "Title 0"}
    before = site.mtimes()
    again = site.run(T0 + timedelta(hours=3))
    c = again.counts()
    assert (c.posts_new, c.posts_pruned, c.posts_updated) == (0, 0, 0)
    assert site.mtimes() == before


def test_undated_items_do_not_churn(tmp_path: Path, project: Callable[[str], Path]) -> None:
    site = Site(tmp_path, project, ", items_per_feed: 3")
    site.publish(entries(6, dated=False))
    site.run()
    first = site.titles()
    assert first == {"Title 0", "Title 1", "Title 2"}
    for hour in range(1, 4):
        result = site.run(T0 + timedelta(hours=hour))
        assert result.counts().posts_new == 0
        assert site.titles() == first


def test_max_age_prunes_old_posts(tmp_path: Path, project: Callable[[str], Path]) -> None:
    site = Site(tmp_path, project, ", max_age: 2d")
    site.publish(entries(5))
    site.run()
    assert site.titles() == {"Title 0", "Title 1", "Title 2"}
    result = site.run(T0 + timedelta(days=1))
    assert result.counts().posts_pruned == 1
    assert site.titles() == {"Title 0", "Title 1"}


def test_pruned_item_does_not_come_back(tmp_path: Path, project: Callable[[str], Path]) -> None:
    site = Site(tmp_path, project, ", keep: 1")
    site.publish(entries(1))
    site.run()
    site.publish([Entry("n", "Newer", T0 + timedelta(hours=1)), *entries(1)])
    site.run(T0 + timedelta(hours=1))
    assert site.titles() == {"Newer"}
    # The newer one disappears from the feed; the pruned one is still listed.
    site.publish(entries(1))
    site.run(T0 + timedelta(hours=2))
    assert site.titles() == {"Newer"}


def test_failed_feed_is_never_pruned(tmp_path: Path, project: Callable[[str], Path]) -> None:
    site = Site(tmp_path, project, ", max_age: 1d")
    site.publish(entries(1))
    site.run()
    site.feed.write_text("not a feed at all")
    result = site.run(T0 + timedelta(days=30))
    assert result.counts().feeds_failed == 1
    assert site.titles() == {"Title 0"}


def test_removed_feed_posts_go(tmp_path: Path, project: Callable[[str], Path]) -> None:
    site = Site(tmp_path, project)
    site.publish(entries(2))
    (tmp_path / "other.xml").write_bytes(rss([Entry("o", "Other", day(1))]))
    config = project(
        """
        site: {hexo_root: ./blog, timezone: UTC}
        feeds:
          新闻:
            示例:
              头条: {path: feed.xml}
              其他: {path: other.xml}
        """
    )
    run(load_config(config), now=T0)
    assert len(site.files()) == 3
    project(
        """
        site: {hexo_root: ./blog, timezone: UTC}
        feeds:
          新闻:
            示例:
              头条: {path: feed.xml}
        """
    )
    result = run(load_config(config), now=T0)
    assert result.removed_feeds == [("新闻 › 示例 › 其他", 1)]
    assert len(site.files()) == 2
    assert not (site.posts / "新闻/示例/其他").exists()


def test_remove_id_sticks(site: Site) -> None:
    site.publish(entries(2))
    site.run()
    victim = sorted(site.posts.rglob("*.md"))[0]
    removed = remove_item(load_config(site.config_path), victim.stem)
    assert removed.deleted == (str(victim.relative_to(site.posts)),)
    assert not victim.exists()
    for hour in (1, 2):
        site.run(T0 + timedelta(hours=hour))
        assert not victim.exists()
    assert len(site.files()) == 1


def test_remove_unknown_id(site: Site) -> None:
    site.publish(entries(1))
    site.run()
    config = load_config(site.config_path)
    with pytest.raises(UnknownItemError, match="no item 'ffffffffffffffff' in the state") as e:
        remove_item(config, "ffffffffffffffff")
    assert isinstance(e.value, FeedsiteError) and str(config.state_path) in str(e.value)
    assert len(site.files()) == 1  # nothing was touched


def test_dry_run_changes_nothing(tmp_path: Path, site: Site) -> None:
    site.publish(entries(3))
    result = site.run(dry_run=True)
    assert result.counts().posts_new == 3
    assert not site.posts.exists()
    state = tmp_path / ".feedsite/state.sqlite"
    site.run()
    before_state = dump(state)
    before = site.mtimes()
    site.publish([Entry("z", "Z", T0), *entries(3)])
    result = site.run(T0 + timedelta(hours=1), dry_run=True)
    assert result.counts().posts_new == 1
    assert site.mtimes() == before
    assert dump(state) == before_state


def test_profile_change_rerenders_everything(tmp_path: Path, site: Site) -> None:
    site.publish(entries(2))
    site.run()
    text = site.config_path.read_text().replace("timezone: UTC", "timezone: UTC\n  profile: legacy")
    site.config_path.write_text(text)
    result = site.run(T0 + timedelta(hours=1))
    assert result.counts().posts_updated == 2
    assert all(data.startswith(b"\n---\n") for data in site.files().values())
