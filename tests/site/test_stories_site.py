"""Stories on the native site (issue #15), built from a real run over feeds that report the
same stories (``tests/site/storysite.py``): the stream's one card per story, the sources a
card names, a post's other reports, the hot list, boards, and incremental rebuilds."""

from __future__ import annotations

import html
import shutil
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from lxml import html as lhtml

from feedsite._store import State
from feedsite.config import load_config
from tests.site.storysite import FEEDS, STORIES, Report, StorySite, build, story_site


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> StorySite:
    return story_site(tmp_path_factory)


def doc(out: Path, rel: str) -> lhtml.HtmlElement:
    return lhtml.fromstring((out / rel).read_bytes())


def post_of(href: str) -> str:
    """The post a link points to ("" when it is no post link)."""
    parts = unquote(href).split("/")
    return parts[-1].removesuffix(".html") if "posts" in parts else ""


def sites_of(members: list[Report]) -> list[str]:
    """Distinct site names, in lead order."""
    return list(dict.fromkeys(r.where[1] for r in members))


def test_every_story_is_one_card_on_the_stream(site: StorySite) -> None:
    home = doc(site.outs["stream"], "index.html")
    cards = [post_of(h) for h in home.xpath("//article[contains(@class,'card')]//h3/a/@href")]
    assert len(cards) == len(set(cards)) > STORIES
    for i in range(STORIES):
        members = site.story(i)
        shown = [site.uid(r) for r in members if site.uid(r) in cards]
        # One card, the lead's: the first member in the tree's order.
        assert shown == [site.uid(members[0])], (i, [r.where for r in members])
        card = home.xpath(f"//article[.//h3/a[contains(@href, '{shown[0]}')]]")[0]
        line = card.xpath(".//p[@class='sources']")[0]
        names = sites_of(members)
        if len(names) > 1:
            # "N 个来源 · the other sites", each linking to that site's first report.
            assert line.text_content().startswith(f"{len(names)} 个来源")
            assert line.xpath("./a/text()") == names[1:]
            firsts = {r.where[1]: site.uid(r) for r in reversed(members)}
            assert [post_of(h) for h in line.xpath("./a/@href")] == [firsts[n] for n in names[1:]]
        else:
            assert line.text_content().startswith("另见 Also in")
    # Posts of no story carry no sources line.
    plain = [r for r in site.reports if r.story is None]
    for r in plain:
        card = home.xpath(f"//article[.//h3/a[contains(@href, '{site.uid(r)}')]]")
        assert card and not card[0].xpath(".//p[@class='sources']")


def test_post_pages_list_the_other_reports(site: StorySite) -> None:
    out = site.outs["stream"]
    for i in range(STORIES):
        members = site.story(i)
        for r in members:
            page = doc(out, f"posts/{site.uid(r)}.html")
            items = page.xpath("//section[@class='also']//li")
            others = [o for o in members if o is not r]
            assert len(items) == len(others), (i, r.where)
            for li, o in zip(items, others, strict=True):
                assert li.xpath("./span[@class='also-source']/text()") == [
                    f"{o.where[1]} › {o.where[2]}"
                ]
                own, original = li.xpath("./a/@href")
                assert post_of(own) == site.uid(o)
                assert original == o.entry.link
                assert li.xpath("./a[1]/text()") == [o.entry.title]
    # A post of no story has no such list.
    plain = next(r for r in site.reports if r.story is None)
    assert not doc(out, f"posts/{site.uid(plain)}.html").xpath("//section[@class='also']")


def test_hot_lists_stories_of_several_sites_in_the_last_day(site: StorySite) -> None:
    newest = max(r.entry.date for r in site.reports if r.entry.date)
    since = newest - timedelta(hours=24)
    expected = []
    for i in range(STORIES):
        members = site.story(i)
        recent = [r for r in members if r.entry.date and r.entry.date >= since]
        n = len(sites_of(recent))
        if n >= 2:
            when = max(r.entry.date for r in recent if r.entry.date)
            expected.append((-n, -when.timestamp(), site.uid(members[0]), n))
    expected.sort()
    assert expected, "the generated feeds have no hot story"
    for home in ("stream", "boards", "both"):
        page = doc(site.outs[home], "index.html")
        hot = page.xpath("//section[contains(@class, 'hot')]//li")
        assert [post_of(li.xpath("./a/@href")[0]) for li in hot] == [e[2] for e in expected[:10]]
        counts = [li.xpath(".//span[@class='n']/text()")[0] for li in hot]
        assert counts == [f"{e[3]} 个来源" for e in expected[:10]]


