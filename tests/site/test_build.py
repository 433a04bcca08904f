"""``build_site``: the native static site, from state feedsite itself produced."""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections import Counter
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit

import feedparser
import pytest
from lxml import etree
from lxml import html as lhtml

from feedsite._store import State
from feedsite._targets._paths import safe_component
from feedsite._targets.site import _render
from feedsite._targets.site._plan import ATOM_ENTRIES
from tests.site.conftest import T0, Project, entries

BASE = "https://user.github.io/news"
ATOM = "{http://www.w3.org/2005/Atom}"
SM = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

MakeProject = Callable[..., Project]


def live_items(p: Project) -> list[tuple[str, str]]:
    """(feed_key, item_id) of every live item, straight from the state."""
    with sqlite3.connect(p.config().state_path) as c:
        return list(c.execute("SELECT feed_key, item_id FROM items WHERE status='live'"))


def snapshot(out: Path) -> dict[str, tuple[int, bytes]]:
    return {
        f.relative_to(out).as_posix(): (f.stat().st_mtime_ns, f.read_bytes())
        for f in out.rglob("*")
        if f.is_file()
    }


def changed(before: dict[str, tuple[int, bytes]], after: dict[str, tuple[int, bytes]]) -> set[str]:
    return {k for k, v in after.items() if before.get(k, (None,))[0] != v[0]}


def page(out: Path, rel: str) -> lhtml.HtmlElement:
    return lhtml.fromstring((out / rel).read_bytes())


def post_links(doc: lhtml.HtmlElement, xpath: str) -> list[str]:
    """The post ids linked from the elements ``xpath`` selects."""
    ids = []
    for href in doc.xpath(xpath + "//a/@href"):
        parts = unquote(href).split("/")
        if "posts" in parts:
            ids.append(parts[parts.index("posts") + 1].removesuffix(".html"))
    return list(dict.fromkeys(ids))


def feed_dir(category: str, site: str, feed: str) -> str:
    return "c/" + "/".join(safe_component(x) for x in (category, site, feed)) + "/"


@pytest.fixture
def built(make_project: MakeProject) -> Project:
    p = make_project()
    result = p.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai")
    assert result.posts == len(live_items(p)) > 60
    assert result.warnings == ()
    return p


def test_every_live_item_has_a_post_page_and_listings(built: Project) -> None:
    out = built.out
    live = live_items(built)
    ids = {item_id for _, item_id in live}
    assert {d.name for d in (out / "posts").iterdir()} == {f"{i}.html" for i in ids}
    for item_id in ids:
        doc = page(out, f"posts/{item_id}.html")
        assert doc.xpath("//article[@class='post']")
        assert doc.get("lang") in ("zh", "en")
        for img in doc.xpath("//img"):
            assert img.get("referrerpolicy") == "no-referrer"
            assert img.get("loading") == "lazy"
        assert doc.xpath("//p[@class='source']")

    # Home: the newest per_page posts as cards, with thumbnails where a post has a cover.
    home = page(out, "index.html")
    cards = home.xpath("//article[@class='card']")
    assert len(cards) == 10
    times = [c.xpath(".//time/@datetime")[0] for c in cards]
    assert times == sorted(times, reverse=True)
    assert sum(bool(c.xpath(".//a[contains(@class,'thumb')]/img")) for c in cards) >= 5

    # Feed pages list all their posts; site/category pages the newest per_page.
    by_feed = Counter(k for k, _ in live)
    for key, n in by_feed.items():
        cat, site, feed = json.loads(key)
        doc = page(out, feed_dir(cat, site, feed) + "index.html")
        assert len(post_links(doc, "//div[@class='cards']")) == n
    for f in built.config().feeds:
        assert (out / feed_dir(f.category, f.site, f.name) / "index.html").is_file()
        assert (out / feed_dir(f.category, f.site, f.name) / "atom.xml").is_file()
    cats = Counter(json.loads(k)[0] for k, _ in live)
    for cat, n in cats.items():
        doc = page(out, f"c/{safe_component(cat)}/index.html")
        assert len(post_links(doc, "//div[@class='cards']")) == min(n, 10)


