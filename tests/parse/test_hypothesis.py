"""Property tests: whatever the bytes, parse_feed returns a feed or raises ParseError."""

from __future__ import annotations

import json
from datetime import UTC, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from feedsite._parse import looks_like_feed, parse_feed
from feedsite._parse._dates import parse_date
from feedsite.errors import ParseError
from feedsite.types import ParsedFeed

#: Pieces of real feeds, so that random documents reach the mappers, the
#: repair step and the HTML fallback instead of failing at the first byte.
FRAGMENTS = [
    '<?xml version="1.0" encoding="utf-8"?>', '<?xml version="1.0" encoding="gb2312"?>',
    '<rss version="2.0">', "</rss>", "<channel>", "</channel>", "<item>", "</item>",
    '<feed xmlns="http://www.w3.org/2005/Atom">', "</feed>", "<entry>", "</entry>",
    '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
    'xmlns="http://purl.org/rss/1.0/">', "</rdf:RDF>",
    "<title>", "</title>", '<title type="html">', '<title type="xhtml">', "<link>", "</link>",
    '<link href="/x" rel="alternate"/>', '<link rel="enclosure" type="image/png" href="i.png"/>',
    "<guid>", "</guid>", '<guid isPermaLink="false">', "<id>", "</id>", "<description>",
    "</description>", "<summary>", "</summary>", '<content type="xhtml">', "</content>",
    '<content type="html">', "<pubDate>", "</pubDate>", "<updated>", "</updated>",
    "<![CDATA[", "]]>", "&amp;", "&lt;", "&nbsp;", "&", "&#0;", "&#x110000;", "<", ">",
    '<enclosure url="a.jpg" type="image/jpeg"/>', '<media:thumbnail url="t.png"/>',
    "<author><name>N</name></author>", "<author>a@b.c (N)</author>", "xml:base",
    ' xml:base="http://[::1/" ', '<div xmlns="http://www.w3.org/1999/xhtml">', "</div>",
    "Fri, 07 Jan 2022 15:23:27 GMT", "2022-01-07T15:23:27+08:00", "2022年1月7日 15:23",
    "http://example.com/", "中文", "\x00", "\x02", "\ufffe", "\ud800", "<!DOCTYPE rss [",
    '<!ENTITY x SYSTEM "file:///etc/passwd">', "]>", "&x;", "<!--", "-->", "<?pi x?>",
    '{"version": "https://jsonfeed.org/version/1.1", "items": [', '{"id": 1, "url": "/a"}',
    "]}", '"', ",", "{", "}", "[", "]", "null", " ", "\n",
]  # fmt: skip

documents = st.lists(st.sampled_from(FRAGMENTS), max_size=40).map("".join)
encodings = st.sampled_from(["utf-8", "utf-16", "gb18030", "latin-1", "utf-8-sig"])


def check(data: bytes, content_type: str | None = None) -> None:
    try:
        feed = parse_feed(data, url="https://example.com/feed", content_type=content_type)
    except ParseError as error:
        assert error.url == "https://example.com/feed"
        return
    assert isinstance(feed, ParsedFeed)
    for item in feed.items:
        assert isinstance(item.title, str)
        if item.date is not None:
            assert item.date.utcoffset() == timedelta(0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2000))
def test_any_bytes(data: bytes) -> None:
    check(data)
    assert isinstance(looks_like_feed(data), bool)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(documents, encodings, st.sampled_from([None, "text/xml; charset=utf-8", "charset=gbk"]))
def test_feedlike_documents(text: str, encoding: str, content_type: str | None) -> None:
    data = text.encode(encoding, "surrogatepass" if encoding.startswith("utf") else "replace")
    check(data, content_type)
    assert isinstance(looks_like_feed(data), bool)


@given(st.text(max_size=60))
def test_parse_date_never_raises(text: str) -> None:
    parsed = parse_date(text)
    assert parsed is None or parsed.tzinfo is UTC


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
item_keys = st.sampled_from(
    ["id", "url", "external_url", "title", "content_html", "content_text", "summary",
     "date_published", "date_modified", "image", "banner_image", "attachments", "authors",
     "author"]
)  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.dictionaries(item_keys, json_values, max_size=8), max_size=4),
    st.dictionaries(
        st.sampled_from(["title", "home_page_url", "authors", "author"]), json_values, max_size=3
    ),
)
def test_json_feed_with_any_values(items: list[dict[str, object]], top: dict[str, object]) -> None:
    document = {"version": "https://jsonfeed.org/version/1.1", **top, "items": items}
    check(json.dumps(document).encode())
