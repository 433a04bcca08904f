"""From nothing to a Hexo site: `feedsite init`, `run --build --target hexo`, a browser.

Once per module (~25 s, most of it ``npm ci``):

1. ``feedsite init`` writes a project into a temp folder (Hexo 8 + Volantis);
2. its ``feedsite.yaml`` is pointed at a loopback RSSHub stand-in serving the rsshub-zh
   corpus (``../shared/corpora/rsshub-zh``: MANIFEST.json gives each file's category,
   site and route) through ``fetch.proxy``, keeping the rest of the generated file (so
   ``images.mode: local``, the default of ``feedsite init``); the same loopback server is
   every image host of the corpus (tests/helpers/imagehost.py: sinaimg's Referer rule,
   qpic's placeholder, ...);
3. ``feedsite run --build --target hexo`` fetches the feeds, downloads their images into
   ``source/feedsite-images/``, writes the posts, runs ``npm ci`` (the one network use:
   the npm registry) and ``hexo generate``.

Then ``public/`` is checked: every post page, the home page (newest posts, their
thumbnails), category pages at all three levels (reached through the navigation), the
search index and the Atom feed. Headless Chromium (Debian's, through Playwright; every
host name mapped to 127.0.0.1, every request recorded) opens the home page and every post
page: every ``<img>`` has loaded and no request leaves the site (issue #12: the images are
the site's own copies), so every script, stylesheet, font and image comes from the site
itself. The pages are saved as docs/screenshots/hexo-home.png and hexo-post.png, written
only when the picture changed.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import lxml.html
import pytest

from feedsite._targets.hexo._build import owned_post_paths
from feedsite._targets.hexo._check import check_post
from feedsite.config import load_config
from tests.helpers.browser import (
    Browser,
    SiteServer,
    assert_images_from_the_site,
    require_cjk_font,
    wait_ready,
)
from tests.helpers.feeds import feeds_yaml
from tests.helpers.hexo import cli_env, pins, require_node
from tests.helpers.imagehost import ImageHost, serve_rsshub_zh

pytestmark = [pytest.mark.hexo, pytest.mark.slow]  # ~25 s: npm ci and hexo generate

ROOT = Path(__file__).resolve().parents[1]
RSSHUB_ZH = ROOT.parent / "shared" / "corpora" / "rsshub-zh"
SCREENSHOTS = ROOT / "docs" / "screenshots"
#: The run's clock: the date of the corpus entries that have none.
PINNED_NOW = "2026-03-01T12:00:00+00:00"
#: The post the browser opens and photographs (its newest post).
POST_FEED = ("新媒体", "观察者网", "头条")


@dataclass(frozen=True, slots=True)
class Post:
    """One post feedsite wrote, as its front matter says."""

    #: Path under source/_posts, e.g. ``新媒体/观察者网/头条/0123456789abcdef.md``.
    rel: str
    title: str
    date: datetime
    headimg: str
    thumbnail: str
    categories: tuple[str, str, str]

    @property
    def url(self) -> str:
        """The page's path on the site (``permalink: :title/``), unquoted."""
        return "/" + self.rel.removesuffix(".md") + "/"


@dataclass(frozen=True, slots=True)
class Built:
    folder: Path
    public: Path
    posts: tuple[Post, ...]
    per_page: int
    output: str
    seconds: float


