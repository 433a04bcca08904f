"""Hostile feeds through a real run and ``build_site``: every file of the native site (issue #10).

A batch of items whose titles, authors, tags (the title and author again), links, image
and enclosure URLs (image, audio and video: issue #17) and body
``<img src>``/``data-src``/``<a href>``/``<iframe src>`` are drawn from the dangerous
alphabet of ``tests/test_hypothesis_outputs.py`` is written as one RSS or JSON Feed
file, fetched by ``feedsite._run.run`` through a ``path:`` feed, and built into the
native site (with and without a base URL, plain or hostile category/site/feed names;
with ``stale``, the state is first given the raw URLs and a scheme-blind clean of each
body, as an older feedsite may have stored them). Then every output file must hold:

* ``.html``: elements of the templates and of the clean stage only; no ``on*``,
  ``srcdoc`` or ``style`` attribute, no ``<meta http-equiv>``, no ``<base>``; every
  URL attribute http(s), scheme-relative, ``mailto:``/``tel:``, an
  in-page ``#fragment`` or a relative URL that names a file of the site; every
  ``<iframe src>`` host an allowed iframe host (stale bodies too: the build checks them); the
  only ``<script>`` is the site's own search script (empty, ``src`` into ``assets/``);
* ``.xml`` (Atom, OPML, sitemap): well-formed, every ``href``/``url``/``xmlUrl``/
  ``htmlUrl``/``<loc>`` http(s) or a file of the site, and each Atom entry's HTML
  content passes the HTML check;
* ``.json`` (the search index): parses, and every document's ``path`` is a file of
  the site;
* each post's ``<h1>`` (and its card title on the feed's page) is the feed's title,
  exactly, as text.

``test_checker_*`` prove the checker fails on hand-made unsafe outputs.
"""

from __future__ import annotations

import json
import posixpath
import re
import sqlite3
import tempfile
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import lxml.html
import nh3
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from feedsite._clean import _ATTRIBUTES, _TAGS, url_host
from feedsite._parse import parse_feed
from feedsite._plan import item_id
from feedsite._run import run
from feedsite._run._build import build_native
from feedsite._targets.site import _render
from feedsite._targets.site._model import cap_title, feed_dir
from feedsite.config import DEFAULT_IFRAME_HOSTS, load_config
from tests.helpers.state import set_clean_body
from tests.test_hypothesis_outputs import DANGEROUS, URLS, body_html

T0 = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
BASE = "https://user.github.io/news"

#: Elements the packaged templates write.
TEMPLATE_TAGS = frozenset(
    {
        "html", "head", "meta", "title", "link", "body", "header", "nav", "main", "footer",
        "section", "aside", "article", "div", "h1", "h2", "p", "a", "span", "time", "img",
        "figure", "ul", "ol", "li", "form", "input", "button", "noscript", "script", "code",
        "audio", "video", "figcaption",
    }
)  # fmt: skip
ALLOWED_TAGS = TEMPLATE_TAGS | _TAGS
#: Attributes whose value a browser may load or navigate to.
URL_ATTRS = frozenset(
    {
        "href", "src", "poster", "action", "formaction", "cite", "data", "background",
        "longdesc", "usemap", "manifest", "codebase", "icon", "profile", "xlink:href",
        "ping", "lowsrc", "dynsrc",
    }
)  # fmt: skip
FORBIDDEN_ATTRS = frozenset({"srcdoc", "style", "http-equiv"})
FORBIDDEN_TAGS = frozenset({"base", "object", "embed", "frame", "frameset", "template"})
#: What a browser ignores in a URL: leading/trailing C0 and space, tab/newline anywhere.
_URL_TRIM = "".join(map(chr, range(0x21)))
_URL_TABS = re.compile("[\t\n\r]")
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]*):")
#: What the parse stage strips from titles (C0 but tab and newline, DEL, C1).
TITLE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
XML_URL_ATTRS = ("href", "url", "xmlUrl", "htmlUrl", "src")
#: The schemes a scheme-blind older clean let through.
OLD_SCHEMES = {"http", "https", "mailto", "tel", "javascript", "data", "vbscript", "file", "ftp"}


class Unsafe(AssertionError):
    """An output the site must never publish."""


def _fail(where: str, what: str) -> None:
    raise Unsafe(f"{where}: {what}")


