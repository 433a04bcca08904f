"""Stories on the native site in a real browser (issue #15), and the site's accessibility.

Headless system Chromium (``tests/helpers/browser.py``: every host mapped to loopback, every
request recorded) on the story site (``tests/site/storysite.py``: feeds that report the same
stories, built once per ``native.home``) and on the corpus site of test_browser.py:

* the stream shows one card per story naming its other sources, each a link to that
  report's page; a post page lists the story's other reports; the hot list and the boards
  work, without JavaScript too;
* axe-core (npm ``axe-core``, installed by ``npm ci --prefix tests/hexo``) injected into the
  pages finds no ``serious`` or ``critical`` violation on the home (each layout), a category,
  a post and the search page;
* every ``<img>`` has a box before it loads (width/height attributes or an aspect-ratio
  box): images held back by the test still take their place, so nothing moves as they come;
* a crawl of each story site finds no broken link and reaches every page.

Screenshots: docs/screenshots/stories-stream.png and stories-boards.png (overwritten by
every run, as test_browser.py does).
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import (
    MOBILE,
    Browser,
    CorpusSite,
    SiteServer,
    Tab,
    click_to,
    corpus_site,
    goto,
    require_cjk_font,
    wait_ready,
)
from tests.site.storysite import HOMES, STORIES, StorySite, story_site
from tests.site.test_crawl import crawl, html_pages

with contextlib.suppress(ImportError):  # each test then fails in Browser(), saying why
    from playwright.sync_api import Page, Route, expect

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
AXE = ROOT / "tests" / "hexo" / "node_modules" / "axe-core" / "axe.min.js"
#: Violations of these impacts fail a page (axe's "moderate" and "minor" are reported only).
BLOCKING = ("serious", "critical")


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> StorySite:
    return story_site(tmp_path_factory)


@pytest.fixture(scope="module")
def servers(site: StorySite) -> Iterator[dict[str, SiteServer]]:
    with contextlib.ExitStack() as stack:
        yield {home: stack.enter_context(SiteServer(site.outs[home])) for home in HOMES}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> CorpusSite:
    return corpus_site(tmp_path_factory)


@pytest.fixture(scope="module")
def corpus_server(corpus: CorpusSite) -> Iterator[SiteServer]:
    with SiteServer(corpus.out) as s:
        yield s


@pytest.fixture(scope="module")
def browser(servers: dict[str, SiteServer], corpus_server: SiteServer) -> Iterator[Browser]:
    # After the sites: feedsite's run cannot start its event loop inside Playwright's.
    # Pages of several servers: each tab's traffic is checked against its own server.
    with Browser("") as b:
        yield b


def open_tab(browser: Browser, server: SiteServer, *args: Any, **kwargs: Any) -> Tab:
    tab = browser.open(*args, **kwargs)
    tab.traffic.origin = server.origin
    return tab


def screenshot(page: Page, name: str) -> None:
    require_cjk_font()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / name), animations="disabled")


def post_uid(url: str) -> str:
    return url.rsplit("/posts/", 1)[-1].removesuffix(".html") if "/posts/" in url else ""


# -- stories ----------------------------------------------------------------------------------


def test_stream_with_stories(
    browser: Browser, servers: dict[str, SiteServer], site: StorySite
) -> None:
    server = servers["stream"]
    tab = open_tab(browser, server, 1280, 1300)
    page = tab.page
    goto(tab, server.url("/"))
    story_cards = page.locator("article.card.story")
    assert story_cards.count() == STORIES
    expect(story_cards.first.locator("p.sources")).to_be_visible()
    expect(story_cards.first.locator("p.sources")).to_contain_text("个来源")
    assert page.locator("section.hot li").count() >= 3
    assert page.locator("section.boards-section").count() == 0
    # The first screen shows the hot list and story cards.
    first = story_cards.first.bounding_box()
    assert first and first["y"] + first["height"] < 1300, first
    screenshot(page, "stories-stream.png")

    # The biggest story: its card names four other sites; a source opens that report's page,
    # which lists the lead among its other reports.
    members = site.story(0)
    lead = site.uid(members[0])
    card = page.locator(f"article.card.story:has(a[href='posts/{lead}.html'])")
    names = card.locator("p.sources a").all_inner_texts()
    assert names == list(dict.fromkeys(r.where[1] for r in members[1:]))
    click_to(tab, f"article.card.story:has(a[href='posts/{lead}.html']) p.sources a >> nth=0")
    other = post_uid(page.url)
    assert other in {site.uid(r) for r in members[1:]}
    also = page.locator("section.also li")
    assert also.count() == len(members) - 1
    expect(page.locator("section.also h2")).to_contain_text("其他来源 Also reported by")
    click_to(tab, f"section.also li a[href='../posts/{lead}.html']")
    assert post_uid(page.url) == lead
    expect(page.locator("section.also li")).to_have_count(len(members) - 1)
    tab.traffic.assert_clean()


def test_hot_opens_the_lead(browser: Browser, servers: dict[str, SiteServer]) -> None:
    server = servers["both"]
    tab = open_tab(browser, server)
    goto(tab, server.url("/"))
    first = tab.page.locator("section.hot li > a").first
    title = first.inner_text()
    click_to(tab, "section.hot li > a >> nth=0")
    expect(tab.page.locator("h1.post-title")).to_have_text(title)
    assert tab.page.locator("section.also li").count() >= 2
    tab.traffic.assert_clean()


@pytest.mark.parametrize("javascript", [True, False])
def test_boards(
    browser: Browser, servers: dict[str, SiteServer], site: StorySite, javascript: bool
) -> None:
    server = servers["boards"]
    tab = open_tab(browser, server, javascript=javascript)
    page = tab.page
    goto(tab, server.url("/"))
    boards = page.locator("section.board")
    assert boards.count() == 5
    assert page.locator("article.card").count() == 0
    # A grid: the first boards side by side on a desktop.
    a, b = boards.nth(0).bounding_box(), boards.nth(1).bounding_box()
    assert a and b and abs(a["y"] - b["y"]) < 1 and b["x"] > a["x"] + a["width"] - 1, (a, b)
    # Long titles are cut to one line inside their board, never wider than it.
    for i in range(boards.count()):
        box = boards.nth(i).bounding_box()
        for link in boards.nth(i).locator("li").all():
            inner = link.bounding_box()
            assert box and inner and inner["x"] + inner["width"] <= box["x"] + box["width"] + 1
    # The hot list is the first cell of the grid, beside the boards.
    hot = page.locator("section.hot-board").bounding_box()
    assert hot and a and abs(hot["y"] - a["y"]) < 1 and hot["x"] < a["x"], (hot, a)
    if javascript:
        screenshot(page, "stories-boards.png")
    # A board's title opens its site's page; a board's entry opens its post.
    name = boards.nth(1).locator("h3 a").inner_text()
    click_to(tab, "section.board >> nth=1 >> h3 a")
    expect(page.locator("h1.page-title")).to_contain_text(name)
    page.go_back()
    wait_ready(page)
    entry = page.locator("section.board >> nth=0 >> li a").first
    title = entry.inner_text()
    click_to(tab, "section.board >> nth=0 >> li a >> nth=0")
    expect(page.locator("h1.post-title")).to_have_text(title)
    tab.traffic.assert_clean()


def test_both_on_a_phone(browser: Browser, servers: dict[str, SiteServer]) -> None:
    server = servers["both"]
    tab = open_tab(browser, server, *MOBILE)
    page = tab.page
    goto(tab, server.url("/"))
    boards = page.locator("section.board")
    a, b = boards.nth(0).bounding_box(), boards.nth(1).bounding_box()
    assert a and b and b["y"] >= a["y"] + a["height"], "boards stack on a phone"
    cards = page.locator("section.stream").bounding_box()
    grid = page.locator("div.boards").bounding_box()
    assert cards and grid and cards["y"] >= grid["y"] + grid["height"]
    widths = page.evaluate(
        "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
    )
    assert widths[0] <= widths[1], widths
    tab.traffic.assert_clean()


# -- axe-core ---------------------------------------------------------------------------------


def axe(page: Page) -> list[dict[str, Any]]:
    """axe-core's violations on the page as it is (every rule axe runs by default)."""
    if not AXE.is_file():
        pytest.fail(
            f"{AXE} is missing: `npm ci --prefix tests/hexo --no-audit --no-fund`", pytrace=False
        )
    page.add_script_tag(path=str(AXE))
    result: dict[str, Any] = page.evaluate(
        "async () => await axe.run(document, {resultTypes: ['violations']})"
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def assert_accessible(page: Page, where: str) -> None:
    found = axe(page)
    blocking = [v for v in found if v.get("impact") in BLOCKING]
    lines = [
        f"{v['impact']} {v['id']}: {v['help']} ({len(v['nodes'])} nodes, e.g. "
        f"{json.dumps(v['nodes'][0]['target'])}: {v['nodes'][0].get('failureSummary', '')})"
        for v in blocking
    ]
    assert not blocking, f"{where}:\n" + "\n".join(lines)


def story_pages(site: StorySite) -> list[tuple[str, str]]:
    """(home, path) of the pages the issue names: each home, a category, a post, search."""
    lead = site.uid(site.story(0)[0])
    member = site.uid(site.story(0)[1])
    return [
        *((home, "/") for home in HOMES),
        ("stream", "c/%E7%A7%91%E6%8A%80%20Tech/index.html"),
        ("stream", f"posts/{lead}.html"),
        ("stream", f"posts/{member}.html"),
        ("stream", "search/index.html"),
    ]


@pytest.mark.parametrize("dark", [False, True], ids=["light", "dark"])
def test_axe_story_site(
    browser: Browser, servers: dict[str, SiteServer], site: StorySite, dark: bool
) -> None:
    for home, path in story_pages(site):
        server = servers[home]
        tab = open_tab(browser, server, dark=dark)
        goto(tab, server.url(path))
        if path.startswith("search/"):
            tab.page.fill("#q", "发布")
            tab.page.press("#q", "Enter")
            expect(tab.page.locator("#results li").first).to_be_visible(timeout=15_000)
        assert_accessible(tab.page, f"{home} {path} ({'dark' if dark else 'light'})")
        tab.traffic.assert_clean()


def test_axe_corpus_site(browser: Browser, corpus_server: SiteServer, corpus: CorpusSite) -> None:
    """The corpus site's real bodies (tables, images, embeds) and its mobile home."""
    posts = corpus.post_dirs()
    for path, size in [
        ("/", (1280, 800)),
        ("/", MOBILE),
        ("archive/index.html", (1280, 800)),
        *((f"posts/{uid}.html", (1280, 800)) for uid in posts[:: max(1, len(posts) // 8)]),
    ]:
        tab = open_tab(browser, corpus_server, *size)
        goto(tab, corpus_server.url(path))
        assert_accessible(tab.page, f"corpus {path} {size}")


# -- images keep their place ------------------------------------------------------------------


def held_image_boxes(browser: Browser, server: SiteServer, path: str) -> list[dict[str, Any]]:
    """Every ``<img>`` of the page with its box, while no image has loaded yet (the test
    holds every image request back)."""
    tab = browser.open(observe=False)
    held: list[Route] = []

    def hold(route: Route) -> None:
        if route.request.resource_type == "image":
            held.append(route)  # never answered while the page is measured
        elif route.request.url.startswith(server.origin + "/"):
            route.continue_()
        else:
            route.fulfill(status=204, body=b"")

    tab.page.context.route("**/*", hold)
    tab.page.goto(server.url(path), wait_until="domcontentloaded")
    # The stylesheet is the page's (only images are held): measure once it applies.
    tab.page.wait_for_function(
        "() => [...document.querySelectorAll('link[rel=stylesheet]')].every(l => l.sheet)"
    )
    boxes: list[dict[str, Any]] = tab.page.evaluate(
        """() => [...document.images].map(img => {
            const r = img.getBoundingClientRect();
            const s = getComputedStyle(img);
            return {src: img.getAttribute('src'), width: r.width, height: r.height,
                    declared: [img.getAttribute('width'), img.getAttribute('height')],
                    complete: img.complete && img.naturalWidth > 0,
                    shown: s.display !== 'none' && s.visibility !== 'hidden'};
        })"""
    )
    tab.page.context.close()
    return boxes


def test_images_have_their_box_before_they_load(
    browser: Browser,
    servers: dict[str, SiteServer],
    site: StorySite,
    corpus_server: SiteServer,
    corpus: CorpusSite,
) -> None:
    pages = [(servers[home], "/") for home in HOMES]
    pages += [(servers["stream"], f"posts/{site.uid(r)}.html") for r in site.story(0)]
    pages += [(corpus_server, "/")]
    # The corpus's posts with images in their bodies (hotlinked, sizes mostly unknown).
    with_images = [
        uid
        for uid in corpus.post_dirs()
        if "<img" in (corpus.out / "posts" / f"{uid}.html").read_text(encoding="utf-8")
    ]
    pages += [(corpus_server, f"posts/{uid}.html") for uid in with_images[::2]]
    seen = 0
    for server, path in pages:
        for img in held_image_boxes(browser, server, path):
            if not img["shown"]:
                continue
            seen += 1
            assert not img["complete"], f"{path}: {img['src']} loaded although held"
            if "0" in img["declared"]:
                continue  # a feed's tracking pixel, declared 0×0: it never takes room
            assert img["height"] > 0 and img["width"] > 0, f"{path}: no box before load: {img}"
    assert seen >= 50, f"only {seen} images measured"


# -- every page reachable ---------------------------------------------------------------------


@pytest.mark.parametrize("home", HOMES)
def test_crawl_story_site(servers: dict[str, SiteServer], site: StorySite, home: str) -> None:
    found = crawl(servers[home])
    assert not found.broken(), "\n".join(found.broken())
    missing = sorted(html_pages(site.outs[home]) - found.pages)
    assert not missing, f"pages no link leads to: {missing}"
    posts = {p for p in found.pages if p.startswith("posts/")}
    assert len(posts) == len(site.reports)