def test_boards(site: StorySite) -> None:
    page = doc(site.outs["boards"], "index.html")
    assert not page.xpath("//section[@class='stream']")
    boards = page.xpath("//section[@class='board']")
    assert [b.xpath(".//h3/a/text()")[0] for b in boards] == sites_of(
        sorted(site.reports, key=lambda r: r.feed)
    )
    for board in boards:
        name = board.xpath(".//h3/a/text()")[0]
        href = unquote(board.xpath(".//h3/a/@href")[0])
        assert href.endswith(f"/{name}/index.html") and (site.outs["boards"] / href).is_file()
        posts = [post_of(h) for h in board.xpath(".//li/a/@href")]
        own = [r for r in site.reports if r.where[1] == name]
        assert 0 < len(posts) <= 8 and set(posts) <= {site.uid(r) for r in own}
        # Newest first.
        when = {site.uid(r): r.entry.date for r in own}
        assert [when[p] for p in posts] == sorted((when[p] for p in posts), reverse=True)
    # Both: the boards, then the stream; no page needs a script.
    both = (site.outs["both"] / "index.html").read_text(encoding="utf-8")
    assert 0 < both.index('class="boards"') < both.index('class="stream"')
    for home in ("stream", "boards", "both"):
        assert "<script" not in (site.outs[home] / "index.html").read_text(encoding="utf-8")


def test_category_pages_dedupe_feed_pages_do_not(site: StorySite) -> None:
    out = site.outs["stream"]
    for n, (category, name, feed) in enumerate(FEEDS):
        own = [r for r in site.reports if r.feed == n]
        feed_page = doc(out, f"c/{category}/{name}/{feed}/index.html")
        listed = {post_of(h) for h in feed_page.xpath("//article//h2/a/@href")}
        assert listed == {site.uid(r) for r in own}, feed
    for category in dict.fromkeys(c for c, _, _ in FEEDS):
        page = doc(out, f"c/{category}/index.html")
        listed = [post_of(h) for h in page.xpath("//article//h2/a/@href")]
        for i in range(STORIES):
            here = [r for r in site.story(i) if r.where[0] == category]
            shown = [site.uid(r) for r in here if site.uid(r) in listed]
            assert shown == ([site.uid(here[0])] if here else []), (category, i)


def test_rebuild_changes_only_the_pages_of_a_changed_story(site: StorySite, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    shutil.copytree(site.root, root)
    config_path = root / "feedsite.yaml"
    config_path.write_text(
        config_path.read_text(encoding="utf-8").replace(str(site.root), str(root)), "utf-8"
    )
    config = load_config(config_path)
    out = root / "out-stream"
    again = build(config, out, "stream")
    assert again.written == 0, again
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    # A report of story 0 leaves it (as when it is pruned): its links go.
    members = site.story(0)
    gone = members[-1]
    with State.open(config.state_path) as state:
        key = next((f.key, site.uid(gone)) for n, f in enumerate(config.feeds) if n == gone.feed)
        with state.transaction() as tx:
            state.record_stories(tx, [], [], drop=[key])
    result = build(config, out, "stream")
    after = {p: p.stat().st_mtime_ns for p in out.rglob("*.html")}
    changed = {p.relative_to(out).as_posix() for p in after if after[p] != before.get(p)}
    posts = {p for p in changed if p.startswith("posts/")}
    assert posts == {f"posts/{site.uid(r)}.html" for r in members}
    assert "index.html" in changed
    assert result.written >= len(changed), result
    gone_page = (out / f"posts/{site.uid(gone)}.html").read_text(encoding="utf-8")
    assert 'class="also"' not in gone_page
    lead_page = (out / f"posts/{site.uid(members[0])}.html").read_text(encoding="utf-8")
    assert html.escape(gone.entry.title) not in lead_page
