"""A native static site rendered from a real ingest, served on loopback, and a real browser.

Scope: test support only. Contains no feedsite logic.

Typical use::

    site = corpus_site(tmp_path_factory)          # feedsite run + build_site, once per session
    with SiteServer(site.out) as server, Browser(server.origin) as browser:
        tab = browser.open()                       # 1280x800; width, height, dark= to change
        tab.page.goto(server.url("/"))
        wait_ready(tab.page)                       # loaded, images included
        tab.traffic.assert_clean()                 # no console error, nothing left loopback

The browser is the system Chromium (Debian ``chromium``), driven by Playwright's Python
package; Playwright's own browser download is never used. Chromium starts with every host
name mapped to 127.0.0.1 (``--host-resolver-rules``), so nothing it does can reach the
network. On top of that every request passes through a route handler that records it: a
request to the site server goes on to it; a request to any other host (the image hosts
named by the feeds: ``https://i.guancha.cn/...``) is answered by :class:`HostStandIn`, a
local stand-in that serves a small generated SVG picture (an HTML stub for an embedded
frame). :meth:`Traffic.assert_clean` then checks that every request went to one of the
two, and that the stand-in only ever stood in for feed content (images, media, iframes).

Nothing here skips: a missing Chromium, Playwright or site module fails the test with
the command that installs it.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import html
import json
import re
import shutil
import subprocess
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
import yaml

if TYPE_CHECKING:
    from playwright.sync_api import Page, Request, Route

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
CORPORA = SHARED / "corpora"
RSSHUB_ZH = CORPORA / "rsshub-zh"
REALWORLD = CORPORA / "realworld" / "feeds"

#: The run's clock (after every entry of the chosen feeds).
PINNED_NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
SITE_TITLE = "feedsite 测试站"
#: The public URL the site is built for (Atom feeds and the sitemap name it). It is *not*
#: the loopback server's origin: a page that linked to it rather than relatively would
#: leave the local server, which the browser tests report (the crawler maps it back).
BASE_URL = "https://news.example.org/"

#: English text: a few realworld feeds (category, site, feed) → file under realworld/feeds.
#: Names with spaces and punctuation on purpose: they become URL path segments.
REALWORLD_FEEDS: dict[tuple[str, str, str], str] = {
    ("World", "MercoPress", "News"): "e8fa5b64a4b41322",
    ("World", "Christian Science Monitor", "All stories"): "4179e7a13df0f120",
    ("Blogs", "Jamie Simon", "Posts"): "2404c66c65606266",
    ("Blogs", "Don't Code Tired", "Posts"): "e8203fee50c570d8",
}

CHROMIUM = Path("/usr/bin/chromium")
#: Flags that work as root in a container, headless; Playwright adds --headless and a
#: fresh --user-data-dir of its own.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--host-resolver-rules=MAP * 127.0.0.1",
)
INSTALL_HINT = (
    "install the system browser and the driver package: "
    "`apt-get install -y chromium chromium-driver` and `pip install playwright` "
    "(never `playwright install`)"
)
DESKTOP = (1280, 800)
MOBILE = (390, 844)


# -- failing, never skipping ------------------------------------------------------------------


def require_browser() -> None:
    """Fail the calling test when the system Chromium or Playwright is missing."""
    if not CHROMIUM.is_file() or shutil.which(str(CHROMIUM)) is None:
        pytest.fail(f"{CHROMIUM} is missing: {INSTALL_HINT}", pytrace=False)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as e:
        pytest.fail(f"the playwright package is missing ({e}): {INSTALL_HINT}", pytrace=False)


def require_cjk_font() -> None:
    """Fail when no font can show Chinese (screenshots would show empty boxes)."""
    fc_list = shutil.which("fc-list")
    found = (
        fc_list
        and subprocess.run(
            [fc_list, ":lang=zh", "family"], capture_output=True, text=True, check=False
        ).stdout.strip()
    )
    if not found:
        pytest.fail("no font for Chinese text: `apt-get install -y fonts-noto-cjk`", pytrace=False)


def _require_corpora() -> None:
    missing = [p for p in (RSSHUB_ZH / "MANIFEST.json", REALWORLD) if not p.exists()]
    if missing:
        pytest.fail(f"../shared/corpora is missing ({missing[0]}): these tests render it")


def _import_site() -> Any:
    try:
        from feedsite._run._build import build_native
    except ImportError as e:
        pytest.fail(
            f"the native site renderer is missing (feedsite._run._build: {e})", pytrace=False
        )
    return build_native


# -- the corpus and the site built from it ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """One entry of a configured corpus feed, as feedparser reads it."""

    category: str
    site: str
    feed: str
    title: str
    link: str
    #: Title and body text, tags stripped, whitespace collapsed.
    text: str


@dataclass(frozen=True, slots=True)
class CorpusSite:
    """A site rendered from a real feedsite run over the corpora."""

    out: Path
    config: Path
    entries: tuple[Entry, ...]
    #: What build_site returned.
    result: Any

    def post_dirs(self) -> list[str]:
        """Every post page's name under ``posts/`` on disk (its uid, without ``.html``)."""
        return sorted(p.stem for p in (self.out / "posts").glob("*.html"))

    def post_for_link(self, link: str) -> str | None:
        """The uid of the one post page whose original link (``<p class="source">``) is
        ``link``; None if not exactly one. (A post's "also reported by" list links the
        originals of its story's other reports too: those do not count.)"""
        needles = {f'href="{html.escape(link)}"', f'href="{link}"'}
        found = [
            p.stem
            for p in (self.out / "posts").glob("*.html")
            if any(n in _source_line(p.read_text(encoding="utf-8")) for n in needles)
        ]
        return found[0] if len(found) == 1 else None


