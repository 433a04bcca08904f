"""Hostile feeds through parse → clean → default-profile Hexo post (issue #10).

Titles and URLs are drawn from a dangerous alphabet (quotes, backticks, ``<``/``>``,
backslashes, ``@``, whitespace and control characters, mixed-case ``javascript:``/
``data:``/``vbscript:`` schemes, HTML entities) and put everywhere a feed can put
them: item link, title, image and enclosure URLs, body ``<img src>``, ``<a href>``
and ``<iframe src>``. The post must then hold:

* front matter that loads as YAML, with the title exactly the feed's (control
  characters stripped);
* ``headimg``/``thumbnail``/``source_url`` absent, the placeholder, or an http(s)
  URL with nothing in it that can end an attribute;
* a body of allowed elements only, no ``on*`` attribute, and no URL attribute but
  http(s), ``mailto:``, ``tel:`` or an in-page ``#fragment``.

The native site's pages are covered by the site's own tests.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from xml.sax.saxutils import escape as xml_escape
from xml.sax.saxutils import quoteattr

import lxml.html
import nh3
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsite._clean import clean_html
from feedsite._parse import parse_feed
from feedsite._plan import item_id
from feedsite._targets.hexo import render_post
from feedsite.config import DEFAULT_IFRAME_HOSTS, DEFAULT_PLACEHOLDER
from feedsite.types import ParsedItem, PostSource, RenderSettings

SETTINGS = RenderSettings("default", None, None, DEFAULT_PLACEHOLDER, "source_url")
#: The fetch URL: an RSSHub instance with credentials and a key (row 5).
FETCH_URL = "http://user:password@rsshub.example:1200/route?key=SECRETKEY"
SECRETS = ("password", "SECRETKEY")

ALLOWED_TAGS = frozenset(nh3.ALLOWED_TAGS) | {
    "iframe", "video", "audio", "source", "picture", "figure", "div"
}  # fmt: skip
URL_ATTRS = ("href", "src", "poster", "cite")
ATTRIBUTE_BREAKERS = re.compile(r"['\"<>`\s]")
#: What the parse stage strips from titles (C0 but tab and newline, DEL, C1).
TITLE_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

PIECES = st.sampled_from(
    [
        "javascript:", "JaVaScRiPt:", "java\tscript:", " javascript:", "\x01javascript:",
        "data:", "DATA:text/html,", "vbscript:", "file:", "mailto:", "tel:", "alert(1)",
        "'", '"', "`", "<", ">", "\\", "\\\\", "/", "//", "@", " ", "\t", "\n", "\r",
        "\x00", "\x1b", "\x7f", "\x85", "\u2028", "&quot;", "&#39;", "&lt;", "&gt;", "&amp;",
        "&#x6a;avascript:", "&#106;avascript:", "http://", "https://", "HTTP://",
        "127.0.0.1:18765", "player.bilibili.com", "ok.example", "/a.jpg", "?", "#", "=",
        "onerror=", "%27", "%22", "<script>", "</script>", "<img src=x onerror=alert(1)>",
        "[link=x]", "{{", "}}", "---", ": ", "中文", "x",
    ]
)  # fmt: skip
DANGEROUS = st.lists(PIECES, max_size=8).map("".join)
URLS = st.one_of(
    DANGEROUS,
    st.tuples(st.sampled_from(["https://ok.example/", "http://", "//", "/", ""]), DANGEROUS).map(
        "".join
    ),
)


def body_html(img: str, href: str, iframe: str, lazy: str) -> str:
    return (
        f"<p><img src={quoteattr(img)} data-src={quoteattr(lazy)}>"
        f"<a href={quoteattr(href)}>link</a>"
        f"<iframe src={quoteattr(iframe)}></iframe></p>"
    )


def json_feed(title: str, link: str, image: str, enclosure: str, body: str) -> bytes:
    item = {
        "id": "1",
        "title": title,
        "url": link,
        "image": image,
        "attachments": [{"url": enclosure, "mime_type": "image/jpeg"}],
        "content_html": body,
    }
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", "items": [item]}).encode()


def rss_feed(title: str, link: str, image: str, enclosure: str, body: str) -> bytes:
    def text(value: str) -> str:  # XML 1.0 cannot hold C0 controls; the parser repairs them
        return xml_escape(value)

    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<rss version="2.0" xmlns:media="http://search.yahoo.com/mrss/"><channel><title>t</title>'
        f"<item><title>{text(title)}</title><guid>g</guid><link>{text(link)}</link>"
        f'<enclosure url={quoteattr(enclosure)} type="image/jpeg" length="1"/>'
        f"<media:thumbnail url={quoteattr(image)}/>"
        f"<description>{text(body)}</description></item></channel></rss>"
    ).encode()


def post_of(item: ParsedItem) -> PostSource:
    body = item.content_html or item.summary_html or ""
    cleaned = clean_html(
        body, base_url=item.base_url or item.link, iframe_hosts=DEFAULT_IFRAME_HOSTS
    )
    return PostSource(
        item_id=item_id(item),
        category="c",
        site="s",
        feed="f",
        title=item.title,
        link=item.link,
        date=item.date,
        first_seen=datetime(2026, 1, 1, tzinfo=UTC),
        body_clean=cleaned,
        description_raw=item.description_raw,
        images=item.images,
    )


def check_url(value: object, *, placeholder: str | None = None) -> None:
    assert isinstance(value, str), value
    if value == placeholder:
        return
    assert value.startswith(("http://", "https://")), value
    assert not ATTRIBUTE_BREAKERS.search(value), value
    for secret in SECRETS:
        assert secret not in value


def check_body_url(value: str) -> None:
    plain = re.sub(r"[\x00-\x20\x7f]", "", value).lower()
    if plain.startswith(("#", "mailto:", "tel:")):
        assert not ATTRIBUTE_BREAKERS.search(value.strip()) or plain.startswith("#"), value
        return
    assert plain.startswith(("http://", "https://")), value
    for scheme in ("javascript:", "data:", "vbscript:"):
        assert not plain.startswith(scheme), value
    for secret in SECRETS:
        assert secret not in value


def check_post(post: PostSource, expected_title: str) -> None:
    text = render_post(post, SETTINGS).decode("utf-8")
    assert text.startswith("---\n")
    _, head, rest = text.split("---\n", 2)
    data = yaml.safe_load(head)
    assert isinstance(data, dict)
    assert data["title"] == expected_title
    placeholder = SETTINGS.placeholder.format(n=int(post.item_id, 16) % 1000 + 1)
    check_url(data["headimg"], placeholder=placeholder)
    assert data["thumbnail"] == data["headimg"]
    if "source_url" in data:
        check_url(data["source_url"])
    assert rest.startswith("\n<div>\n") and rest.endswith("\n</div>\n")
    root = lxml.html.fragment_fromstring(rest[len("\n<div>\n") : -len("\n</div>\n")] or " ",
                                         create_parent="div")  # fmt: skip
    for element in root.iter():
        if not isinstance(element.tag, str):
            continue  # comments
        assert element.tag in ALLOWED_TAGS, element.tag
        for name, value in element.attrib.items():
            assert not name.lower().startswith("on"), name
            if name in URL_ATTRS:
                check_body_url(value)
    for secret in SECRETS:
        assert secret not in text


DRAWS = st.tuples(st.text(max_size=30) | DANGEROUS, URLS, URLS, URLS, URLS, URLS, URLS, URLS)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DRAWS)
def test_json_feed_to_hexo_post(draw: tuple[str, str, str, str, str, str, str, str]) -> None:
    """issue #10 rows 2, 3, 5, 8, 17 (JSON Feed): whatever the feed holds."""
    title, link, image, enclosure, img, href, iframe, lazy = draw
    body = body_html(img, href, iframe, lazy)
    feed = parse_feed(json_feed(title, link, image, enclosure, body), url=FETCH_URL)
    (item,) = feed.items
    assert item.title == TITLE_CONTROLS.sub("", title.strip())
    check_post(post_of(item), item.title)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(DRAWS)
