"""Stories in the site's pure page plan (issue #15): one card per story, the sources a card
names, a post's other reports, the hot list, boards, and page keys that follow stories."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from feedsite._plan._stories import Key, Story, stories_of
from feedsite._targets.site._model import FeedRef, Page, PagePlan, Settings, SitePost
from feedsite._targets.site._plan import BOARD_POSTS, HOT_MAX, HOT_SPAN, SiteStories, plan_pages
from feedsite.config import NativeConfig, SiteConfig

T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: (category, site, feed): the tree's order.
TREE = (
    ("科技", "36氪", "快讯"),
    ("科技", "cnBeta", "头条"),
    ("科技", "cnBeta", "最新"),
    ("科技", "IT之家", "最新"),
    ("新闻", "观察者网", "要闻"),
)
FEEDS = [FeedRef(c, s, f, f"k{i}", "") for i, (c, s, f) in enumerate(TREE)]


def settings(home: str = "stream", per_page: int = 30) -> Settings:
    native = NativeConfig(out=Path("out"), per_page=per_page, home=home)  # type: ignore[arg-type]
    return Settings(
        native=native,
        site=SiteConfig(hexo_root=Path("blog")),
        zone="UTC",
        iframe_hosts=(),
        templates_key="t",
        css_path="assets/style.css",
        js_path="assets/search.js",
    )


def post(feed: int, n: int, hours: float, title: str = "") -> SitePost:
    """Post ``n`` of feed ``feed``, ``hours`` before :data:`T`."""
    c, s, f = TREE[feed]
    time = T - timedelta(hours=hours)
    return SitePost(
        uid=f"p{feed}-{n}",
        item_id=f"p{feed}-{n}",
        feed_key=f"k{feed}",
        category=c,
        site=s,
        feed=f,
        title=title or f"标题 {feed}-{n}",
        link=f"https://example.org/{feed}/{n}",
        time=time,
        author=None,
        cover=None,
        excerpt="",
        lang="zh",
        data_key=f"d{feed}-{n}",
        month=(time.year, time.month),
        feed_index=feed,
        seq=n,
    )


def key(p: SitePost) -> Key:
    return (p.feed_key, p.item_id)


def newest_first(posts: Sequence[SitePost]) -> list[SitePost]:
    return sorted(posts, key=lambda p: (p.time, -p.feed_index), reverse=True)


def stories(*groups: Sequence[SitePost]) -> dict[Key, Story]:
    """The stories of these groups of posts (each group chained by links), led as the run
    leads them (tree order, then time)."""
    links = [(key(a), key(b), "title") for g in groups for a, b in itertools.pairwise(g)]
    links = [(min(a, b), max(a, b), why) for a, b, why in links]
    times = {key(p): p.time for g in groups for p in g}
    return stories_of(links, times, {f.key: i for i, f in enumerate(FEEDS)})


def plan(
    posts: Sequence[SitePost],
    told: dict[Key, Story] | None = None,
    *,
    home: str = "stream",
    per_page: int = 30,
) -> PagePlan:
    return plan_pages(
        newest_first(posts), FEEDS, settings(home, per_page), {}, stories=told, static={}
    )


def page(p: PagePlan, path: str) -> Page:
    return next(pg for pg in p.pages if pg.path == path)


def uids(pg: Page) -> list[str]:
    return [p.uid for p in pg.posts]


# A story reported by 36氪 (the lead: first in the tree), cnBeta twice (two routes of one
# site), IT之家 and 观察者网; the 36氪 copy is the oldest but leads by the tree's order.
LEAD = post(0, 1, 5)
BIG = [LEAD, post(1, 1, 4), post(2, 1, 3.5), post(3, 1, 3), post(4, 1, 2)]
ALONE = [post(0, 2, 1), post(1, 2, 6), post(3, 2, 0.5), post(4, 2, 8)]
SAME_SITE = [post(1, 3, 7), post(2, 3, 6.5)]  # one site's two routes
ALL = [*BIG, *ALONE, *SAME_SITE]
TOLD = stories(BIG, SAME_SITE)


def test_home_lists_one_card_per_story_the_leads() -> None:
    p = plan(ALL, TOLD)
    home = page(p, "index.html")
    assert uids(home) == [
        "p3-2",  # newest, no story
        "p0-2",
        "p0-1",  # the big story: its lead only, where the lead's time puts it
        "p1-2",
        "p1-3",  # the same-site story: its lead (cnBeta 头条 before 最新)
        "p4-2",
    ]
    view = home.stories["p0-1"]
    assert view.lead and view.sites == 4
    # The card names the other sites once each (cnBeta by its first member), not its own.
    assert [s.uid for s in view.sources] == ["p1-1", "p3-1", "p4-1"]
    assert [o.uid for o in view.others] == ["p1-1", "p2-1", "p3-1", "p4-1"]
    # The same-site story names the other feed.
    same = home.stories["p1-3"]
    assert same.by_feed and same.sites == 1 and [s.uid for s in same.sources] == ["p2-3"]
    assert "p3-2" not in home.stories


def test_no_stories_lists_every_post() -> None:
    for told in (None, {}):
        home = page(plan(ALL, told), "index.html")
        assert uids(home) == [p.uid for p in newest_first(ALL)]
        assert home.stories == {} and home.hot == ()


def test_category_and_site_pages_dedupe_feed_pages_do_not() -> None:
    p = plan(ALL, TOLD)
    # 科技 holds the lead: the lead's card.
    tech = page(p, "c/科技/index.html")
    assert "p0-1" in uids(tech) and not {"p1-1", "p2-1", "p3-1"} & set(uids(tech))
    # 新闻 has one member and not the lead: its own member's card, naming the others.
    news = page(p, "c/新闻/index.html")
    assert uids(news) == ["p4-2", "p4-1"] or uids(news) == ["p4-1", "p4-2"]
    assert [s.site for s in news.stories["p4-1"].sources] == ["36氪", "cnBeta", "IT之家"]
    assert not news.stories["p4-1"].lead
    # cnBeta's site page: one card for each story (its 头条 member leads both there).
    cnbeta = page(p, "c/科技/cnBeta/index.html")
    assert sorted(uids(cnbeta)) == ["p1-1", "p1-2", "p1-3"]
    # A feed page lists every post of its feed, and names each one's story.
    latest = page(p, "c/科技/cnBeta/最新/index.html")
    assert sorted(uids(latest)) == ["p2-1", "p2-3"]
    assert set(latest.stories) == {"p2-1", "p2-3"}
    # The archive lists every post.
    month = next(pg for pg in p.pages if pg.kind == "month")
    assert len(month.posts) == len(ALL)


def test_post_pages_list_the_other_reports() -> None:
    p = plan(ALL, TOLD)
    for member in BIG:
        pg = page(p, member.path)
        view = pg.stories[member.uid]
        assert [o.uid for o in view.others] == [m.uid for m in BIG if m is not member]
        assert view.lead == (member is LEAD)
    assert page(p, ALONE[0].path).stories == {}


def test_hot_ranks_by_sites_in_the_24_hours_before_the_newest_post() -> None:
    newest = post(0, 50, 0)  # the newest post: the window ends here, not at the clock
    three = [post(0, 10, 2), post(1, 10, 3), post(3, 10, 4)]
    two_new = [post(1, 11, 1), post(4, 11, 1.5)]
    two_old = [post(0, 12, 10), post(3, 12, 11)]
    # Reported by two sites, but one report is older than the window: not hot.
    stale = [post(0, 13, 5), post(4, 13, HOT_SPAN.total_seconds() / 3600 + 1)]
    same_site = [post(1, 14, 2), post(2, 14, 2.5)]  # one site: not hot
    posts = [newest, *three, *two_new, *two_old, *stale, *same_site]
    hot = page(plan(posts, stories(three, two_new, two_old, stale, same_site)), "index.html").hot
    assert [(h.lead.uid, h.sites) for h in hot] == [("p0-10", 3), ("p1-11", 2), ("p0-12", 2)]
    assert hot[1].newest == two_new[0].time
    # The same posts a year later: the same list (the window follows the posts).
    year = timedelta(days=365)
    later = [dataclasses.replace(x, time=x.time + year) for x in posts]
    by_uid = {x.uid: x for x in later}
    hot2 = page(
        plan(
            later,
            stories(
                *([by_uid[x.uid] for x in g] for g in (three, two_new, two_old, stale, same_site))
            ),
        ),
        "index.html",
    ).hot
    assert [(h.lead.uid, h.sites) for h in hot2] == [(h.lead.uid, h.sites) for h in hot]


def test_hot_keeps_the_top_ten() -> None:
    groups = [[post(0, 100 + i, i), post(4, 100 + i, i + 0.5)] for i in range(HOT_MAX + 3)]
    hot = page(plan([x for g in groups for x in g], stories(*groups)), "index.html").hot
    assert len(hot) == HOT_MAX
    assert [h.lead.uid for h in hot] == [f"p0-{100 + i}" for i in range(HOT_MAX)]  # newest


def test_home_layouts() -> None:
    many = [post(f, n, n + f / 10) for f in range(len(TREE)) for n in range(12)]
    boards = page(plan(many, home="boards"), "index.html")
    assert boards.home == "boards" and boards.posts == ()
    assert [b.site for b in boards.boards] == ["36氪", "cnBeta", "IT之家", "观察者网"]
    cnbeta = boards.boards[1]
    assert len(cnbeta.posts) == BOARD_POSTS and cnbeta.count == 24
    assert cnbeta.path == "c/科技/cnBeta/index.html"
    assert [p.time for p in cnbeta.posts] == sorted((p.time for p in cnbeta.posts), reverse=True)
    both = page(plan(many, home="both", per_page=10), "index.html")
    assert both.boards == boards.boards and len(both.posts) == 10
    stream = page(plan(many, per_page=10), "index.html")
    assert stream.boards == () and stream.posts == both.posts
    assert len({boards.key, both.key, stream.key}) == 3


def test_boards_show_one_title_per_story() -> None:
    p = page(plan(ALL, TOLD, home="boards"), "index.html")
    cnbeta = next(b for b in p.boards if b.site == "cnBeta")
    assert [x.uid for x in cnbeta.posts] == ["p1-1", "p1-2", "p1-3"]


def keys(p: PagePlan) -> dict[str, str]:
    return {pg.path: pg.key for pg in p.pages}


def test_page_keys_follow_what_pages_show_of_stories() -> None:
    before = keys(plan(ALL, TOLD))
    # IT之家's report is gone from the story (pruned, or no longer linked).
    rest = [m for m in BIG if m.uid != "p3-1"]
    after = keys(plan(ALL, stories(rest, SAME_SITE)))
    changed = {path for path in before if before[path] != after[path]}
    posts = {path for path in changed if path.startswith("posts/")}
    # Every member's page lists the others: those change; no other post page does.
    assert posts == {m.path for m in BIG}
    # Listings whose cards name the story change; the same-site story's pages do not.
    assert "index.html" in changed and "c/科技/IT之家/最新/index.html" in changed
    assert "c/科技/cnBeta/最新/index.html" in changed  # its card names the sites
    assert SAME_SITE[1].path not in changed and ALONE[0].path not in changed
    # The same stories again: nothing changes.
    assert keys(plan(ALL, stories(BIG, SAME_SITE))) == before


def test_pages_of_posts_in_no_story_keep_their_keys() -> None:
    """A post page outside every story has the key it has without stories (a site built
    before stories is not rebuilt for them), and so has a feed page of such posts."""
    with_stories, without = keys(plan(ALL, TOLD)), keys(plan(ALL))
    for p in ALONE:
        assert with_stories[p.path] == without[p.path]
    for p in BIG:
        assert with_stories[p.path] != without[p.path]
    assert with_stories["archive/index.html"] == without["archive/index.html"]


def test_a_member_that_is_no_post_is_left_out() -> None:
    """Stories name live items; one that is not on the site (another feed) is not shown,
    and a story left with one post is none."""
    told = stories(BIG)
    only = [*ALONE, LEAD, BIG[1]]
    home = page(plan(only, told), "index.html")
    view = home.stories[LEAD.uid]
    assert [o.uid for o in view.others] == [BIG[1].uid]
    lone = page(plan([*ALONE, LEAD], told), "index.html")
    assert lone.stories == {}
    assert SiteStories([LEAD], told).members == {}