def test_nav_tree_counts_equal_posts(built: Project) -> None:
    live = live_items(built)
    by_feed = Counter(k for k, _ in live)
    home = page(built.out, "index.html")
    counts: dict[str, int] = {}
    for li in home.xpath("//nav[@class='tree']//li"):
        href = unquote(li.xpath("./a/@href")[0])
        counts[href] = int(li.xpath("./span[@class='count']/text()")[0])
    for f in built.config().feeds:
        assert counts[feed_dir(f.category, f.site, f.name) + "index.html"] == by_feed.get(f.key, 0)
    cats = Counter(json.loads(k)[0] for k, _ in live)
    for cat, n in cats.items():
        assert counts[f"c/{safe_component(cat)}/index.html"] == n
    assert counts[feed_dir("本地", "样例", "路由") + "index.html"] == 0


def test_archives_hold_every_post_once(built: Project) -> None:
    out = built.out
    seen: list[str] = []
    archive = page(out, "archive/index.html")
    months = [unquote(h) for h in archive.xpath("//ul[@class='months']//a/@href")]
    assert months and all(m.startswith("../archive/") for m in months)
    for m in months:
        doc = page(out, m.removeprefix("../"))
        seen += post_links(doc, "//ol[@class='archive']")
    assert sorted(seen) == sorted(i for _, i in live_items(built))


def test_atom_feeds_opml_sitemap(built: Project) -> None:
    out = built.out
    live = live_items(built)
    root = etree.parse(str(out / "atom.xml")).getroot()
    entries_ = root.findall(ATOM + "entry")
    assert len(entries_) == min(ATOM_ENTRIES, len(live))
    for e in entries_:
        assert e.find(ATOM + "link").get("href").startswith(BASE + "/posts/")
    parsed = feedparser.parse((out / "atom.xml").read_bytes())
    assert not parsed.bozo and len(parsed.entries) == len(entries_)

    by_feed: dict[str, set[str]] = {}
    for k, i in live:
        by_feed.setdefault(k, set()).add(i)
    for key, ids in by_feed.items():
        cat, site, feed = json.loads(key)
        data = (out / feed_dir(cat, site, feed) / "atom.xml").read_bytes()
        got = {
            e.findtext(ATOM + "id").rsplit(":", 1)[1]
            for e in etree.fromstring(data).findall(ATOM + "entry")
        }
        assert got == ids
        assert len(feedparser.parse(data).entries) == len(ids)

    # OPML: the config tree, category > site > feed, and no access key anywhere.
    opml_bytes = (out / "opml.xml").read_bytes()
    assert b"SECRETKEY123" not in opml_bytes
    body = etree.fromstring(opml_bytes).find("body")
    tree = [
        (c.get("text"), s.get("text"), f.get("text"), f.get("xmlUrl"))
        for c in body
        for s in c
        for f in s
    ]
    config = built.config()
    assert [(c, s, f) for c, s, f, _ in tree] == [
        (f.category, f.site, f.name) for f in config.feeds
    ]
    urls = {(c, s, f): u for c, s, f, u in tree}
    assert urls[("本地", "样例", "路由")] == "https://rsshub.example.org/test/route"
    # A path: feed publishes no local path: the OPML offers the site's own Atom feed of it
    # (issue #10 row 12).
    assert urls[("本地", "样例", "生成")].startswith(BASE + "/c/")
    assert urls[("本地", "样例", "生成")].endswith("/atom.xml")
    assert b"file:" not in opml_bytes

    # Sitemap: every HTML page, absolute under the base URL.
    locs = [e.text for e in etree.parse(str(out / "sitemap.xml")).getroot().iter(SM + "loc")]
    assert all(loc.startswith(BASE + "/") for loc in locs)
    pages = {f.relative_to(out).as_posix().removesuffix("index.html") for f in out.rglob("*.html")}
    assert {unquote(loc[len(BASE) + 1 :]) for loc in locs} == pages


def test_internal_links_resolve(built: Project) -> None:
    """A static crawler: every relative href/src of every page exists on disk."""
    out = built.out.resolve()
    checked = 0
    for f in out.rglob("*.html"):
        doc = lhtml.fromstring(f.read_bytes())
        for el in doc.xpath("//*[@href or @src]"):
            for attr in ("href", "src"):
                url = el.get(attr)
                if url is None:
                    continue
                parts = urlsplit(url)
                if parts.scheme or url.startswith(("//", "#")):
                    assert not url.startswith("/"), url
                    continue
                assert not url.startswith("/"), f"{f}: root-relative link {url}"
                target = (f.parent / unquote(parts.path)).resolve()
                assert target.is_relative_to(out), (f, url)
                if target.is_dir():
                    target = target / "index.html"
                assert target.is_file(), f"{f.relative_to(out)} → {url}"
                checked += 1
    assert checked > 1000
    # No page requests anything from outside but the feeds' own images.
    for f in out.rglob("*.html"):
        text = f.read_text(encoding="utf-8")
        assert "fonts.googleapis" not in text and "cdn" not in text.split("<main>")[0]