def _source_line(page: str) -> str:
    """The ``<p class="source">`` paragraph of a post page ("" when it has none)."""
    start = page.find('<p class="source">')
    return "" if start < 0 else page[start : page.find("</p>", start)]


_TAG = re.compile(r"<[^>]*>")
_SPACE = re.compile(r"\s+")


def _plain(markup: str) -> str:
    return _SPACE.sub(" ", html.unescape(_TAG.sub(" ", markup))).strip()


def _feeds() -> list[tuple[str, str, str, Path]]:
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    out = [(m["category"], m["site"], m["route"], RSSHUB_ZH / m["file"]) for m in manifest]
    out += [(c, s, f, REALWORLD / name) for (c, s, f), name in REALWORLD_FEEDS.items()]
    return out


def _entries(feeds: list[tuple[str, str, str, Path]]) -> tuple[Entry, ...]:
    import feedparser

    out: list[Entry] = []
    for category, site, feed, path in feeds:
        for e in feedparser.parse(path.read_bytes()).entries:
            body = " ".join(c.get("value", "") for c in e.get("content", [])) or e.get(
                "summary", ""
            )
            title = _plain(e.get("title", ""))
            out.append(
                Entry(category, site, feed, title, e.get("link", ""), f"{title} {_plain(body)}")
            )
    return tuple(out)


def _write_config(folder: Path, feeds: list[tuple[str, str, str, Path]]) -> Path:
    tree: dict[str, Any] = {}
    for category, site, feed, path in feeds:
        tree.setdefault(category, {}).setdefault(site, {})[feed] = {"path": str(path)}
    config = {
        "site": {"hexo_root": "./blog", "timezone": "Asia/Shanghai"},
        # Every entry becomes a post, so a word found in the corpus is found on the site.
        "defaults": {"items_per_feed": 1000},
        # Hotlinked: the stand-in answers the corpus's image hosts (local images:
        # tests/images/test_browser.py).
        "images": {"mode": "hotlink"},
        "feeds": tree,
    }
    path = folder / "feedsite.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), "utf-8")
    return path


_BUILT: dict[str, CorpusSite] = {}