def _normal(value: str) -> str:
    """``value`` as a browser reads it: trimmed, tabs/newlines dropped, ``\\`` as ``/``."""
    return _URL_TABS.sub("", value.strip(_URL_TRIM)).replace("\\", "/").lower()


def _target(out: Path, page: str, url: str) -> Path | None:
    """The output file a site-relative ``url`` on ``page`` names, or None."""
    path = unquote(urlsplit(url).path)
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(page), path))
    if joined.startswith("../") or joined == "..":
        return None
    target = out / joined
    if url.split("?")[0].split("#")[0].endswith("/") or target.is_dir():
        target = target / "index.html"
    return target if target.is_file() else None


def check_url(out: Path, page: str, attr: str, value: str, *, base: str = "") -> None:
    """One URL attribute of ``page``: see the module docstring."""
    where = f"{page} {attr}={value!r}"
    plain = _normal(value)
    if not plain or plain.startswith("#"):
        return
    if plain.startswith(("http://", "https://")):
        if base and value.startswith(base + "/"):  # the site's own absolute URLs
            rel = value[len(base) + 1 :]
            if _target(out, "", rel) is None:
                _fail(where, "names no file of the site")
        return
    if plain.startswith("//"):
        return  # scheme-relative: http(s) on an http(s) site
    scheme = _SCHEME.match(plain)
    if scheme:
        if scheme.group(1) in ("mailto", "tel"):
            # Inert; prepare_body keeps them on any attribute. A value that broke out of
            # its attribute shows as an extra attribute or element, checked structurally.
            return
        _fail(where, f"scheme {scheme.group(1)}:")
    if _target(out, page, value) is None:
        _fail(where, "relative URL that names no file of the site")


def check_html_tree(out: Path, page: str, root: lxml.html.HtmlElement, *, base: str = "") -> None:
    """Elements, attributes, URLs and scripts of one parsed HTML document or fragment."""
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue  # comments, processing instructions
        tag = el.tag.lower()
        if tag in FORBIDDEN_TAGS or tag not in ALLOWED_TAGS:
            _fail(page, f"element <{tag}>")
        for name, value in el.attrib.items():
            low = name.lower()
            if low.startswith("on") or low in FORBIDDEN_ATTRS:
                _fail(page, f"attribute {name}={value!r} on <{tag}>")
            if low in URL_ATTRS:
                check_url(out, page, low, value, base=base)
            elif low == "srcset":
                for candidate in value.split(","):
                    if candidate.strip():
                        check_url(out, page, low, candidate.split()[0], base=base)
        if tag == "iframe" and el.get("src") is not None:
            host = url_host(el.get("src"))
            if host not in DEFAULT_IFRAME_HOSTS:
                _fail(page, f"<iframe src={el.get('src')!r}> (host {host!r})")
        if tag == "script":
            src = el.get("src", "")
            if not re.fullmatch(r"(\.\./)*assets/search\.[0-9a-f]{10}\.js", src):
                _fail(page, f"<script src={src!r}>")
            if (el.text or "").strip() or len(el):
                _fail(page, "<script> with content")
        if (
            tag == "link"
            and el.get("rel") == "stylesheet"
            and not re.fullmatch(r"(\.\./)*assets/style\.[0-9a-f]{10}\.css", el.get("href", ""))
        ):
            _fail(page, f"stylesheet {el.get('href')!r}")


def check_html_file(out: Path, page: str, *, base: str = "") -> lxml.html.HtmlElement:
    root = lxml.html.fromstring((out / page).read_bytes())
    check_html_tree(out, page, root, base=base)
    return root


def check_xml_file(out: Path, page: str, *, base: str = "") -> None:
    """Atom, OPML or sitemap: well-formed, every URL http(s) or the site's own."""
    root = etree.fromstring((out / page).read_bytes())
    for el in root.iter():
        if not isinstance(el.tag, str):
            continue
        local = etree.QName(el).localname
        for name in XML_URL_ATTRS:
            if el.get(name) is not None:
                value = el.get(name)
                plain = _normal(value)
                # No scheme-relative URL either: a feed reader has no page scheme to use.
                if not plain.startswith(("http://", "https://")) and (
                    _SCHEME.match(plain) or plain.startswith("//")
                ):
                    _fail(page, f"{local} {name}={value!r}")
                check_url(out, page, name, value, base=base)
        if local == "loc":
            value = el.text or ""
            if not _normal(value).startswith(("http://", "https://")) and _SCHEME.match(
                _normal(value)
            ):
                _fail(page, f"<loc>{value!r}")
            check_url(out, page, "loc", value, base=base)
        if local == "content" and el.get("type") == "html" and (el.text or "").strip():
            fragment = lxml.html.fragment_fromstring(el.text, create_parent="div")
            check_html_tree(out, page, fragment, base=base)