def test_rebuild_writes_nothing(built: Project) -> None:
    before = snapshot(built.out)
    result = built.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai")
    assert result.written == 0 and result.deleted == 0
    assert snapshot(built.out) == before


def test_new_items_rewrite_only_affected_pages(built: Project) -> None:
    out = built.out
    old_ids = {i for _, i in live_items(built)}
    before = snapshot(out)
    built.set_gen(entries(0, 17))
    built.run(now=T0 + timedelta(hours=1))
    result = built.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai")
    new_ids = {i for _, i in live_items(built)} - old_ids
    assert len(new_ids) == 5
    got = changed(before, snapshot(out))
    gen = feed_dir("本地", "样例", "生成")
    # g11 was the newest post of the feed: its page gains a "newer" link.
    g11 = next(
        d.stem
        for d in (out / "posts").iterdir()
        if "Generated post 11<" in d.read_text(encoding="utf-8")
    )
    must = {f"posts/{i}.html" for i in new_ids} | {
        "index.html",
        gen + "index.html",
        gen + "atom.xml",
        f"posts/{g11}.html",
        "atom.xml",
        "sitemap.xml",
        "archive/2026/10/index.html",
        "archive/index.html",
    }
    may = must | {
        "c/本地/index.html",
        "c/本地/atom.xml",
        "c/本地/样例/index.html",
        "c/本地/样例/atom.xml",
    }
    assert must <= got <= may, (got - may, must - got)
    assert result.written == len(got)


def test_pruned_posts_vanish(built: Project) -> None:
    out = built.out
    before_ids = {i for _, i in live_items(built)}
    built.write_config(keep=5)
    built.run(now=T0 + timedelta(hours=1))
    result = built.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai")
    pruned = before_ids - {i for _, i in live_items(built)}
    assert len(pruned) == 7 and result.deleted == 7
    for i in pruned:
        assert not (out / "posts" / f"{i}.html").exists()
    for f in out.rglob("*"):
        if f.suffix in (".html", ".xml"):
            text = f.read_text(encoding="utf-8")
            assert not any(i in text for i in pruned), f
    with State.open(built.config().state_path, create=False) as state:
        paths = set(state.files("native"))
        assert not state.unfinished_files("native")
    assert not any(i in p for p in paths for i in pruned)


def test_files_not_ours_are_never_deleted(built: Project) -> None:
    (built.out / "CNAME").write_text("example.org")
    (built.out / "posts" / "mine.txt").write_text("hand")
    built.write_config(keep=3)
    built.run(now=T0 + timedelta(hours=1))
    built.build(base_url=BASE, per_page=10, search=False)
    assert (built.out / "CNAME").is_file() and (built.out / "posts" / "mine.txt").is_file()


def test_user_post_template_changes_post_pages_only(built: Project, tmp_path: Path) -> None:
    user = tmp_path / "theme"
    user.mkdir()
    original = (_render.TEMPLATES_DIR / "post.html").read_text(encoding="utf-8")
    (user / "post.html").write_text(
        original.replace('<article class="post"', '<article class="post custom-marker"'),
        encoding="utf-8",
    )
    before = snapshot(built.out)
    built.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai", templates=user)
    got = changed(before, snapshot(built.out))
    posts = {f"posts/{i}.html" for _, i in live_items(built)}
    assert got == posts
    assert "custom-marker" in (built.out / next(iter(posts))).read_text(encoding="utf-8")


def test_subpath_base_url_and_no_base_url(make_project: MakeProject) -> None:
    p = make_project()
    p.build(base_url="https://user.github.io/news/", search=False)
    atom = etree.parse(str(p.out / "atom.xml")).getroot()
    self_link = atom.find(ATOM + "link[@rel='self']").get("href")
    assert self_link == "https://user.github.io/news/atom.xml"
    home = page(p.out, "index.html")
    assert all(not h.startswith(("/", "http")) for h in home.xpath("//header//a/@href"))

    q = make_project("q")
    result = q.build(search=False)
    # issue #15: the warning names the key to set.
    (warning,) = [w for w in result.warnings if "base_url" in w]
    assert "set native.base_url" in warning and warning.startswith("native.base_url is not set")
    locs = [e.text for e in etree.parse(str(q.out / "sitemap.xml")).getroot().iter(SM + "loc")]
    assert locs and all(not loc.startswith(("http", "/")) for loc in locs)


