"""Every URL the parser returns is a safe, public, absolute http(s) URL (issue #10).

Links, cover candidates and base URLs pass :func:`feedsite._url.safe_url`; relative
ones resolve against the public form of the fetch URL (no user, password, query or
fragment), never the fetch URL itself; messages show the fetch URL redacted.
"""

from __future__ import annotations

import json

import pytest

from feedsite._parse import parse_feed
from feedsite.errors import ParseError
from feedsite.types import ParsedFeed

#: An RSSHub instance URL with credentials and an access key (issue #10 row 5).
SECRET_URL = "http://user:password@127.0.0.1:1200/guancha/headline?key=SECRETKEY"
SECRETS = ("password", "user:", "SECRETKEY")

#: URLs that must never come out: other schemes, however spelled.
HOSTILE = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    " javascript:alert(1)",
    "java\tscript:alert(1)",
    "java\x01script:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "file:///etc/passwd",
]


def rss_item(link: str, enclosure: str = "https://img.example/ok.jpg") -> bytes:
    return f"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title><link>https://site.example/</link>
<item><title>x</title><guid isPermaLink="false">g1</guid>
<link><![CDATA[{link}]]></link>
<enclosure url="{enclosure.replace("&", "&amp;").replace('"', "&quot;")}"
 type="image/jpeg" length="1"/>
<description>d</description></item></channel></rss>""".encode()


def atom_entry(href: str) -> bytes:
    escaped = href.replace("&", "&amp;").replace('"', "&quot;")
    return f"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<link rel="alternate" href="{escaped}"/>
<entry><title>x</title><id>urn:x:1</id><link rel="alternate" href="{escaped}"/>
<link rel="enclosure" type="image/png" href="{escaped}"/>
<content type="html">c</content></entry></feed>""".encode()


def json_item(url: str) -> bytes:
    document = {
        "version": "https://jsonfeed.org/version/1.1",
        "title": "t",
        "home_page_url": url,
        "items": [
            {
                "id": "1",
                "url": url,
                "image": url,
                "banner_image": url,
                "attachments": [{"url": url, "mime_type": "image/png"}],
                "content_html": "<p>c</p>",
            }
        ],
    }
    return json.dumps(document).encode()


def harmless(url: str | None, base: str) -> bool:
    """Absent, or a relative reference resolved under ``base``: XML attribute values
    have their tabs turned into spaces, so ``java\tscript:x`` in an attribute is the
    relative path ``java script:x``, which a browser reads the same way."""
    return url is None or url.startswith(base)


def all_urls(feed: ParsedFeed) -> list[str | None]:
    return [feed.link] + [
        url for item in feed.items for url in (item.link, item.base_url, *item.images)
    ]


@pytest.mark.parametrize("bad", HOSTILE)
def test_rss_hostile_link_and_enclosure_are_refused(bad: str) -> None:
    """issue #10 row 3: an item link ``javascript:…`` (and a ``javascript:`` enclosure)
    never comes out of the parser."""
    feed = parse_feed(rss_item(bad, enclosure=bad), url="https://rsshub.example/r")
    item = feed.items[0]
    assert item.link is None  # text content (CDATA): nothing normalises the tab away
    assert all(harmless(url, "https://site.example/") for url in item.images)
    assert item.base_url == "https://site.example/"


@pytest.mark.parametrize("bad", HOSTILE)
def test_atom_hostile_links_are_refused(bad: str) -> None:
    """issue #10 row 3, Atom: alternate and enclosure links of another scheme."""
    feed = parse_feed(atom_entry(bad), url="https://rsshub.example/r")
    assert all(harmless(url, "https://rsshub.example/") for url in all_urls(feed))
    if "\t" not in bad:
        assert feed.link is None
        assert feed.items[0].link is None
        assert feed.items[0].images == ()
        assert feed.items[0].base_url == "https://rsshub.example/r"


@pytest.mark.parametrize("bad", HOSTILE)
def test_json_hostile_urls_are_refused(bad: str) -> None:
    """issue #10 row 3, JSON Feed: url, image, banner_image and image attachments."""
    feed = parse_feed(json_item(bad), url="https://rsshub.example/r")
    assert feed.link is None
    assert feed.items[0].link is None
    assert feed.items[0].images == ()
    assert feed.items[0].base_url == "https://rsshub.example/r"


def test_quote_in_enclosure_cannot_leave_an_attribute() -> None:
    """issue #10 row 2: an enclosure URL with ``'`` (later written as ``src='…'``)."""
    bad = "https://ok.example/f.jpg' onerror='alert(1)'"
    feed = parse_feed(rss_item("https://ok.example/a", enclosure=bad), url="https://r.example/")
    (image,) = feed.items[0].images
    assert image.startswith("https://ok.example/f.jpg")
    assert not set("'\"<> `") & set(image)


