"""Local images in a real browser: the native site built from the rsshub-zh corpus, its
images downloaded from the loopback image host (every host of the corpus, with the
Referer rules and placeholders of the real ones), then opened in headless Chromium with
every host mapped to 127.0.0.1: on the home page and on every post page each ``<img>`` has
loaded (``naturalWidth > 0``) and no image came from anywhere but the site itself.

(The same for a Hexo site made by ``feedsite init`` + ``run --build``:
``tests/test_hexo_site_e2e.py``.) The home and a post page are saved as
docs/screenshots/images-home.png and images-post.png, written only when they changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from feedsite._run import run
from feedsite._run._build import build_native
from feedsite.config import load_config
from tests.helpers.browser import (
    PINNED_NOW,
    RSSHUB_ZH,
    Browser,
    SiteServer,
    Tab,
    assert_images_from_the_site,
    require_cjk_font,
    wait_ready,
)
from tests.helpers.feeds import feeds_yaml
from tests.helpers.imagehost import ImageHost, serve_rsshub_zh

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@dataclass(frozen=True)
class Built:
    out: Path
    posts: tuple[str, ...]
    fetched: int


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    import json

    folder = tmp_path_factory.mktemp("images-site")
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    with ImageHost() as host:
        instance = serve_rsshub_zh(host, RSSHUB_ZH)
        lines = [
            "site: {hexo_root: ./blog, timezone: Asia/Shanghai, targets: [native]}",
            f"rsshub: {{instances: [{instance}]}}",
            f"fetch: {{proxy: {host.proxy_url}, retries: 0}}",
            "native: {out: ./public, title: 本地图片}",
            "defaults: {items_per_feed: 100}",
            *feeds_yaml(
                (m["category"], m["site"], m["route"], "/rsshub-zh/" + m["file"]) for m in manifest
            ),
        ]
        (folder / "feedsite.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        config = load_config(folder / "feedsite.yaml")
        result = run(config, now=PINNED_NOW, seed=1)
    assert result.counts().feeds_failed == 0
    assert result.images is not None and result.images.fetched > 20
    site = build_native(config)
    posts = tuple(sorted(p.name for p in (site.out / "posts").glob("*.html")))
    assert len(posts) == sum(m["items"] for m in manifest)
    yield Built(site.out, posts, result.images.fetched)


@pytest.fixture(scope="module")
def browser(built: Built) -> Iterator[tuple[SiteServer, Browser]]:
    with SiteServer(built.out) as server, Browser(server.origin) as b:
        yield server, b


def assert_all_images_local_and_loaded(tab: Tab, server: SiteServer) -> int:
    """Every ``<img>`` decoded and from the site, the local ones under feedsite-images/."""
    count = assert_images_from_the_site(tab, server)
    images = [u for u in tab.traffic.to_site if "/feedsite-images/" in u]
    assert all(u.startswith(server.origin + "/") for u in images)
    return count


def save(tab: Tab, name: str) -> None:
    require_cjk_font()
    png = tab.page.screenshot(animations="disabled")
    path = SCREENSHOTS / name
    if not path.is_file() or path.read_bytes() != png:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(png)


def test_home_page_cards_show_local_thumbnails(
    built: Built, browser: tuple[SiteServer, Browser]
) -> None:
    server, b = browser
    tab = b.open()
    tab.page.goto(server.url("/"))
    wait_ready(tab.page)
    assert assert_all_images_local_and_loaded(tab, server) >= 10
    thumbs = tab.page.eval_on_selector_all(
        "article.card img", "els => els.map(i => [i.getAttribute('src'), i.naturalWidth])"
    )
    assert thumbs and all(src.startswith("feedsite-images/") for src, _w in thumbs)
    assert all(w == 480 for _src, w in thumbs)  # the card thumbnail, not the original
    save(tab, "images-home.png")


def test_every_post_page_shows_its_images_from_the_site(
    built: Built, browser: tuple[SiteServer, Browser]
) -> None:
    server, b = browser
    tab = b.open()
    shown = 0
    for name in built.posts:
        tab.page.goto(server.url(f"/posts/{name}"))
        wait_ready(tab.page)
        shown += assert_all_images_local_and_loaded(tab, server)
    assert shown >= built.fetched  # each downloaded image is on some page
    tab.page.goto(server.url(f"/posts/{built.posts[0]}"))
    wait_ready(tab.page)
    save(tab, "images-post.png")
