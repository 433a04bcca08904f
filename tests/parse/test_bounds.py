"""Parse-time bounds: lone surrogates (issue #10 row 4) and title length (row 13)."""

from __future__ import annotations

import json

import pytest

from feedsite._parse import MAX_TITLE_CHARS, parse_feed
from tests.helpers.feeds import Entry, rss

FIELDS = ("id", "url", "title", "content_html", "summary", "author")


def json_feed(**item: object) -> bytes:
    base: dict[str, object] = {"id": "1", "title": "t", "content_html": "<p>x</p>"}
    base.update(item)
    doc = {"version": "https://jsonfeed.org/version/1.1", "title": "F", "items": [base]}
    # ensure_ascii writes a lone surrogate as the escape "\ud800", as a hostile feed does.
    return json.dumps(doc, ensure_ascii=True).encode("ascii")


@pytest.mark.parametrize("field", FIELDS)
def test_a_lone_surrogate_in_any_json_field_becomes_u_fffd(field: str) -> None:
    """issue #10 row 4: "\\ud800" in title, url, author, id, content_html or summary."""
    value = "https://example.org/p\ud800" if field == "url" else "a\ud800b"
    extra: dict[str, object] = (
        {"authors": [{"name": value}]} if field == "author" else {field: value}
    )
    feed = parse_feed(json_feed(**extra), url="https://example.org/feed.json")
    assert len(feed.items) == 1
    text = repr(feed)
    text.encode("utf-8")  # would raise UnicodeEncodeError with a surrogate left
    assert "\ud800" not in text
    if field != "url":  # a URL with U+FFFD may be refused as a URL: either way, no surrogate
        assert "a\ufffdb" in text


def test_surrogates_everywhere_at_once_including_the_feed_title() -> None:
    doc = (
        b'{"version": "https://jsonfeed.org/version/1", "title": "F\\udfff",'
        b' "items": [{"id": "\\ud800", "title": "\\udbff\\udc00 pair \\ud800",'
        b' "content_html": "\\ud83d\\ude00 \\udc00", "image": "https://e.org/\\ud800.png"}]}'
    )
    feed = parse_feed(doc, url="https://example.org/f")
    assert feed.title == "F\ufffd"
    [item] = feed.items
    assert item.guid == "\ufffd"
    assert item.title == "\U0010fc00 pair \ufffd"  # a valid pair stays one character
    assert item.content_html == "\U0001f600 \ufffd"
    repr(feed).encode("utf-8")


def test_clean_feeds_come_back_as_the_same_objects() -> None:
    doc = rss([Entry("a", "标题 title")])
    feed = parse_feed(doc, url="https://example.org/f")
    again = parse_feed(doc, url="https://example.org/f")
    assert feed == again
    assert feed.items[0].title == "标题 title"


def test_an_18_mb_title_is_cut_at_parse_time() -> None:
    """issue #10 row 13: an 18 MB title made 115 MB of site output."""
    title = "长" * 18_000_000
    feed = parse_feed(rss([Entry("a", title)]), url="https://example.org/f")
    [item] = feed.items
    assert len(item.title) == MAX_TITLE_CHARS
    assert item.title.endswith("…")
    assert item.title.startswith("长长长")


def test_a_long_feed_title_and_a_title_at_the_bound() -> None:
    at_bound = "x" * MAX_TITLE_CHARS
    feed = parse_feed(rss([Entry("a", at_bound)], title="T" * 5000), url="https://e.org/f")
    assert feed.items[0].title == at_bound
    assert len(feed.title) == MAX_TITLE_CHARS and feed.title.endswith("…")


@pytest.mark.parametrize("ref", ["&#xD800;", "&#55296;", "&#xDFFF;"])
def test_an_xml_reference_to_a_surrogate_leaves_none(ref: str) -> None:
    """issue #10 row 4, XML side: libxml2 refuses the reference; nothing to replace."""
    doc = rss([Entry("a", "x")]).replace(b"<title>x</title>", f"<title>a{ref}b</title>".encode())
    feed = parse_feed(doc, url="https://example.org/f")
    repr(feed).encode("utf-8")


def test_100000_categories_enclosures_and_authors_are_bounded() -> None:
    """issue #17: a hostile item's lists are cut (tags 64, enclosures 32, authors 16)."""
    many = "".join(
        f"<category>c{i}</category><enclosure url='https://e.org/{i}.mp3' type='audio/mpeg'/>"
        f"<dc:creator>a{i}</dc:creator>"
        for i in range(100_000)
    )
    doc = (
        '<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel><title>t</title>'
        f"<item><guid>1</guid>{many}<category>{'x' * 100_000}</category></item></channel></rss>"
    ).encode()
    [item] = parse_feed(doc, url="https://example.org/f").items
    assert len(item.tags) == 64 and len(item.categories) == 64
    assert len(item.enclosures) == 32
    assert len(item.authors) == 16
    assert all(len(t.term) <= 200 for t in item.tags)