def check_json_file(out: Path, page: str) -> None:
    data = json.loads((out / page).read_bytes())
    if re.search(r"/d\d+\.json$", page):  # a chunk of search documents
        for doc in data:
            path = doc["path"] if isinstance(doc, dict) else doc[0]
            if _SCHEME.match(_normal(path)) or _target(out, "", path) is None:
                _fail(page, f"search document path {path!r}")


def check_site(out: Path, *, base: str = "") -> dict[str, int]:
    """Every file under ``out``; returns the count of files checked by suffix."""
    counts: dict[str, int] = {}
    for file in sorted(out.rglob("*")):
        if not file.is_file():
            continue
        rel = file.relative_to(out).as_posix()
        suffix = file.suffix
        counts[suffix] = counts.get(suffix, 0) + 1
        if suffix == ".html":
            check_html_file(out, rel, base=base)
        elif suffix == ".xml":
            check_xml_file(out, rel, base=base)
        elif suffix == ".json":
            check_json_file(out, rel)
        elif re.fullmatch(r"assets/favicon\.[0-9a-f]{10}\.svg", rel):
            if file.read_bytes() not in _render.static_files().values():  # the packaged icon
                _fail(rel, "favicon not the packaged one")
        elif not re.fullmatch(r"assets/(style|search)\.[0-9a-f]{10}\.(css|js)", rel):
            _fail(rel, "unexpected file")
    return counts


# --- the hostile feed ---------------------------------------------------------------------

ITEM = st.tuples(
    (st.text(max_size=30) | DANGEROUS).map(lambda t: t[:99]),  # title
    DANGEROUS,  # author
    URLS,  # link
    URLS,  # image
    URLS,  # enclosure
    st.tuples(URLS, URLS, URLS, URLS).map(lambda u: body_html(*u)),  # body
)
Item = tuple[str, str, str, str, str, str]


#: Enclosure types by item: an image, and audio and video a post page plays (issue #17).
_MEDIA = ("image/jpeg", "audio/mpeg", "video/mp4")


def rss_of(items: list[Item]) -> bytes:
    parts = [
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
        "<link>https://ok.example/</link>"
    ]
    for n, (title, author, link, image, enclosure, body) in enumerate(items):
        date = format_datetime(T0 - timedelta(hours=n), usegmt=True)
        parts.append(
            f"<item><title>{xml_escape(title)}</title><guid>g{n}</guid>"
            f"<link>{xml_escape(link)}</link><pubDate>{date}</pubDate>"
            f"<dc:creator>{xml_escape(author)}</dc:creator>"
            f"<category>{xml_escape(author)}</category><category>{xml_escape(title)}</category>"
            f"<enclosure url={quoteattr(enclosure)} type={quoteattr(_MEDIA[n % 3])}"
            ' length="1"/>'
            f"<media:thumbnail url={quoteattr(image)}/>"
            f"<description>{xml_escape(body)}</description></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode()


def json_feed_of(items: list[Item]) -> bytes:
    return json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [
                {
                    "id": f"g{n}",
                    "title": title,
                    "url": link,
                    "image": image,
                    "authors": [{"name": author}],
                    "date_published": (T0 - timedelta(hours=n)).isoformat(),
                    "tags": [author, title],
                    "attachments": [{"url": enclosure, "mime_type": _MEDIA[n % 3]}],
                    "content_html": body,
                }
                for n, (title, author, link, image, enclosure, body) in enumerate(items)
            ],
        }
    ).encode()


CONFIG = """\
site: {{hexo_root: ./blog, timezone: UTC}}
native: {{base_url: "{base}"}}
defaults: {{items_per_feed: 50}}
images: {{mode: hotlink}}
feeds:
  {category}:
    {site}:
      {feed}: {{path: {name}}}
"""
#: (category, site, feed) of the one feed: plain, or as hostile as a config can say.
NAMES = st.sampled_from(
    [
        ("新闻", "本地", "文件"),
        ("<script>alert(1)</script>", "a&amp;b \"q\" 'x'", "javascript:alert(1)"),
    ]
)