def test_rss_feed_to_hexo_post(draw: tuple[str, str, str, str, str, str, str, str]) -> None:
    """issue #10 rows 2, 3, 5, 8, 17 (RSS, body escaped in the description)."""
    title, link, image, enclosure, img, href, iframe, lazy = draw
    body = body_html(img, href, iframe, lazy)
    feed = parse_feed(rss_feed(title, link, image, enclosure, body), url=FETCH_URL)
    (item,) = feed.items
    check_post(post_of(item), item.title)


def test_a_known_hostile_example() -> None:
    """The worst of the table at once (rows 2, 3, 8, 17), as one fixed example."""
    body = body_html(
        "https://ok.example/f.jpg' onerror='alert(1)'",
        "JaVaScRiPt:alert(1)",
        "http://127.0.0.1:18765\\@player.bilibili.com/x",
        "javascript:alert(1)",
    )
    data = json_feed("<script>alert(1)</script>", "javascript:alert(1)", "data:x", "x", body)
    (item,) = parse_feed(data, url=FETCH_URL).items
    post = post_of(item)
    assert "127.0.0.1" not in post.body_clean
    assert "onerror" not in html.unescape(post.body_clean).replace("%27", "'").split("'")[0]
    check_post(post, "<script>alert(1)</script>")
    assert "source_url" not in render_post(post, SETTINGS).decode()