def test_relative_urls_resolve_against_the_public_fetch_url() -> None:
    """issue #10 row 5: an RSSHub URL with ``user:password@`` and ``?key=``, a feed
    without a channel link whose items have relative URLs only."""
    document = b"""<?xml version="1.0"?>
<rss version="2.0"><channel><title>t</title>
<item><title>a</title><guid isPermaLink="false">1</guid><link>/news/1</link>
<enclosure url="/img/1.jpg" type="image/jpeg" length="1"/>
<description>&lt;img src="/img/2.jpg"&gt;</description></item>
<item><title>b</title><guid isPermaLink="false">2</guid><link>#c2</link>
<description>d</description></item>
<item><title>c</title><guid isPermaLink="false">3</guid>
<description>d</description></item>
</channel></rss>"""
    feed = parse_feed(document, url=SECRET_URL)
    first, second, third = feed.items
    assert first.link == "http://127.0.0.1:1200/news/1"
    assert first.images == ("http://127.0.0.1:1200/img/1.jpg",)
    assert second.link == "http://127.0.0.1:1200/guancha/headline#c2"
    assert third.link is None
    assert third.base_url == "http://127.0.0.1:1200/guancha/headline"
    text = repr(all_urls(feed))
    for secret in SECRETS:
        assert secret not in text


def test_atom_relative_urls_resolve_against_the_public_fetch_url() -> None:
    """issue #10 row 5, Atom: relative alternate and enclosure links, no xml:base."""
    document = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>
<entry><title>x</title><id>urn:x:1</id><link href="a/1"/>
<link rel="enclosure" type="image/png" href="?i=1"/></entry></feed>"""
    feed = parse_feed(document, url=SECRET_URL)
    item = feed.items[0]
    assert item.link == "http://127.0.0.1:1200/guancha/a/1"
    assert item.images == ("http://127.0.0.1:1200/guancha/headline?i=1",)
    for secret in SECRETS:
        assert secret not in repr(all_urls(feed))


def test_json_relative_urls_resolve_against_the_public_fetch_url() -> None:
    """issue #10 row 5, JSON Feed: relative url and image, no home_page_url."""
    document = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "t",
            "items": [{"id": "1", "url": "/p/1", "image": "i.png", "content_html": "x"}],
        }
    ).encode()
    feed = parse_feed(document, url=SECRET_URL)
    item = feed.items[0]
    assert item.link == "http://127.0.0.1:1200/p/1"
    assert item.images == ("http://127.0.0.1:1200/guancha/i.png",)
    assert feed.items[0].base_url == "http://127.0.0.1:1200/p/1"
    for secret in SECRETS:
        assert secret not in repr(all_urls(feed))


def test_credentials_in_item_urls_are_dropped() -> None:
    """A feed's own URLs never publish a user name or password either."""
    feed = parse_feed(rss_item("https://u:pw@site.example/a"), url="https://r.example/")
    assert feed.items[0].link == "https://site.example/a"


def test_xml_base_still_resolves() -> None:
    """The resolution rules themselves are unchanged: xml:base wins over the fetch URL."""
    document = b"""<?xml version="1.0"?>
<feed xmlns="http://www.w3.org/2005/Atom" xml:base="https://base.example/dir/">
<title>t</title><entry><title>x</title><id>urn:1</id><link href="p/1"/></entry></feed>"""
    feed = parse_feed(document, url=SECRET_URL)
    assert feed.items[0].link == "https://base.example/dir/p/1"


@pytest.mark.parametrize(
    "document",
    [b"<html><body>Cloudflare</body></html>", b"{not json", b'{"version": "x"}'],
)
def test_parse_error_messages_redact_the_fetch_url(document: bytes) -> None:
    """issue #10 rows 5/12: a ParseError message (printed by ``run``) names the feed
    without its user, password or key."""
    with pytest.raises(ParseError) as error:
        parse_feed(document, url=SECRET_URL)
    message = str(error.value)
    assert "127.0.0.1:1200/guancha/headline" in message
    for secret in SECRETS:
        assert secret not in message


def test_relative_base_is_one_rule() -> None:
    """issue #11 item 7: the XML and JSON mappers share ``_url.relative_base``: the
    declared bases in order, else the public fetch URL (Atom: the fetch URL first)."""
    from feedsite._url import relative_base

    assert relative_base(fetch_url=SECRET_URL) == "http://127.0.0.1:1200/guancha/headline"
    assert relative_base(None, "https://site.example/", fetch_url=SECRET_URL) == (
        "https://site.example/"
    )
    assert relative_base("https://a.example/", "https://b.example/") == "https://a.example/"
    assert relative_base("https://site.example/", fetch_url=SECRET_URL, fetch_url_first=True) == (
        "http://127.0.0.1:1200/guancha/headline"
    )
    # No public form (a local file): the declared base, else none.
    assert relative_base("https://site.example/", fetch_url="file:///tmp/f.xml") == (
        "https://site.example/"
    )
    assert relative_base(None, fetch_url="file:///tmp/f.xml", fetch_url_first=True) is None
    assert relative_base() is None