def store_as_older_runs(state_path: Path, items: list[Item]) -> None:
    """Give the state the raw link, images and a scheme-blind clean of the body of each
    item, as an older feedsite may have stored them: the build must make them safe."""
    with sqlite3.connect(state_path) as db:
        db.execute("DELETE FROM site_cards")
        for n, (_title, _author, link, image, enclosure, body) in enumerate(items):
            old_clean = nh3.clean(body, tags=set(_TAGS), attributes=_ATTRIBUTES,
                                  url_schemes=OLD_SCHEMES)  # fmt: skip
            done = db.execute(
                "UPDATE items SET link = ?, images = ? WHERE guid = ?",
                (link, json.dumps([image, enclosure]), f"g{n}"),
            )
            assert done.rowcount == 1, n
            set_clean_body(db, f"g{n}", old_clean)
    db.close()


def build(
    root: Path,
    feed: bytes,
    name: str,
    base: str,
    names: tuple[str, str, str],
    stale: list[Item] | None = None,
) -> Path:
    (root / name).write_bytes(feed)
    config_path = root / "feedsite.yaml"
    category, site, feed_name = (json.dumps(n, ensure_ascii=False) for n in names)
    text = CONFIG.format(base=base, name=name, category=category, site=site, feed=feed_name)
    config_path.write_text(text, encoding="utf-8")
    config = load_config(config_path)
    run(config, now=T0, seed=1)
    if stale is not None:
        store_as_older_runs(config.state_path, stale)
    out = root / "public"
    result = build_native(config, out)  # the config's base URL, timezone UTC
    assert not [w for w in result.warnings if "search" in w], result.warnings
    return out


def _as_html_reads(text: str) -> str:
    """``text`` as an HTML parser gives it back: CR and CRLF read as LF (HTML's input
    stream preprocessing), not a change of the title."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def check_titles(out: Path, feed: bytes, name: str, names: tuple[str, str, str]) -> int:
    """Each item's post page shows its title exactly; returns the number of posts."""
    items = parse_feed(feed, url=(Path("/") / name).as_uri()).items
    feed_page = lxml.html.fromstring((out / feed_dir(*names) / "index.html").read_bytes())
    (h1,) = feed_page.xpath("//h1[@class='page-title']")
    assert h1.text == names[2] + " ", h1.text
    cards = {
        unquote(a.get("href")).rsplit("/", 1)[-1]: a.text_content()
        for a in feed_page.xpath("//h2[@class='card-title']/a")
    }
    for item in items:
        uid = item_id(item)
        expected = _as_html_reads(cap_title(item.title, 2000) or "(无标题 untitled)")
        doc = lxml.html.fromstring((out / "posts" / f"{uid}.html").read_bytes())
        (h1,) = doc.xpath("//h1[@class='post-title']")
        assert h1.text_content() == expected, (item.title, h1.text_content())
        assert len(h1) == 0, lxml.html.tostring(h1)
        assert cards[f"{uid}.html"] == _as_html_reads(
            cap_title(item.title, 300) or "(无标题 untitled)"
        )
    return len(items)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    items=st.lists(ITEM, min_size=1, max_size=15),
    as_json=st.booleans(),
    base=st.sampled_from([BASE, ""]),
    names=NAMES,
    stale=st.booleans(),
)
def test_hostile_feed_to_native_site(
    items: list[Item], as_json: bool, base: str, names: tuple[str, str, str], stale: bool
) -> None:
    """issue #10 (hypothesis acceptance): every file of the native site, any feed; with
    ``stale``, the state holds the raw URLs and a scheme-blind body (an older run's)."""
    name = "feed.json" if as_json else "feed.xml"
    feed = json_feed_of(items) if as_json else rss_of(items)
    with tempfile.TemporaryDirectory() as tmp:
        out = build(Path(tmp), feed, name, base, names, items if stale else None)
        counts = check_site(out, base=base)
        posts = check_titles(out, feed, name, names)
        assert len(list((out / "posts").iterdir())) == posts
        assert counts[".xml"] >= 6 and counts[".json"] >= 3, counts  # atom ×4, opml, sitemap


# --- the checker catches what it must ----------------------------------------------------

PAGE = """<!doctype html><html><head><title>t</title>
<link rel="stylesheet" href="../assets/style.0123456789.css"></head>
<body><main><a href="../index.html">home</a>{}</main></body></html>"""


