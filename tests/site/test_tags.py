"""Tags and media on the native site (issue #17): tag pages, the tags page, players on post
pages, Atom categories and enclosures; the pure rules behind them.

The sites are built by feedsite itself from an RSS file with ``<category>``,
``<enclosure>`` and ``media:content`` (tests/site/mediasite.py).
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import feedparser
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from lxml import html as lhtml

from feedsite._targets._paths import safe_component
from feedsite._targets._tags import MAX_TAG_CHARS, MAX_TAGS, tag_key, tag_names
from feedsite._targets.site._model import format_duration, format_size, tag_dir
from feedsite._targets.site._plan import (
    MAX_TAG_PAGES,
    TAG_POSTS,
    playable,
    site_enclosures,
)
from feedsite.types import Enclosure, Tag
from tests.site.mediasite import NAMES, T0, Item, Media, MediaSite, media_site
from tests.site.test_build import changed, snapshot
from tests.site.test_stories_plan import page, plan, post

ATOM = "{http://www.w3.org/2005/Atom}"

AUDIO = Media("https://cdn.example.org/ep1.mp3", "audio/mpeg", 3_500_000, 3725, "audio", "第一集")
IMAGE = Media("https://cdn.example.org/cover.jpg", "image/jpeg", 1000)
VIDEO = Media("https://cdn.example.org/v.mp4", "video/mp4", 1_572_864)
#: A video's web page (``medium="video"``, but HTML): listed in Atom, never played.
WATCH = Media("https://cdn.example.org/watch?v=1", "text/html", medium="video")
ITEMS = [
    Item("e1", "Episode one", 1, ("AI", "Podcast"), (AUDIO, IMAGE)),
    Item("e2", "Episode two", 2, ("ai", "Video"), (VIDEO, WATCH)),
    Item("e3", "Episode three", 3, ("ＡＩ", "Podcast")),
    Item("e4", "No tags", 4),
]
FEED_DIR = "c/" + "/".join(safe_component(n) for n in NAMES) + "/"
ATOMS = (
    "atom.xml",
    "c/播客/atom.xml",
    "c/播客/声音/atom.xml",
    FEED_DIR + "atom.xml",
)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> MediaSite:
    return media_site(tmp_path_factory.mktemp("tags"), ITEMS)


def doc(site: MediaSite, rel: str) -> lhtml.HtmlElement:
    return lhtml.fromstring((site.out / rel).read_bytes())


def post_path(site: MediaSite, title: str) -> str:
    """The post page whose title is ``title``."""
    for f in (site.out / "posts").glob("*.html"):
        if f'<h1 class="post-title">{title}</h1>' in f.read_text(encoding="utf-8"):
            return f"posts/{f.name}"
    raise AssertionError(f"no post page titled {title!r}")


def resolve(rel: str, href: str) -> str:
    """``href`` on page ``rel`` as a path under the root."""
    parts = rel.split("/")[:-1]
    for piece in unquote(href).split("/"):
        if piece == "..":
            parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def test_tag_pages_fold_case_and_width(built: MediaSite) -> None:
    tags = doc(built, "tags/index.html")
    listed = [
        (a.text_content(), resolve("tags/index.html", a.get("href")))
        for a in tags.xpath("//ul[@class='tag-list']/li/a")
    ]
    # AI, ai and ＡＩ are one tag; shown by its most used spelling (ties: the smallest).
    assert listed == [
        ("AI", "t/ai/index.html"),
        ("Podcast", "t/podcast/index.html"),
        ("Video", "t/video/index.html"),
    ]
    counts = [c.text_content() for c in tags.xpath("//ul[@class='tag-list']/li/span")]
    assert counts == ["3", "2", "1"]
    ai = doc(built, "t/ai/index.html")
    titles = [a.text_content() for a in ai.xpath("//h2[@class='card-title']/a")]
    assert titles == ["Episode one", "Episode two", "Episode three"]
    assert ai.xpath("string(//h1)").split() == ["AI", "3"]
    # Reachable: the nav of every page links the tags page.
    home = doc(built, "index.html")
    assert "tags/index.html" in home.xpath("//nav[@class='links']/a/@href")
    sitemap = (built.out / "sitemap.xml").read_text(encoding="utf-8")
    assert "/t/ai/" in sitemap and "/tags/" in sitemap


def test_post_pages_show_tags_and_play_media(built: MediaSite) -> None:
    rel = post_path(built, "Episode one")
    d = doc(built, rel)
    tags = [
        (a.text_content(), resolve(rel, a.get("href"))) for a in d.xpath("//p[@class='tags']/a")
    ]
    assert tags == [("AI", "t/ai/index.html"), ("Podcast", "t/podcast/index.html")]
    assert all((built.out / path).is_file() for _, path in tags)
    (audio,) = d.xpath("//audio")
    assert audio.get("src") == AUDIO.url and audio.get("preload") == "none"
    assert "controls" in audio.attrib and "autoplay" not in audio.attrib
    assert not d.xpath("//video") and not d.xpath("//*[@autoplay]")
    caption = audio.getparent().xpath("string(figcaption)")
    assert "第一集" in caption and "1:02:05" in caption and "3.3 MB" in caption
    assert audio.getparent().xpath("figcaption/a[@class='download']/@href") == [AUDIO.url]
    # The image enclosure is not played.
    assert IMAGE.url not in [e.get("src") for e in d.xpath("//audio|//video")]

    d = doc(built, post_path(built, "Episode two"))
    (video,) = d.xpath("//video")
    assert video.get("src") == VIDEO.url and video.get("preload") == "none"
    assert "controls" in video.attrib and "autoplay" not in video.attrib
    caption = video.getparent().xpath("string(figcaption)")
    assert "1.5 MB" in caption and "Duration" not in caption
    assert len(d.xpath("//audio|//video")) == 1  # the HTML page of a video is not played

    d = doc(built, post_path(built, "No tags"))
    assert not d.xpath("//p[@class='tags']") and not d.xpath("//section[@class='media']")


def test_atom_carries_categories_and_enclosures(built: MediaSite) -> None:
    for rel in ATOMS:
        data = (built.out / rel).read_bytes()
        root = etree.fromstring(data)  # well-formed
        entries = {e.findtext(f"{ATOM}title"): e for e in root.iter(f"{ATOM}entry")}
        one = entries["Episode one"]
        cats = [(c.get("term"), c.get("label")) for c in one.iter(f"{ATOM}category")]
        assert ("ai", "AI") in cats and ("podcast", "Podcast") in cats, (rel, cats)
        links = [
            (x.get("href"), x.get("type"), x.get("length"))
            for x in one.iter(f"{ATOM}link")
            if x.get("rel") == "enclosure"
        ]
        # In the parse stage's order: RSS enclosures, then media:content.
        assert links == [(IMAGE.url, "image/jpeg", "1000"), (AUDIO.url, "audio/mpeg", "3500000")]
        two = entries["Episode two"]
        hrefs = [x.get("href") for x in two.iter(f"{ATOM}link") if x.get("rel") == "enclosure"]
        assert hrefs == [VIDEO.url, WATCH.url]
        assert not [c for c in entries["No tags"].iter(f"{ATOM}category") if c.get("label")]
        # A feed reader reads them so.
        parsed = feedparser.parse(data)
        assert not parsed.bozo, parsed.bozo_exception
        first = next(e for e in parsed.entries if e.title == "Episode one")
        assert {t.get("label") for t in first.tags} >= {"AI", "Podcast"}
        assert [e.href for e in first.enclosures] == [IMAGE.url, AUDIO.url]


def test_incremental_tags(tmp_path: Path) -> None:
    s = media_site(tmp_path / "p", ITEMS)
    before = snapshot(s.out)
    assert s.build().written == 0
    assert snapshot(s.out) == before

    # A tag added to one item rewrites its page, the new tag's page, the tags page, the
    # sitemap and the Atom feeds listing it: nothing else.
    items = [*ITEMS[:3], dataclasses.replace(ITEMS[3], tags=("Extra",))]
    s.write(items)
    s.run(now=T0 + timedelta(hours=1))
    result = s.build()
    got = changed(before, snapshot(s.out))
    e4 = post_path(s, "No tags")
    assert got == {e4, "t/extra/index.html", "tags/index.html", "sitemap.xml", *ATOMS}, got
    assert result.written == len(got) and result.deleted == 0

    # A tag no post has any more loses its page.
    before = snapshot(s.out)
    items[1] = dataclasses.replace(items[1], tags=("ai",))
    s.write(items)
    s.run(now=T0 + timedelta(hours=2))
    result = s.build()
    assert result.deleted == 1 and not (s.out / "t/video/index.html").exists()
    got = changed(before, snapshot(s.out))
    e2 = post_path(s, "Episode two")
    assert got == {e2, "tags/index.html", "sitemap.xml", *ATOMS}, got

    # An enclosure added: the post page (its player) and the Atom feeds (the item's content
    # hash, so its pages' keys, follow its enclosures).
    before = snapshot(s.out)
    items[3] = dataclasses.replace(items[3], media=(VIDEO,))
    s.write(items)
    s.run(now=T0 + timedelta(hours=3))
    s.build()
    assert changed(before, snapshot(s.out)) == {e4, *ATOMS}
    assert doc(s, e4).xpath("//video/@src") == [VIDEO.url]


HOSTILE = (
    "<script>alert(1)</script>",
    "\"q' &amp; <b>bold</b>",
    "{{ 7*7 }}{% if 1 %}x{% endif %}",
    "\u202eevil\u202c مرحبا",
    "x" * 10_000,
    ".",
    "index.html",
    *(f"more {n}" for n in range(12)),
)


def test_hostile_tags_are_escaped_and_capped(tmp_path: Path) -> None:
    s = media_site(tmp_path / "p", [Item("h1", "Hostile", 1, HOSTILE)])
    raw = (s.out / post_path(s, "Hostile")).read_text(encoding="utf-8")
    d = lhtml.fromstring(raw)
    names = [a.text_content() for a in d.xpath("//p[@class='tags']/a")]
    assert len(names) == MAX_TAGS
    assert all(0 < len(n) <= MAX_TAG_CHARS for n in names), names
    assert names[0] == "<script>alert(1)</script>"  # as text, escaped in the HTML
    assert "<script>alert" not in raw and "<b>bold" not in raw
    assert "{{ 7*7 }}" in names[2]  # never evaluated
    assert "\u202e" not in raw and names[3] == "evil مرحبا"
    assert names[4] == "x" * MAX_TAG_CHARS
    scripts = d.xpath("//script")
    assert all("assets/search." in (x.get("src") or "") for x in scripts)
    for a in d.xpath("//p[@class='tags']/a"):
        target = resolve(post_path(s, "Hostile"), a.get("href"))
        assert target.startswith("t/") and target.count("/") == 2, target
        assert (s.out / target).is_file()
        assert (
            lhtml.fromstring((s.out / target).read_bytes())
            .xpath("string(//h1)")
            .startswith(a.text_content())
        )
    etree.fromstring((s.out / "atom.xml").read_bytes())  # still well-formed


# --- the pure rules -------------------------------------------------------------------------


def test_tag_pages_are_bounded_by_use() -> None:
    common = [dataclasses.replace(post(0, n, n), tags=("Common",)) for n in range(3)]
    rare = [
        dataclasses.replace(post(1, n, 10 + n / 100), tags=(f"rare {n}",))
        for n in range(MAX_TAG_PAGES + 5)
    ]
    p = plan([*common, *rare])
    assert len(p.tags) == MAX_TAG_PAGES
    assert p.tags[0].name == "Common" and p.tags[0].count == 3
    tag_pages = [pg for pg in p.pages if pg.kind == "tag"]
    assert len(tag_pages) == MAX_TAG_PAGES
    # Ties (one post each) go to the newest posts: the oldest rare tags have no page, and
    # their posts show them unlinked.
    oldest = page(p, rare[-1].path)
    assert [(t.name, t.path) for t in oldest.tags] == [(f"rare {MAX_TAG_PAGES + 4}", None)]
    newest = page(p, rare[0].path)
    assert newest.tags[0].path == tag_dir(tag_key("rare 0")) + "index.html"


def test_tag_page_lists_the_newest_posts() -> None:
    posts = [dataclasses.replace(post(0, n, n), tags=("x",)) for n in range(TAG_POSTS + 7)]
    p = plan(posts)
    tag = page(p, "t/x/index.html")
    assert tag.total == TAG_POSTS + 7 and len(tag.posts) == TAG_POSTS
    assert [q.uid for q in tag.posts] == [q.uid for q in posts[:TAG_POSTS]]


def test_page_keys_follow_tags() -> None:
    a, b = post(0, 1, 1), post(0, 2, 2)
    base = plan([a, b])
    tagged = plan([dataclasses.replace(a, tags=("T",)), b])
    keys = {pg.path: pg.key for pg in base.pages}
    diff = {pg.path for pg in tagged.pages if keys.get(pg.path) != pg.key}
    assert diff == {a.path, "t/t/index.html", "tags/index.html", "sitemap.xml"}


@settings(max_examples=300, deadline=None)
@given(st.lists(st.builds(Tag, st.text(max_size=300), st.none(), st.none() | st.text())))
def test_tag_names_are_clean_and_capped(tags: list[Tag]) -> None:
    names = tag_names(tags)
    assert len(names) <= MAX_TAGS
    keys = [tag_key(n) for n in names]
    assert len(set(keys)) == len(keys)
    for n in names:
        assert 0 < len(n) <= MAX_TAG_CHARS
        assert n == n.strip() and "  " not in n
        assert all(c.isprintable() for c in n), repr(n)
        folder = tag_dir(tag_key(n))
        assert folder.startswith("t/") and folder.count("/") == 2
        assert folder[2:-1] not in ("", ".", "..")
    # Distinct tags, distinct folders (safe_component is injective).
    assert len({tag_dir(k) for k in keys}) == len(keys)


def test_folding() -> None:
    assert tag_key("AI") == tag_key("ai") == tag_key("ＡＩ") == "ai"
    assert tag_key("Straße") == tag_key("STRASSE")
    assert tag_key("ｶﾀｶﾅ") == tag_key("カタカナ")
    assert tag_names([Tag("a"), Tag("A"), Tag("x", label="Label"), Tag("  "), Tag("b\x00c")]) == (
        "a",
        "Label",
        "bc",
    )


def test_durations_and_sizes() -> None:
    assert [format_duration(s) for s in (None, 0, -5, 59, 61, 3725, 36000, 10**9)] == [
        "", "", "", "0:59", "1:01", "1:02:05", "10:00:00", "",
    ]  # fmt: skip
    assert [format_size(n) for n in (None, 0, 100, 2048, 1_572_864, 3 << 30, 1 << 41)] == [
        "", "", "1 KB", "2 KB", "1.5 MB", "3.0 GB", "",
    ]  # fmt: skip


def test_what_is_played() -> None:
    assert playable("audio/mpeg", "audio") == "audio"
    assert playable("video/mp4", None) == "video"
    assert playable(None, "video") == "video"
    assert playable("application/octet-stream", "audio") == "audio"
    assert playable("text/html", "video") is None
    assert playable("image/jpeg", "image") is None
    assert playable(None, None) is None


def test_enclosures_checked_again_at_build_time() -> None:
    """Stored rows of older versions may hold anything."""
    got = site_enclosures(
        [
            Enclosure("javascript:alert(1)", "audio/mpeg"),
            Enclosure("data:audio/wav;base64,AAAA", "audio/wav"),
            Enclosure("/relative.mp3", "audio/mpeg"),
            Enclosure('https://ok.example/a b".mp3', 'audio/mpeg" onerror="x', length=-3),
            Enclosure('https://ok.example/a b".mp3', "audio/mpeg"),  # the same URL again
            Enclosure("https://ok.example/v.webm", "VIDEO/WEBM", length=10, duration=0),
            *(Enclosure(f"https://ok.example/{n}.jpg", "image/jpeg") for n in range(20)),
        ]
    )
    assert len(got) == 10
    first, second = got[:2]
    assert first.url == "https://ok.example/a%20b%22.mp3" and first.type is None
    assert first.length is None and first.kind is None
    assert second.type == "video/webm" and second.kind == "video" and second.duration is None
