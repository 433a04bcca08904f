"""The state file lost or emptied while posts exist (issue #10 row 10).

An evicted GitHub Actions cache does this. Real runs on a local feed, real SQLite, real files.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._run import RunResult, run
from feedsite._run._adopt import adopt
from feedsite._targets._writer import NotOwnedError, Writer
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss

T0 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
FOLDER = "新闻/示例/头条"


def entry(n: int, *, dated: bool = True) -> Entry:
    return Entry(f"g{n}", f"Title {n}", T0 - timedelta(days=n) if dated else None)


class Site:
    """One local RSS feed under 新闻 › 示例 › 头条, keeping 3 posts."""

    def __init__(self, tmp_path: Path, write: Callable[[str], Path], profile: str) -> None:
        self.feed = tmp_path / "feed.xml"
        self.config_path = write(
            f"""
            site: {{hexo_root: ./blog, timezone: Asia/Shanghai, profile: {profile}}}
            defaults: {{items_per_feed: 3}}
            images: {{mode: hotlink}}
            feeds:
              新闻:
                示例:
                  头条: {{path: feed.xml}}
            """
        )
        self.posts = tmp_path / "blog/source/_posts"
        self.state = tmp_path / ".feedsite/state.sqlite"

    def publish(self, items: list[Entry]) -> None:
        self.feed.write_bytes(rss(items))

    def run(self, now: datetime) -> RunResult:
        return run(load_config(self.config_path), now=now)

    def files(self) -> dict[str, bytes]:
        return {p.name: p.read_bytes() for p in sorted((self.posts / FOLDER).glob("*.md"))}

    def mtimes(self) -> dict[str, int]:
        return {p.name: p.stat().st_mtime_ns for p in (self.posts / FOLDER).glob("*.md")}

    def by_title(self, title: str) -> Path:
        return next(
            p for p in (self.posts / FOLDER).glob("*.md") if title in p.read_text(encoding="utf-8")
        )

    def lose_state(self, how: str) -> None:
        if how == "deleted":
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self.state}{suffix}").unlink(missing_ok=True)
        else:
            self.state.write_bytes(b"")

    def owned(self) -> dict[str, str]:
        with sqlite3.connect(self.state) as db:
            return dict(db.execute("SELECT path, state FROM files WHERE target = 'hexo'"))

    def statuses(self) -> dict[str, str]:
        with sqlite3.connect(self.state) as db:
            return dict(db.execute("SELECT item_id, status FROM items"))


@pytest.mark.parametrize("profile", ["default", "legacy"])
@pytest.mark.parametrize("how", ["deleted", "emptied"])
def test_lost_state_never_overwrites_and_adopt_takes_posts_back(
    tmp_path: Path, project: Callable[[str], Path], how: str, profile: str
) -> None:
    """issue #10 row 10: the state file deleted or emptied while posts exist."""
    site = Site(tmp_path, project, profile)
    # g1 is undated: its date line is the time feedsite first saw it.
    site.publish([entry(0), entry(1, dated=False), entry(2)])
    assert site.run(T0).counts().posts_new == 3
    g0, g1, g2 = (site.by_title(f"Title {n}") for n in range(3))

    site.lose_state(how)
    edited = g1.read_text(encoding="utf-8") + "\n<!-- my note -->\n"
    g1.write_text(edited, encoding="utf-8")
    # The feed moved on: g3 is new, g2 is no longer listed.
    g3 = Entry("g3", "Title 3", T0 + timedelta(minutes=30))
    site.publish([g3, entry(0), entry(1, dated=False)])
    before = site.files()

    lost = site.run(T0 + timedelta(hours=1))

    after = site.files()
    assert g1.read_text(encoding="utf-8") == edited  # byte-identical: not written over
    assert {k: v for k, v in after.items() if k in before} == before
    assert len(after) == 4  # only g3's post is new
    assert any("feedsite adopt" in w and "3 posts" in w for w in lost.warnings), lost.warnings
    refused = [e for e in lost.item_errors if "not written" in e]
    assert len(refused) == 2
    assert any(str(g1) in e for e in refused) and any(str(g0) in e for e in refused)
    assert lost.counts().posts_new == 1
    statuses = site.statuses()
    assert statuses[g0.stem] == statuses[g1.stem] == "seen"  # not recorded as posted
    assert set(site.owned()) == {f"{FOLDER}/{n}" for n in after if n not in before}

    adopted = adopt(load_config(site.config_path), now=T0 + timedelta(hours=2))
    assert {a.new_path for a in adopted.adopted} == {f"{FOLDER}/{p.name}" for p in (g0, g1, g2)}
    assert adopted.edited == (f"{FOLDER}/{g1.name}",)
    assert site.files() == after  # adopt moved nothing: the posts are at their paths

    mtimes = site.mtimes()
    later = site.run(T0 + timedelta(hours=3))

    c = later.counts()
    assert (c.posts_new, c.posts_updated, c.posts_restored) == (0, 0, 0)
    assert c.posts_pruned == 1  # g2, no longer in the feed and the oldest: keep is 3
    assert not g2.exists()
    assert g1.read_text(encoding="utf-8") == edited
    assert later.decision.reports[0].posts.edited == [f"{FOLDER}/{g1.name}"]
    assert not later.warnings and not later.item_errors
    assert {k: v for k, v in site.mtimes().items()} == {
        k: v for k, v in mtimes.items() if k != g2.name
    }  # nothing written twice
    again = site.run(T0 + timedelta(hours=4)).counts()
    assert (again.posts_new, again.posts_updated, again.posts_unchanged) == (0, 0, 2)


def test_adopt_leaves_a_released_edited_post_alone(
    tmp_path: Path, project: Callable[[str], Path]
) -> None:
    """issue #10 row 10: a post feedsite let go (edited, then pruned) is not taken back."""
    site = Site(tmp_path, project, "default")
    site.publish([entry(0), entry(1), entry(2)])
    site.run(T0)
    g2 = site.by_title("Title 2")
    g2.write_text(g2.read_text(encoding="utf-8") + "mine\n", encoding="utf-8")
    site.publish([entry(-1), entry(0), entry(1)])
    pruned = site.run(T0 + timedelta(hours=1))
    assert pruned.decision.reports[0].posts.edited == [f"{FOLDER}/{g2.name}"]
    result = adopt(load_config(site.config_path), now=T0 + timedelta(hours=2))
    assert result.adopted == ()
    assert [(lo.path, lo.kind) for lo in result.leftovers] == [(f"{FOLDER}/{g2.name}", "id_named")]


def test_writer_create_only_never_replaces(tmp_path: Path) -> None:
    """issue #10 row 10: the writer's create-only mode refuses an existing file."""
    writer = Writer(tmp_path)
    (tmp_path / "a").mkdir()
    (tmp_path / "a/p.md").write_bytes(b"hand written")
    with pytest.raises(NotOwnedError, match=r"p\.md"):
        writer.write("a/p.md", b"hand written", create_only=True)
    with pytest.raises(NotOwnedError):
        writer.write("a/p.md", b"other", create_only=True)
    assert (tmp_path / "a/p.md").read_bytes() == b"hand written"
    assert writer.write("a/new.md", b"x", create_only=True).changed
    assert (tmp_path / "a/new.md").read_bytes() == b"x"
    assert [p.name for p in (tmp_path / "a").iterdir() if p.name.startswith(".")] == []
