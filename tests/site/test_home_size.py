"""The home page stays light at 10,000 posts (issue #15, "readers first"): its own HTML, CSS and
JavaScript under 100 KB gzipped, in each ``native.home`` layout.

The page is planned and rendered by the site's own code (``plan_pages``, ``Renderer``, the
packaged templates and static files) from 10,000 posts in the benchmark's tree (100 feeds:
5 categories × 4 sites × 5 feeds) with long Chinese titles, full excerpts, covers and
400 stories of 2–5 reports; only the state and the disk are left out (the home page reads
neither: its bytes are a function of the plan). bench/site.py measures the same on a real
build (docs/benchmarks.md).
"""

from __future__ import annotations

import gzip
import itertools
import random
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from feedsite._plan._stories import stories_of
from feedsite._targets.site._model import FeedRef, Settings, SitePost
from feedsite._targets.site._plan import plan_pages
from feedsite._targets.site._render import Renderer, environment, static_files, templates_key
from feedsite.config import NativeConfig, SiteConfig

POSTS = 10_000
LIMIT = 100 * 1024
T = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
#: Titles and excerpts are drawn at random from these characters (seeded): text gzip cannot
#: shrink much more than real news text, unlike a repeated title.
CHARS = (
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
    "说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机"
    "当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心"
    "反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程"
    "展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期"
)


def text(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(CHARS) for _ in range(n))


def tree() -> list[FeedRef]:
    feeds = []
    for c, category in enumerate(("新媒体", "编程", "二次元", "Science & Tech", "生活 Life")):
        for s in range(4):
            site = f"站点 {c}{s}" if s % 2 else f"Site-{c}{s}"
            for f in range(5):
                name = f"频道{f}" if f % 2 else f"feed {f}"
                feeds.append(FeedRef(category, site, name, f"feed-{len(feeds):03d}", ""))
    return feeds


def posts(feeds: list[FeedRef]) -> list[SitePost]:
    rng = random.Random(15)
    out = []
    for g in range(POSTS):
        ref = feeds[g % len(feeds)]
        time = T - timedelta(minutes=7 * g)
        out.append(
            SitePost(
                uid=f"{g:016x}",
                item_id=f"{g:016x}",
                feed_key=ref.key,
                category=ref.category,
                site=ref.site,
                feed=ref.name,
                title=text(rng, rng.randint(18, 40)),
                link=f"https://news.example.org/articles/2026/11/{g}.html?from=rss",
                time=time,
                author="记者 张三",
                cover=f"https://img.example.org/uploads/2026/11/{g:08d}/cover-large.jpg",
                excerpt=text(rng, 139) + "…",
                lang="zh",
                data_key=f"k{g}",
                month=(time.year, time.month),
                feed_index=g % len(feeds),
                seq=g // len(feeds),
            )
        )
    return out


@pytest.mark.parametrize("home", ["stream", "boards", "both"])
def test_home_page_under_100_kb_gzipped_at_10000_posts(home: str, tmp_path: Path) -> None:
    feeds = tree()
    site_posts = posts(feeds)
    # 400 stories: posts 5 feeds apart (other sites), 2-5 reports each.
    links, times = [], {}
    for s in range(400):
        members = [site_posts[25 * s + 5 * j] for j in range(2 + s % 4)]
        for a, b in itertools.pairwise(members):
            ka, kb = (a.feed_key, a.item_id), (b.feed_key, b.item_id)
            links.append((min(ka, kb), max(ka, kb), "url"))
        times.update({(m.feed_key, m.item_id): m.time for m in members})
    told = stories_of(links, times, {f.key: i for i, f in enumerate(feeds)})

    env = environment(None, "UTC", tmp_path / "cache")
    static = static_files()
    settings = Settings(
        native=NativeConfig(out=tmp_path, title="新闻聚合 feedsite", home=home),  # type: ignore[arg-type]
        site=SiteConfig(hexo_root=tmp_path),
        zone="UTC",
        iframe_hosts=(),
        templates_key=templates_key(env, static),
        css_path=next(p for p in static if p.startswith("assets/style.")),
        js_path=next(p for p in static if p.startswith("assets/search.")),
        icon_path=next(p for p in static if p.startswith("assets/favicon.")),
    )
    plan = plan_pages(site_posts, feeds, settings, {}, stories=told)
    page = next(p for p in plan.pages if p.path == "index.html")
    data = Renderer(env, settings, plan, static).render(page, {})
    text = data.decode()
    # What the page loads of its own: stylesheets and scripts (the favicon and the feeds'
    # images are not the page's code).
    linked = re.findall(r'<link rel="stylesheet" href="([^"]+)"', text)
    linked += re.findall(r'<script[^>]* src="([^"]+)"', text)
    assert linked, "the home page links no stylesheet"
    total = len(gzip.compress(data, 9)) + sum(len(gzip.compress(static[p], 9)) for p in linked)
    print(f"home page ({home}): {total / 1024:.1f} KB gzipped")
    assert total < LIMIT, f"home page ({home}): {total / 1024:.1f} KB gzipped"
    # The page holds what it should (so a small page is not an empty one).
    if home != "boards":
        assert text.count('<article class="card') == settings.per_page
    if home != "stream":
        assert text.count('<section class="board"') == 20
    assert text.count("个来源") >= 5 and 'class="hot' in text