def corpus_site(tmp_path_factory: pytest.TempPathFactory) -> CorpusSite:
    """Ingest the corpora with feedsite and render the native site; once per session.

    The 12 rsshub-zh feeds (Chinese) and :data:`REALWORLD_FEEDS` (English), every entry.
    """
    if "site" in _BUILT:
        return _BUILT["site"]
    _require_corpora()
    build_native = _import_site()
    from feedsite._run import run
    from feedsite.config import load_config

    folder = tmp_path_factory.mktemp("corpus-site")
    feeds = _feeds()
    config_path = _write_config(folder, feeds)
    config = load_config(config_path)
    ran = run(config, now=PINNED_NOW)
    counts = ran.counts()
    assert counts.feeds_failed == 0 and not ran.item_errors, f"the feedsite run failed: {ran}"
    out = folder / "out"
    native = replace(config.native, title=SITE_TITLE, base_url=BASE_URL, search=True)
    result = build_native(
        replace(config, native=native, site=replace(config.site, timezone=None)), out
    )
    assert (out / "index.html").is_file(), f"build_site wrote no index.html into {out}"
    _BUILT["site"] = CorpusSite(out, config_path, _entries(feeds), result)
    return _BUILT["site"]


# -- search words picked from the corpus ------------------------------------------------------

#: A whole run of 2-4 Han characters (not part of a longer one).
_HAN_RUN = re.compile(r"(?<![\u4e00-\u9fff])[\u4e00-\u9fff]{2,4}(?![\u4e00-\u9fff])")
_WORD = re.compile(r"[A-Za-z]+")


def chinese_word(site: CorpusSite) -> tuple[str, str]:
    """A run of Han characters from one rsshub-zh title that no other entry contains.

    Returns ``(word, post folder name)``; the longest such run (then the first in code
    point order). The run is taken whole (between non-Han characters) so that Pagefind
    segments the query as it segmented the title.
    """
    entries = [e for e in site.entries if e.category in _zh_categories()]
    candidates = sorted(
        {(w, e.link) for e in entries for w in _HAN_RUN.findall(e.title)},
        key=lambda c: (-len(c[0]), c),
    )
    for word, link in candidates:
        if sum(word in e.text for e in site.entries) != 1 or not link:
            continue
        uid = site.post_for_link(link)
        if uid:
            return word, uid
    pytest.fail("no Chinese title word of the corpus is unique to one post")


def english_word(site: CorpusSite) -> tuple[str, str]:
    """A word of one realworld title no other entry has a word starting like.

    Returns ``(word, post folder name)``. "Starting like" (the first 6 letters) covers
    Pagefind's prefix matching and stemming.
    """
    en = {c for c, _, _ in REALWORLD_FEEDS}
    prefixes = [{w.lower()[:6] for w in _WORD.findall(e.text)} for e in site.entries]
    candidates = sorted(
        {
            (w, e.link)
            for e in site.entries
            if e.category in en
            for w in _WORD.findall(e.title)
            if len(w) >= 8
        },
        key=lambda c: (-len(c[0]), c),
    )
    for word, link in candidates:
        if sum(word.lower()[:6] in p for p in prefixes) != 1 or not link:
            continue
        uid = site.post_for_link(link)
        if uid:
            return word, uid
    pytest.fail("no English title word of the corpus is unique to one post")


@functools.cache
def _zh_categories() -> frozenset[str]:
    manifest = json.loads((RSSHUB_ZH / "MANIFEST.json").read_text(encoding="utf-8"))
    return frozenset(m["category"] for m in manifest)


# -- the site server ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Hit:
    """One request the site server answered."""

    path: str
    status: int
    #: The Host header the browser sent.
    host: str


class _Handler(SimpleHTTPRequestHandler):
    server: _SiteHTTPServer

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet; SiteServer.hits keeps the record

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        self.server.record(Hit(self.path, int(code), self.headers.get("Host", "")))


