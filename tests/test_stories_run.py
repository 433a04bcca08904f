"""Stories through whole runs (issue #15): reports of one event in several feeds are joined
through the index in the state; `feedsite stories` lists them; the lead follows the tree's
order or `priority:`; the Hexo target keeps, links or skips the other reports; when the lead
is pruned the next member leads and no story points to a post that is gone."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsite._plan._stories import story_id
from feedsite._run import remove_item, run
from feedsite._run._stories import list_stories
from feedsite.cli import main
from feedsite.config import load_config
from tests.helpers.feeds import Entry, rss

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
TEXT = (
    "<p>华为今天在深圳发布了新一代旗舰手机，搭载自研芯片，续航和影像能力都有明显提升。"
    "发布会上还公布了平板电脑、智能手表和耳机等多款新品，售价从三千九百九十九元起。"
    "业内人士认为，这将进一步加剧高端手机市场的竞争。</p>"
)
OTHER = (
    "<p>国家统计局发布数据显示，十一月份全国居民消费价格同比上涨，食品价格有所回落，"
    "服务价格保持稳定，核心通胀温和，市场预期明年物价总体平稳运行。</p>"
)

#: (category, site, feed) → entries. 甲 and 乙 share a title (乙 adds its name), 丙 shares
#: 甲's link (with a tracking parameter and the www. host); 乙's second item is another story.
FEEDS: dict[tuple[str, str, str], list[Entry]] = {
    ("新闻", "甲", "快讯"): [
        Entry("a1", "华为发布新一代旗舰手机 Mate 80", NOW - timedelta(hours=3), TEXT,
              "https://a.example/news/1"),
    ],
    ("科技", "乙", "头条"): [
        Entry("b1", "【快讯】华为发布新一代旗舰手机 Mate 80 | 乙网", NOW - timedelta(hours=2),
              TEXT.replace("今天", "12月5日"), "https://b.example/p/2"),
        Entry("b2", "十一月居民消费价格数据公布", NOW - timedelta(hours=1), OTHER,
              "https://b.example/p/3"),
    ],
    ("科技", "丙", "最新"): [
        Entry("c1", "Mate 80 来了：续航影像全面升级", NOW - timedelta(hours=1), TEXT[:80] + "</p>",
              "https://www.a.example/news/1/?utm_source=rss&utm_medium=feed"),
    ],
}  # fmt: skip


def write(tmp: Path, extra: str = "", feeds: dict[tuple[str, str, str], list[Entry]] = FEEDS,
          priority: str = "", keep_a: bool = False) -> Path:  # fmt: skip
    lines = ["feeds:"]
    cats: dict[str, dict[str, list[str]]] = {}
    for (cat, site, name), entries in feeds.items():
        f = tmp / f"{site}-{name}.xml"
        f.write_bytes(rss(entries))
        keep = ", keep: 1" if keep_a and site == "甲" else ""
        cats.setdefault(cat, {}).setdefault(site, []).append(f"{name}: {{path: {f.name}{keep}}}")
    for cat, sites in cats.items():
        lines.append(f"  {cat}:")
        if priority and cat == "科技":
            lines.append(f"    priority: {priority}")
        for site, names in sites.items():
            lines.append(f"    {site}:")
            lines += [f"      {n}" for n in names]
    config = tmp / "feedsite.yaml"
    config.write_text(
        "site: {hexo_root: ./blog, timezone: Asia/Shanghai" + extra + "}\n"
        "images: {mode: hotlink}\n" + "\n".join(lines) + "\n",
        encoding="utf-8",
    )
    return config


def posts(tmp: Path) -> dict[str, dict[str, object]]:
    """Front matter of every post, by ``site/feed/file``."""
    root = tmp / "blog/source/_posts"
    out = {}
    for p in sorted(root.rglob("*.md")):
        out[p.relative_to(root).as_posix()] = yaml.safe_load(p.read_text("utf-8").split("---")[1])
    return out


def key(site: str, feed: str, cat: str = "科技") -> str:
    return json.dumps([cat, site, feed], ensure_ascii=False)


def test_reports_in_three_feeds_are_one_story_and_stories_lists_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write(tmp_path)
    result = run(load_config(config), now=NOW, seed=1)
    assert len({s.id for s in result.stories.values()}) == 1
    assert result.to_json()["stories"] == 1
    (story,) = list_stories(load_config(config), since=None, now=NOW)
    feeds = [m.feed for m in story.members]
    # The lead: the first in the tree (新闻 comes first), then the others by time.
    assert feeds == ["新闻 › 甲 › 快讯", "科技 › 乙 › 头条", "科技 › 丙 › 最新"]
    assert story.members[0].lead and not any(m.lead for m in story.members[1:])
    assert story.sites == 3
    whys = {why for _a, _b, why in story.links}
    assert "url" in whys and "title" in whys  # 丙 by its link, 乙 by its title
    # b2 is another story: in no cluster.
    assert "十一月居民消费价格数据公布" not in {m.title for m in story.members}
    # Every post is kept (dedupe: keep, the default).
    assert len(posts(tmp_path)) == 4

    assert main(["stories", "-c", str(config), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [s["id"] for s in listed] == [story.id]
    assert {m["title"] for m in listed[0]["members"]} >= {"华为发布新一代旗舰手机 Mate 80"}
    # --since: a window that ends before the newest report lists nothing.
    later = (NOW + timedelta(days=3)).isoformat()
    assert main(["stories", "-c", str(config), "--json", "--since", "1h", "--now", later]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert main(["stories", "-c", str(config), "--since", "24h", "--now", NOW.isoformat()]) == 0
    text = capsys.readouterr().out
    assert "3 个来源" in text and "1 stories" in text


def test_priority_chooses_the_lead(tmp_path: Path) -> None:
    config = write(tmp_path, priority="5")
    run(load_config(config), now=NOW, seed=1)
    (story,) = list_stories(load_config(config), since=None, now=NOW)
    # 科技 ranks first now; within it the tree's order: 乙 before 丙.
    lead = story.members[0]
    assert lead.feed == "科技 › 乙 › 头条"
    assert story.id == story_id((key("乙", "头条"), lead.item_id))


def test_dedupe_link_lists_the_other_reports_and_updates_them(tmp_path: Path) -> None:
    config = write(tmp_path, ", dedupe: link")
    run(load_config(config), now=NOW, seed=1)
    front = posts(tmp_path)
    lead = next(v for k, v in front.items() if k.startswith("新闻/甲/快讯/"))
    assert {s["site"] for s in lead["sources"]} == {"乙", "丙"}  # type: ignore[index]
    assert all(s["link"].startswith("https://") for s in lead["sources"])  # type: ignore[index]
    other = next(v for k, v in front.items() if k.startswith("科技/乙/头条/") and "sources" in v)
    assert {s["site"] for s in other["sources"]} == {"甲", "丙"}  # type: ignore[index]
    lone = [v for k, v in front.items() if "sources" not in v]
    assert [v["title"] for v in lone] == ["十一月居民消费价格数据公布"]
    body = next((tmp_path / "blog/source/_posts/新闻/甲/快讯").glob("*.md")).read_text("utf-8")
    assert "其他来源" in body and "Mate 80 来了" in body

    # Nothing changed: nothing is written again.
    again = run(load_config(config), now=NOW + timedelta(minutes=30), seed=1)
    assert again.counts().posts_updated == 0 and again.counts().posts_new == 0
    # 丙 retitles its report: the posts that list it are written again.
    changed = dict(FEEDS)
    (c1,) = FEEDS["科技", "丙", "最新"]
    changed["科技", "丙", "最新"] = [Entry(c1.guid, "Mate 80 正式发布", c1.date, c1.body, c1.link)]
    write(tmp_path, ", dedupe: link", changed)
    third = run(load_config(config), now=NOW + timedelta(hours=1), seed=1)
    assert third.counts().posts_updated == 3  # 丙's own post and the two that list it
    lead = next(v for k, v in posts(tmp_path).items() if k.startswith("新闻/甲/快讯/"))
    assert "Mate 80 正式发布" in {s["title"] for s in lead["sources"]}  # type: ignore[index]


def test_dedupe_skip_writes_the_lead_and_the_next_member_leads_when_it_is_pruned(
    tmp_path: Path,
) -> None:
    # 丁 reports it too, under 甲's title: it stays joined to 乙 when 甲 goes.
    feeds = {
        **FEEDS,
        ("科技", "丁", "要闻"): [
            Entry("d1", "华为发布新一代旗舰手机Mate 80 - 丁报", NOW - timedelta(minutes=30),
                  TEXT, "https://d.example/x/5"),
        ],
    }  # fmt: skip
    config = write(tmp_path, ", dedupe: skip", feeds)
    result = run(load_config(config), now=NOW, seed=1)
    assert result.counts().posts_skipped == 3
    assert sorted(k.rsplit("/", 1)[0] for k in posts(tmp_path)) == ["新闻/甲/快讯", "科技/乙/头条"]
    (story,) = list_stories(load_config(config), since=None, now=NOW)
    assert [m.has_post for m in story.members] == [True, False, False, False]

    # 甲 publishes a newer item and keeps one: its report of the story is pruned.
    feeds["新闻", "甲", "快讯"] = [
        Entry("a2", "另一条与此无关的新闻标题", NOW, OTHER.replace("十一月", "十月"),
              "https://a.example/news/9"),
        *FEEDS["新闻", "甲", "快讯"],
    ]  # fmt: skip
    write(tmp_path, ", dedupe: skip", feeds, keep_a=True)
    second = run(load_config(config), now=NOW + timedelta(hours=1), seed=1)
    assert second.counts().posts_pruned == 1
    (story,) = list_stories(load_config(config), since=None, now=NOW)
    # 丙 was joined through 甲's link only: it is a story of its own now, and posted.
    assert [m.feed for m in story.members] == ["科技 › 乙 › 头条", "科技 › 丁 › 要闻"]
    new_lead = story.members[0]
    assert new_lead.lead and new_lead.has_post and not story.members[1].has_post
    assert story.id == story_id((key("乙", "头条"), new_lead.item_id))
    titles = sorted(str(v["title"]) for v in posts(tmp_path).values())
    assert titles == sorted(
        [
            "另一条与此无关的新闻标题",
            "【快讯】华为发布新一代旗舰手机 Mate 80 | 乙网",
            "十一月居民消费价格数据公布",
            "Mate 80 来了：续航影像全面升级",
        ]
    )
    with closing(sqlite3.connect(tmp_path / ".feedsite/state.sqlite")) as db:
        linked = {r for r in db.execute("SELECT a_item FROM story_links UNION"
                                        " SELECT b_item FROM story_links")}  # fmt: skip
        signed = {r[0] for r in db.execute("SELECT item_id FROM story_items")}
        live = {r[0] for r in db.execute("SELECT item_id FROM items WHERE status = 'live'")}
    assert signed == live  # no story row of an item that is gone
    assert {r[0] for r in linked} <= live


def test_removed_item_leaves_its_story_and_lost_signatures_are_made_again(tmp_path: Path) -> None:
    config = write(tmp_path)
    run(load_config(config), now=NOW, seed=1)
    (before,) = list_stories(load_config(config), since=None, now=NOW)
    # Signatures lost (a state from before stories): the next run makes them again.
    with closing(sqlite3.connect(tmp_path / ".feedsite/state.sqlite")) as db, db:
        for table in ("story_items", "story_keys", "story_links"):
            db.execute(f"DELETE FROM {table}")
    assert list_stories(load_config(config), since=None, now=NOW) == []
    run(load_config(config), now=NOW + timedelta(minutes=10), seed=1)
    (after,) = list_stories(load_config(config), since=None, now=NOW)
    assert after.id == before.id
    assert [m.item_id for m in after.members] == [m.item_id for m in before.members]

    c1 = next(m for m in after.members if m.feed == "科技 › 丙 › 最新")
    remove_item(load_config(config), c1.item_id)
    (left,) = list_stories(load_config(config), since=None, now=NOW)
    assert c1.item_id not in {m.item_id for m in left.members} and len(left.members) == 2


@pytest.mark.hexo
@pytest.mark.parametrize("profile", ["default", "legacy"])
def test_linked_posts_load_in_the_real_hexo(tmp_path: Path, profile: str) -> None:
    from tests.helpers.hexo import load_posts, make_site, require_hexo

    require_hexo()
    config = write(tmp_path, f", dedupe: link, profile: {profile}")
    make_site(tmp_path / "blog")
    run(load_config(config), now=NOW, seed=1)
    written = {p.relative_to(tmp_path / "blog/source/_posts").as_posix()
               for p in (tmp_path / "blog/source/_posts").rglob("*.md")}  # fmt: skip
    loaded = load_posts(tmp_path / "blog", tz="Asia/Shanghai")
    assert not loaded.errors
    assert set(loaded.posts) == written
    lead = next(p for k, p in loaded.posts.items() if k.startswith("新闻/甲/快讯/"))
    assert "其他来源" in lead.content
    assert "Mate 80 来了" in lead.content and 'href="https://b.example/p/2"' in lead.content
    alone = next(p for p in loaded.posts.values() if p.title == "十一月居民消费价格数据公布")
    assert "其他来源" not in alone.content


FIVE = {
    **FEEDS,
    ("科技", "丁", "要闻"): [
        Entry("d1", "华为发布新一代旗舰手机Mate 80 - 丁报", NOW - timedelta(minutes=30), TEXT,
              "https://d.example/x/5"),
        Entry("d2", "十一月居民消费价格数据公布 - 丁报", NOW - timedelta(minutes=20), OTHER,
              "https://d.example/x/6"),
    ],
}  # fmt: skip


def clusters(config: Path) -> set[frozenset[str]]:
    return {
        frozenset(f"{m.feed}|{m.title}" for m in s.members)
        for s in list_stories(load_config(config), since=None, now=NOW)
    }


@settings(
    max_examples=8, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=st.permutations(sorted(FIVE)), first=st.integers(1, 4))
def test_the_order_feeds_arrive_in_does_not_change_the_stories(
    tmp_path_factory: pytest.TempPathFactory, order: list[tuple[str, str, str]], first: int
) -> None:
    whole = tmp_path_factory.mktemp("whole")
    run(load_config(write(whole, feeds=FIVE)), now=NOW, seed=1)
    expected = clusters(whole / "feedsite.yaml")
    assert len(expected) == 2  # the phone, and the price data (乙 and 丁)

    # The same feeds arriving over two runs, in a random order: the feeds not yet there fail.
    tmp = tmp_path_factory.mktemp("split")
    config = write(tmp, feeds=FIVE)
    late = [tmp / f"{site}-{name}.xml" for _c, site, name in order[first:]]
    held = {p: p.read_bytes() for p in late}
    for p in late:
        p.unlink()
    run(load_config(config), now=NOW, seed=1)
    for p, data in held.items():
        p.write_bytes(data)
    second = run(load_config(config), now=NOW + timedelta(hours=2), seed=1)
    assert second.counts().posts_new == sum(len(FIVE[k]) for k in order[first:])
    assert clusters(config) == expected