def index_docs(out: Path) -> dict[str, tuple[str, int]]:
    """Live documents of the published search index: page path → (segment id, number)."""
    meta = json.loads((out / "searchindex/meta.json").read_bytes())
    docs: dict[str, tuple[str, int]] = {}
    for seg in meta["segments"]:
        for n in range(seg["docs"]):
            if n in seg["dead"]:
                continue
            chunk = json.loads(
                (out / f"searchindex/{seg['id']}/d{n // meta['chunk']}.json").read_bytes()
            )
            path = chunk[n % meta["chunk"]][0]
            assert path not in docs, f"{path} indexed twice"
            docs[path] = (seg["id"], n)
    return docs


def test_search_index_holds_every_post_once(built: Project) -> None:
    result = built.build(base_url=BASE, per_page=10, search=True, timezone="Asia/Shanghai")
    assert result.search_seconds > 0
    assert set(index_docs(built.out)) == {f"posts/{i}.html" for _, i in live_items(built)}
    assert (built.out / "search" / "index.html").is_file()
    # A second build with search rewrites nothing.
    before = snapshot(built.out)
    again = built.build(base_url=BASE, per_page=10, search=True, timezone="Asia/Shanghai")
    assert again.written == 0
    assert snapshot(built.out) == before


def test_search_index_updates_by_segments(built: Project) -> None:
    """New posts go into a new segment; the old segment's files keep their bytes and mtimes."""
    options = dict(base_url=BASE, per_page=10, timezone="Asia/Shanghai")
    built.build(search=True, **options)
    first = index_docs(built.out)
    (old_segment,) = {seg for seg, _n in first.values()}
    before = snapshot(built.out)
    built.set_gen(entries(0, 17))
    built.run(now=T0 + timedelta(hours=1))
    built.build(search=True, **options)
    after = index_docs(built.out)
    assert set(after) == {f"posts/{i}.html" for _, i in live_items(built)}
    new = set(after) - set(first)
    assert len(new) == 5 and len({after[p][0] for p in new}) == 1
    assert {after[p][0] for p in new} != {old_segment}
    got = changed(before, snapshot(built.out))
    index_changed = {p for p in got if p.startswith("searchindex/")}
    assert index_changed and all(
        p == "searchindex/meta.json" or not p.startswith(f"searchindex/{old_segment}/")
        for p in index_changed
    ), index_changed

    # Pruned posts become dead documents, and their pages leave the index's live set.
    built.write_config(keep=5)
    built.run(now=T0 + timedelta(hours=2))
    built.build(search=True, **options)
    assert set(index_docs(built.out)) == {f"posts/{i}.html" for _, i in live_items(built)}


def test_search_index_rebuilt_when_a_file_is_lost(built: Project) -> None:
    options = dict(base_url=BASE, per_page=10, timezone="Asia/Shanghai")
    built.build(search=True, **options)
    meta = json.loads((built.out / "searchindex/meta.json").read_bytes())
    seg = meta["segments"][0]["id"]
    (built.out / f"searchindex/{seg}/s0.json").unlink()
    built.build(search=True, **options)
    assert (built.out / f"searchindex/{seg}/s0.json").is_file()  # same posts, same segment
    assert set(index_docs(built.out)) == {f"posts/{i}.html" for _, i in live_items(built)}


def test_cards_are_cached_and_redone_when_stale(built: Project) -> None:
    """A rebuild lists posts from the card cache without reading bodies; stale cards are redone."""
    from feedsite._targets.site._plan import CARD_VERSION

    state_path = built.config().state_path
    with State.open(state_path, create=False) as state:
        items = state.live_items({k for k, _ in live_items(built)}, CARD_VERSION)
    assert len(items) == len(live_items(built))
    assert all(it.card is not None and it.body_head == "" for it in items)
    with sqlite3.connect(state_path) as c:
        (excerpt,) = c.execute("SELECT excerpt FROM site_cards LIMIT 1").fetchone()
        c.execute("UPDATE site_cards SET source_key = '0:' || source_key, excerpt = 'STALE'")
    with State.open(state_path, create=False) as state:
        stale = state.live_items({k for k, _ in live_items(built)}, CARD_VERSION)
    assert all(it.card is None and it.body_head for it in stale)
    result = built.build(base_url=BASE, per_page=10, search=False, timezone="Asia/Shanghai")
    assert result.written == 0  # the cards came out the same
    with sqlite3.connect(state_path) as c:
        keys = [r[0] for r in c.execute("SELECT source_key FROM site_cards")]
        assert (
            c.execute("SELECT count(*) FROM site_cards WHERE excerpt = 'STALE'").fetchone()[0] == 0
        )
        assert c.execute(
            "SELECT count(*) FROM site_cards WHERE excerpt = ?", (excerpt,)
        ).fetchone()[0]
    assert keys and all(k.startswith(CARD_VERSION + ":") for k in keys)