@pytest.fixture
def site_root(tmp_path: Path) -> Path:
    (tmp_path / "posts").mkdir()
    (tmp_path / "index.html").write_text(PAGE.replace("../", "").format(""), encoding="utf-8")
    (tmp_path / "assets").mkdir()
    (tmp_path / "assets" / "style.0123456789.css").write_text("", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    "fragment",
    [
        '<a href="javascript:alert(1)">x</a>',
        '<a href=" JaVa&#x09;ScRiPt:alert(1)">x</a>',
        '<a href="\x01java\nscript:alert(1)">x</a>',
        '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
        '<a href="vbscript:msgbox(1)">x</a>',
        '<img src="file:///etc/passwd">',
        '<img src="x" onerror="alert(1)">',
        '<iframe srcdoc="&lt;script&gt;alert(1)&lt;/script&gt;"></iframe>',
        "<script>alert(1)</script>",
        '<script src="https://evil.example/x.js"></script>',
        '<svg><a href="https://ok.example/">x</a></svg>',
        '<form action="javascript:alert(1)"><button>x</button></form>',
        '<button formaction="javascript:alert(1)">x</button>',
        '<video poster="javascript:alert(1)"></video>',
        "<a href='mailto:x@y.example'onmouseover=alert(1)>x</a>",
        '<img src="../elsewhere.jpg">',
        '<a href="a.jpg">relative to a file the site does not have</a>',
        '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
        '<p style="background:url(javascript:alert(1))">x</p>',
        '<base href="https://evil.example/">',
    ],
)
def test_checker_refuses_an_unsafe_page(site_root: Path, fragment: str) -> None:
    (site_root / "posts" / "p.html").write_text(PAGE.format(fragment), encoding="utf-8")
    with pytest.raises(Unsafe):
        check_site(site_root)


@pytest.mark.parametrize(
    "fragment",
    [
        '<a href="https://ok.example/a?b=1#c">x</a>',
        '<a href="#top">x</a><a href="mailto:a@b.example">m</a><a href="tel:+1">t</a>',
        '<img src="//cdn.example/a.jpg" loading="lazy">',
        '<a href="../index.html#x">home</a><a href="../posts/p.html">self</a>',
    ],
)
def test_checker_passes_a_safe_page(site_root: Path, fragment: str) -> None:
    (site_root / "posts" / "p.html").write_text(PAGE.format(fragment), encoding="utf-8")
    check_site(site_root)


@pytest.mark.parametrize(
    ("name", "text"),
    [
        (
            "atom.xml",
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry>'
            '<link rel="related" href="javascript:alert(1)"/></entry></feed>',
        ),
        (
            "atom.xml",
            '<feed xmlns="http://www.w3.org/2005/Atom"><entry><content type="html">'
            "&lt;img src=x onerror=alert(1)&gt;</content></entry></feed>",
        ),
        ("opml.xml", '<opml><body><outline xmlUrl="file:///etc/passwd"/></body></opml>'),
        (
            "sitemap.xml",
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            "<url><loc>data:text/html,x</loc></url></urlset>",
        ),
        ("broken.xml", "<feed><title>x</feed>"),
        ("searchindex/meta.json", "{not json"),
        ("searchindex/a/d0.json", '[{"path": "javascript:alert(1)", "title": "x"}]'),
        ("evil.svg", "<svg onload='alert(1)'/>"),
    ],
)
def test_checker_refuses_unsafe_other_files(site_root: Path, name: str, text: str) -> None:
    (site_root / name).parent.mkdir(parents=True, exist_ok=True)
    (site_root / name).write_text(text, encoding="utf-8")
    with pytest.raises((Unsafe, etree.XMLSyntaxError, json.JSONDecodeError)):
        check_site(site_root)


def test_stale_body_iframe_host_is_rechecked(tmp_path: Path) -> None:
    """Found by the hypothesis test above (stale=True), issue #10 row 8: a body stored by an
    older version keeps no iframe whose host (as a browser reads it) is not allowed."""
    items: list[Item] = [
        ("x", "", "https://ok.example/a", "", "",
         body_html("", "", "http://127.0.0.1:18765\\@player.bilibili.com/x", "")),
    ]  # fmt: skip
    out = build(tmp_path, rss_of(items), "feed.xml", BASE, ("新闻", "本地", "文件"), items)
    check_site(out, base=BASE)