def _as_datetime(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    assert isinstance(value, date), value
    return datetime(value.year, value.month, value.day)


def _point_at(config: Path, origin: str, proxy: str) -> None:
    """Keep the generated file; swap its RSSHub instance and feeds for the loopback corpus,
    reached (with every image host) through ``proxy``."""
    text = config.read_text(encoding="utf-8")
    text, n = re.subn(r"(?m)^  instances: \[.*\]$", f"  instances: [{origin}]", text)
    assert n == 1, "the generated feedsite.yaml has no rsshub.instances line"
    assert re.search(r"(?m)^  mode: local\b", text), "feedsite init no longer makes local images"
    assert not re.search(r"(?m)^fetch:", text)
    text = text.replace("\nfeeds:\n", f"\nfetch: {{proxy: {proxy}, retries: 0}}\n\nfeeds:\n", 1)
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    lines = feeds_yaml(
        (m["category"], m["site"], m["route"], "/rsshub-zh/" + m["file"]) for m in manifest
    )
    config.write_text(text[: text.index("\nfeeds:\n") + 1] + "\n".join(lines) + "\n", "utf-8")


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Built:
    require_node()
    if not (RSSHUB_ZH / "MANIFEST.json").is_file():
        pytest.fail(f"the rsshub-zh corpus is missing ({RSSHUB_ZH})")
    folder = tmp_path_factory.mktemp("hexo-e2e") / "news"
    env = cli_env()
    cli = [sys.executable, "-m", "feedsite"]
    limit = ("--max-time", "10m")
    init = subprocess.run(
        [*cli, "init", str(folder)], capture_output=True, text=True, env=env, check=False
    )
    assert init.returncode == 0, init.stderr
    config = folder / "feedsite.yaml"
    started = time.monotonic()
    with ImageHost() as host:
        _point_at(config, serve_rsshub_zh(host, RSSHUB_ZH), host.proxy_url)
        proc = subprocess.run(
            [*cli, "run", "-c", str(config), *pins(PINNED_NOW), "--build", "--target=hexo", *limit],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    loaded = load_config(config)
    base = folder / "source" / "_posts"
    posts = []
    for rel in owned_post_paths(loaded.state_path):
        front = check_post(base / rel)
        cats = front["categories"]
        assert isinstance(cats, list) and len(cats) == 3
        posts.append(
            Post(
                rel=rel,
                title=str(front["title"]),
                date=_as_datetime(front["date"]),
                headimg=str(front["headimg"]),
                thumbnail=str(front["thumbnail"]),
                categories=(str(cats[0]), str(cats[1]), str(cats[2])),
            )
        )
    hexo_config = (folder / "_config.yml").read_text(encoding="utf-8")
    per_page = int(re.search(r"(?m)^per_page: (\d+)$", hexo_config).group(1))  # type: ignore[union-attr]
    return Built(folder, folder / "public", tuple(posts), per_page, output, seconds)


def page(built: Built, url: str) -> Any:
    path = built.public / unquote(url).lstrip("/") / "index.html"
    assert path.is_file(), f"no page {path}"
    return lxml.html.fromstring(path.read_bytes())


def local(href: str) -> str:
    """A link's path on the site, unquoted (links may be absolute to _config.yml's url)."""
    return unquote(urlsplit(href).path)


# -- the run -------------------------------------------------------------------------------


def test_run_wrote_every_item_and_built_with_hexo(built: Built) -> None:
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    assert len(built.posts) == sum(m["items"] for m in manifest)
    assert f"hexo site: {len(built.posts)} posts checked; `npm ci`" in built.output
    assert "INFO  Start processing" in built.output  # Hexo's own output, streamed
    assert "feeds" in built.output and "new" in built.output  # then the run's summary
    # Nothing was written into source/_posts but the posts (no plugin touches them).
    written = {
        p.relative_to(built.folder / "source/_posts").as_posix()
        for p in (built.folder / "source/_posts").rglob("*")
        if p.is_file()
    }
    assert written == {p.rel for p in built.posts}


# -- public/ -------------------------------------------------------------------------------


def test_every_post_has_its_page_with_headimg_as_header(built: Built) -> None:
    for post in built.posts:
        doc = page(built, post.url)
        assert post.title.strip() in doc.findtext(".//title"), post.rel
        (h1,) = doc.xpath("//h1[contains(concat(' ', @class, ' '), ' title ')]")
        assert h1.text_content().strip() == post.title.strip(), post.rel
        headers = doc.xpath("//img[contains(concat(' ', @class, ' '), ' headimg ')]")
        assert [h.get("src") for h in headers] == [post.headimg], post.rel
        # Local copies (or the site's generated cover), under Hexo's root "/".
        assert post.headimg.startswith("/feedsite-images/"), (post.rel, post.headimg)
        assert post.thumbnail.startswith("/feedsite-images/"), (post.rel, post.thumbnail)
        for img in doc.xpath("//article//img"):
            src = img.get("src") or ""
            assert src.startswith("/feedsite-images/"), (post.rel, src)
            assert (built.folder / "source" / unquote(src).lstrip("/")).is_file(), src
        crumbs = [
            a.text_content().strip() for a in doc.xpath("//a[contains(@href, '/categories/')]")
        ]
        assert all(c in crumbs for c in post.categories), (post.rel, crumbs)


def test_home_lists_the_newest_posts_with_their_thumbnails(built: Built) -> None:
    doc = page(built, "/")
    cards = doc.xpath("//div[contains(concat(' ', @class, ' '), ' post-v3 ')]")
    assert len(cards) == built.per_page
    by_url = {p.url: p for p in built.posts}
    listed = []
    for card in cards:
        (link,) = card.xpath(".//*[contains(@class, 'article-title')]//a")
        post = by_url[local(link.get("href"))]
        assert link.text_content().strip() == post.title.strip()
        (img,) = card.xpath(".//img[contains(@class, 'headimg')]")
        assert img.get("src") == post.thumbnail
        listed.append(post)
    # Newest first; posts of the same time by path (_config.yml: order_by: -date source), so
    # the page is the same on every build.
    newest = sorted(built.posts, key=lambda p: p.rel)
    newest.sort(key=lambda p: p.date, reverse=True)
    assert [p.rel for p in listed] == [p.rel for p in newest[: built.per_page]]
    # The next page goes on where the home page stops.
    nxt = page(built, "/page/2/")
    assert nxt.xpath("//div[contains(concat(' ', @class, ' '), ' post-v3 ')]")


def _menu_child(li: Any, name: str) -> Any:
    for child in li.xpath("./ul/li"):
        (a,) = child.xpath("./a")
        if (a.get("title") or "").startswith(f"{name} ("):
            return child
    raise AssertionError(f"no {name!r} under {li.xpath('./a')[0].get('title')!r} in the menu")


def test_category_pages_at_all_three_levels_through_the_navigation(built: Built) -> None:
    doc = page(built, "/")
    (menu,) = doc.xpath("//ul[contains(@class, 'm-pc')]/li[a[@title='分类']]")
    seen = 0
    for chain in sorted({p.categories for p in built.posts}):
        li = menu
        for level in range(1, 4):
            li = _menu_child(li, chain[level - 1])
            (a,) = li.xpath("./a")
            members = [p for p in built.posts if p.categories[:level] == chain[:level]]
            assert a.get("title") == f"{chain[level - 1]} ({len(members)})"
            listing = page(built, local(a.get("href")))
            linked = {
                local(x.get("href"))
                for x in listing.xpath("//*[contains(@class, 'article-title')]//a")
            }
            # The page lists this category's posts, newest first, a page of them.
            assert len(linked) == min(len(members), built.per_page), (chain[:level], linked)
            assert linked <= {p.url for p in members}
            seen += 1
    assert seen == 3 * len({p.categories for p in built.posts})


def test_search_index_holds_every_post(built: Built) -> None:
    data = json.loads((built.public / "content.json").read_text(encoding="utf-8"))
    indexed = {local(p["permalink"]): p for p in data["posts"]}
    assert set(indexed) == {p.url for p in built.posts}
    for post in built.posts:
        entry = indexed[post.url]
        assert entry["title"] == post.title
        assert [c["name"] for c in entry["categories"]] == list(post.categories)


def test_atom_feed_of_the_newest_posts(built: Built) -> None:
    atom = (built.public / "atom.xml").read_text(encoding="utf-8")
    assert atom.count("<entry>") == min(50, len(built.posts))


# -- in a browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(built: Built) -> Iterator[tuple[SiteServer, Browser]]:
    with SiteServer(built.public) as server, Browser(server.origin) as b:
        yield server, b


def save_screenshot(png: bytes, name: str) -> None:
    """docs/screenshots/<name>, rewritten only when the picture changed (clean checkouts)."""
    require_cjk_font()
    path = SCREENSHOTS / name
    if not path.is_file() or path.read_bytes() != png:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)


def assert_nothing_left_the_site(tab: Any, server: SiteServer) -> None:
    assert_images_from_the_site(tab, server)
    foreign = list(tab.traffic.stand_in.served)
    assert foreign == [], foreign
    # The theme's assets came from the site: its own css/js and the vendored libraries.
    paths = {urlsplit(u).path for u in tab.traffic.to_site}
    assert {"/css/style.css", "/js/app.js"} <= paths
    assert any(p.startswith("/lib/@fortawesome/fontawesome-free/webfonts/") for p in paths)


@pytest.mark.browser
def test_home_page_in_chromium(built: Built, browser: tuple[SiteServer, Browser]) -> None:
    server, b = browser
    tab = b.open()
    tab.page.goto(server.url("/"))
    wait_ready(tab.page)
    newest = max(built.posts, key=lambda p: p.date)
    first = tab.page.locator("div.post-v3 img.headimg").first
    assert first.is_visible()
    assert first.evaluate("img => img.naturalWidth") > 0  # a thumbnail, drawn
    titles = tab.page.locator("div.post-v3 .article-title a").all_inner_texts()
    assert len(titles) == built.per_page and newest.title.strip() in [t.strip() for t in titles]
    assert tab.page.locator("ul.m-pc a[title='分类']").is_visible()
    assert_nothing_left_the_site(tab, server)
    save_screenshot(tab.page.screenshot(animations="disabled"), "hexo-home.png")


@pytest.mark.browser
def test_post_page_in_chromium(built: Built, browser: tuple[SiteServer, Browser]) -> None:
    server, b = browser
    post = max((p for p in built.posts if p.categories == POST_FEED), key=lambda p: p.date)
    tab = b.open()
    tab.page.goto(server.url(post.url))
    wait_ready(tab.page)
    header = tab.page.locator("img.headimg").first
    assert header.is_visible()
    assert header.get_attribute("src") == post.headimg
    assert header.evaluate("img => img.naturalWidth") > 0
    box = header.bounding_box()
    assert box is not None and box["y"] < 200 and box["width"] > 600  # a header, on top
    assert server.url(post.headimg) in tab.traffic.to_site
    assert post.title.strip() in tab.page.title()
    title = tab.page.locator("h1.title")
    assert title.is_visible() and title.inner_text().strip() == post.title.strip()
    assert_nothing_left_the_site(tab, server)
    save_screenshot(tab.page.screenshot(animations="disabled"), "hexo-post.png")


@pytest.mark.browser
def test_every_post_page_shows_its_images_from_the_site(
    built: Built, browser: tuple[SiteServer, Browser]
) -> None:
    """issue #12: on every post page each ``<img>`` has loaded, from the site itself (an
    embedded player, e.g. bilibili's iframe, is the feed's content and may go elsewhere)."""
    server, b = browser
    shown = 0
    for post in built.posts:
        tab = b.open()  # a fresh tab: leaving a page aborts the theme's late loads
        tab.page.goto(server.url(post.url))
        wait_ready(tab.page)
        shown += assert_images_from_the_site(tab, server)
        tab.page.context.close()
    assert shown >= 2 * len(built.posts)  # at least the header and the body's or the logo