class _SiteHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, root: Path) -> None:
        super().__init__(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
        self.hits: list[Hit] = []
        self._lock = threading.Lock()

    def record(self, hit: Hit) -> None:
        with self._lock:
            self.hits.append(hit)


class SiteServer:
    """Serve a folder over HTTP on 127.0.0.1 (a free port) in a background thread.

    ``posts/x/`` serves ``posts/x/index.html``; ``posts/x`` redirects there, as static
    hosts do.
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        self._httpd = _SiteHTTPServer(root)
        self.port = self._httpd.server_address[1]
        self.origin = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def url(self, path: str = "") -> str:
        return f"{self.origin}/{path.lstrip('/')}"

    @property
    def hits(self) -> list[Hit]:
        with self._httpd._lock:
            return list(self._httpd.hits)

    def __enter__(self) -> SiteServer:
        self._thread.start()
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


# -- the image hosts' stand-in ----------------------------------------------------------------


def picture(url: str) -> bytes:
    """The stand-in's image for ``url``: 400x300 SVG, a colour from the URL, its host name."""
    hue = int(hashlib.sha256(url.encode()).hexdigest()[:4], 16) % 360
    host = html.escape(urlsplit(url).hostname or "")
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300" viewBox="0 0 400 300">'
        '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},55%,70%)"/>'
        f'<stop offset="1" stop-color="hsl({(hue + 50) % 360},50%,45%)"/>'
        '</linearGradient></defs><rect width="400" height="300" fill="url(#g)"/>'
        '<text x="200" y="158" font-family="sans-serif" font-size="22" fill="#fff"'
        f' text-anchor="middle">{host}</text></svg>'
    ).encode()


FRAME_STUB = b"<!doctype html><meta charset=utf-8><title>stand-in</title><body>embedded</body>"
#: Resource types the stand-in may answer for a host other than the site: images, media
#: and embedded frames ("frame": a document in an iframe) are content of the feeds.
#: Anything else (a page, a script, a stylesheet, a font, a fetch) from another host means
#: the site is not self-contained.
STAND_IN_TYPES = frozenset({"image", "media", "frame"})


@dataclass
class HostStandIn:
    """Answers, locally, every request for a host other than the site server."""

    #: (resource type, URL) of every request answered.
    served: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, route: Route, request: Request) -> None:
        kind = request.resource_type
        if kind == "document" and request.frame.parent_frame is not None:
            kind = "frame"
        self.served.append((kind, request.url))
        if kind in ("document", "frame"):
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=FRAME_STUB)
        elif request.resource_type == "image":
            route.fulfill(status=200, content_type="image/svg+xml", body=picture(request.url))
        else:
            route.fulfill(status=204, body=b"")


# -- the browser ------------------------------------------------------------------------------


@dataclass
class Traffic:
    """Everything a browser's pages did on the network and in their consoles."""

    origin: str
    #: Every request URL the pages made, in order.
    requests: list[str] = field(default_factory=list)
    #: URLs of the requests that went on to the site server.
    to_site: list[str] = field(default_factory=list)
    stand_in: HostStandIn = field(default_factory=HostStandIn)
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    #: Requests that failed (connection refused, aborted...), with the reason.
    failed: list[str] = field(default_factory=list)
    #: Responses of the site server with a status >= 400.
    bad_status: list[str] = field(default_factory=list)

    def on_console(self, kind: str, text: str, location: dict[str, Any]) -> None:
        if kind == "error":
            where = f"{location.get('url')}:{location.get('lineNumber')}"
            self.console_errors.append(f"{text} (at {where})")

    def on_status(self, status: int, url: str) -> None:
        if status >= 400:
            self.bad_status.append(f"{status} {url}")

    def route(self, route: Route, request: Request) -> None:
        url = request.url
        self.requests.append(url)
        parts = urlsplit(url)
        if f"{parts.scheme}://{parts.netloc}" == self.origin:
            self.to_site.append(url)
            route.continue_()
        else:
            self.stand_in.answer(route, request)

    def foreign_hosts(self) -> set[str]:
        """Hosts other than the site's that the pages asked for (all answered locally)."""
        return {urlsplit(u).hostname or "" for _, u in self.stand_in.served}

    def problems(self) -> list[str]:
        """Every reason the pages so far are not clean, as lines."""
        out = [f"console error: {m}" for m in self.console_errors]
        out += [f"page error: {m}" for m in self.page_errors]
        # Chromium asks for the favicon itself after "load"; a click that navigates on
        # cancels it (net::ERR_ABORTED). That is the browser's doing, not the site's.
        out += [
            f"request failed: {m}"
            for m in self.failed
            if not ("/favicon." in m and m.endswith("net::ERR_ABORTED"))
        ]
        out += [f"HTTP error: {m}" for m in self.bad_status]
        out += [
            f"a {kind} from another host (the site must ship it): {url}"
            for kind, url in self.stand_in.served
            if kind not in STAND_IN_TYPES
        ]
        accounted = set(self.to_site) | {u for _, u in self.stand_in.served}
        out += [
            f"request neither to the site nor answered locally: {u}"
            for u in self.requests
            if u not in accounted
        ]
        return out

    def assert_clean(self) -> None:
        problems = self.problems()
        assert not problems, "\n".join(problems)


