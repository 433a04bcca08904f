"""looks_like_feed: the fetcher's cheap "is this 200 a feed at all?" check."""

from __future__ import annotations

from pathlib import Path

import pytest

from feedsite._parse import looks_like_feed, parse_feed
from feedsite.errors import ParseError

FEEDS = [
    b'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel/></rss>',
    b'\xef\xbb\xbf<?xml version="1.0"?>\n<rss version="2.0">',
    b'\n\n   <rss version="2.0">',
    b'<!-- generated --><?xml-stylesheet href="s.xsl"?>\n<rss>',
    b'<?xml version="1.0"?><!DOCTYPE rss PUBLIC "-//Netscape Communications//DTD RSS 0.91//EN"'
    b' "http://my.netscape.com/publish/formats/rss-0.91.dtd"><rss version="0.91">',
    b'<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "<b>">]><rss>',
    b'<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">',
    b'<feed xmlns="http://www.w3.org/2005/Atom">',
    b'<?xml version="1.0"?><atom:feed xmlns:atom="http://www.w3.org/2005/Atom">',
    '<?xml version="1.0" encoding="utf-16"?><feed>'.encode("utf-16"),
    '<rss version="2.0">'.encode("utf-16-le"),
    b'{"version": "https://jsonfeed.org/version/1.1", "title": "x", "items": []}',
    b'  \n{\n  "version":"https://jsonfeed.org/version/1","items":[]}',
]
NOT_FEEDS = [
    b"",
    b"   ",
    b"<!DOCTYPE html><html><head><title>Just a moment...</title></head></html>",
    b"<html><body>rss feed here: <rss></body></html>",
    b'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">',
    b'<?xml version="1.0"?><error><code>403</code></error>',
    b'{"error": "rate limited", "version": "2"}',
    b'{"items": []}',
    b"[1, 2, 3]",
    b"hello <rss>",
    b"Forbidden",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    b"<!-- unterminated comment <rss>",
]


@pytest.mark.parametrize("data", FEEDS)
def test_feeds(data: bytes) -> None:
    assert looks_like_feed(data)


@pytest.mark.parametrize("data", NOT_FEEDS)
def test_not_feeds(data: bytes) -> None:
    assert not looks_like_feed(data)


def test_only_the_head_is_read() -> None:
    assert looks_like_feed(b"<rss>" + b"x" * 10_000_000)
    assert not looks_like_feed(b"<!--" + b"x" * 10_000 + b"--><rss>")


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"   \n",
        b"<!DOCTYPE html><html><body><p>Not a feed</p></body></html>",
        b'<?xml version="1.0"?><error><code>403</code></error>',
        b'{"error": "nope"}',
        b"{not json",
        b"plain text",
    ],
)
def test_non_feeds_raise_parse_error_with_the_url(data: bytes) -> None:
    with pytest.raises(ParseError) as caught:
        parse_feed(data, url="https://example.com/feed")
    assert caught.value.url == "https://example.com/feed"
    assert "https://example.com/feed" in str(caught.value)


REALWORLD = (
    Path(__file__).resolve().parents[2] / ".." / "shared" / "corpora" / "realworld" / "feeds"
)


def test_every_realworld_feed_sniffs_as_a_feed() -> None:
    paths = sorted(REALWORLD.iterdir())
    assert len(paths) == 200
    assert [p.name for p in paths if not looks_like_feed(p.read_bytes())] == []