def test_large_index_is_built_in_a_child_process(
    built: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    """From PARALLEL_DOCS new documents the segment is built by a child: same bytes."""
    from feedsite._targets.site import _indexer

    options = dict(base_url=BASE, per_page=10, timezone="Asia/Shanghai")
    built.build(search=True, **options)
    in_process = {k: v for k, v in snapshot(built.out).items() if k.startswith("searchindex/")}
    for f in (built.out / "searchindex").rglob("*.json"):
        f.unlink()
    monkeypatch.setattr(_indexer, "PARALLEL_DOCS", 1)
    spawned: list[list[str]] = []
    real_popen = _indexer.subprocess.Popen

    def popen(args: list[str], **kw: object) -> object:
        spawned.append(args)
        return real_popen(args, **kw)  # type: ignore[call-overload]

    monkeypatch.setattr(_indexer.subprocess, "Popen", popen)
    result = built.build(search=True, **options)
    assert spawned and spawned[0][1:3] == ["-m", "feedsite._targets.site._indexer"]
    assert result.search_seconds > 0 and not result.warnings
    child = {k: v for k, v in snapshot(built.out).items() if k.startswith("searchindex/")}
    assert {k: v[1] for k, v in child.items()} == {k: v[1] for k, v in in_process.items()}


def test_a_failed_search_child_is_a_warning_not_a_failed_build(
    built: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    from feedsite._targets.site import _indexer

    for f in (
        (built.out / "searchindex").rglob("*.json") if (built.out / "searchindex").exists() else ()
    ):
        f.unlink()
    monkeypatch.setattr(_indexer, "PARALLEL_DOCS", 1)
    monkeypatch.setattr(_indexer.sys, "executable", "/bin/false")
    result = built.build(base_url=BASE, per_page=10, search=True, timezone="Asia/Shanghai")
    assert any(w.startswith("search index not updated") for w in result.warnings), result.warnings
    assert (built.out / "index.html").is_file()


def test_every_page_links_the_favicon(built: Project) -> None:
    """issue #15: no favicon was a 404 on every page. The site ships the Hexo site's SVG
    (the same bytes, read from the package) under ``assets/`` and every HTML page links it."""
    from importlib.resources import files

    out = built.out.resolve()
    icon = files("feedsite").joinpath("_init", "templates", "hexo", "source", "favicon.svg")
    icons = sorted(out.glob("assets/favicon.*.svg"))
    assert len(icons) == 1 and icons[0].read_bytes() == icon.read_bytes()
    pages = sorted(out.rglob("*.html"))
    assert len(pages) > 60
    for f in pages:
        links = page(out, f.relative_to(out).as_posix()).xpath("//head/link[@rel='icon']")
        assert len(links) == 1, f
        assert links[0].get("type") == "image/svg+xml"
        href = links[0].get("href")
        assert not href.startswith(("/", "http")), (f, href)  # relative, as the other links
        assert (f.parent / href).resolve() == icons[0], (f, href)


def test_build_counts_add_up(built: Project) -> None:
    """issue #15: written + unchanged is every page; the search index and images apart."""
    options = dict(base_url=BASE, per_page=10, timezone="Asia/Shanghai")
    shutil.rmtree(built.out)
    first = built.build(search=True, **options)
    on_disk = {f.relative_to(built.out).as_posix() for f in built.out.rglob("*") if f.is_file()}
    search_files = {p for p in on_disk if p.startswith("searchindex/")}
    assert search_files and first.search_written == len(search_files)
    assert first.written == first.pages == len(on_disk - search_files)
    assert first.unchanged == 0 and first.deleted == 0 and first.images_copied == 0
    again = built.build(search=True, **options)
    assert (again.written, again.unchanged, again.pages) == (0, first.pages, first.pages)
    assert again.search_written == 0 and again.search_deleted == 0