@dataclass
class Tab:
    """One page in its own browser context, and what it did."""

    page: Page
    traffic: Traffic


class Browser:
    """Headless system Chromium with every host mapped to loopback and all traffic recorded."""

    def __init__(self, origin: str) -> None:
        require_browser()
        self.origin = origin
        self._stack = contextlib.ExitStack()

    def __enter__(self) -> Browser:
        from playwright.sync_api import sync_playwright

        playwright = self._stack.enter_context(sync_playwright())
        self._browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(CHROMIUM_ARGS), headless=True
        )
        self._stack.callback(self._browser.close)
        return self

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def open(
        self,
        width: int = DESKTOP[0],
        height: int = DESKTOP[1],
        *,
        dark: bool = False,
        observe: bool = True,
        javascript: bool = True,
    ) -> Tab:
        """A page in a fresh context (closed with the browser), its traffic recorded.

        ``observe=False``: no route handler, so requests go wherever the host resolver
        sends them (every host: 127.0.0.1). ``javascript=False``: the page's scripts do not
        run (a reader without JavaScript).
        """
        context = self._browser.new_context(
            viewport={"width": width, "height": height},
            color_scheme="dark" if dark else "light",
            service_workers="block",
            java_script_enabled=javascript,
        )
        page = context.new_page()
        t = Traffic(self.origin)
        if observe:
            context.route("**/*", t.route)
        page.on("console", lambda m: t.on_console(m.type, m.text, m.location))
        page.on("pageerror", lambda e: t.page_errors.append(str(e)))
        page.on("requestfailed", lambda r: t.failed.append(f"{r.url}: {r.failure}"))
        page.on("response", lambda r: t.on_status(r.status, r.url))
        return Tab(page, t)


def wait_ready(page: Page) -> None:
    """Wait until the page and all its images (lazy ones too) have loaded or failed."""
    page.wait_for_load_state("load")
    page.evaluate(
        """async () => {
            const imgs = [...document.images];
            for (const img of imgs) img.loading = 'eager';
            await Promise.all(imgs.map(img => img.complete ? null :
                new Promise(r => {
                    img.addEventListener('load', r);
                    img.addEventListener('error', r);
                })));
        }"""
    )


def assert_images_from_the_site(tab: Tab, server: SiteServer) -> int:
    """Every ``<img>`` of the page decoded (``naturalWidth > 0``), none from another host, no
    failed request; returns how many ``<img>`` there are (issue #12: local images).

    Embedded players (e.g. bilibili's iframes) are the feeds' content: the stand-in may
    answer them; only images must come from the site."""
    broken = tab.page.eval_on_selector_all(
        "img", "els => els.filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
    )
    assert not broken, f"images that did not load: {broken}"
    elsewhere = [url for kind, url in tab.traffic.stand_in.served if kind == "image"]
    assert elsewhere == [], f"images from other hosts: {elsewhere}"
    tab.traffic.assert_clean()
    assert all(u.startswith(server.origin + "/") for u in tab.traffic.to_site)
    count: int = tab.page.locator("img").count()
    return count


def goto(tab: Tab, url: str) -> None:
    """Open a page of the site under test; it must answer 2xx, then settle."""
    response = tab.page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    wait_ready(tab.page)


def click_to(tab: Tab, link: str) -> None:
    """Follow a link like a reader does, then wait for the new page to settle."""
    with tab.page.expect_navigation():
        tab.page.click(link)
    wait_ready(tab.page)
