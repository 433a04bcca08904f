"""Crawl the native static site from its home page: no broken link, every page reachable.

The site is rendered from a real feedsite run over ../shared/corpora (see
``tests/helpers/browser.py``) and served on 127.0.0.1. A plain HTTP crawler starts at the
home page and follows every same-origin URL an HTML page names (``href``, ``src``,
``srcset``) or an XML file does (Atom links, sitemap ``<loc>``s); links to the site's
public URL (``base_url``) count as its own. It asserts
that none answers an error and that every HTML page on disk, every post first of all,
was reached. Links out of the site (the original articles, the feeds' images) are not
followed.
"""

from __future__ import annotations

import urllib.error
import urllib.request
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

import lxml.etree
import lxml.html
import pytest

from tests.helpers.browser import BASE_URL, CorpusSite, SiteServer

#: Attributes that name a URL the browser loads or the reader follows.
URL_ATTRS = ("href", "src", "poster")


@dataclass
class Crawl:
    """What a crawl found."""

    #: Every URL fetched → HTTP status.
    status: dict[str, int] = field(default_factory=dict)
    #: URL → the first page that linked to it.
    referrer: dict[str, str] = field(default_factory=dict)
    #: Paths (under the root, unquoted) of the HTML pages reached.
    pages: set[str] = field(default_factory=set)

    def broken(self) -> list[str]:
        return [
            f"{code} {url} (linked from {self.referrer.get(url, '-')})"
            for url, code in sorted(self.status.items())
            if code >= 400
        ]


def fetch(url: str) -> tuple[int, str, bytes, str]:
    """GET ``url``: (status, content type, body, final URL after redirects)."""
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.headers.get_content_type(), r.read(), r.url
    except urllib.error.HTTPError as e:
        return e.code, "", b"", url


def page_path(url: str) -> str:
    """The file a URL of the local server serves, relative to the root."""
    path = unquote(urlsplit(url).path).lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


def links(url: str, body: bytes) -> Iterator[str]:
    """Every URL an HTML page names, absolute, without fragments."""
    yield from _attr_links(url, lxml.html.document_fromstring(body))


XML_PARSER = lxml.etree.XMLParser(resolve_entities=False, no_network=True)


def xml_links(url: str, body: bytes) -> Iterator[str]:
    """Every URL an XML file (Atom, sitemap, OPML) names in an attribute or a ``<loc>``."""
    doc = lxml.etree.fromstring(body, XML_PARSER)
    yield from _attr_links(url, doc)
    for loc in doc.iter("{*}loc"):
        if loc.text and loc.text.strip():
            yield urldefrag(urljoin(url, loc.text.strip()))[0]


def _attr_links(url: str, doc: lxml.etree._Element) -> Iterator[str]:
    for el in doc.iter(lxml.etree.Element):
        for attr in URL_ATTRS:
            value = el.get(attr)
            if value and value.strip():
                yield urldefrag(urljoin(url, value.strip()))[0]
        for part in (el.get("srcset") or "").split(","):
            if part.strip():
                yield urldefrag(urljoin(url, part.split()[0]))[0]


def crawl(server: SiteServer) -> Crawl:
    """Breadth-first from the home page over every internal URL."""
    result = Crawl()
    start = server.url("/")
    queue = deque([start])
    seen = {start}
    while queue:
        url = queue.popleft()
        code, kind, body, final = fetch(url)
        result.status[url] = code
        if code >= 400:
            continue
        if kind == "text/html":
            result.pages.add(page_path(final))
            found = links(final, body)
        elif kind.endswith("xml"):
            found = xml_links(final, body)
        else:
            continue
        for link in found:
            if link.startswith(BASE_URL):  # the site's public address: its own page
                link = server.url(link.removeprefix(BASE_URL))
            if not link.startswith(server.origin + "/") or link in seen:
                continue
            seen.add(link)
            result.referrer[link] = url
            queue.append(link)
    return result


@pytest.fixture(scope="module")
def crawled(server: SiteServer) -> Crawl:
    return crawl(server)


def html_pages(out: Path) -> set[str]:
    return {p.relative_to(out).as_posix() for p in out.rglob("*.html")}


def test_no_broken_links(crawled: Crawl) -> None:
    assert len(crawled.status) > 100, f"the crawl found only {len(crawled.status)} URLs"
    broken = crawled.broken()
    assert not broken, f"{len(broken)} broken links:\n" + "\n".join(broken)


def test_every_post_is_reachable(crawled: Crawl, site: CorpusSite) -> None:
    posts = {f"posts/{uid}.html" for uid in site.post_dirs()}
    assert len(posts) == len(site.entries), "not every corpus entry became a post page"
    missing = sorted(posts - crawled.pages)
    assert not missing, f"{len(missing)} of {len(posts)} posts are not linked: {missing[:10]}"


def test_every_page_is_reachable(crawled: Crawl, site: CorpusSite) -> None:
    missing = sorted(html_pages(site.out) - crawled.pages)
    assert not missing, f"pages no link leads to: {missing}"


def test_sitemap_lists_existing_pages(server: SiteServer, site: CorpusSite) -> None:
    """Every sitemap URL is a page of the site, and every page is in the sitemap."""
    code, _, body, _ = fetch(server.url("sitemap.xml"))
    assert code == 200
    ns = {"sm": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locs = [loc.text or "" for loc in lxml.etree.fromstring(body).findall("sm:url/sm:loc", ns)]
    assert locs and all(loc.startswith(BASE_URL) for loc in locs), locs[:5]
    paths = {page_path(server.url(loc.removeprefix(BASE_URL))) for loc in locs}
    assert paths == html_pages(site.out)


def test_tag_pages_are_crawled(crawled: Crawl, site: CorpusSite) -> None:
    """The corpus's tags (issue #17: the realworld blogs' ``<category>``) have pages, each
    reached from the tags page or a post, and every tag link of a post resolves."""
    tag_pages = {p.relative_to(site.out).as_posix() for p in (site.out / "t").glob("*/index.html")}
    assert len(tag_pages) >= 5, tag_pages
    assert "tags/index.html" in crawled.pages
    missing = sorted(tag_pages - crawled.pages)
    assert not missing, f"tag pages no link leads to: {missing}"
    linked = 0
    for post in (site.out / "posts").glob("*.html"):
        doc = lxml.html.fromstring(post.read_bytes())
        for href in doc.xpath("//p[@class='tags']/a/@href"):
            target = page_path(urljoin(f"http://x/posts/{post.name}", href))
            assert target in tag_pages, (post.name, href)
            linked += 1
    assert linked >= len(tag_pages)
